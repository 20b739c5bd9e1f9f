"""State graph and selectors: edges keep their selector and steps, shortest tap paths, where BACK leads,
GraphML/JSON export; a selector finds its control again when texts, ids or positions change."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from explore_helpers import device, edited, launch, nodes, read, tap_role

from exerciser.explore.graph import StateGraph
from exerciser.explore.selector import Selector, controls, find
from exerciser.explore.state import ScreenState


def st(name: str) -> ScreenState:
    return ScreenState(name, f"s-{name}", f"c-{name}", "com.x", f".{name}", ())


def tap_edge(g: StateGraph, a: str, b: str, text: str, step: int) -> None:
    sel = Selector(resource_id=f"com.x:id/{text.lower()}", text=text)
    g.add_edge(a, b, "tap", sel.key(), step, selector=sel.to_json(), point=[10, 20])


@pytest.fixture
def graph():
    g = StateGraph()
    for i, n in enumerate("ABCDE", start=1):
        g.add_state(st(n), i)
    tap_edge(g, "A", "B", "Me", 2)
    tap_edge(g, "B", "C", "Settings", 3)
    tap_edge(g, "C", "D", "Security", 4)
    tap_edge(g, "A", "E", "Discover", 5)
    tap_edge(g, "E", "D", "Shortcut", 6)
    g.add_edge("D", "C", "key", "back", 7)
    g.add_edge("D", "A", "key", "back", 9)  # later, BACK led elsewhere (a replace, not a push)
    tap_edge(g, "A", "B", "Me", 8)  # the same tap again: one edge, two steps
    return g


def test_edges_keep_selectors_and_steps(graph):
    edges = [d for _, _, d in graph.g.edges(data=True) if d["action"] == "tap"]
    assert len(edges) == 5
    me = next(d for d in edges if d["selector"]["text"] == "Me")
    assert me["steps"] == [2, 8] and me["point"] == [10, 20]
    assert me["selector_key"] == "id=me|text=me"
    assert graph.g.nodes["A"]["visits"] == 1 and graph.g.nodes["A"]["screenshot"] == "steps/0001.png"


def test_shortest_tap_path(graph):
    assert [d["selector"]["text"] for d in graph.tap_path("A", "D")] == ["Discover", "Shortcut"]
    assert graph.tap_path("A", "A") == []
    assert graph.tap_path("D", "A") is None  # no tap leads back
    assert [s for s, _ in graph.tap_route("A", "C")] == ["B", "C"]
    assert graph.tap_distances("A") == {"A": 0, "B": 1, "E": 1, "C": 2, "D": 2}


def test_back_edges_are_the_latest_seen(graph):
    assert graph.back_edges() == {"D": "A"}


def test_export_json_and_graphml(graph, tmp_path):
    graph.write(tmp_path)
    data = json.loads((tmp_path / "graph.json").read_text())
    assert {n["id"] for n in data["nodes"]} == set("ABCDE")
    assert len(data["edges"]) == graph.g.number_of_edges() == 7
    back = nx.read_graphml(tmp_path / "graph.graphml")
    assert back.number_of_nodes() == 5 and back.number_of_edges() == 7
    sel = [json.loads(d["selector"]) for _, _, d in back.edges(data=True) if d["action"] == "tap"]
    assert {"resource_id": "com.x:id/me", "text": "Me"} in sel


# --- selectors on a real screen --------------------------------------------------------------------


@pytest.fixture(scope="module")
def home():
    dev = device("compliant_en")
    launch(dev, "com.pocketledger.app")
    tap_role(dev, "agree")
    return dev, dev.observe()


def test_key_ignores_case_digits_and_position():
    a = Selector("com.x:id/tab_msg", "Messages (3)", "android.widget.TextView", "0/1/2")
    b = Selector("com.x:id/tab_msg", "MESSAGES (12)", "android.widget.TextView", "0/4")
    assert a.key() == b.key() == "id=tab_msg|text=messages (#)"
    assert Selector(text="Don\u2019t allow").key() == Selector(text="don't allow").key()
    assert Selector(cls="android.view.View", index_path="0/3").key() == "path=View@0/3"
    assert Selector(role="agree").key() == "role=agree"


def test_controls_of_a_real_screen(home):
    dev, obs = home
    cs = controls(read(dev, obs))
    labels = [c.label for c in cs]
    for want in ("Add expense", "Scan receipt", "Voice entry", "Home", "Discover", "Me"):
        assert want in labels
    assert len({c.selector.key() for c in cs}) == len(cs)
    me = next(c for c in cs if c.label == "Me")
    assert me.selector.resource_id.endswith(":id/tab_me")  # the tab, not its label child
    assert next(c for c in cs if c.label == "Home").selected  # the current tab


def test_find_again_when_things_change(home):
    dev, obs = home
    r = read(dev, obs)
    scan = next(c for c in controls(r) if c.label == "Scan receipt")
    sel = scan.selector

    def moved_and_renamed(root):
        n = nodes(root, ":id/btn_scan")[0]
        n.set("text", "Scan a receipt")
        n.set("bounds", "[10,1500][500,1600]")

    def new_id(root):
        n = nodes(root, ":id/btn_scan")[0]
        n.set("resource-id", "com.pocketledger.app:id/scan_button")

    # id and text: found where it is drawn now
    hit = find(read(dev, edited(obs, moved_and_renamed)), sel)
    assert hit is not None and hit.label == "Scan a receipt" and hit.point == (255, 1550)
    # the id changed (another build), the text did not
    hit = find(read(dev, edited(obs, new_id)), sel)
    assert hit is not None and hit.selector.resource_id.endswith("scan_button")
    # neither the text nor the id is left: not this control, whatever sits at its place
    assert find(read(dev, edited(obs, lambda root: [moved_and_renamed(root), new_id(root)])), sel) is None

    def removed(root):
        n = nodes(root, ":id/btn_scan")[0]
        next(p for p in root.iter("node") if n in list(p)).remove(n)

    assert find(read(dev, edited(obs, removed)), sel) is None  # gone: Voice entry moved up, not taken
    # a control known by its place only (no id, no text) is found by its class path
    icon = Selector(cls=sel.cls, index_path=sel.index_path)
    hit = find(read(dev, edited(obs, new_id)), icon)
    assert hit is not None and hit.label == "Scan receipt"


def test_planner_never_replays_what_must_not_be_pressed():
    from exerciser.explore.explorer import _replayable

    page = {"kinds": ["account_page"]}
    confirm = {"kinds": ["deletion_confirm"]}
    assert _replayable({"selector": {"text": "Settings"}}, page)
    assert not _replayable({"selector": {"text": "Disagree", "role": "refuse"}}, page)
    assert not _replayable({"selector": {"text": "Don't allow", "role": "deny"}}, page)
    assert not _replayable({"selector": {"text": "Sign out"}}, page)
    assert not _replayable({"selector": {"text": "退出登录"}}, page)
    assert not _replayable({"selector": {"text": "Delete", "role": "confirm"}}, confirm)
    assert _replayable({"selector": {"text": "Cancel", "role": "cancel"}}, confirm)
