"""MP4 of a run made from its step screenshots, and a helper for a real phone's own screen recording.

Each step becomes two frames of half the step duration: the screen *before* the action with the tap
point circled and "step N · probe · action", then the screen *after* it with the recognised kinds.
Frames are piped raw to ffmpeg (H.264, yuv420p, even dimensions, faststart) so nothing but the final
file touches the disk; the file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from exerciser.evidence.trace import TRACE_NAME, load_trace

VIDEO_NAME = "video.mp4"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
TAP_COLOUR = (230, 30, 60)
BAND_COLOUR = (20, 20, 20)


class VideoError(RuntimeError):
    pass


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def even_size(width: int, height: int, target_width: int) -> tuple[int, int]:
    """Scale (width, height) to `target_width`, both rounded down to even numbers (yuv420p needs it)."""
    w = max(2, min(target_width, width) // 2 * 2)
    h = max(2, round(height * w / width) // 2 * 2)
    return w, h


def action_label(action: dict[str, Any]) -> str:
    """Short human description: `tap "Agree"`, `key back`, `app_start com.x`."""
    t = action.get("type", "?")
    sel = action.get("selector") or {}
    if t in ("tap", "long_press"):
        name = sel.get("text") or (sel.get("resource_id") or "").rpartition("/")[2] or action.get("role")
        where = f' "{name}"' if name else ""
        return f"{t}{where}"
    if t == "key":
        return f"key {action.get('key', '')}"
    if t in ("app_start", "app_stop", "app_clear"):
        return f"{t} {action.get('package', '')}".strip()
    if t == "wait":
        return f"wait {action.get('seconds', '')} s"
    if t == "type_text":
        return f'type "{action.get("text", "")}"'
    return t


def _load(path: Path, size: tuple[int, int]) -> np.ndarray:
    """Screenshot as RGB at `size`, letterboxed if its aspect differs; grey frame if it is missing."""
    w, h = size
    img = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.exists() else None
    if img is None:
        frame = np.full((h, w, 3), 96, np.uint8)
        return frame
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    ih, iw = img.shape[:2]
    scale = min(w / iw, h / ih)
    nw, nh = max(1, round(iw * scale)), max(1, round(ih * scale))
    small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    if (nw, nh) == (w, h):
        return small
    frame = np.zeros((h, w, 3), np.uint8)
    y0, x0 = (h - nh) // 2, (w - nw) // 2
    frame[y0 : y0 + nh, x0 : x0 + nw] = small
    return frame


def _annotate(
    frame: np.ndarray, lines: list[str], tap: tuple[float, float] | None, scale: float
) -> np.ndarray:
    img = Image.fromarray(frame)
    draw = ImageDraw.Draw(img, "RGBA")
    w, h = img.size
    fs = max(12, w // 30)
    font = _font(fs)
    band = (fs + 6) * len(lines) + 8
    draw.rectangle((0, h - band, w, h), fill=(*BAND_COLOUR, 200))
    for i, text in enumerate(lines):
        draw.text((8, h - band + 4 + i * (fs + 6)), text, font=font, fill=(255, 255, 255, 255))
    if tap is not None:
        x, y = tap[0] * scale, tap[1] * scale
        r = max(10, w // 22)
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(*TAP_COLOUR, 255), width=max(3, r // 4))
        draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=(*TAP_COLOUR, 255))
    return np.asarray(img)


@dataclass
class VideoStats:
    path: Path
    frames: int
    steps: int
    size: tuple[int, int]
    seconds: float  # wall time spent making it


FrameHook = Callable[[dict[str, Any], np.ndarray], None]


def _frames(
    run_dir: Path, records: list[dict[str, Any]], size: tuple[int, int], scale: float, hook: FrameHook | None
):
    prev: np.ndarray | None = None
    for rec in records:
        action = rec.get("action") or {}
        n, probe = rec.get("n"), rec.get("probe", "")
        after = _load(run_dir / rec.get("screenshot", ""), size)
        if hook is not None:  # lets the report reuse the decoded, reduced screenshot
            hook(rec, after)
        point = action.get("point")
        tap = (float(point[0]), float(point[1])) if point and len(point) == 2 else None
        head = f"step {n} · {probe} · {action_label(action)}"
        before = prev if prev is not None else after
        yield _annotate(before.copy(), [head], tap, scale)
        kinds = ", ".join(rec.get("kinds") or []) or "—"
        yield _annotate(after.copy(), [f"step {n} · after", f"kinds: {kinds}"], None, scale)
        prev = after


def make_video(
    run_dir: Path,
    out: Path | None = None,
    width: int = 540,
    seconds_per_step: float = 1.0,
    records: list[dict[str, Any]] | None = None,
    crf: int = 30,
    on_frame: FrameHook | None = None,
) -> VideoStats | None:
    """Write `video.mp4` for the run folder. Returns None when the trace has no steps with screenshots."""
    t0 = time.perf_counter()
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / VIDEO_NAME
    if records is None:
        records = load_trace(run_dir / TRACE_NAME).records
    records = [r for r in records if r.get("screenshot")]
    if not records:
        return None
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise VideoError("ffmpeg is not installed (apt-get install ffmpeg)")
    first = next((run_dir / r["screenshot"] for r in records if (run_dir / r["screenshot"]).exists()), None)
    dev_w, dev_h = 1080, 2340
    if first is not None:
        with Image.open(first) as im:
            dev_w, dev_h = im.size
    size = even_size(dev_w, dev_h, width)
    scale = size[0] / dev_w
    fps = 2.0 / seconds_per_step
    tmp = out.with_name(out.name + ".part.mp4")
    cmd = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-r", f"{fps:g}", "-i", "-",
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", str(crf),
        "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(tmp),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    n = 0
    try:
        for frame in _frames(run_dir, records, size, scale, on_frame):
            proc.stdin.write(np.ascontiguousarray(frame, np.uint8).tobytes())
            n += 1
        proc.stdin.close()
    except BrokenPipeError:
        pass
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.wait() != 0:
        tmp.unlink(missing_ok=True)
        raise VideoError(f"ffmpeg failed: {err.strip()[-400:]}")
    os.replace(tmp, out)
    return VideoStats(out, n, len(records), size, time.perf_counter() - t0)


def probe_video(path: Path) -> dict[str, Any]:
    """codec, pix_fmt, width, height, duration, frames of an MP4 (ffprobe)."""
    import json

    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
         "stream=codec_name,pix_fmt,width,height,nb_read_frames:format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    s = data["streams"][0]
    return {
        "codec": s["codec_name"],
        "pix_fmt": s["pix_fmt"],
        "width": int(s["width"]),
        "height": int(s["height"]),
        "frames": int(s.get("nb_read_frames", 0)),
        "duration": float(data["format"]["duration"]),
    }


# --- real phones: the device's own screen recording ------------------------------------------------------


class DeviceScreenRecorder:
    """Records a real phone's screen with `adb shell screenrecord` (uiautomator2 3.x's is broken).

    screenrecord stops by itself after 180 s, so recording runs in segments of `segment_s` seconds, each
    pulled to `local_dir/screenrecord-NNN.mp4` as soon as it is complete: a lost device loses at most the
    current segment. `stop()` interrupts the running segment with SIGINT on the phone (screenrecord then
    finishes the file) and pulls it. Uses only the adb binary, so it works with any driver.
    """

    def __init__(self, serial: str, local_dir: Path, segment_s: int = 170, adb: str = "adb",
                 bit_rate: int = 4_000_000):  # fmt: skip
        self.serial, self.local_dir, self.segment_s = serial, Path(local_dir), segment_s
        self.adb, self.bit_rate = adb, bit_rate
        self.files: list[Path] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: str | None = None

    def _sh(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.adb, "-s", self.serial, "shell", *args], capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip

    def remote_command(self, remote: str) -> str:
        """Shell line started on the phone: prints the recorder's pid, then waits for it."""
        return (
            f"screenrecord --bit-rate {self.bit_rate} --time-limit {self.segment_s} {remote} "
            "</dev/null >/dev/null 2>&1 & echo $!; wait"
        )

    def start(self) -> None:
        self.local_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        i = 0
        while not self._stop.is_set():
            remote = f"/sdcard/exerciser-screenrecord-{i:03d}.mp4"
            proc = subprocess.Popen([self.adb, "-s", self.serial, "shell", self.remote_command(remote)],
                                    stdout=subprocess.PIPE, text=True)  # fmt: skip
            self._pid = (proc.stdout.readline().strip() if proc.stdout else "") or None
            proc.wait()
            self._pid = None
            local = self.local_dir / f"screenrecord-{i:03d}.mp4"
            time.sleep(0.5)  # screenrecord finalises the moov atom after the signal
            pulled = subprocess.run([self.adb, "-s", self.serial, "pull", remote, str(local)],
                                    capture_output=True, text=True, timeout=120)  # fmt: skip
            if pulled.returncode == 0 and local.exists():
                self.files.append(local)
                self._sh("rm", "-f", remote)
            else:
                self.errors.append(f"segment {i}: {pulled.stderr.strip() or 'pull failed'}")
                if "not found" in pulled.stderr or "offline" in pulled.stderr:
                    return
            i += 1

    def stop(self, timeout: float = 30) -> list[Path]:
        self._stop.set()
        if self._pid and self._pid.isdigit():
            self._sh("kill", "-INT", self._pid)  # only the recorder this object started
        if self._thread:
            self._thread.join(timeout)
        return list(self.files)


def concat_videos(parts: Iterable[Path], out: Path) -> Path:
    """Join screen-recording segments into one MP4 without re-encoding (ffmpeg concat demuxer)."""
    parts = [Path(p) for p in parts]
    if len(parts) == 1:
        shutil.copyfile(parts[0], out)
        return out
    listing = out.with_suffix(".txt")
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in parts))
    try:
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
                        "-i", str(listing), "-c", "copy", str(out)], check=True)  # fmt: skip
    finally:
        listing.unlink(missing_ok=True)
    return out
