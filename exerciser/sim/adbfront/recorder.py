"""`screenrecord` on the virtual device: frames are the screens the device showed while recording.

`screenrecord [--time-limit S] [--size WxH] FILE` blocks like the real one until the time limit, a SIGINT
(`pkill -INT screenrecord`, `pkill -INT -f REGEX`, `kill -2 PID`) or the shell stream closing, then writes
an H.264 MP4 (ffmpeg) with each captured screen held for as long as it was shown.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Ctx


class Recorder:
    def __init__(self, pid: int, path: str, size: tuple[int, int] | None, cmdline: str) -> None:
        self.pid = pid
        self.cmdline = cmdline  # what `pkill -f` matches
        self.path = path
        self.size = size
        self.frames: list[tuple[float, bytes]] = []
        self.stop = threading.Event()

    def frame(self, obs) -> None:
        if not self.frames or self.frames[-1][1] is not obs.png:
            self.frames.append((time.monotonic(), obs.png))


def signal_recorders(phone: Phone, pid: int | None = None, pattern: str | None = None) -> bool:
    """SIGINT the recorders: all, the one with `pid`, or those whose command line `pattern` matches."""
    try:
        regex = re.compile(pattern) if pattern is not None else None
    except re.error:
        return False  # pkill: a bad pattern matches nothing
    chosen = [
        rec
        for rec in list(phone.recorders)
        if (regex.search(rec.cmdline) if regex is not None else pid is None or rec.pid == pid)
    ]
    for rec in chosen:
        rec.stop.set()
    return bool(chosen)


def screenrecord_command(phone: Phone, ctx: Ctx) -> int:
    args = ctx.argv[1:]
    limit, size, path = 180.0, None, None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--time-limit" and i + 1 < len(args):
            limit = min(180.0, float(args[i + 1]))
            i += 1
        elif a == "--size" and i + 1 < len(args):
            w, _, h = args[i + 1].partition("x")
            size = (int(w), int(h))
            i += 1
        elif a == "--bit-rate" and i + 1 < len(args):
            i += 1
        elif not a.startswith("-"):
            path = a
        i += 1
    if path is None:
        ctx.eprint("Must specify output file (see --help).")
        return 2
    if shutil.which("ffmpeg") is None:
        ctx.eprint("ERROR: unable to create video encoder")
        return 1
    # a background job (`screenrecord F & echo $!`) is signalled by the pid the shell gave it
    rec = Recorder(
        ctx.pid or 7000 + len(phone.recorders) + int(time.monotonic()) % 1000, path, size, " ".join(ctx.argv)
    )
    with phone.lock:
        phone.recorders.append(rec)
        rec.frame(phone.observation())
    session = ctx.shell.session
    if session is not None:
        threading.Thread(target=lambda: (session.wait_closed(), rec.stop.set()), daemon=True).start()
    rec.stop.wait(limit)
    with phone.lock:
        phone.recorders.remove(rec)
        rec.frame(phone.observation())
    data = encode(rec.frames, rec.size)
    if data is None:
        ctx.eprint("ERROR: encoder failed")
        return 1
    phone.fs.write(path, data)
    return 0


def encode(frames: list[tuple[float, bytes]], size: tuple[int, int] | None) -> bytes | None:
    """H.264 MP4 of the frames, each held until the next one (the last for 0.5 s)."""
    with tempfile.TemporaryDirectory(prefix="screenrecord-") as tmp:
        d = Path(tmp)
        lines = []
        for k, (t, png) in enumerate(frames):
            (d / f"{k:05d}.png").write_bytes(png)
            dur = (frames[k + 1][0] - t) if k + 1 < len(frames) else 0.5
            lines += [f"file '{k:05d}.png'", f"duration {max(dur, 0.04):.3f}"]
        lines.append(f"file '{len(frames) - 1:05d}.png'")
        (d / "list.txt").write_text("\n".join(lines) + "\n")
        scale = f"scale={size[0]}:{size[1]}" if size else "scale=trunc(iw/4)*2:trunc(ih/4)*2"
        cmd = [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            "list.txt",
            "-vf",
            f"{scale},format=yuv420p",
            "-r",
            "10",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-movflags",
            "+faststart",
            "out.mp4",
        ]
        r = subprocess.run(cmd, cwd=d, capture_output=True, timeout=120)
        if r.returncode != 0:
            return None
        return (d / "out.mp4").read_bytes()
