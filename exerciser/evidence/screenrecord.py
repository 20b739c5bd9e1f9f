"""A real phone's own screen recording (`adb shell screenrecord`) as part of the run's bundle.

The recording is made by the driver (`start_screenrecord(remote, time_limit)` /
`stop_screenrecord(local)` of `exerciser.device.u2driver.U2Device`; uiautomator2 3.x's own screenrecord
is broken). The virtual device has no such methods: its video is `video.mp4`, drawn from the steps.

Android ends `screenrecord` after 180 s, so the recording is cut into segments. `tick()`, called by the
runner after every step, starts the next segment once the current one is `segment_s` old, and each
finished segment is pulled at once to `screenrecord/NNN.mp4`: a phone that vanishes loses at most the
segment that was running. A step longer than the slack (180 s - `segment_s`) leaves a gap, named in
`screenrecord.json`. `stop()` ends the last segment and joins them into `screenrecord.mp4` (ffmpeg
concat demuxer, no re-encoding); the segments stay when joining fails.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RECORD_NAME = "screenrecord.mp4"
SEGMENTS_DIR = "screenrecord"
LOG_NAME = "screenrecord.json"
ANDROID_LIMIT_S = 180
SEGMENT_S = 170.0  # 10 s of slack before the phone stops by itself


def supports_screenrecord(device: Any) -> bool:
    return callable(getattr(device, "start_screenrecord", None)) and callable(
        getattr(device, "stop_screenrecord", None)
    )


@dataclass
class Segment:
    file: str  # relative to the run folder
    started: float  # wall clock (time.time())
    ended: float
    bytes: int = 0
    error: str = ""


@dataclass
class ScreenRecording:
    segments: list[Segment] = field(default_factory=list)
    joined: str = ""  # RECORD_NAME when the segments were joined
    gaps: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class DeviceScreenRecorder:
    def __init__(self, device: Any, run_dir: Path, segment_s: float | None = None):
        if not supports_screenrecord(device):
            raise TypeError("the device driver has no start_screenrecord/stop_screenrecord")
        self.device, self.run_dir = device, Path(run_dir)
        self.segment_s = min(SEGMENT_S if segment_s is None else segment_s, ANDROID_LIMIT_S)
        self.result = ScreenRecording()
        self._i = 0
        self._started: float | None = None  # monotonic start of the running segment
        self._wall: float = 0.0

    def _remote(self) -> str:
        return f"/sdcard/exerciser-screenrecord-{self._i:03d}.mp4"

    def start(self) -> None:
        try:
            self.device.start_screenrecord(self._remote(), time_limit=ANDROID_LIMIT_S)
        except Exception as exc:  # no screenrecord on this phone (some ROMs): the run goes on without
            self.result.errors.append(f"segment {self._i}: cannot start: {type(exc).__name__}: {exc}")
            self._started = None
            return
        self._started, self._wall = time.monotonic(), time.time()

    def _finish_segment(self) -> None:
        if self._started is None:
            return
        age = time.monotonic() - self._started
        self._started = None
        (self.run_dir / SEGMENTS_DIR).mkdir(parents=True, exist_ok=True)
        rel = f"{SEGMENTS_DIR}/{self._i:03d}.mp4"
        seg = Segment(rel, self._wall, time.time())
        try:
            local = self.device.stop_screenrecord(self.run_dir / rel)
            seg.bytes = Path(local).stat().st_size
        except Exception as exc:
            seg.error = f"{type(exc).__name__}: {exc}"
            self.result.errors.append(f"segment {self._i}: {seg.error}")
        if age > ANDROID_LIMIT_S:
            self.result.gaps.append(
                f"segment {self._i} ran {age:.0f} s: the phone stopped recording after {ANDROID_LIMIT_S} s"
            )
        self.result.segments.append(seg)
        self._i += 1

    def tick(self) -> None:
        """After a step: rotate to a new segment when the running one is old enough."""
        if self._started is not None and time.monotonic() - self._started >= self.segment_s:
            self._finish_segment()
            self.start()

    def stop(self) -> ScreenRecording:
        self._finish_segment()
        good = [self.run_dir / s.file for s in self.result.segments if not s.error and s.bytes > 0]
        if good:
            try:
                concat_videos(good, self.run_dir / RECORD_NAME)
                self.result.joined = RECORD_NAME
                shutil.rmtree(self.run_dir / SEGMENTS_DIR, ignore_errors=True)
            except (OSError, subprocess.CalledProcessError) as exc:
                self.result.errors.append(
                    f"joining the segments failed ({exc}); they stay in {SEGMENTS_DIR}/"
                )
        (self.run_dir / LOG_NAME).write_text(json.dumps(asdict(self.result), indent=1) + "\n")
        return self.result

    def abort(self) -> None:
        """The phone is gone: keep what was pulled, do not talk to it any more."""
        self._started = None
        with contextlib.suppress(OSError):
            (self.run_dir / LOG_NAME).write_text(json.dumps(asdict(self.result), indent=1) + "\n")


def concat_videos(parts: Iterable[Path], out: Path) -> Path:
    """Join MP4 segments into one file without re-encoding (ffmpeg concat demuxer)."""
    parts = [Path(p) for p in parts]
    if len(parts) == 1:
        shutil.copyfile(parts[0], out)
        return out
    listing = out.with_name(out.name + ".txt")
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in parts))
    tmp = out.with_name(out.name + ".part.mp4")
    try:
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0"]
            + ["-i", str(listing), "-c", "copy", "-movflags", "+faststart", str(tmp)],
            check=True,
            capture_output=True,
        )
        tmp.replace(out)
    finally:
        listing.unlink(missing_ok=True)
        tmp.unlink(missing_ok=True)
    return out
