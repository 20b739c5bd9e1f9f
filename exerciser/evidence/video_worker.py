"""The live video's worker process: `python -m exerciser.evidence.video_worker RUN_DIR WIDTH`.

Reads one JSON trace record per line on stdin (a thread drains the pipe at once, so the run's writes
never wait), builds RUN_DIR/video.mp4 with `video.VideoBuilder` and the report's pictures of each
distinct screen, and at end of input prints one JSON object on stdout: frames, steps, size,
cpu_seconds, thumbs ([screenshot SHA-256, width, data URI] per distinct screen), error. A line `ABORT`
stops at once and leaves no video file.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

from exerciser.evidence.video import WIDTH, VideoBuilder, VideoError
from exerciser.report.thumbs import Thumbs

ABORT = object()


def _reader(q: queue.SimpleQueue[Any]) -> None:
    for raw in sys.stdin.buffer:
        line = raw.strip()
        if line == b"ABORT":
            q.put(ABORT)
            return
        if line:
            q.put(line)
    q.put(None)


def main(argv: list[str]) -> int:
    run_dir, width = Path(argv[0]), int(argv[1]) if len(argv) > 1 else WIDTH
    thumbs = Thumbs(wanted_small=False, every_screen=True)  # per distinct screen, both sizes
    builder = VideoBuilder(run_dir, width=width, on_frame=thumbs.add)
    q: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_reader, args=(q,), daemon=True).start()
    out: dict[str, Any] = {"frames": 0, "steps": 0, "size": [0, 0], "thumbs": {}, "error": None}
    try:
        while (item := q.get()) is not None:
            if item is ABORT:
                builder.kill()
                out["error"] = "aborted"
                break
            builder.add(json.loads(item))
        else:
            frames, ffmpeg_cpu = builder.finish()
            out |= {"frames": frames, "steps": builder.steps, "size": list(builder.size)}
            out["cpu_seconds"] = time.process_time() + ffmpeg_cpu
            out["thumbs"] = [[sha, width, uri] for (sha, width), uri in thumbs.by_sha.items()]
    except (VideoError, OSError, ValueError) as exc:
        builder.kill()
        out["error"] = f"{type(exc).__name__}: {exc}"
    try:
        sys.stdout.write(json.dumps(out))
        sys.stdout.flush()
    except BrokenPipeError:  # the run was killed: video.mp4 is complete, nobody wants the pictures
        pass
    return 0 if out["error"] in (None, "aborted") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
