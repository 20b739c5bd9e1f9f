"""Helpers of the reliability tests: the command line in process (through its error boundary) and as a
user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from exerciser.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str) -> Result:
    """`exerciser ARGS` in process; a traceback escaping the boundary fails the test (not caught here)."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def exerciser(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("exerciser")
    env = dict(os.environ, COLUMNS="200", OMP_THREAD_LIMIT="1")
    return subprocess.run(
        [str(script), *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env, **kw
    )


def one_error_line(text: str) -> str:
    """The output is one line (no traceback) and it says what went wrong."""
    lines = [x for x in text.strip().splitlines() if x.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]
