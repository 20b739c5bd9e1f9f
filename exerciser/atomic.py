"""Atomic result files: a reader (or a crash, or a full disk) sees the old file or the new one, whole.

Written to a temporary name beside the target, flushed to the disk, then renamed over it. When the
write fails (ENOSPC, EFBIG, EROFS) the temporary file is removed and the error goes up: the target keeps
what it had.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

TMP_SUFFIX = ".tmp"


def tmp_name(path: Path) -> Path:
    return path.with_name(f"{path.name}.{os.getpid()}{TMP_SUFFIX}")


def write_bytes(path: Path | str, data: bytes) -> None:
    path = Path(path)
    tmp = tmp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text(path: Path | str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: Path | str, data: Any, **kw: Any) -> None:
    kw = {"ensure_ascii": False, "indent": 1} | kw
    write_text(path, json.dumps(data, **kw))


def commit_file(tmp: Path | str, path: Path | str) -> None:
    """A file written in full under `tmp` (by a library, ffmpeg) takes its place: fsync then rename."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
