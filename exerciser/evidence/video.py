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
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
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
LOOKAHEAD = 6  # screenshots decoded ahead of the encoder
DECODE_THREADS = 2
RECENT = 8  # decoded screens kept for steps that show the same screen again


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
    flag = cv2.IMREAD_COLOR
    dims = _png_dims(path)
    if dims and dims[0] == 2 * w:  # decode at half size directly (the common 1080 -> 540 case)
        flag = cv2.IMREAD_REDUCED_COLOR_2
    img = cv2.imread(str(path), flag) if dims else None
    if img is None:
        return np.full((h, w, 3), 96, np.uint8)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    ih, iw = img.shape[:2]
    if (iw, ih) == (w, h):
        return img
    scale = min(w / iw, h / ih)
    nw, nh = max(1, round(iw * scale)), max(1, round(ih * scale))
    small = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    if (nw, nh) == (w, h):
        return small
    frame = np.zeros((h, w, 3), np.uint8)
    y0, x0 = (h - nh) // 2, (w - nw) // 2
    frame[y0 : y0 + nh, x0 : x0 + nw] = small
    return frame


def _png_dims(path: Path) -> tuple[int, int] | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return (0, 0) if head else None  # not a PNG: let OpenCV try
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _caption(region: np.ndarray, lines: list[str], fs: int) -> None:
    """White text on the (already darkened) band: OpenCV's Hershey font for ASCII (fast), PIL with a CJK
    font otherwise (button labels of Chinese apps)."""
    if all(line.isascii() for line in lines):
        scale = fs / 30
        for i, text in enumerate(lines):
            y = 4 + i * (fs + 6) + fs - 3
            cv2.putText(
                region, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA
            )
        return
    img = Image.fromarray(region)
    draw = ImageDraw.Draw(img)
    font = _font(fs)
    for i, text in enumerate(lines):
        draw.text((8, 4 + i * (fs + 6)), text, font=font, fill=(255, 255, 255))
    region[:] = np.asarray(img)


def _annotate(
    base: np.ndarray, lines: list[str], tap: tuple[float, float] | None, scale: float
) -> np.ndarray:
    """A copy of `base` with the caption band over the bottom and the tap ring."""
    frame = base.copy()
    h, w = frame.shape[:2]
    fs = max(12, w // 30)
    band = min(h, (fs + 6) * len(lines) + 8)
    region = frame[h - band :]
    np.right_shift(region, 2, out=region)  # darken to a quarter: white text stays readable on any screen
    _caption(region, lines, fs)
    if tap is not None:
        c = (round(tap[0] * scale), round(tap[1] * scale))
        r = max(10, w // 22)
        cv2.circle(frame, c, r, TAP_COLOUR, max(3, r // 4), cv2.LINE_AA)
        cv2.circle(frame, c, 3, TAP_COLOUR, -1, cv2.LINE_AA)
    return frame


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
    """Two frames (half a step each) per step: for a tap, the tapped screen with the point circled, then
    the screen it led to; for any other action, the screen it led to, twice. PNG decoding (most of the
    cost; OpenCV releases the GIL) runs a few steps ahead in threads, and a screen seen again (same
    SHA-256) is not decoded twice."""

    def key(rec: dict[str, Any]) -> str:
        return rec.get("screenshot_sha256") or rec.get("screenshot", "")

    pending: dict[str, Future[np.ndarray]] = {}
    order: deque[str] = deque()
    recent: OrderedDict[str, Future[np.ndarray]] = OrderedDict()  # decoded lately, kept for repeats
    ahead = iter(records)

    def feed(pool: ThreadPoolExecutor) -> None:
        while len(order) < LOOKAHEAD:
            rec = next(ahead, None)
            if rec is None:
                return
            k = key(rec)
            order.append(k)
            if k not in pending:
                pending[k] = recent.pop(k, None) or pool.submit(
                    _load, run_dir / rec.get("screenshot", ""), size
                )

    prev: np.ndarray | None = None
    with ThreadPoolExecutor(max_workers=DECODE_THREADS) as pool:
        feed(pool)
        for rec in records:
            k = order.popleft()
            after = pending[k].result()
            if k not in order:  # no other step in the window shows this screen
                recent[k] = pending.pop(k)
                if len(recent) > RECENT:
                    recent.popitem(last=False)
            feed(pool)
            action = rec.get("action") or {}
            n, probe = rec.get("n"), rec.get("probe", "")
            if hook is not None:  # lets the report reuse the decoded, reduced screenshot
                hook(rec, after)
            point = action.get("point")
            tap = (float(point[0]), float(point[1])) if point and len(point) == 2 else None
            head = f"step {n} · {probe} · {action_label(action)}"
            kinds = "kinds: " + (", ".join(rec.get("kinds") or []) or "-")
            if tap is not None:  # the screen that was tapped, with the point; then what it led to
                yield _annotate(prev if prev is not None else after, [head], tap, scale)
                yield _annotate(after, [f"step {n} · after", kinds], None, scale)
            else:  # keys, launches, waits: the screen they led to, for the whole step
                frame = _annotate(after, [head, kinds], None, scale)
                yield frame
                yield frame
            prev = after


def make_video(
    run_dir: Path,
    out: Path | None = None,
    width: int = 540,
    seconds_per_step: float = 1.0,
    records: list[dict[str, Any]] | None = None,
    crf: int = 30,
    preset: str = "superfast",
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
    args = (
        f"-hide_banner -loglevel error -y -f rawvideo -pix_fmt rgb24 -s {size[0]}x{size[1]} -r {fps:g} -i - "
        f"-c:v libx264 -preset {preset} -crf {crf} -pix_fmt yuv420p -movflags +faststart"
    )
    cmd = [ffmpeg, *args.split(), str(tmp)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    n = 0
    try:
        for frame in _frames(run_dir, records, size, scale, on_frame):
            proc.stdin.write(memoryview(np.ascontiguousarray(frame, np.uint8)))
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
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=codec_name,pix_fmt,width,height,nb_read_frames:format=duration",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
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

    def __init__(
        self, serial: str, local_dir: Path, segment_s: int = 170, adb: str = "adb", bit_rate: int = 4_000_000
    ):
        self.serial, self.local_dir, self.segment_s = serial, Path(local_dir), segment_s
        self.adb, self.bit_rate = adb, bit_rate
        self.files: list[Path] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: str | None = None

    def _sh(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.adb, "-s", self.serial, "shell", *args], capture_output=True, text=True, timeout=timeout
        )

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
            proc = subprocess.Popen(
                [self.adb, "-s", self.serial, "shell", self.remote_command(remote)],
                stdout=subprocess.PIPE,
                text=True,
            )
            self._pid = (proc.stdout.readline().strip() if proc.stdout else "") or None
            proc.wait()
            self._pid = None
            local = self.local_dir / f"screenrecord-{i:03d}.mp4"
            time.sleep(0.5)  # screenrecord finalises the moov atom after the signal
            pulled = subprocess.run(
                [self.adb, "-s", self.serial, "pull", remote, str(local)],
                capture_output=True,
                text=True,
                timeout=120,
            )
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
        subprocess.run(
            [
                "ffmpeg",
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-c",
                "copy",
                str(out),
            ],
            check=True,
        )
    finally:
        listing.unlink(missing_ok=True)
    return out
