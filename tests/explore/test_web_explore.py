"""Flows inside WebView pages and game surfaces: a link of an H5 page is a tap target (from Chrome's tree,
or from OCR when the WebView is blind) that the goal-directed explorer follows and counts as a tap; H5
pages loaded one after the other in one activity are different states; a blind full-screen surface (a
game's SurfaceView, never scrollable in the dump) is swiped until its pixels stop changing, each swipe a
scroll edge of the graph, no tap."""

from __future__ import annotations

from pathlib import Path

from explore_helpers import device, launch, read, tap, tap_role

from exerciser.device.contract import Key
from exerciser.explore.explorer import Explorer, deletion_goal, entry_targets, moved, scrollers
from exerciser.explore.selector import controls
from exerciser.explore.state import state_of
from exerciser.runner.app_run import default_reader
from exerciser.runner.session import Session


def _explore_deletion(app: str, package: str, tmp: Path):
    dev = device(app)
    launch(dev, package)
    tap_role(dev, "agree")
    s = Session(dev, package, tmp, default_reader())
    main = s.observe()
    r = Explorer(s, lambda st: st, "goal", max_actions=60).explore(deletion_goal(), main)
    return s, r


def test_h5_pages_of_one_activity_are_states_of_their_own() -> None:
    dev = device("h5_help_deletion_zh")
    launch(dev, "com.yuedu.reader")
    tap_role(dev, "agree")
    tap(dev, "我的")
    help_page = tap(dev, "帮助与客服")
    link = next(c for c in controls(help_page) if c.label == "账号注销")
    assert link.selector.cls == "android.view.View"  # Chrome's tree: the link itself is the control
    notice = tap(dev, "账号注销")
    assert notice.activity == help_page.activity
    assert state_of(notice).id != state_of(help_page).id

    dev.key(Key.BACK)
    again = read(dev)
    assert state_of(again).id == state_of(help_page).id  # back in the WebView's history


def test_the_explorer_follows_a_link_inside_a_blind_webview(tmp_path: Path) -> None:
    s, r = _explore_deletion("h5_blind_deletion_en", "com.leafline.books", tmp_path)
    assert r.found is not None, r.reason
    assert [e["selector"]["text"] for e in r.path] == ["Me", "Help & support"]
    # the entry is a link read from the pixels (the dump shows the WebView alone)
    entry = next(c for c in entry_targets(r.found) if c.label == "Delete account")
    assert entry.selector.cls.startswith("ocr.") and not entry.selector.resource_id
    assert r.found.reading.blind
    # tapped, it loads the deletion notice in the same WebView: same activity, another state
    notice = s.tap(entry)
    assert not notice.refused and notice.reading.activity == r.found.reading.activity
    assert notice.state.id != r.found.state.id
    assert any("Before you delete" in e.label for e in notice.reading.elements)
    s.close()


def test_the_explorer_swipes_a_game_surface_until_the_entry_shows(tmp_path: Path) -> None:
    s, r = _explore_deletion("game_settings_scroll_zh", "com.xinghai.guardian", tmp_path)
    assert r.found is not None, r.reason
    assert [e["selector"]["text"] for e in r.path] == ["设置"]  # swipes are no taps
    assert r.scrolls >= 1
    assert [c.label for c in entry_targets(r.found)] == ["账号注销"]
    edges = [d for _, _, d in s.graph.g.edges(data=True) if d["action"] == "scroll"]
    assert any(d["selector"].get("cls") == "android.view.SurfaceView" for d in edges), edges
    s.close()


def test_a_surface_that_shows_everything_is_done_after_one_swipe(tmp_path: Path) -> None:
    """The lobby fits the screen: a swipe changes no pixel, so its surface is not swiped again."""
    dev = device("game_settings_scroll_zh")
    launch(dev, "com.xinghai.guardian")
    tap_role(dev, "agree")
    s = Session(dev, "com.xinghai.guardian", tmp_path, default_reader())
    lobby = s.observe()
    surface = scrollers(lobby, vertical_only=True)
    assert [c.selector.cls for c in surface] == ["android.view.SurfaceView"]
    after = s.scroll(surface[0])
    assert not moved(lobby, after, surface[0].bounds) and after.state.id == lobby.state.id
    tap(dev, "设置")
    settings = s.observe()
    below = s.scroll(scrollers(settings, vertical_only=True)[0])
    assert moved(settings, below, surface[0].bounds)  # the list is longer than the screen: it moves
    s.close()
