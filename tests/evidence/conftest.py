"""Shared fixtures of the evidence tests: one synthetic run folder, sealed once per module."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from evidence_synth import make_run

from exerciser.evidence.bundle import finalize_app


@pytest.fixture(scope="module")
def sealed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finalized synthetic app folder (video, reports, manifest). Treat as read-only: copy to modify."""
    d = make_run(tmp_path_factory.mktemp("sealed") / "demo")
    finalize_app(d)
    return d


@pytest.fixture
def run_copy(sealed_run: Path, tmp_path: Path) -> Path:
    """A private copy of the sealed run that a test may tamper with."""
    dst = tmp_path / sealed_run.name
    shutil.copytree(sealed_run, dst)
    return dst
