"""Helpers of the run tests: the real `exerciser` command line in a subprocess, expected verdicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from exerciser import SAMPLES_DIR

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = ("consent", "5", "6", "7", "8")
VERDICTS = {"violation", "compliant", "inconclusive"}


def exerciser(*args: str, cwd: Path | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    """`exerciser ARGS` as a user runs it (the installed console script, else the module's main)."""
    script = Path(sys.executable).with_name("exerciser")
    cmd = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from exerciser.cli.main import main; main()"]
    )
    env = dict(os.environ, COLUMNS="200", OMP_THREAD_LIMIT="1")
    return subprocess.run(
        [*cmd, *args], cwd=cwd or ROOT, capture_output=True, text=True, timeout=timeout, env=env
    )


def expected(app: str) -> dict[str, Any]:
    return yaml.safe_load((SAMPLES_DIR / app / "expected.yaml").read_text(encoding="utf-8"))


def verdict(app_dir: Path) -> dict[str, Any]:
    return json.loads((app_dir / "verdict.json").read_text(encoding="utf-8"))


def trace_steps(app_dir: Path) -> set[int]:
    lines = (app_dir / "trace.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["n"] for line in lines if line.strip()}


def check_shape(v: dict[str, Any], steps: set[int]) -> None:
    """verdict.json as README/issue 4 document it: categories consent/5/6/7/8, each with verdict,
    figure (number or null), reason (one sentence) and evidence_steps (steps of this run's trace)."""
    assert set(v["categories"]) == set(CATEGORIES), v["categories"].keys()
    for cat, c in v["categories"].items():
        assert c["verdict"] in VERDICTS, (cat, c)
        assert c["figure"] is None or (
            isinstance(c["figure"], int | float) and not isinstance(c["figure"], bool)
        )
        assert isinstance(c["reason"], str) and c["reason"].strip(), (cat, c)
        assert "\n" not in c["reason"], (cat, c["reason"])
        assert isinstance(c["evidence_steps"], list), (cat, c)
        assert all(isinstance(n, int) and n in steps for n in c["evidence_steps"]), (cat, c["evidence_steps"])
