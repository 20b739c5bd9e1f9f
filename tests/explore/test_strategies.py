"""Each strategy reaches the account-deletion entry of a sample app from its main screen (clean install,
policy agreed); the goal-directed one on a shortest path, and none presses what it must never press."""

from __future__ import annotations

import pytest
from explore_helpers import fresh

from exerciser.explore.explorer import Explorer, deletion_goal, entry_targets, policy_goal
from exerciser.explore.selector import Selector, find

NEVER = ("sign out", "log out", "退出登录", "don't allow", "deny", "exit")


def explore(tmp_path, app, strategy, seed=0, budget=300, goal=None):
    s, d, main = fresh(app, tmp_path, f"{app}-{strategy}-{seed}")
    ex = Explorer(s, d.settle, strategy, seed=seed, max_actions=budget, tap=d.tap)
    r = ex.explore(goal or deletion_goal(), main)
    taps = [line.action for line in _steps(s) if line.action["type"] == "tap" and "explorer" in line.note]
    return s, main, r, taps


def _steps(s):
    import json

    from exerciser.evidence.trace import TRACE_NAME

    class Line:
        def __init__(self, d):
            self.action, self.note, self.kinds = d["action"], d["note"], d["kinds"]

    return [Line(json.loads(x)) for x in (s.out_dir / TRACE_NAME).read_text().splitlines() if x.strip()]


@pytest.mark.parametrize(("app", "shortest"), [("compliant_en", 4), ("deletion_7_deep_en", 7)])
def test_goal_directed_is_near_the_shortest_path(tmp_path, app, shortest):
    s, main, r, taps = explore(tmp_path, app, "goal")
    assert r.found is not None and r.reason == "reached"
    entry_tap = 1 if entry_targets(r.found) else 0
    assert r.taps == len(taps)  # it counts its own taps
    assert r.taps + entry_tap <= 1.5 * shortest
    # the path it reports is a real tap path from the main screen: replayed, it reaches the same state
    assert len(r.path) + entry_tap == shortest
    s.stop()
    step = s.start()
    for edge in r.path:
        c = find(step.reading, Selector(**edge["selector"]))
        assert c is not None, edge
        step = s.tap(c)
    assert step.state.id == r.found.state.id


@pytest.mark.parametrize("strategy", ["bfs", "random"])
def test_baselines_reach_the_entry_with_more_taps(tmp_path, strategy):
    """The two baselines get there too (a shallow app: 我的 → 设置 → 账号与安全 → 注销账号), by more taps."""
    _, _, goal, _ = explore(tmp_path, "deletion_hotline_zh", "goal")
    _, _, r, taps = explore(tmp_path, "deletion_hotline_zh", strategy, seed=0, budget=300)
    assert r.found is not None, r.reason
    assert entry_targets(r.found)
    assert r.taps > goal.taps
    assert not any(any(w in (t["label"] or "").lower() for w in NEVER) for t in taps)


def test_random_is_reproducible_by_seed(tmp_path):
    a = explore(tmp_path / "a", "compliant_zh", "random", seed=3, budget=60)[3]
    b = explore(tmp_path / "b", "compliant_zh", "random", seed=3, budget=60)[3]
    c = explore(tmp_path / "c", "compliant_zh", "random", seed=4, budget=60)[3]
    assert [t["label"] for t in a] == [t["label"] for t in b]
    assert [t["label"] for t in a] != [t["label"] for t in c]


def test_no_entry_anywhere_ends_with_nothing_left(tmp_path):
    _, _, r, taps = explore(tmp_path, "no_deletion_en", "goal", budget=400)
    assert r.found is None and r.reason == "nothing left to try"
    assert len(taps) >= 20  # it looked everywhere before saying so
    assert not any(any(w in (t["label"] or "").lower() for w in NEVER) for t in taps)


def test_budget_stops_the_search(tmp_path):
    _, _, r, _ = explore(tmp_path, "no_deletion_en", "bfs", budget=15)
    assert r.found is None and "budget of 15 actions" in r.reason
    assert 15 <= r.actions <= 15 + 12  # the last tap's interruptions are answered before it stops


@pytest.mark.parametrize("app", ["compliant_zh", "blind_privacy_dialog_zh"])
def test_policy_goal(tmp_path, app):
    """The privacy policy from the main screen: 我的 → 设置 → 隐私政策 (a text page), or a link titled
    个人信息处理规则 opening a WebView the hierarchy shows nothing of."""
    _, _, r, _ = explore(tmp_path, app, "goal", goal=policy_goal())
    assert r.found is not None, r.reason
    assert len(r.path) == 3 and r.taps == 3
    assert r.path[-1]["selector"]["text"].startswith(("隐私政策", "个人信息处理规则"))


def test_planner_learns_where_back_leads(tmp_path):
    """Tabs replace each other: BACK on the Me tab leaves the app. The planner assumes BACK returns to
    the screen a page was reached from, finds out once, and from then on goes another way."""
    s, d, main = fresh("compliant_en", tmp_path, "plan")
    ex = Explorer(s, d.settle, "goal", tap=d.tap)
    ex.home = main.state.id
    me = ex._tap(find(main.reading, Selector(text="Me")), "test: Me")
    ex.parents[me.state.id] = main.state.id  # as the explore loop notes it
    back = ex._goto(main.state.id, me)
    assert back is not None and back.state.id == main.state.id
    assert [t["action"]["type"] for t in _trace(s)[-3:]] == ["key", "app_stop", "app_start"]
    assert me.state.id in ex.no_back
    # once the Home tab was seen to lead there, it is the way: one tap, no BACK, no relaunch
    me = ex._tap(find(back.reading, Selector(text="Me")), "test: Me")
    ex._tap(find(me.reading, Selector(text="Home")), "test: Home tab")
    me = ex._tap(find(s.current.reading, Selector(text="Me")), "test: Me")
    n = s.n
    again = ex._goto(main.state.id, me)
    assert again is not None and again.state.id == main.state.id
    assert [(t["action"]["type"], t["action"].get("label")) for t in _trace(s) if t["n"] > n] == [
        ("tap", "Home")
    ]


def _trace(s):
    import json

    return [json.loads(x) for x in (s.out_dir / "trace.jsonl").read_text().splitlines() if x.strip()]
