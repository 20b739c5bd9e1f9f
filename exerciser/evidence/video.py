"""MP4 of a run made from its step screenshots (a real phone's own recording: `screenrecord.py`).

Each step becomes two frames of half the step duration: the screen *before* the action with the tap
point circled and "step N | probe | action", then the screen *after* it with the recognised kinds.
Frames are piped raw to ffmpeg (H.264, yuv420p, even dimensions, faststart) so nothing but the final
file touches the disk; the file is written under a temporary name and renamed when complete.

Cheap per step, because the live video runs beside every run: a screen seen lately is not decoded
again, and the project's own PNGs are decoded band by band with each distinct band inflated and
reduced once (`pngbands`); frames are drawn small, in YUV 4:2:0 (no colour conversion per frame), the
tap ring blended from a mask drawn once; x264 gets a constant quantiser (`QP`); a frame is one write
into a pipe that holds it.

`LiveVideo` makes it during the run (the runner feeds each step as it is recorded; its worker process
works on another core), `make_video` afterwards from the bundle (`exerciser report`, or when no live
video ran).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from exerciser import atomic
from exerciser.evidence.pngbands import BandDecoder

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor
from exerciser.evidence.trace import TRACE_NAME, load_trace

VIDEO_NAME = "video.mp4"
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
TAP_COLOUR = (230, 30, 60)  # RGB
# Screens are static between steps: the cheapest preset (no motion search worth having) plus CABAC,
# which costs little and saves ~10% of the bytes. ~2x less CPU than superfast for ~1.5x the bytes.
PRESET = "ultrafast"
X264_PARAMS = "-x264-params cabac=1"
# A constant quantiser, not CRF: CRF keeps refining a screen that stays up (PSNR 53 dB) and needs the
# look-ahead's cost estimate of every frame; QP 28 (46 dB, small text still sharp) took 40% less
# encoder CPU and 35% fewer bytes on a 120-step run.
QP = 28
# 360 px wide: a third of a 1080 px phone, body text still ~15 px high; x264's cost goes with the
# pixels, and at 540 px the video alone cost more CPU than the run it records. The original PNGs stay.
WIDTH = 360
LOOKAHEAD = 6  # screenshots decoded ahead of the encoder
DECODE_THREADS = 2
RECENT = 8  # decoded screens kept for steps that show the same screen again


class VideoError(RuntimeError):
    pass


@functools.lru_cache(maxsize=4)
def _font(size: int) -> Any:
    from PIL import ImageFont  # only for captions with CJK text: the live worker starts faster

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
    """Short human description: `tap "Agree"`, `key back`, `app_start com.x`; a refused action says so."""
    if action.get("refused"):
        return "REFUSED " + action_label({k: v for k, v in action.items() if k != "refused"})
    t = action.get("type", "?")
    sel = action.get("selector") or {}
    if t in ("tap", "long_press"):
        name = sel.get("text") or (sel.get("resource_id") or "").rpartition("/")[2] or action.get("role")
        name = " ".join(str(name).split()) if name else ""  # a two-line button label is one caption line
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


def _load(path: Path, size: tuple[int, int], bands: BandDecoder | None = None) -> np.ndarray:
    """Screenshot as BGR (OpenCV's order) at `size`, letterboxed if its aspect differs; grey frame if
    it is missing. `bands` decodes the project's own PNGs band by band (each distinct band once)."""
    if bands is not None and (img := bands.load(path)) is not None:
        return img
    w, h = size
    flag = cv2.IMREAD_COLOR
    dims = _png_dims(path)
    for k, reduced in (
        (8, cv2.IMREAD_REDUCED_COLOR_8),
        (4, cv2.IMREAD_REDUCED_COLOR_4),
        (2, cv2.IMREAD_REDUCED_COLOR_2),
    ):
        if dims and dims[0] >= k * w:  # decode reduced (less to resize), never below the frame size
            flag = reduced
            break
    img = cv2.imread(str(path), flag) if dims else None
    if img is None:
        return np.full((h, w, 3), 96, np.uint8)
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


def _screen(path: Path, size: tuple[int, int], bands: BandDecoder | None = None) -> Screen:
    return Screen(_load(path, size, bands))


def _png_dims(path: Path) -> tuple[int, int] | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
    except OSError:
        return None
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return (0, 0) if head else None  # not a PNG: let OpenCV try
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@dataclass
class Screen:
    """One decoded screenshot: BGR for the report's pictures, YUV 4:2:0 (I420) for the video, made once
    per distinct screen, so that no frame needs a colour conversion (ffmpeg's rgb24 -> yuv420p alone
    cost more than half of the encoder's time)."""

    bgr: np.ndarray

    def __post_init__(self) -> None:
        self.i420 = cv2.cvtColor(self.bgr, cv2.COLOR_BGR2YUV_I420)


def _planes(i420: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y (h x w), U and V (h/2 x w/2) planes of an I420 buffer."""
    flat = i420.reshape(-1)
    q = (h // 2) * (w // 2)
    return (
        flat[: w * h].reshape(h, w),
        flat[w * h : w * h + q].reshape(h // 2, w // 2),
        flat[w * h + q : w * h + 2 * q].reshape(h // 2, w // 2),
    )


def _yuv(bgr: tuple[int, int, int]) -> tuple[int, int, int]:
    px = cv2.cvtColor(np.full((2, 2, 3), bgr, np.uint8), cv2.COLOR_BGR2YUV_I420).reshape(-1)
    return int(px[0]), int(px[4]), int(px[5])


TAP_YUV = _yuv((TAP_COLOUR[2], TAP_COLOUR[1], TAP_COLOUR[0]))


def _caption(y_band: np.ndarray, lines: list[str], fs: int) -> None:
    """White text on the (already darkened) band of the Y plane: OpenCV's Hershey font for ASCII
    (fast), PIL with a CJK font otherwise (button labels of Chinese apps)."""
    if all(line.isascii() for line in lines):
        scale = fs / 30
        for i, text in enumerate(lines):
            y = 4 + i * (fs + 6) + fs - 3
            cv2.putText(y_band, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, 1, cv2.LINE_AA)
        return
    from PIL import Image, ImageDraw

    mask = Image.new("L", (y_band.shape[1], y_band.shape[0]), 0)
    draw = ImageDraw.Draw(mask)
    font = _font(fs)
    for i, text in enumerate(lines):
        draw.text((8, 4 + i * (fs + 6)), text, font=font, fill=255)
    np.maximum(y_band, np.asarray(mask), out=y_band)


class _Ring:
    """The tap mark (a ring and a dot, anti-aliased) drawn once as alpha masks, per plane, and blended
    into each frame: drawing it with OpenCV's anti-aliased circles on three planes cost ~0.2 ms a frame."""

    def __init__(self, width: int):
        r = max(10, width // 22)
        t = max(3, r // 4)
        self.masks = []
        for value, k in ((TAP_YUV[0], 1), (TAP_YUV[1], 2), (TAP_YUV[2], 2)):
            half = (r + t) // k + 2
            a = np.zeros((2 * half + 1, 2 * half + 1), np.uint8)
            cv2.circle(a, (half, half), r // k, 255, max(2, t // k), cv2.LINE_AA)
            cv2.circle(a, (half, half), max(1, 3 // k), 255, -1, cv2.LINE_AA)
            a16 = a.astype(np.uint16)
            self.masks.append((half, k, 255 - a16, a16 * value + 127))

    def draw(self, planes: tuple[np.ndarray, ...], cx: int, cy: int) -> None:
        for plane, (half, k, keep, paint) in zip(planes, self.masks, strict=True):
            x, y = cx // k, cy // k
            h, w = plane.shape
            x0, y0, x1, y1 = max(0, x - half), max(0, y - half), min(w, x + half + 1), min(h, y + half + 1)
            if x0 >= x1 or y0 >= y1:
                continue  # tapped outside the frame
            mx, my = x0 - (x - half), y0 - (y - half)
            roi = plane[y0:y1, x0:x1]
            sl = (slice(my, my + y1 - y0), slice(mx, mx + x1 - x0))
            roi[:] = (roi * keep[sl] + paint[sl]) // 255


def _annotate(
    base: np.ndarray,
    lines: list[str],
    tap: tuple[float, float] | None,
    scale: float,
    size: tuple[int, int],
    ring: _Ring | None = None,
) -> np.ndarray:
    """A copy of the I420 frame `base` with the caption band over the bottom and the tap ring."""
    w, h = size
    frame = base.copy()
    y, u, v = _planes(frame, w, h)
    fs = max(12, w // 30)
    band = min(h, (fs + 6) * len(lines) + 8) // 2 * 2
    y_band = y[h - band :]
    np.right_shift(y_band, 2, out=y_band)  # darken to a quarter: white text stays readable on any screen
    for c in (u[(h - band) // 2 :], v[(h - band) // 2 :]):  # and grey: the same quarter of the colour
        c[:] = (c >> 2) + 96
    _caption(y_band, lines, fs)
    if tap is not None:
        (ring or _Ring(w)).draw((y, u, v), round(tap[0] * scale), round(tap[1] * scale))
    return frame


@dataclass
class VideoStats:
    path: Path
    frames: int
    steps: int
    size: tuple[int, int]
    seconds: float  # wall time spent making it (live: from the first step to the file being complete)
    cpu_seconds: float = 0.0  # CPU of the frame-drawing thread and of ffmpeg
    wait_seconds: float = 0.0  # live: how long the end of the run waited for the last frames
    encoder_cpu_seconds: float = 0.0  # of which ffmpeg
    start_cpu_seconds: float = 0.0  # live: of which the worker's start (Python, numpy, OpenCV)
    parts: dict[str, float] = field(default_factory=dict)  # live: CPU seconds by part of the worker
    # live: steps still queued at the worker's end of input ("behind"), the seconds it took to draw them
    # ("drain_seconds") and then to close the file ("finish_seconds"); bands inflated and reused
    worker: dict[str, float] = field(default_factory=dict)


FrameHook = Callable[[dict[str, Any], np.ndarray], None]


def _screen_key(rec: dict[str, Any]) -> str:
    return rec.get("screenshot_sha256") or rec.get("screenshot", "")


def video_geometry(first_png: Path | None, width: int) -> tuple[tuple[int, int], float]:
    """(even frame size, device-to-frame scale) from the run's first screenshot."""
    dims = _png_dims(first_png) if first_png is not None else None
    dev_w, dev_h = dims if dims and dims[0] > 0 else (1080, 2340)
    size = even_size(dev_w, dev_h, width)
    return size, size[0] / dev_w


def _fit(text: str, width: int) -> str:
    """A caption line cut to what the frame shows (Hershey simplex: ~14 px a character at scale 1)."""
    fs = max(12, width // 30)  # as in _annotate
    most = max(16, (width - 16) * 30 // (fs * 14))
    return text if len(text) <= most else text[: most - 3].rstrip() + "..."


@dataclass
class FrameMaker:
    """Two frames (half a step each) per step: for a tap, the tapped screen with the point circled, then
    the screen it led to; for any other action, the screen it led to, twice."""

    scale: float
    size: tuple[int, int]
    prev: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.ring = _Ring(self.size[0])

    def step(self, rec: dict[str, Any], screen: Screen) -> tuple[np.ndarray, np.ndarray]:
        action = rec.get("action") or {}
        n, probe = rec.get("n"), rec.get("probe", "")
        point = action.get("point")
        tap = (float(point[0]), float(point[1])) if point and len(point) == 2 else None
        head = _fit(f"step {n} | {probe} | {action_label(action)}", self.size[0])
        kinds = "kinds: " + (", ".join(rec.get("kinds") or []) or "-")
        after = screen.i420
        if tap is not None:
            before = self.prev if self.prev is not None else after
            out = (
                _annotate(before, [head], tap, self.scale, self.size, self.ring),
                _annotate(after, [f"step {n} | after", kinds], None, self.scale, self.size),
            )
        else:  # keys, launches, waits: the screen they led to, for the whole step
            frame = _annotate(after, [head, kinds], None, self.scale, self.size)
            out = (frame, frame)
        self.prev = after
        return out


def _frames(
    run_dir: Path, records: list[dict[str, Any]], size: tuple[int, int], scale: float, hook: FrameHook | None
):
    """The frames of every step (FrameMaker). PNG decoding (most of the cost; OpenCV releases the GIL)
    runs a few steps ahead in threads, and a screen seen again (same SHA-256) is not decoded twice."""
    pending: dict[str, Future[Screen]] = {}
    order: deque[str] = deque()
    recent: OrderedDict[str, Future[Screen]] = OrderedDict()  # decoded lately, kept for repeats
    ahead = iter(records)

    def feed(pool: ThreadPoolExecutor) -> None:
        while len(order) < LOOKAHEAD:
            rec = next(ahead, None)
            if rec is None:
                return
            k = _screen_key(rec)
            order.append(k)
            if k not in pending:
                pending[k] = recent.pop(k, None) or pool.submit(
                    _screen, run_dir / rec.get("screenshot", ""), size, bands
                )

    from concurrent.futures import ThreadPoolExecutor  # here: the live worker does without it

    maker = FrameMaker(scale, size)
    bands = BandDecoder(size)
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
            if hook is not None:  # lets the report reuse the decoded, reduced screenshot
                hook(rec, after.bgr)
            yield from maker.step(rec, after)


def _grow_pipe(fd: int, frame_bytes: int) -> None:
    """Make a pipe hold a whole frame (Linux: 64 KiB by default, 1 MiB for anyone): a frame is then one
    write that returns at once instead of a dozen hand-overs between the writer and ffmpeg."""
    want = 1 << max(16, (frame_bytes - 1).bit_length())
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(want, 1 << 20))


class _Encoder:
    """One ffmpeg turning raw I420 frames on its stdin into an H.264 MP4 (written as OUT.part.mp4,
    renamed when complete, so a half-made video never carries the final name)."""

    def __init__(self, out: Path, size: tuple[int, int], fps: float, qp: int, preset: str, threads: int = 0):
        ffmpeg = shutil.which("ffmpeg")
        if not ffmpeg:
            raise VideoError("ffmpeg is not installed (apt-get install ffmpeg)")
        self.out, self.size = out, size
        self.tmp = out.with_name(out.name + ".part.mp4")
        args = (
            f"-hide_banner -loglevel error -y -f rawvideo -pix_fmt yuv420p -s {size[0]}x{size[1]} -r {fps:g} "
            f"-i - -c:v libx264 -preset {preset} {X264_PARAMS} -threads {threads} -qp {qp} "
            "-pix_fmt yuv420p -movflags +faststart"
        )
        # a file, not a pipe: ffmpeg must never block on its stderr
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in finish/kill
        self.proc = subprocess.Popen(
            [ffmpeg, *args.split(), str(self.tmp)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,  # not the live worker's stdout: the run reads that to its end
            stderr=self._err,
        )
        assert self.proc.stdin is not None
        _grow_pipe(self.proc.stdin.fileno(), size[0] * size[1] * 3 // 2)
        self.frames = 0
        self.cpu_seconds = 0.0
        self._broken = False

    def write(self, frame: np.ndarray) -> None:
        if self._broken:
            return
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(memoryview(np.ascontiguousarray(frame, np.uint8)))
            self.frames += 1
        except BrokenPipeError:
            self._broken = True

    def finish(self) -> int:
        with contextlib.suppress(BrokenPipeError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        # wait4 rather than wait: it also tells the CPU ffmpeg used (the benchmark reports it)
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.cpu_seconds = usage.ru_utime + usage.ru_stime
        self._err.seek(0)
        err = self._err.read().decode(errors="replace")
        self._err.close()
        if self.proc.returncode != 0:
            self.tmp.unlink(missing_ok=True)
            raise VideoError(f"ffmpeg failed: {err.strip()[-400:]}")
        atomic.commit_file(self.tmp, self.out)
        return self.frames

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(OSError, ValueError):
            if self.proc.stdin:
                self.proc.stdin.close()
        self.proc.wait()
        self._err.close()
        self.tmp.unlink(missing_ok=True)


def make_video(
    run_dir: Path,
    out: Path | None = None,
    width: int = WIDTH,
    seconds_per_step: float = 1.0,
    records: list[dict[str, Any]] | None = None,
    qp: int = QP,
    preset: str = PRESET,
    on_frame: FrameHook | None = None,
) -> VideoStats | None:
    """Write `video.mp4` for the run folder. Returns None when the trace has no steps with screenshots."""
    t0, c0 = time.perf_counter(), time.process_time()
    run_dir = Path(run_dir)
    out = Path(out) if out else run_dir / VIDEO_NAME
    if records is None:
        records = load_trace(run_dir / TRACE_NAME).records
    records = [r for r in records if r.get("screenshot")]
    if not records:
        return None
    first = next((run_dir / r["screenshot"] for r in records if (run_dir / r["screenshot"]).exists()), None)
    size, scale = video_geometry(first, width)
    enc = _Encoder(out, size, 2.0 / seconds_per_step, qp, preset)
    try:
        for frame in _frames(run_dir, records, size, scale, on_frame):
            enc.write(frame)
    except BaseException:
        enc.kill()
        raise
    n = enc.finish()
    cpu = time.process_time() - c0 + enc.cpu_seconds
    return VideoStats(
        out, n, len(records), size, time.perf_counter() - t0, cpu, encoder_cpu_seconds=enc.cpu_seconds
    )


class VideoBuilder:
    """Builds video.mp4 one step at a time (the live video worker's engine): `add(record)` decodes the
    step's screenshot (a screen seen lately is not decoded again), draws its two frames and pipes them
    to ffmpeg; `finish()` closes the file."""

    def __init__(
        self,
        run_dir: Path,
        width: int = WIDTH,
        seconds_per_step: float = 1.0,
        qp: int = QP,
        preset: str = PRESET,
        on_frame: FrameHook | None = None,
        threads: int = 1,  # live: one encoder thread, the other core is the run's
    ):
        self.run_dir, self.out = Path(run_dir), Path(run_dir) / VIDEO_NAME
        self.width, self.fps, self.qp, self.preset = width, 2.0 / seconds_per_step, qp, preset
        self.on_frame, self.threads = on_frame, threads
        self.steps = 0
        self._enc: _Encoder | None = None
        self._maker: FrameMaker | None = None
        self._size: tuple[int, int] = (0, 0)
        self._recent: OrderedDict[str, Screen] = OrderedDict()
        self._bands: BandDecoder | None = None
        # CPU seconds of this thread by part (the benchmark prints them)
        self.parts: dict[str, float] = dict.fromkeys(("decode", "pictures", "draw", "pipe"), 0.0)

    def add(self, rec: dict[str, Any]) -> None:
        if not rec.get("screenshot"):
            return
        path = self.run_dir / rec["screenshot"]
        if self._enc is None:
            self._size, scale = video_geometry(path, self.width)
            self._enc = _Encoder(self.out, self._size, self.fps, self.qp, self.preset, threads=self.threads)
            self._maker = FrameMaker(scale, self._size)
            self._bands = BandDecoder(self._size)
        assert self._maker is not None
        parts, t0 = self.parts, time.thread_time()
        k = _screen_key(rec)
        after = self._recent.pop(k, None)
        if after is None:
            after = _screen(path, self._size, self._bands)
        self._recent[k] = after
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        t1 = time.thread_time()
        if self.on_frame is not None:
            self.on_frame(rec, after.bgr)
        t2 = time.thread_time()
        frames = self._maker.step(rec, after)
        t3 = time.thread_time()
        self._enc.write(frames[0])
        self._enc.write(frames[1])
        t4 = time.thread_time()
        parts["decode"] += t1 - t0
        parts["pictures"] += t2 - t1
        parts["draw"] += t3 - t2
        parts["pipe"] += t4 - t3
        self.steps += 1

    @property
    def bands_decoded(self) -> tuple[int, int]:
        """(bands inflated, bands taken from the cache)"""
        return (self._bands.inflated, self._bands.reused) if self._bands else (0, 0)

    @property
    def started(self) -> bool:
        return self._enc is not None

    @property
    def size(self) -> tuple[int, int]:
        return self._size

    def finish(self) -> tuple[int, float]:
        """(frames, ffmpeg CPU seconds); VideoError when ffmpeg failed."""
        if self._enc is None:
            return 0, 0.0
        n = self._enc.finish()
        return n, self._enc.cpu_seconds

    def kill(self) -> None:
        if self._enc is not None:
            self._enc.kill()


# The worker does no linear algebra: without this numpy's OpenBLAS starts a thread per core when it is
# imported (~60 ms of CPU of the worker's ~350 ms start).
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
# Niceness of the worker and its ffmpeg (the benchmark's --worker-nice). 0: with a third busy process on
# the 2 cores, nice 10 starved the worker and the end of the run waited 6-43 ms per step for it.
WORKER_NICE = 0


class LiveVideo:
    """Makes video.mp4 *while* the run goes, in a worker process (`exerciser.evidence.video_worker`).

    The runner hands over each step's trace record as soon as its line is written (`add`: one short
    write to the worker's pipe, which a thread of the worker drains at once). The worker decodes the
    screenshot (from the file just written: a page-cache read), draws the frames and feeds its ffmpeg;
    both run beside the run, on the other core, and never take the run's GIL (a thread here did: the
    run's every GIL release then waited for it). The small step pictures the report embeds come back
    through an unnamed temporary file as the worker makes them. `end_input` (after the last step) lets
    the worker close the file while the run scores and writes up; `finish` then collects it. If the
    worker fails the video is dropped and `finish` raises VideoError; `make_video` can still make it
    from the bundle (`exerciser report`). If the run itself is killed, the worker sees its pipe close
    and completes video.mp4 with the steps it was given.
    """

    # Steps written at once: the worker polls its pipe, so a write wakes nobody and costs a few us.
    BATCH = 1
    BATCH_S = 0.5

    def __init__(self, run_dir: Path, width: int = WIDTH):
        self.run_dir = Path(run_dir)
        self.error: str | None = None
        self.thumbs: dict[tuple[str, int], str] = {}  # (screenshot SHA-256, width) -> JPEG data URI
        self._batch: list[bytes] = []
        self._unsent = b""  # what a full pipe did not take yet (a worker far behind)
        self._sent = time.monotonic()
        self._t0 = time.perf_counter()
        # closed in finish/abort; unnamed, so a killed run leaves nothing behind
        self._err = tempfile.TemporaryFile()  # noqa: SIM115
        self._pictures = tempfile.TemporaryFile()  # noqa: SIM115 - the worker appends the pictures here
        fd = self._pictures.fileno()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "exerciser.evidence.video_worker", str(self.run_dir), str(width), str(fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            pass_fds=(fd,),
            env=os.environ | WORKER_ENV | {"EXERCISER_VIDEO_NICE": str(WORKER_NICE)},
        )
        assert self.proc.stdin is not None
        _grow_pipe(self.proc.stdin.fileno(), 1 << 20)
        os.set_blocking(self.proc.stdin.fileno(), False)  # the run never waits for the worker

    def add(self, record: dict[str, Any]) -> None:
        """Send one step (its trace record). Never raises, never blocks: a dead worker only loses the
        video, one far behind gets the steps its pipe could not take with the next ones."""
        if self.error is not None:
            return
        keep = ("n", "probe", "action", "kinds", "screenshot", "screenshot_sha256")
        self._batch.append(json.dumps({k: record.get(k) for k in keep}, ensure_ascii=False).encode())
        if len(self._batch) >= self.BATCH or time.monotonic() - self._sent >= self.BATCH_S:
            self._flush()

    def _flush(self, wait: bool = False) -> None:
        stdin = self.proc.stdin
        if self.error is not None or stdin is None or stdin.closed:
            return
        if self._batch:
            self._unsent += b"\n".join(self._batch) + b"\n"
            self._batch = []
        self._sent = time.monotonic()
        try:
            if wait:
                os.set_blocking(stdin.fileno(), True)
            while self._unsent:
                self._unsent = self._unsent[os.write(stdin.fileno(), self._unsent) :]
        except BlockingIOError:
            pass  # the pipe is full: the rest goes with the next step
        except (BrokenPipeError, OSError, ValueError) as exc:
            self.error = f"the video worker stopped: {exc}"

    def _stderr(self) -> str:
        with contextlib.suppress(OSError, ValueError):
            self._err.seek(0)
            return self._err.read().decode(errors="replace").strip()[-400:]
        return ""

    def end_input(self) -> None:
        """No more steps: the worker draws what it has and closes the file, while the caller does
        something else (`finish` then waits for it)."""
        self._flush(wait=True)
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()

    def finish(self, timeout: float = 600) -> VideoStats | None:
        """Wait for the worker; None when no step had a screenshot."""
        t = time.perf_counter()
        self.end_input()
        try:
            out = _read_all(self.proc.stdout, timeout)
        except TimeoutError:
            self.abort()
            raise VideoError(f"the video worker did not finish in {timeout:.0f} s") from None
        # its last word is said (it closes stdout first): reap it beside the rest of the run's end
        threading.Thread(target=self.proc.wait, daemon=True).start()
        err = self._stderr()
        self._err.close()
        try:
            res = json.loads(out or b"{}")
        except ValueError:
            res = {}
        if "frames" not in res or res.get("error") or self.error:
            self.proc.wait()  # it failed: its stderr is complete once it has gone
            err = err or self._stderr()
            self._pictures.close()
            raise VideoError(res.get("error") or self.error or f"the video worker failed: {err}")
        self.thumbs = {(sha, int(w)): uri for sha, w, uri in res.get("thumbs") or []}
        self._read_pictures()
        wait = time.perf_counter() - t
        if not res.get("frames"):
            return None
        parts = {str(k): float(v) for k, v in (res.get("parts") or {}).items()}
        inflated, reused = res.get("bands") or (0, 0)
        worker = {k: float(res.get(k) or 0) for k in ("behind", "drain_seconds", "finish_seconds")}
        return VideoStats(
            self.run_dir / VIDEO_NAME,
            int(res["frames"]),
            int(res["steps"]),
            (int(res["size"][0]), int(res["size"][1])),
            time.perf_counter() - self._t0,
            float(res.get("cpu_seconds", 0.0)),
            wait,
            parts.get("ffmpeg", 0.0),
            float(res.get("start_cpu_seconds", 0.0)),
            parts,
            worker | {"bands_inflated": float(inflated), "bands_reused": float(reused)},
        )

    def _read_pictures(self) -> None:
        with self._pictures as fh:
            fh.seek(0)
            for line in fh:
                sha, w, uri = line.rstrip(b"\n").split(b"\t")
                self.thumbs[(sha.decode(), int(w))] = uri.decode()

    def abort(self) -> None:
        """Stop now and leave no file (a lost device: the folder may be moved away)."""
        self.error = self.error or "aborted"
        assert self.proc.stdin is not None
        if self.proc.stdin.closed:  # after end_input: the worker cannot be told, stop it
            with contextlib.suppress(OSError):
                self.proc.kill()
        try:
            if not self.proc.stdin.closed:
                os.write(self.proc.stdin.fileno(), b"\nABORT\n")  # after any torn line of a full pipe
        except (BrokenPipeError, OSError, ValueError):  # full, or gone already
            with contextlib.suppress(OSError):
                self.proc.kill()
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError, ValueError):
            self._err.close()
            self._pictures.close()
        (self.run_dir / (VIDEO_NAME + ".part.mp4")).unlink(missing_ok=True)


def _read_all(stream: Any, timeout: float) -> bytes:
    """Everything until the end of `stream` (a pipe), TimeoutError after `timeout` seconds."""
    if stream is None:
        return b""
    fd, chunks, deadline = stream.fileno(), [], time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            stream.close()
            return b"".join(chunks)
        chunks.append(chunk)


def probe_video(path: Path) -> dict[str, Any]:
    """codec, pix_fmt, width, height, duration, frames of an MP4 (ffprobe)."""
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
