"""The explorer scrolls: the state of a page is the same at every scroll offset, a scroll is a graph edge
that costs no tap, and a control below the fold is found and tapped."""

from __future__ import annotations

from pathlib import Path

from explore_helpers import read

from exerciser.explore.explorer import Explorer, Goal, scrollers
from exerciser.explore.selector import Selector, find
from exerciser.explore.state import state_of
from exerciser.runner.app_run import default_reader
from exerciser.runner.session import Session
from exerciser.sim import VirtualDevice, load_app_model

FIXTURE = Path(__file__).parent.parent / "sim" / "fixtures" / "scrollapp.yaml"
PKG = "com.example.scrolltest"


def _device() -> VirtualDevice:
    dev = VirtualDevice([load_app_model(FIXTURE)])
    dev.app_start(PKG)
    return dev


def test_the_state_of_a_page_does_not_depend_on_its_scroll_offset() -> None:
    dev = _device()
    top = read(dev)
    dev.swipe(540, 1700, 540, 1000, 1500)
    mid = read(dev)
    assert {e.label for e in top.elements} != {e.label for e in mid.elements}  # other rows show
    assert state_of(top).id == state_of(mid).id
    assert state_of(top).content != state_of(mid).content  # a reviewer still tells the visits apart


def test_the_explorer_scrolls_to_a_control_below_the_fold(tmp_path: Path) -> None:
    dev = _device()
    s = Session(dev, PKG, tmp_path, default_reader())
    main = s.observe()
    assert scrollers(main) and find(main.reading, Selector(text="Bottom button")) is None
    ex = Explorer(s, lambda st: st, "goal", max_actions=60)
    goal = Goal(
        "form",
        lambda st: st.reading.activity.endswith("FormActivity"),
        lambda c, st: 20.0 if c.label == "Bottom button" else 1.0,
    )
    r = ex.explore(goal, main)
    assert r.found is not None and r.scrolls >= 1
    assert [e["selector"]["text"] for e in r.path] == ["Bottom button"]  # one tap: scrolls are no taps
    edges = [d for _, _, d in s.graph.g.edges(data=True)]
    assert any(
        d["action"] == "scroll" and d["selector"]["resource_id"].endswith("content_frame") for d in edges
    )
    s.close()
