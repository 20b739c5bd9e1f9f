"""Append-only JSON Lines trace of a run: one line per step, written and flushed as it happens.

A crash or a vanished device loses nothing already written: each line is flushed and fsynced before the
next action. Each line carries `prev` = SHA-256 of the previous line's bytes, so removing or editing a
step breaks the chain (checked by `exerciser verify`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


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


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TraceWriter:
    """Writes `trace.jsonl` line by line. Reopening an existing trace continues its chain."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._prev = GENESIS
        self.count = 0
        if self.path.exists():
            for line in self.path.read_bytes().splitlines():
                if line.strip():
                    self._prev = sha256_hex(line)
                    self.count += 1
        self._fh = open(self.path, "ab")  # noqa: SIM115 - kept open for the whole run

    def append(self, record: StepRecord | dict[str, Any]) -> None:
        data = asdict(record) if isinstance(record, StepRecord) else dict(record)
        data["prev"] = self._prev
        line = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
        self._fh.write(line + b"\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._prev = sha256_hex(line)
        self.count += 1

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_trace(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
