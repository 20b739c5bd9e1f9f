"""Replaying a recording goes through the guard as well: a step the guard refused in the recording is
refused again (never performed), in both replay modes, and the replay still agrees with the recording."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from exerciser import SCENARIOS_DIR
from exerciser.runner.app_run import run_app
from exerciser.runner.parallel import virtual_device
from exerciser.scenario import load_scenario


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("rec")
    sc = replace(load_scenario(SCENARIOS_DIR / "compliant_en.yaml"), probes=("8",))
    run_app(sc, virtual_device(sc, "rec"), out)
    app = out / sc.id
    lines = [json.loads(x) for x in (app / "trace.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(t["action"].get("refused") for t in lines)  # "Delete my account" was refused
    return app


@pytest.mark.parametrize("mode", ["trace", "probes"])
def test_a_refused_step_is_refused_again(recording: Path, tmp_path: Path, mode: str) -> None:
    exe = Path(sys.executable).with_name("exerciser")
    out = tmp_path / "replay"
    proc = subprocess.run(
        [str(exe), "replay", str(recording), "--mode", mode, "--out", str(out), "--no-video"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    trace = next(out.rglob("trace.jsonl"))
    lines = [json.loads(x) for x in trace.read_text(encoding="utf-8").splitlines()]
    refused = [t for t in lines if t["action"].get("refused")]
    assert refused and refused[0]["action"]["label"] == "Delete my account"
    assert not any(t["activity"].endswith("DeleteSubmittedActivity") for t in lines)
