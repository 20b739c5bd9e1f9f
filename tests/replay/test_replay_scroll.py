"""Runs that scroll replay on a smaller and on a taller screen with the same verdicts: a recorded scroll
is a step found again by its container and made until what it was for shows (the next tap's control,
an agree button enabled by reading to the end), not a distance in pixels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from replay_helpers import cli, verdicts

from exerciser.evidence.trace import TRACE_NAME, load_trace

# (sample, its "8" figure): a deletion row far below the fold; an agree button enabled only once the
# policy body is read to its end (a smaller screen needs more scrolls for both, a taller one fewer); the
# same with a WebView policy; a deletion entry off-screen in a sideways tab strip
APPS = {
    "scroll_deletion_below_fold_en": 3,
    "scroll_agree_after_read_zh": 4,
    "webview_agree_after_read_en": 3,
    "hscroll_tab_deletion_zh": 3,
}


@pytest.fixture(scope="module")
def scroll_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scroll")
    out = {}
    for app in APPS:
        scenario = root / f"{app}.yaml"
        locale = "zh-CN" if app.endswith("_zh") else "en-US"
        scenario.write_text(
            yaml.safe_dump({"app": {"sample": app}, "locale": locale, "profile": "api33", "probes": ["8"]})
        )
        p = cli("run", str(scenario), "--out", str(root / "out"), "--quiet")
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
        out[app] = root / "out" / app
    return out


@pytest.mark.parametrize("app", list(APPS))
def test_the_run_scrolls_and_counts_no_scroll_as_a_tap(scroll_runs: dict[str, Path], app: str) -> None:
    run = scroll_runs[app]
    assert verdicts(run)["8"] == ("compliant", APPS[app])
    recs = load_trace(run / TRACE_NAME).records
    scrolls = [r for r in recs if r["action"]["type"] == "scroll"]
    # found again by its id, or by its class where it has none (a WebView's document node)
    assert scrolls and all(r["action"]["selector"].get("resource_id") or r["action"]["selector"].get("cls")
                           for r in scrolls)  # fmt: skip
    graph = json.loads((run / "graph.json").read_text())
    assert any(e["action"] == "scroll" for e in graph["edges"])  # a scroll is an edge of the graph


@pytest.mark.parametrize(
    "app, width, height, density",
    [
        ("scroll_deletion_below_fold_en", "540", "1170", "240"),  # a cheap phone: 360 dp, small pixels
        ("scroll_deletion_below_fold_en", "1080", "2640", "440"),
        ("scroll_agree_after_read_zh", "720", "1600", "320"),
        ("webview_agree_after_read_en", "1080", "2640", "440"),
        ("hscroll_tab_deletion_zh", "720", "1560", "440"),
    ],
)
def test_replay_on_another_screen_size_agrees(
    scroll_runs, tmp_path: Path, app, width, height, density
) -> None:
    out = tmp_path / "replay"
    p = cli("replay", str(scroll_runs[app]), "--profile", "api28", "--width", width, "--height", height,
            "--density", density, "--out", str(out), "--no-video")  # fmt: skip
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-1500:]
    assert verdicts(out) == verdicts(scroll_runs[app])
    dev = json.loads((out / "run.json").read_text())["device"]
    assert (dev["width"], dev["height"], dev["density"]) == (int(width), int(height), int(density))
