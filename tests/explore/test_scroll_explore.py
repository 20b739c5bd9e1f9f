"""The explorer scrolls: the state of a page is the same at every scroll offset, a scroll is a graph edge
that costs no tap, and a control below the fold is found and tapped."""

from __future__ import annotations

import json
from pathlib import Path

from explore_helpers import read

from exerciser.explore.explorer import HSCROLL, SCROLL, Explorer, Goal, axes, scrollers
from exerciser.explore.selector import Selector, find
from exerciser.explore.state import state_of
from exerciser.perceive.reading import Element
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


WEBSTRIP = Path(__file__).parent.parent / "sim" / "fixtures" / "webstrip.yaml"


def _rv(
    *items: tuple[int, int, int, int], cls: str = "androidx.recyclerview.widget.RecyclerView"
) -> list[Element]:
    box = Element("", (0, 300, 1080, 900), cls=cls, scrollable=True, index_path="0/1")
    kids = [Element(f"item {i}", b, clickable=True, index_path=f"0/1/{i}") for i, b in enumerate(items)]
    return [box, *kids]


def test_the_axis_of_a_container_comes_from_its_class_or_the_layout_of_its_items() -> None:
    side = _rv((66, 320, 700, 880), (722, 320, 1080, 880))  # two cards side by side: a carousel
    stacked = _rv((0, 300, 1080, 476), (0, 476, 1080, 652))  # rows: a list
    single = _rv((0, 300, 1080, 900))  # one item: nobody can tell without trying
    assert axes(side[0], side) == (HSCROLL,)
    assert axes(stacked[0], stacked) == (SCROLL,)
    assert set(axes(single[0], single)) == {SCROLL, HSCROLL}
    # the class decides before the layout does
    hsv = _rv((0, 300, 1080, 476), (0, 476, 1080, 652), cls="android.widget.HorizontalScrollView")
    assert axes(hsv[0], hsv) == (HSCROLL,)
    web = _rv((66, 320, 700, 880), (722, 320, 1080, 880), cls="android.webkit.WebView")
    assert axes(web[0], web) == (SCROLL,)


def test_the_explorer_scrolls_a_strip_sideways_to_a_tab_off_screen(tmp_path: Path) -> None:
    dev = VirtualDevice([load_app_model(WEBSTRIP)])
    dev.app_start("com.example.webstrip")
    s = Session(dev, "com.example.webstrip", tmp_path, default_reader())
    main = s.observe()
    roles = {c.selector.resource_id.rsplit("/", 1)[-1]: c.selector.role for c in scrollers(main)}
    assert roles == {"tabs": HSCROLL}
    assert find(main.reading, Selector(text="Account settings")) is None
    ex = Explorer(s, lambda st: st, "goal", max_actions=40)
    goal = Goal(
        "account",
        lambda st: any(e.label == "Account page" for e in st.reading.elements),
        lambda c, st: 20.0 if c.label == "Account settings" else 0.5,
        scroll_score=10.0,
    )
    r = ex.explore(goal, main)
    assert r.found is not None and r.scrolls >= 1
    assert [e["selector"]["text"] for e in r.path] == ["Account settings"]  # the scrolls are no taps
    sideways = [d for _, _, d in s.graph.g.edges(data=True) if d["action"] == "scroll"]
    assert sideways and all(d["selector"]["role"] == HSCROLL for d in sideways)
    recs = [json.loads(ln) for ln in (tmp_path / "trace.jsonl").read_text().splitlines()]
    swipes = [r["action"] for r in recs if r["action"]["type"] == "scroll"]
    assert swipes and all(a["axis"] == "horizontal" and a["from"][1] == a["to"][1] for a in swipes)
    s.close()


def test_the_explorer_reads_a_webview_page_to_its_end(tmp_path: Path) -> None:
    """A WebView's document node is a container like any other: scrolled until the screen stops moving,
    the last block is read; a blind one is done when its pixels stop moving."""
    for screen, last in (("Policy", "Block 15. Last block of the policy."), ("Blind policy", None)):
        dev = VirtualDevice([load_app_model(WEBSTRIP)])
        dev.app_start("com.example.webstrip")
        s = Session(dev, "com.example.webstrip", tmp_path / screen.replace(" ", "_"), default_reader())
        step = s.tap(find(s.observe().reading, Selector(text=screen)))
        (box,) = scrollers(step)
        assert box.selector.role == SCROLL and box.selector.cls == "android.webkit.WebView"
        ex = Explorer(s, lambda st: st, "goal", max_actions=40)
        for _ in range(30):
            if box.selector.key() in ex.tried.get(step.state.id, set()):
                break
            step = ex._scroll_once(box, step)
        assert box.selector.key() in ex.tried[step.state.id]  # done: the end was reached
        if last:
            assert any(e.label == last for e in step.reading.elements)
        s.close()
