"""The live video worker: fed step by step, closed while the caller does other work, its pictures handed
over through a file, and stopped without leaving a half-made video."""

from __future__ import annotations

import fcntl
import io
import os
import signal
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from evidence_synth import make_run
from PIL import Image

from exerciser.evidence.trace import TRACE_NAME, load_trace
from exerciser.evidence.video import VIDEO_NAME, WIDTH, LiveVideo, make_video, probe_video
from exerciser.report.thumbs import SHOT_W, THUMB_W
from exerciser.sim.render import PngEncoder


@pytest.fixture(scope="module")
def banded_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic run with its screenshots written the way the virtual device and the phone driver
    write them (PngEncoder's bands), so the worker takes its band decoder."""
    d = make_run(tmp_path_factory.mktemp("live") / "demo")
    enc = PngEncoder()
    for p in sorted((d / "steps").glob("*.png")):
        p.write_bytes(enc.encode(Image.open(io.BytesIO(p.read_bytes())).convert("RGB")))
    return d


def _frame(video: Path, n: int, out: Path) -> np.ndarray:
    cmd = ["ffmpeg", "-loglevel", "error", "-i", str(video), "-vf", rf"select=eq(n\,{n})", "-vframes", "1"]
    subprocess.run([*cmd, str(out)], check=True)
    return cv2.cvtColor(cv2.imread(str(out)), cv2.COLOR_BGR2RGB).astype(int)


def test_live_video_of_banded_screens(banded_run: Path, tmp_path: Path) -> None:
    records = load_trace(banded_run / TRACE_NAME).records
    live = LiveVideo(banded_run)
    for rec in records:
        live.add(rec)
    live.end_input()  # the caller goes on; finish only collects
    stats = live.finish()
    assert stats is not None and (stats.frames, stats.steps) == (2 * len(records), len(records))
    v = probe_video(banded_run / VIDEO_NAME)
    assert (v["codec"], v["width"], v["frames"]) == ("h264", WIDTH, 2 * len(records))
    assert not list(banded_run.glob("*.part.mp4"))
    # both pictures of every distinct screen, through the worker's file
    shas = {r["screenshot_sha256"] for r in records}
    assert set(live.thumbs) == {(s, w) for s in shas for w in (THUMB_W, SHOT_W)}
    assert all(uri.startswith("data:image/jpeg;base64,") for uri in live.thumbs.values())
    # the worker's account of itself: every band of a screen seen again came from its cache
    assert set(stats.parts) >= {"decode", "pictures", "draw", "pipe", "ffmpeg"}
    assert stats.worker["bands_reused"] > 0 and stats.worker["bands_inflated"] > 0
    assert stats.start_cpu_seconds > 0 and stats.cpu_seconds > stats.start_cpu_seconds
    # frame 2: step 2's tapped screen with the ring at the tap point (810, 1500), drawn on small frames
    img = _frame(banded_run / VIDEO_NAME, 2, tmp_path / "f.png")
    k = WIDTH / 1080
    x, y, r = round(810 * k), round(1500 * k), WIDTH // 22
    ring = img[y - r - 3 : y + r + 4, x - r - 3 : x + r + 4]
    assert ((ring[..., 0] > 170) & (ring[..., 1] < 90) & (ring[..., 2] < 110)).sum() > 40


def test_abort_after_the_end_of_input_leaves_no_video(tmp_path: Path) -> None:
    d = make_run(tmp_path / "demo")
    live = LiveVideo(d)
    for rec in load_trace(d / TRACE_NAME).records:
        live.add(rec)
    live.end_input()
    live.abort()  # the worker can no longer be told: it is stopped
    assert live.proc.returncode is not None
    assert not (d / (VIDEO_NAME + ".part.mp4")).exists()


def test_video_made_afterwards_from_banded_screens_matches_the_live_one(
    banded_run: Path, tmp_path: Path
) -> None:
    live = LiveVideo(banded_run)
    for rec in load_trace(banded_run / TRACE_NAME).records:
        live.add(rec)
    live.finish()
    after = make_video(banded_run, out=tmp_path / "after.mp4")  # decodes in a thread pool, bands shared
    assert after is not None and after.frames == probe_video(banded_run / VIDEO_NAME)["frames"]
    for n in (0, 2, 7):
        a = _frame(banded_run / VIDEO_NAME, n, tmp_path / f"a{n}.png")
        b = _frame(tmp_path / "after.mp4", n, tmp_path / f"b{n}.png")
        assert np.abs(a - b).mean() < 2.0, n


def test_a_worker_far_behind_never_blocks_the_run(tmp_path: Path) -> None:
    """The run's side of the pipe does not block: steps a full pipe refuses go with the next ones."""
    d = make_run(tmp_path / "demo")
    records = load_trace(d / TRACE_NAME).records
    live = LiveVideo(d)
    assert live.proc.stdin is not None
    fcntl.fcntl(live.proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, 4096)  # a pipe that fills in a few steps
    os.kill(live.proc.pid, signal.SIGSTOP)  # a worker that gets no CPU
    try:
        steps = [records[i % len(records)] for i in range(40)]
        for rec in steps:
            live.add(rec)  # would hang here if the write blocked
        assert live._unsent and live.error is None
    finally:
        os.kill(live.proc.pid, signal.SIGCONT)
    stats = live.finish()
    assert stats is not None and stats.steps == len(steps) and stats.frames == 2 * len(steps)
