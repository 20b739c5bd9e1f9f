"""Writes each step's screenshot and hierarchy dump into the run folder, on the hot path of every step.

Apps show the same screen many times (a run of 300 steps often has fewer than 60 distinct screenshots),
so a file whose bytes equal one already written in this run is a hard link to it: the same path per step,
the same SHA-256 recorded in the trace, a fifth of the disk. Where the file system refuses links (FAT,
some network mounts) the bytes are written again.
"""

from __future__ import annotations

import os
from pathlib import Path

from exerciser.evidence.trace import sha256_hex

DEDUPE = True  # module switch, for the benchmark's before/after figures


_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


class StepFiles:
    def __init__(self, run_dir: Path, dedupe: bool | None = None):
        self.run_dir = Path(run_dir)
        self.dedupe = DEDUPE if dedupe is None else dedupe
        self._root = os.fspath(self.run_dir)
        self._by_sha: dict[str, str] = {}  # SHA-256 -> the first path written with those bytes
        self.written = 0  # bytes actually written
        self.linked = 0  # bytes saved by links

    def write(self, rel: str, data: bytes, sha: str | None = None) -> str:
        """Write `data` at run_dir/rel (replacing what is there) and return its SHA-256 (`sha` when the
        caller already hashed it).

        Plain `os` calls on path strings, and no unlink before a name is known to exist (a resumed run
        may write over its own names; a fresh one never does): this runs twice per step, on the run's
        core, where every system call costs several times what it costs on an idle one."""
        sha = sha or sha256_hex(data)
        path = os.path.join(self._root, rel)
        first = self._by_sha.get(sha) if self.dedupe else None
        if first == path:
            return sha
        if first is not None and self._link(first, path):
            self.linked += len(data)
            return sha
        try:
            fd = os.open(path, _NEW, 0o644)
        except FileExistsError:
            # never write through an existing name: it may be a link whose other names keep their bytes
            os.unlink(path)
            fd = os.open(path, _NEW, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        self.written += len(data)
        self._by_sha.setdefault(sha, path)
        return sha

    @staticmethod
    def _link(first: str, path: str) -> bool:
        try:
            os.link(first, path)
        except FileExistsError:
            os.unlink(path)
            try:
                os.link(first, path)
            except OSError:
                return False
        except OSError:
            return False  # no links here (FAT, some network mounts): write the bytes
        return True
