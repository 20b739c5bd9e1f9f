"""The evidence of a REAL run (`exerciser run` of a sample app on the virtual device), used as a user
would: replay on another Android version and screen size, compare, a diverging replay, a tampered
trace, a run killed with SIGKILL, and the HTML reports rendered by headless Chromium offline."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from replay_helpers import APP, CHROMIUM, EXERCISER, cli, probe_page, screenshot, verdicts, write_scenario

from exerciser import SAMPLES_DIR
from exerciser.evidence.trace import TRACE_NAME, load_trace, sha256_file
from exerciser.evidence.video import probe_video

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of the sample app; its folder is read-only for the tests (copy to modify)."""
    root = tmp_path_factory.mktemp("real")
    scenario = write_scenario(root / "scenarios")
    p = cli("run", str(scenario), "--out", str(root / "out"), "--quiet")
    assert p.returncode == 1, p.stdout[-2000:] + p.stderr[-2000:]  # 1: a violation was found
    app_dir = root / "out" / APP
    assert verdicts(app_dir)["5"][0] == "violation" and verdicts(app_dir)["consent"][0] == "compliant"
    return app_dir


@pytest.fixture(scope="module")
def replayed(real_run: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    out = real_run.parent.parent / "replay-api28"
    other = ("--profile", "api28", "--width", "1080", "--height", "1920")  # Android 9, a smaller screen
    return out, cli("replay", str(real_run), *other, "--out", str(out), "--no-video")


def test_replay_on_another_android_and_screen_size_gives_the_same_verdicts(real_run, replayed) -> None:
    out, p = replayed
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-1500:]
    assert "REPLAY OK: same screens, same verdicts" in p.stdout
    assert verdicts(out) == verdicts(real_run)
    dev = json.loads((out / "run.json").read_text())["device"]
    assert (dev["api_level"], dev["width"], dev["height"]) == (28, 1080, 1920)
    rp = json.loads((out / "replay.json").read_text())
    assert (
        rp["completed"] and rp["verdicts_agree"] and rp["replayed"] == load_trace(real_run / TRACE_NAME).count
    )
    # the replay really ran on the other device: Android 9's permission dialog, 1080x1920 pixels
    recs = load_trace(out / TRACE_NAME).records
    prompt = next(r for r in recs if "permission_prompt" in r["kinds"])
    assert prompt["package"] == "com.android.packageinstaller"
    assert cv2.imread(str(out / prompt["screenshot"])).shape[:2] == (1920, 1080)
    assert all(r["action"].get("replay", {}).get("of") for r in recs)  # each step names the one it replays
    assert cli("verify", str(out), "--allow-unsigned").returncode == 0  # a sealed bundle of its own
    assert not (out / "video.mp4").exists()  # --no-video holds in probes mode too


def test_compare_says_the_run_and_its_replay_agree(real_run, replayed) -> None:
    out, _ = replayed
    p = cli("compare", str(real_run), str(out))
    assert p.returncode == 0, p.stdout
    assert "VERDICTS AGREE" in p.stdout
    lines = {ln.split()[0]: ln for ln in p.stdout.splitlines() if ln[:1] in ("c", "5") and "agree" not in ln}
    assert "violation (1)" in lines["5"] and lines["5"].rstrip().endswith("yes")


def test_a_diverging_replay_names_the_step_and_both_states(real_run: Path, tmp_path: Path) -> None:
    """A new version of the app that quits when its policy is refused: the replay must stop there."""
    model = yaml.safe_load((SAMPLES_DIR / APP / "app.yaml").read_text())
    buttons = model["dialogs"]["privacy"]["buttons"]
    next(b for b in buttons if b["id"] == "btn_disagree")["on_tap"] = [{"dismiss": True}, {"quit": "finish"}]
    (tmp_path / "v2.yaml").write_text(yaml.safe_dump(model, allow_unicode=True))
    copy = tmp_path / "run"
    shutil.copytree(real_run, copy)
    sc = json.loads((copy / "scenario.json").read_text())
    sc["app"] = {"kind": "model", "value": str(tmp_path / "v2.yaml"), "label": ""}
    (copy / "scenario.json").write_text(json.dumps(sc))
    p = cli("replay", str(copy), "--out", str(tmp_path / "replay"), "--no-video")
    assert p.returncode == 1, p.stdout
    recs = load_trace(real_run / TRACE_NAME).records
    refused = next(r for r in recs if r["action"].get("role") == "refuse")  # the first "Disagree"
    assert f"DIVERGED at step {refused['n']}: kinds differ" in p.stdout, p.stdout
    expected = next(ln for ln in p.stdout.splitlines() if ln.strip().startswith("expected:"))
    got = next(ln for ln in p.stdout.splitlines() if ln.strip().startswith("got:"))
    assert "consent_second_chance" in expected and "launcher" in got
    assert "recorded screenshot:" in p.stdout and "replay screenshot:" in p.stdout
    assert "REPLAY FAILED" in p.stdout and "VERDICTS DISAGREE" in p.stdout


def test_editing_one_trace_line_of_a_real_run_fails_verify(real_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / APP
    shutil.copytree(real_run, copy)
    assert cli("verify", str(copy), "--allow-unsigned").returncode == 0
    lines = (copy / TRACE_NAME).read_bytes().splitlines(keepends=True)
    i = next(k for k, ln in enumerate(lines) if b"blocking_wall" in ln)  # the step proving the wall
    rec = json.loads(lines[i])
    rec["kinds"] = [k for k in rec["kinds"] if k != "blocking_wall"]
    lines[i] = (json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n").encode()
    (copy / TRACE_NAME).write_bytes(b"".join(lines))
    p = cli("verify", str(copy))
    assert p.returncode == 1, p.stdout
    assert p.stdout.startswith("FAILED")
    assert f"trace.jsonl:{i + 1}: line {i + 1} (step {rec['n']}) differs from the sealed line" in p.stdout
    assert "Traceback" not in p.stderr


def test_a_run_killed_mid_way_keeps_every_earlier_step(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path / "scenarios")
    out = tmp_path / "out"
    trace = out / APP / TRACE_NAME
    proc = subprocess.Popen(
        [EXERCISER, "run", str(scenario), "--out", str(out), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if trace.exists() and trace.read_bytes().count(b"\n") >= 20:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)  # no chance to flush, close or seal anything
    proc.wait()
    t = load_trace(trace)
    assert t.chain_ok, t.problems
    assert t.count >= 20 and [r["n"] for r in t.records] == list(range(1, t.count + 1))
    for r in t.records:
        assert sha256_file(out / APP / r["screenshot"]) == r["screenshot_sha256"], r["n"]
        assert sha256_file(out / APP / r["xml"]) == r["xml_sha256"], r["n"]
    assert not (out / APP / "verdict.json").exists() and not (out / APP / "manifest.json").exists()
    p = cli("verify", str(out / APP))
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    assert p.stdout.startswith("UNFINISHED"), p.stdout
    assert f"{t.count} steps intact, last step {t.count}; the run did not finish" in p.stdout
    # the live video's worker outlives the run: it completes video.mp4 with the steps it was given
    video = out / APP / "video.mp4"
    deadline = time.monotonic() + 60
    while not video.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert probe_video(video)["frames"] >= 2 * (t.count - 8)


def test_report_json_and_junit_of_the_real_run(real_run: Path) -> None:
    rj = json.loads((real_run / "report.json").read_text())
    v5 = rj["categories"]["5"]
    assert v5["verdict"] == "violation" and v5["evidence"]
    for e in v5["evidence"]:
        assert sha256_file(real_run / e["screenshot"]) == e["screenshot_sha256"]
    root = ET.parse(real_run.parent / "junit.xml").getroot()  # the suite's, for CI
    (case,) = [tc for tc in root.iter("testcase") if tc.get("name", "").startswith("5:")]
    assert case.find("failure") is not None
    assert root.get("failures") == "1"


def _jpeg(uri: str) -> np.ndarray:
    data = base64.b64decode(uri.split(",", 1)[1])
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


@needs_chromium
def test_the_real_report_renders_offline_with_its_screenshots(real_run: Path, tmp_path: Path) -> None:
    report = real_run / "report.html"
    steps = load_trace(real_run / TRACE_NAME).count
    size = (1200, 2400)
    seen = probe_page(report, tmp_path, size)
    assert seen["imgs"] >= steps and seen["ok"] == seen["imgs"], seen | {"shots": len(seen["shots"])}
    assert seen["circles"] > 3 and seen["svg_w"] > 100  # the state graph, drawn
    assert seen["video_src"] == "data:video/mp4;base64,"
    assert seen["video_w"] == 360 and seen["video_s"] == pytest.approx(steps, abs=1.5)  # 1 s a step
    # a screenshot of the page's top: where the first finding's picture is, its pixels are on screen
    at = seen["shots"][0]
    shot = cv2.imread(str(screenshot(report.resolve().as_uri(), tmp_path / "report.png", tmp_path, size)))
    x, y, w, h = (round(at[k]) for k in ("x", "y", "w", "h"))
    assert w > 100 and h > 200 and y >= 0 and y + h <= shot.shape[0], at
    crop = shot[y + 2 : y + h - 2, x + 2 : x + w - 2].astype(float)
    want = cv2.resize(_jpeg(at["src"]), (w, h), interpolation=cv2.INTER_AREA)[2:-2, 2:-2].astype(float)
    assert crop.std() > 10  # not a blank box
    assert np.abs(crop - want).mean() < 12, np.abs(crop - want).mean()


@needs_chromium
def test_the_suite_report_links_the_app_and_renders(real_run: Path, tmp_path: Path) -> None:
    suite = real_run.parent / "report.html"
    seen = probe_page(suite, tmp_path)
    assert f"{APP}/report.html" in seen["links"] and f"{APP}/video.mp4" in seen["links"]
    html = suite.read_text()
    assert 'class="v-violation"' in html and "http" not in html.split("<body", 1)[1]
