"""Append-only JSON Lines trace of a run: one line per step, written and flushed as it happens.

A crash or a vanished device loses nothing already written: each line goes to the file in one `write`
before the next action, so a killed process (SIGKILL included) leaves every step it reported. The file
is also fsynced at most `SYNC_EVERY_S` apart and at close, which bounds what a crash of the *machine*
can take (an fsync per line cost ~3 ms a step, 10-20% of a virtual-device step). That periodic fsync
runs in a small thread (fsync lets go of the GIL): 1-5 ms of disk wait a second off the run's path.

Each line carries `prev` = SHA-256 of the previous line's bytes (without the newline; the first line
has `prev` = 64 zeros), so removing, editing or reordering a step breaks the chain (checked by
`exerciser verify`). The hash of the last line is the chain head that `manifest.json` records.

Readers: `read_trace` (list of dicts, tolerant of a torn last line) and `load_trace` (records plus the
chain check and what is wrong, for verify/replay/report).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
TRACE_NAME = "trace.jsonl"
SYNC_EVERY_S = 1.0  # 0: fsync after every line


@dataclass
class StepRecord:
    n: int  # step number, 1-based, unique in the trace
    probe: str  # "explore", "consent", "5", "6", "7", "8", "setup"
    action: dict[str, Any]  # {"type": "tap"|"key"|"app_start"|"app_stop"|"app_clear"|"wait"|"observe"|...,
    #   "role": ..., "selector": {"resource_id": ..., "text": ..., "cls": ..., "index_path": ...},
    #   "point": [x, y], "key": ..., "package": ..., "seconds": ...}
    device_time_ms: int  # device clock after the action
    wall_time: float  # time.time() after the action
    state_before: str | None  # state id (explore.state) before the action
    state_after: str  # state id after the action
    package: str  # foreground package after the action
    activity: str
    kinds: list[str]  # recognised screen kinds after the action
    screenshot: str  # file name of the PNG, relative to the run folder
    screenshot_sha256: str
    xml: str  # file name of the XML dump, relative to the run folder
    xml_sha256: str
    note: str = ""  # what the probe made of it, human readable
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. permission_group, events seen


_FIELDS = fields(StepRecord)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def encode_line(data: dict[str, Any]) -> bytes:
    """The canonical bytes of one trace line (without the newline): sorted keys, UTF-8, no spaces lost."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode()


class TraceWriter:
    """Writes `trace.jsonl` line by line. Reopening an existing trace continues its chain.

    A torn last line left by a killed process is moved aside to `trace.jsonl.torn-<offset>` (kept, never
    deleted) before appending, so the chain stays valid and the partial bytes remain available.
    """

    def __init__(self, path: Path, sync_every_s: float | None = None):
        self.path = Path(path)
        self.sync_every_s = SYNC_EVERY_S if sync_every_s is None else sync_every_s
        self._synced = time.monotonic()
        self._syncer: threading.Thread | None = None  # the periodic fsync, started by the first one due
        self._due = threading.Event()
        self._fd_lock = threading.Lock()  # the fsync thread never touches a closed descriptor
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._prev = GENESIS
        self.count = 0
        self.last: dict[str, Any] | None = None  # the last line written, as a dict (a private copy)
        if self.path.exists():
            raw = self.path.read_bytes()
            complete, sep, tail = raw.rpartition(b"\n")
            if tail:  # partial line without its newline: keep it aside, cut it from the trace
                cut = len(complete) + 1 if sep else 0
                (self.path.parent / f"{self.path.name}.torn-{cut}").write_bytes(tail)
                with open(self.path, "r+b") as fh:
                    fh.truncate(cut)
                    fh.flush()
                    os.fsync(fh.fileno())
                raw = raw[:cut]
            for line in raw.split(b"\n"):
                if line.strip():
                    self._prev = sha256_hex(line)
                    self.count += 1
        # unbuffered: each append is exactly one write(2) of line + newline
        self._fh = open(self.path, "ab", buffering=0)  # noqa: SIM115 - kept open for the whole run

    @property
    def head(self) -> str:
        """SHA-256 of the last line written (GENESIS when empty)."""
        return self._prev

    def append(self, record: StepRecord | dict[str, Any]) -> str:
        """Append one step; returns the hash of the written line. When this returns the line is in the
        file (a kill of the process cannot lose it); on disk within `sync_every_s`."""
        # shallow: the line is encoded at once; `last` shares the record's nested values (do not mutate)
        data = (
            {f.name: getattr(record, f.name) for f in _FIELDS}
            if isinstance(record, StepRecord)
            else dict(record)
        )
        data["prev"] = self._prev
        line = encode_line(data)
        # One write call for line + newline: a kill leaves at most one torn line, never a merged one.
        buf = memoryview(line + b"\n")
        while buf:  # a short write (signal, nearly full disk) is finished, never left half a line
            buf = buf[self._fh.write(buf) or 0 :]
        now = time.monotonic()
        if now - self._synced >= self.sync_every_s:
            self._synced = now
            self._sync()
        self._prev = sha256_hex(line)
        self.count += 1
        self.last = data
        return self._prev

    def _sync(self) -> None:
        if self.sync_every_s <= 0:
            os.fsync(self._fh.fileno())
            return
        if self._syncer is None:
            self._syncer = threading.Thread(target=self._sync_loop, name="trace-fsync", daemon=True)
            self._syncer.start()
        self._due.set()

    def _sync_loop(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            with self._fd_lock:
                if self._fh.closed:
                    return
                with contextlib.suppress(OSError):  # a full disk: close() will say so
                    os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh.closed:
            return
        if self._syncer is not None:
            syncer, self._syncer = self._syncer, None
            with self._fd_lock:
                os.fsync(self._fh.fileno())
                self._fh.close()
            self._due.set()  # it wakes, sees the file closed and ends
            syncer.join(timeout=5)
            return
        os.fsync(self._fh.fileno())
        self._fh.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class TraceProblem:
    line: int  # 1-based line number in the file
    kind: str  # "torn" | "bad_json" | "chain" | "numbering"
    message: str


@dataclass
class LoadedTrace:
    """A parsed trace with its chain checked. `records` holds every line that parsed, in file order."""

    path: Path
    records: list[dict[str, Any]]
    line_hashes: list[str]  # SHA-256 of each complete line, in order (parallel to the file's lines)
    problems: list[TraceProblem]
    torn_tail: bytes = b""  # bytes after the last newline (a run killed mid-write)
    line_steps: list[Any] = field(default_factory=list)  # step number of each line (None: unparsable)

    @property
    def head(self) -> str:
        return self.line_hashes[-1] if self.line_hashes else GENESIS

    @property
    def count(self) -> int:
        return len(self.line_hashes)

    @property
    def chain_ok(self) -> bool:
        """Every complete line parses and links to the one before it (a torn tail does not count)."""
        return not [p for p in self.problems if p.kind != "torn"]

    def step(self, n: int) -> dict[str, Any] | None:
        return next((r for r in self.records if r.get("n") == n), None)


def load_trace(path: Path) -> LoadedTrace:
    """Parse and chain-check a trace. Never raises on bad content: problems are listed instead."""
    path = Path(path)
    raw = path.read_bytes()
    complete, sep, tail = raw.rpartition(b"\n")
    if not sep:  # no newline at all: the whole file is one torn line (or empty)
        complete, tail = b"", raw
    problems: list[TraceProblem] = []
    records: list[dict[str, Any]] = []
    hashes: list[str] = []
    steps: list[Any] = []
    prev = GENESIS
    last_n = 0
    lines = complete.split(b"\n") if complete else []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            problems.append(TraceProblem(i, "bad_json", "empty line inside the trace"))
            continue
        h = sha256_hex(line)
        hashes.append(h)
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            problems.append(TraceProblem(i, "bad_json", f"line does not parse as a JSON object: {exc}"))
            steps.append(None)
            prev = h
            continue
        steps.append(rec.get("n"))
        if rec.get("prev") != prev:
            what = "first line must have prev=0…0" if prev == GENESIS else "prev does not match line before"
            problems.append(
                TraceProblem(
                    i,
                    "chain",
                    f"hash chain broken at step {rec.get('n')}: {what} (line removed, edited or reordered)",
                )
            )
        n = rec.get("n")
        if not isinstance(n, int) or n <= last_n:
            problems.append(TraceProblem(i, "numbering", f"step number {n!r} does not follow {last_n}"))
        else:
            last_n = n
        records.append(rec)
        prev = h
    if tail.strip():
        problems.append(
            TraceProblem(len(lines) + 1, "torn", f"partial last line ({len(tail)} bytes, run interrupted)")
        )
    return LoadedTrace(path, records, hashes, problems, tail if tail.strip() else b"", steps)


def read_trace(path: Path) -> list[dict[str, Any]]:
    """All complete, parseable lines as dicts, in order. A torn last line is skipped (see `load_trace`)."""
    return load_trace(path).records


def chain_head(path: Path) -> tuple[str, int]:
    """(hash of the last complete line, number of complete lines)."""
    t = load_trace(path)
    return t.head, t.count
