"""A phone's own screen recording in the bundle: the virtual device served over the real adb, driven by
the real driver (U2Device), recorded in segments by `adb shell screenrecord` and joined."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

import exerciser.evidence.screenrecord as screenrecord
from exerciser.evidence.live import LiveEvidence
from exerciser.evidence.manifest import verify_bundle, write_manifest
from exerciser.evidence.video import probe_video
from exerciser.sim import VirtualDevice, load_sample

ADB = "/usr/bin/adb"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(ADB) and shutil.which("ffmpeg")), reason="needs Debian's adb and ffmpeg"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def phone() -> Iterator[object]:
    """U2Device on a virtual phone behind an adb front, through a private adb server."""
    from exerciser.device.u2driver import U2Device
    from exerciser.sim.adbfront import AdbFront

    port = _free_port()
    saved = {k: os.environ.get(k) for k in ("ANDROID_ADB_SERVER_PORT", "ADBUTILS_ADB_PATH")}
    os.environ |= {"ANDROID_ADB_SERVER_PORT": str(port), "ADBUTILS_ADB_PATH": ADB}
    adb = [ADB, "-P", str(port)]
    subprocess.run([*adb, "start-server"], check=True, capture_output=True, timeout=30)
    front = AdbFront(VirtualDevice([load_sample("refusal_wall_en")], profile="api33"), _free_port()).start()
    drv = None
    try:
        subprocess.run([*adb, "connect", front.serial], check=True, capture_output=True, timeout=30)
        deadline = time.monotonic() + 15
        while (
            f"{front.serial}\tdevice"
            not in subprocess.run([*adb, "devices"], capture_output=True, text=True).stdout
        ):
            assert time.monotonic() < deadline, "the virtual phone never came online"
            time.sleep(0.1)
        drv = U2Device(front.serial, adb_port=port)
        yield drv
    finally:
        if drv is not None:
            drv.close()
        front.stop()
        subprocess.run([*adb, "kill-server"], capture_output=True, timeout=30)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_phone_recording_in_segments_is_joined_into_the_bundle(phone, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(screenrecord, "SEGMENT_S", 1.0)  # rotate every second instead of every 170 s
    live = LiveEvidence(tmp_path, phone, video=False)  # a driver that can record: the live evidence does
    assert live.recorder is not None
    phone.app_start("com.ridenow.rider")
    deadline, n = time.monotonic() + 30, 0
    while len(live.recorder.result.segments) < 2:  # steps of a run: observe, then the runner's tick
        assert time.monotonic() < deadline, "the recorder never rotated"
        phone.observe()
        live.on_step({"n": (n := n + 1)})
        time.sleep(0.2)
    rec = live.finish_recording()
    assert rec is not None and not rec.errors, rec
    assert len(rec.segments) == 3 and all(s.bytes > 0 for s in rec.segments)
    assert rec.joined == "screenrecord.mp4" and not (tmp_path / "screenrecord").exists()
    v = probe_video(tmp_path / "screenrecord.mp4")
    assert v["codec"] == "h264" and v["frames"] >= 3 and v["duration"] > 0
    log = json.loads((tmp_path / "screenrecord.json").read_text())
    assert [s["file"] for s in log["segments"]] == [
        f"screenrecord/{i:03d}.mp4" for i in range(len(rec.segments))
    ]
    write_manifest(tmp_path)  # sealed as evidence like the rest of the folder
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m["files"]["screenrecord.mp4"]["role"] == "evidence"
    (tmp_path / "screenrecord.mp4").write_bytes(b"swapped")
    assert any(f.path == "screenrecord.mp4" for f in verify_bundle(tmp_path).failures)


def test_virtual_device_has_no_phone_recording(tmp_path) -> None:
    live = LiveEvidence(tmp_path, VirtualDevice([load_sample("refusal_wall_en")]), video=False)
    assert live.recorder is None and live.finish_recording() is None
