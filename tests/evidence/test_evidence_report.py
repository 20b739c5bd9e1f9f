"""Video, HTML (self-contained), JSON and JUnit of a sealed synthetic run, and the suite report (the real
run in headless Chromium: tests/replay)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2

from exerciser.evidence.bundle import finalize_suite
from exerciser.evidence.video import WIDTH, even_size, probe_video


def test_video_is_h264_yuv420p_one_second_per_step(sealed_run: Path) -> None:
    v = probe_video(sealed_run / "video.mp4")
    assert (v["codec"], v["pix_fmt"]) == ("h264", "yuv420p")
    assert (v["width"], v["height"]) == even_size(1080, 2340, WIDTH) == (360, 780)
    assert v["frames"] == 14 and abs(v["duration"] - 7.0) < 0.6


def test_video_frames_carry_the_tap_circle(sealed_run: Path, tmp_path: Path) -> None:
    # frame 2 = "before" frame of step 2 (tap "同意" at 810,1500 on the privacy screen): red ring there
    out = tmp_path / "f.png"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-i",
            str(sealed_run / "video.mp4"),
            "-vf",
            r"select=eq(n\,2)",
            "-vframes",
            "1",
            str(out),
        ],
        check=True,
    )
    img = cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB).astype(int)
    k = WIDTH / 1080
    x, y, r = round(810 * k), round(1500 * k), WIDTH // 22
    ring = img[y - r - 3 : y + r + 4, x - r - 3 : x + r + 4]
    red = (ring[..., 0] > 170) & (ring[..., 1] < 90) & (ring[..., 2] < 110)
    assert red.sum() > 40
    far = img[100:200, 100:200]
    assert ((far[..., 0] > 170) & (far[..., 1] < 90)).sum() == 0


def test_even_size() -> None:
    assert even_size(1080, 2340, 540) == (540, 1170)
    assert even_size(720, 1601, 540) == (540, 1200)
    assert even_size(1079, 2339, 2000)[0] % 2 == 0


def test_report_json_and_junit(sealed_run: Path) -> None:
    rj = json.loads((sealed_run / "report.json").read_text())
    assert rj["categories"]["5"]["verdict"] == "violation"
    assert [e["step"] for e in rj["categories"]["5"]["evidence"]] == [4, 5]
    assert rj["categories"]["5"]["evidence"][0]["screenshot"] == "steps/0004.png"
    root = ET.parse(sealed_run / "junit.xml").getroot()
    (ts,) = root.findall("testsuite")
    assert ts.get("name") == "demo" and ts.get("tests") == "5"
    assert ts.get("failures") == "2" and ts.get("skipped") == "1"
    cases = {tc.get("name").split(":")[0]: tc for tc in ts.findall("testcase")}
    f5 = cases["5"].find("failure")
    assert f5 is not None and f5.get("message") == "Refusing the camera walls the app off."
    assert "evidence steps: 4, 5" in f5.text and "steps/0004.png" in f5.text
    assert cases["6"].find("skipped") is not None
    assert cases["consent"].find("failure") is None and cases["consent"].find("skipped") is None


def test_html_is_self_contained(sealed_run: Path) -> None:
    html = (sealed_run / "report.html").read_text()
    srcs = re.findall(r'<img[^>]*src="([^"]+)"', html)
    assert len(srcs) >= 7 + 6  # every step thumbnail + the finding screenshots
    assert all(s.startswith("data:image/jpeg;base64,") for s in srcs)
    assert "<svg" in html and "<circle" in html  # the state graph
    assert 'src="data:video/mp4;base64,' in html
    assert not re.search(r'(src|href)="https?://', html)  # nothing fetched from the network


def test_suite_report(sealed_run: Path, tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    a, b = suite / "demo", suite / "other"
    shutil.copytree(sealed_run, a)
    shutil.copytree(sealed_run, b)
    v = json.loads((b / "verdict.json").read_text())
    v["app"] = "other"
    v["categories"]["5"]["verdict"] = "compliant"
    (b / "verdict.json").write_text(json.dumps(v))
    finalize_suite(suite, [a, b])
    html = (suite / "report.html").read_text()
    assert 'href="demo/report.html"' in html and 'href="other/report.html"' in html
    root = ET.parse(suite / "junit.xml").getroot()
    assert [t.get("name") for t in root.findall("testsuite")] == ["demo", "other"]
    assert root.get("tests") == "10" and root.get("failures") == "3"
