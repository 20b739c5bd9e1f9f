"""A run stopped at a long wait, and everything needed to go on with it in another process.

Where a phone allows no clock change and nobody may keep the device for the wait (the cluster: a
worker must not sleep), the session's `park` raises `Parked` at the wait. `run_app` then writes
`checkpoint.json` beside the trace: the probes finished so far (their results, the app map), the
probe in progress's own progress (see `ProbeContext.progress`: the re-request probe's next relaunch,
its refusals in device time and counts), the session (counters, trace position, graph as networkx
node_link_data, events, clock moves, the safety guard's state) and the wait itself (device time it
ends). `run_app(..., resume=checkpoint)` on the same device restores all of it, passes the wait once
the device's clock is past it, and goes on from there; the trace and the step files simply continue.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exerciser import atomic

FILE = "checkpoint.json"
VERSION = 1


class Parked(Exception):
    """A long wait the device's clock cannot skip: the run stops here and goes on after `until_ms`."""

    def __init__(self, seconds: float, rate: float = 1.0) -> None:
        super().__init__(f"parked for {seconds:.0f} device s")
        self.seconds = seconds
        self.rate = rate  # device seconds per wall second, as measured at the park
        self.since_ms = 0  # device time the wait began (set by the session)
        self.until_ms = 0  # device time it ends


@dataclass
class Checkpoint:
    data: dict[str, Any]

    @property
    def until_ms(self) -> int:
        return int(self.data["session"]["pending"]["until_ms"])

    def write(self, app_dir: Path) -> Path:
        atomic.write_json(app_dir / FILE, self.data, default=str)
        return app_dir / FILE

    @classmethod
    def read(cls, app_dir: Path) -> Checkpoint | None:
        import json

        p = Path(app_dir) / FILE
        if not p.exists():
            return None
        data = json.loads(p.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            return None
        return cls(data)


def results_json(ctx: Any) -> dict[str, Any]:
    """The finished probes' results and the app map of a ProbeContext."""
    from dataclasses import asdict

    amap = ctx.appmap
    return {
        "results": {k: asdict(r) for k, r in ctx.results.items()},
        "appmap": None if amap is None else asdict(amap),
        "progress": ctx.progress,
    }


def restore_results(ctx: Any, d: dict[str, Any]) -> None:
    from exerciser.probes.common import AppMap, ProbeResult, Prompt

    ctx.results = {k: ProbeResult(**r) for k, r in d["results"].items()}
    a = d.get("appmap")
    if a is not None:
        ctx.appmap = AppMap(a["main_state"], a["triggers"], [Prompt(**p) for p in a["prompts"]])
    ctx.progress = d.get("progress") or {}
