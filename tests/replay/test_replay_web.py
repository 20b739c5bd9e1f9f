"""Runs through WebView pages and game surfaces replay on another screen and profile with the same
verdicts: a link of an H5 page is a recorded tap found again by its text (Chrome's tree) or in the pixels
(blind), and the swipes of a game's SurfaceView (never scrollable in the dump) are recorded scrolls made
again until the row they were for shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from replay_helpers import cli, verdicts

from exerciser.evidence.trace import TRACE_NAME, load_trace

APPS = {"h5_help_deletion_zh": 3, "game_settings_scroll_zh": 2}  # (sample, its "8" figure)


@pytest.fixture(scope="module")
def web_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("web")
    out = {}
    for app in APPS:
        scenario = root / f"{app}.yaml"
        scenario.write_text(
            yaml.safe_dump({"app": {"sample": app}, "locale": "zh-CN", "profile": "api33", "probes": ["8"]})
        )
        p = cli("run", str(scenario), "--out", str(root / "out"), "--quiet")
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
        out[app] = root / "out" / app
    return out


def test_the_h5_link_is_a_recorded_tap(web_runs: dict[str, Path]) -> None:
    recs = load_trace(web_runs["h5_help_deletion_zh"] / TRACE_NAME).records
    links = [r for r in recs if r["action"]["type"] == "tap" and r["action"].get("label") == "账号注销"]
    assert links and links[0]["action"]["selector"]["cls"] == "android.view.View"


def test_the_game_surface_swipe_is_a_recorded_scroll(web_runs: dict[str, Path]) -> None:
    run = web_runs["game_settings_scroll_zh"]
    recs = load_trace(run / TRACE_NAME).records
    swipes = [r for r in recs if r["action"]["type"] == "scroll"]
    assert any(r["action"]["selector"].get("cls") == "android.view.SurfaceView" for r in swipes)
    graph = json.loads((run / "graph.json").read_text())
    assert any(e["action"] == "scroll" for e in graph["edges"])


@pytest.mark.parametrize(
    "app, width, height, density",
    [("h5_help_deletion_zh", "720", "1600", "320"), ("game_settings_scroll_zh", "540", "1170", "240")],
)
def test_replay_on_another_screen_size_agrees(web_runs, tmp_path: Path, app, width, height, density) -> None:
    assert verdicts(web_runs[app])["8"] == ("compliant", APPS[app])
    out = tmp_path / "replay"
    p = cli("replay", str(web_runs[app]), "--profile", "api28", "--width", width, "--height", height,
            "--density", density, "--out", str(out), "--no-video")  # fmt: skip
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-1500:]
    assert verdicts(out) == verdicts(web_runs[app])
