"""Runs of the safety sample apps (sample_apks/safety): every probe, in process, and what their traces
show. Shared by the tests and bench/bench_guard.py's matrix."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from exerciser import SCENARIOS_DIR
from exerciser.runner.app_run import run_app
from exerciser.runner.parallel import virtual_device
from exerciser.scenario import Scenario, load_scenario

SAFETY_SCENARIOS = sorted((SCENARIOS_DIR / "safety").glob("*.yaml"))
ALL_PROFILES = ("api23", "api28", "api29", "api30", "api33", "api34", "miui14")
HARM = ".irreversible."


def scenario(path: Path, profile: str | None = None) -> Scenario:
    sc = load_scenario(path)
    return replace(sc, profile=profile) if profile else sc


def run_safety(sc: Scenario, out: Path, reader: Any = None) -> tuple[Any, list[dict[str, Any]]]:
    res = run_app(sc, virtual_device(sc, f"safety-{sc.profile}"), out, reader=reader, finalize=False)
    lines = (out / sc.id / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    return res, [json.loads(x) for x in lines if x.strip()]


def harm_steps(trace: list[dict[str, Any]]) -> list[tuple[int, str, str]]:
    """(step, probe, activity) of every step that shows an irreversible outcome."""
    return [(t["n"], t["probe"], t["activity"]) for t in trace if HARM in (t.get("activity") or "")]
