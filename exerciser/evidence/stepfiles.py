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


class StepFiles:
    def __init__(self, run_dir: Path, dedupe: bool | None = None):
        self.run_dir = Path(run_dir)
        self.dedupe = DEDUPE if dedupe is None else dedupe
        self._by_sha: dict[str, Path] = {}
        self.written = 0  # bytes actually written
        self.linked = 0  # bytes saved by links

    def write(self, rel: str, data: bytes, sha: str | None = None) -> str:
        """Write `data` at run_dir/rel (replacing what is there) and return its SHA-256 (`sha` when the
        caller already hashed it)."""
        sha = sha or sha256_hex(data)
        path = self.run_dir / rel
        first = self._by_sha.get(sha) if self.dedupe else None
        if first == path:
            return sha
        # never write through an existing name: it may be a link whose other names must keep their bytes
        path.unlink(missing_ok=True)
        if first is not None:
            try:
                os.link(first, path)
                self.linked += len(data)
                return sha
            except OSError:
                pass  # no links here: write the bytes
        path.write_bytes(data)
        self.written += len(data)
        self._by_sha.setdefault(sha, path)
        return sha
