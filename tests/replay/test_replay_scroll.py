"""A run that scrolls (the deletion row is far below the fold) replays on a smaller and on a taller screen
with the same verdicts: a recorded scroll is a step found again by its container, not by pixels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from replay_helpers import cli, verdicts

from exerciser.evidence.trace import TRACE_NAME, load_trace

APP = "scroll_deletion_below_fold_en"


@pytest.fixture(scope="module")
def scroll_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scroll")
    scenario = root / f"{APP}.yaml"
    scenario.write_text(
        yaml.safe_dump({"app": {"sample": APP}, "locale": "en-US", "profile": "api33", "probes": ["8"]})
    )
    p = cli("run", str(scenario), "--out", str(root / "out"), "--quiet")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return root / "out" / APP


def test_the_run_scrolls_and_counts_no_scroll_as_a_tap(scroll_run: Path) -> None:
    assert verdicts(scroll_run)["8"] == ("compliant", 3)
    recs = load_trace(scroll_run / TRACE_NAME).records
    scrolls = [r for r in recs if r["action"]["type"] == "scroll"]
    assert scrolls and all(r["action"]["selector"].get("resource_id") for r in scrolls)
    graph = json.loads((scroll_run / "graph.json").read_text())
    assert any(e["action"] == "scroll" for e in graph["edges"])  # a scroll is an edge of the graph


@pytest.mark.parametrize("width, height, mode", [("1080", "1920", "probes"), ("1080", "2640", "probes")])
def test_replay_on_another_screen_size_agrees(scroll_run: Path, tmp_path: Path, width, height, mode) -> None:
    out = tmp_path / "replay"
    p = cli("replay", str(scroll_run), "--profile", "api28", "--width", width, "--height", height,
            "--mode", mode, "--out", str(out), "--no-video")  # fmt: skip
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-1500:]
    assert verdicts(out) == verdicts(scroll_run)
