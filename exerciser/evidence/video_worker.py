"""The live video's worker process: `python -m exerciser.evidence.video_worker RUN_DIR WIDTH [FD]`.

Reads one JSON trace record per line on stdin (a thread drains the pipe at once, so the run's writes
never wait), builds RUN_DIR/video.mp4 with `video.VideoBuilder` and the report's pictures of each
distinct screen. The pictures go, as they are made, to the open file FD as lines of
`SHA-256 TAB width TAB data URI` (without FD: in the JSON below), so that the end of the run does not
wait for a megabyte of JSON. At end of input it prints one JSON object on stdout: frames, steps, size,
cpu_seconds (this process and its ffmpeg), start_cpu_seconds (of which starting Python, numpy and
OpenCV), parts (CPU seconds by part), behind (steps still queued at end of input), drain_seconds and
finish_seconds (drawing those, then closing the file), bands ([inflated, reused]), error. A line `ABORT`
stops at once and leaves no video file.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

import cv2

from exerciser.evidence.video import WIDTH, VideoBuilder, VideoError
from exerciser.report.thumbs import Thumbs

ABORT = object()


POLL_S = 0.03


def _reader(q: queue.SimpleQueue[Any], end: dict[str, float]) -> None:
    """Moves the run's lines from stdin to `q`, polling: never blocked in read(), so that the run's
    writes wake nobody (a pipe write wakes its blocked reader, and the kernel likes to run the woken
    reader on the writer's core: there it took the run's CPU at every step). A torn last line (the run
    killed in mid-write) is dropped."""
    fd = sys.stdin.fileno()
    os.set_blocking(fd, False)
    rest = b""
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            time.sleep(POLL_S)
            continue
        if not chunk:
            break
        *lines, rest = (rest + chunk).split(b"\n")
        for raw in lines:
            line = raw.strip()
            if line == b"ABORT":
                q.put(ABORT)
                return
            if line:
                q.put(line)
    end["time"], end["behind"] = time.perf_counter(), q.qsize()
    q.put(None)


class _Pictures:
    """Hands the pictures over as they are made: appends the new entries of `thumbs.by_sha` to `fh`."""

    def __init__(self, thumbs: Thumbs, fh: BinaryIO | None):
        self.thumbs, self.fh, self.sent = thumbs, fh, 0

    def add(self, rec: dict[str, Any], bgr: Any) -> None:
        self.thumbs.add(rec, bgr)
        by_sha = self.thumbs.by_sha
        if self.fh is None or len(by_sha) == self.sent:
            return
        items = list(by_sha.items())[self.sent :]
        self.fh.write(b"".join(f"{sha}\t{w}\t{uri}\n".encode() for (sha, w), uri in items))
        self.sent = len(by_sha)


def main(argv: list[str]) -> int:
    start_cpu = time.process_time()  # what starting Python and importing numpy and OpenCV cost
    cv2.setNumThreads(1)  # its images are small: a second thread costs more hand-over than it saves
    with contextlib.suppress(ValueError, OSError):
        os.nice(int(os.environ.get("EXERCISER_VIDEO_NICE") or 0))  # ffmpeg inherits it
    run_dir, width = Path(argv[0]), int(argv[1]) if len(argv) > 1 else WIDTH
    fh = os.fdopen(int(argv[2]), "wb") if len(argv) > 2 else None
    thumbs = Thumbs(wanted_small=False, every_screen=True)  # per distinct screen, both sizes
    pictures = _Pictures(thumbs, fh)
    builder = VideoBuilder(run_dir, width=width, on_frame=pictures.add)
    q: queue.SimpleQueue[Any] = queue.SimpleQueue()
    end: dict[str, float] = {}
    threading.Thread(target=_reader, args=(q, end), daemon=True).start()
    out: dict[str, Any] = {"frames": 0, "steps": 0, "size": [0, 0], "thumbs": [], "error": None}
    try:
        while (item := q.get()) is not None:
            if item is ABORT:
                builder.kill()
                out["error"] = "aborted"
                break
            builder.add(json.loads(item))
        else:
            t = time.perf_counter()
            frames, ffmpeg_cpu = builder.finish()
            out |= {"frames": frames, "steps": builder.steps, "size": list(builder.size)}
            out |= {"behind": end.get("behind", 0), "drain_seconds": t - end.get("time", t)}
            out["finish_seconds"] = time.perf_counter() - t
            out["cpu_seconds"] = time.process_time() + ffmpeg_cpu
            out["start_cpu_seconds"] = start_cpu
            out["parts"] = builder.parts | {"ffmpeg": ffmpeg_cpu}
            out["bands"] = list(builder.bands_decoded)
            if fh is None:
                out["thumbs"] = [[sha, w, uri] for (sha, w), uri in thumbs.by_sha.items()]
            else:
                fh.flush()
    except (VideoError, OSError, ValueError) as exc:
        builder.kill()
        out["error"] = f"{type(exc).__name__}: {exc}"
    try:
        sys.stdout.write(json.dumps(out))
        sys.stdout.flush()
        # the run reads to the end of this pipe: close it now, not at exit (sys.stdout does not own fd 1,
        # and the kernel closes a dying process's files only after unmapping its memory, ~10 ms)
        os.close(1)
    except BrokenPipeError:  # the run was killed: video.mp4 is complete, nobody wants the pictures
        pass
    return 0 if out["error"] in (None, "aborted") else 1


if __name__ == "__main__":
    code = main(sys.argv[1:])
    # everything is written and ffmpeg reaped: skip the interpreter's teardown (tens of ms of freeing
    # numpy and OpenCV), which the end of the run would wait for
    os._exit(code)
