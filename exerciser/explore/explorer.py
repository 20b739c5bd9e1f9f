"""Explorers over a live app: goal-directed best-first, breadth-first and random (the two baselines).

An explorer only taps; everything else on the way (permission prompts, the consent dialog, crash dialogs,
foreign apps) is the job of the `settle` hook the probe passes in, which answers interruptions and returns
the first calm in-app Step (or None when the app is gone).

Moving to a state seen before is planned on what the run learnt: the tap edges of the state graph, where
BACK was seen to lead (else, optimistically, to the state a screen was first reached from), and a
relaunch, which lands on the main screen. The cheapest plan is followed and re-planned when the app
lands somewhere else; a BACK that did not lead where assumed is remembered.
"""

from __future__ import annotations

import io
import random
import re
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from exerciser.device.contract import Key
from exerciser.explore.graph import TAP
from exerciser.explore.selector import Control, Selector, controls, find, from_target
from exerciser.perceive.hints import goal_hint, nav_score
from exerciser.perceive.lexicon import lexicon
from exerciser.perceive.reading import Element
from exerciser.perceive.text import compact
from exerciser.runner.session import HSCROLL, Session, Step

Settle = Callable[[Step], Step | None]
STRATEGIES = ("goal", "bfs", "random")
RELAUNCH_COST = 2.5  # force-stop + start (+ what the launch brings up): dearer than two taps
MAX_REPLANS = 3
MAX_GOTO_FAILS = 2  # a state that could not be reached this often is given up
# A scroll reveals what a page holds below the fold without a tap. Its worth is the goal's: above the
# controls that only might lead there, below those whose words point at the goal (Goal.scroll_score). A
# container is done when a scroll no longer changes the screen.
SCROLL_SCORE = 5.0
MAX_SCROLLS = 25  # per container and state: a feed that never ends is left after this many
SCROLL = "scroll"
RANDOM_BACK = 0.1  # share of BACK presses of the random baseline, as monkey-style explorers do

# Controls an explorer must never press: they end the session, log out, or leave the app for good.
_NEVER_ROLES = {"exit", "refuse", "deny", "deny_dont_ask_again", "go_to_settings", "dont_ask_again_checkbox"}
_NEVER_WORDS = re.compile(
    r"(log ?out|sign ?out|退出登录|退出账号|退出帐号|切换账号"
    r"|uninstall|卸载|quit app|exit app|退出应用|退出app)",
    re.I,
)


def scrollers(step: Step, vertical_only: bool = False) -> list[Control]:
    """The scroll containers on screen that can move (scrollable="true" in the hierarchy), each with the
    axis it moves along (see `axes`): role SCROLL (up and down) or HSCROLL (sideways)."""
    out = []
    elements = list(step.reading.elements)
    for e in elements:
        b = e.bounds
        if e.scrollable and e.source == "hierarchy" and b[2] > b[0] and b[3] > b[1]:
            for role in axes(e, elements):
                if not (vertical_only and role == HSCROLL):
                    out.append(Control(Selector(e.resource_id, "", e.cls, e.index_path, role), b, role))
    return out


def moved(before: Step, after: Step, box: tuple[int, int, int, int]) -> bool:
    """Did a scroll change what the screen shows: its texts, or the pixels inside the container (a blind
    WebView's page moves in the picture only; the status-bar clock outside it does not count)."""
    if after.state.content != before.state.content:
        return True
    if after.obs.png == before.obs.png:
        return False
    return _crop(before.obs.png, box) != _crop(after.obs.png, box)


def _crop(png: bytes, box: tuple[int, int, int, int]) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        return img.crop(box).tobytes()


def is_scroll(c: Control) -> bool:
    return c.selector.role in (SCROLL, HSCROLL)


def axes(e: Element, elements: list[Element]) -> tuple[str, ...]:
    """Which way a container scrolls, as a user of the phone tells: by what it is (a ScrollView, a list,
    a WebView page move up and down; a HorizontalScrollView or a ViewPager sideways), else by how its
    items sit (side by side in one row: a carousel, a horizontal RecyclerView; stacked: a list). When
    neither tells (one item showing), both: the explorer tries, and an axis that does not move the
    screen is done after one try."""
    name = e.cls.rsplit(".", 1)[-1]
    if name in _SIDEWAYS_CLASSES or "ViewPager" in name:
        return (HSCROLL,)
    if name in _VERTICAL_CLASSES:
        return (SCROLL,)
    items = _items(e, elements)
    if len(items) >= 2:
        rows = sorted(items, key=lambda b: b[0])
        pairs = zip(rows, rows[1:], strict=False)
        side_by_side = all(a[2] <= b[0] + 2 and a[1] < b[3] and b[1] < a[3] for a, b in pairs)
        return (HSCROLL,) if side_by_side else (SCROLL,)
    return (SCROLL, HSCROLL)


_SIDEWAYS_CLASSES = {"HorizontalScrollView", "TabLayout"}
_VERTICAL_CLASSES = {
    "ScrollView",
    "NestedScrollView",
    "ListView",
    "GridView",
    "WebView",
    "ExpandableListView",
}


def _items(e: Element, elements: list[Element]) -> list[tuple[int, int, int, int]]:
    """Bounds of a container's items: its children, through single wrappers (a LinearLayout inside a
    HorizontalScrollView), of the nodes the reading keeps."""
    path = e.index_path
    for _ in range(4):
        deeper = [c for c in elements if c.index_path.startswith(path + "/")]
        kids = [c for c in deeper if c.index_path.count("/") == path.count("/") + 1]
        if len({c.index_path for c in kids}) >= 2 or not deeper:
            return [c.bounds for c in kids if c.bounds[2] > c.bounds[0] and c.bounds[3] > c.bounds[1]]
        path = min(deeper, key=lambda c: c.index_path.count("/")).index_path
    return []


def hint_of(label: str) -> str | None:
    """Where a label probably leads (the screen reader's navigation lexicon)."""
    return goal_hint(label)


@dataclass
class Goal:
    name: str
    reached: Callable[[Step], bool]
    score: Callable[[Control, Step], float]  # > 0: worth trying; higher first (goal strategy only)
    # a state already in the graph (seen by an earlier probe) that satisfies the goal: go straight there
    # (rank: lower is better, None: not a goal state)
    known: Callable[[dict], int | None] | None = None
    scroll_score: float = SCROLL_SCORE  # what scrolling a page further is worth to this goal


HINT_SCORES = {
    "privacy_policy": {"privacy_policy": 10, "settings": 5, "account": 4, "security": 2, "deletion": 0.2},
}
ROLE_HINT = {"deletion_entry": "deletion", "account_entry": "account", "settings_entry": "settings"}
PAGE_TITLE_SCORE = 4.0  # a label naming an account / settings page (Accounts Center, 个人信息): leads there
LOW_SCORE = 0.2  # a control whose outcome is known (the selected tab, one tapped elsewhere): last


def hint_score(goal: str) -> Callable[[Control, Step], float]:
    table = HINT_SCORES[goal]

    def score(c: Control, step: Step) -> float:
        h = ROLE_HINT.get(c.selector.role) or hint_of(c.label)
        return float(table.get(h, 1.0)) if h else 1.0

    return score


def deletion_score(c: Control, step: Step) -> float:
    """How promising a control is on the way to the deletion entry: the navigation lexicon's weight of
    where its label leads (deletion 10, security 8, settings 6, account 5, privacy settings 2.5), a label
    that names an account or settings page 4, anything else 1."""
    h = ROLE_HINT.get(c.selector.role)
    lx = lexicon()
    w = lx.nav_weights.get(h, 0.0) if h else nav_score(Element(c.label, c.bounds))
    title = PAGE_TITLE_SCORE if lx.page_titles.find(compact(c.label)) else 0.0
    return max(10.0 * w, title, 1.0)


def deletion_goal() -> Goal:
    kinds = ("deletion_entry", "deletion_confirm", "deletion_obstacle")
    return Goal(
        "deletion",
        lambda s: (
            s.in_app and (bool(entry_targets(s)) or s.has("deletion_confirm") or s.has("deletion_obstacle"))
        ),
        deletion_score,
        lambda node: min(
            (kinds.index(k.split(":")[0]) for k in node.get("kinds", []) if k.split(":")[0] in kinds),
            default=None,
        ),
        # below the account (50), settings (60) and security (80) leads, above privacy settings (25)
        scroll_score=30.0,
    )


def entry_targets(step: Step) -> list[Control]:
    """Deletion entries on screen (the row or button whose tap starts deletion); a checkbox that merely
    mentions deletion ("I have read the deletion terms") is not one."""
    boxes = {e.bounds for e in step.reading.elements if e.checkable}
    out = [
        from_target(t) for t in step.reading.targets if t.role == "deletion_entry" and t.bounds not in boxes
    ]
    if not out:
        out = [c for c in controls(step.reading) if hint_of(c.label) == "deletion" and c.bounds not in boxes]
    return out


def policy_goal() -> Goal:
    def reached(s: Step) -> bool:
        # the policy text itself: a page (often a blind WebView) that is neither a dialog nor a list
        if not s.in_app or s.reading.kinds:
            return False
        if _is_policy_page(s):
            return True
        # the page a privacy-policy link opened, whatever its title says (个人信息处理规则) or however
        # little of it the hierarchy shows: the link is no longer on screen
        a = s.action
        if a.get("type") == "tap" and hint_of(str(a.get("label") or "")) == "privacy_policy":
            return not any(hint_of(c.label) == "privacy_policy" for c in controls(s.reading))
        return False

    # below a privacy-policy (10) or settings (5) lead, above an account page (4): the link ends settings
    return Goal("privacy_policy", reached, hint_score("privacy_policy"), scroll_score=4.5)


_POLICY_TITLE = re.compile(r"privacy policy|隐私政策|隐私协议|个人信息保护政策|privacy notice", re.I)


def _is_policy_page(s: Step) -> bool:
    act = s.reading.activity.lower()
    if "privacy" in act or "policy" in act:
        return True
    labels = [e.label for e in s.reading.elements if e.label and not e.clickable]
    return any(_POLICY_TITLE.search(t) for t in labels[:3]) and len(labels) >= 2


@dataclass
class ExploreResult:
    found: Step | None
    taps: int  # taps on app controls the explorer made (its choices and the replays to get there)
    actions: int  # every action: taps, scrolls, back keys, relaunches, answers of interruptions
    reason: str = ""
    path: list[dict] = field(default_factory=list)  # shortest known tap path main -> found (edge data)
    scrolls: int = 0  # scrolls the explorer made (not taps: they count in no depth)


def allowed(c: Control, step: Step, allow_confirm: bool = False) -> bool:
    if c.selector.role in _NEVER_ROLES:
        return False
    if c.selector.role == "confirm" and step.has("deletion_confirm") and not allow_confirm:
        return False
    if step.has("deletion_confirm") and not allow_confirm and c.selector.role != "cancel":
        return False  # the irreversible step: nothing but cancel on that screen
    return not _NEVER_WORDS.search(c.label or "")


def _replayable(edge: dict[str, Any], src: dict[str, Any]) -> bool:
    """A recorded tap the planner may repeat: not a refusal, an exit or a log-out another probe made on
    purpose, and nothing but cancel on a deletion confirmation."""
    sel = edge.get("selector") or {}
    if sel.get("role") in _NEVER_ROLES or _NEVER_WORDS.search(sel.get("text", "")):
        return False
    if any(k.startswith("deletion_confirm") for k in src.get("kinds", [])):
        return sel.get("role") == "cancel"
    return True


Move = tuple[str, str, Any]  # (tap | back | relaunch, state expected after it, tap edge data)
_RELAUNCH = "\x00relaunch"  # virtual node of the planning graph


class Explorer:
    def __init__(
        self,
        session: Session,
        settle: Settle,
        strategy: str = "goal",
        seed: int = 0,
        max_actions: int = 120,
        tap: Callable[[Control, str], Step | None] | None = None,
        relaunch: Callable[[], Step | None] | None = None,
    ):
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy}")
        self.s = session
        self.settle = settle
        # how a tap is made: the probe's own (it tracks user actions) or session tap + settle
        self.tap_fn = tap or (lambda c, note: self.settle(self.s.tap(c, note=note)))
        self.relaunch_fn = relaunch
        self.strategy = strategy
        self.rng = random.Random(seed)
        self.max_actions = max_actions
        self.home: str | None = None
        self.cands: dict[str, list[tuple[float, Control]]] = {}
        self.parents: dict[str, str] = {}  # state -> state it was first reached from by a tap
        self.no_back: set[str] = set()  # states where BACK did not lead to their parent
        self.goto_fails: Counter[str] = Counter()
        # what this explorer tried itself (the session's graph also holds other probes' taps)
        self.tried: dict[str, set[str]] = {}
        self.effects: dict[str, set[str]] = {}  # selector key -> states its taps led to (elsewhere)
        self.own_taps = 0
        self.own_scrolls = 0
        self.scroll_counts: Counter[tuple[str, str]] = Counter()

    # --- moving around -----------------------------------------------------------------------------
    def relaunch(self) -> Step | None:
        if self.relaunch_fn:
            return self.relaunch_fn()
        self.s.stop(note="explorer: relaunch")
        return self.settle(self.s.start(note="explorer: relaunch"))

    def _calm(self, step: Step | None) -> Step | None:
        step2 = self.settle(step) if step is not None else None
        if step2 is None or not step2.in_app:
            return self.relaunch()
        return step2

    def _tap(self, c: Control, note: str) -> Step | None:
        self.own_taps += 1
        step = self.tap_fn(c, note)
        if step is None or not step.in_app:
            return self.relaunch()
        return step

    def _scroll(self, c: Control, step: Step, forward: bool = True) -> Step | None:
        self.own_scrolls += 1
        self.scroll_counts[(step.state.id, c.selector.key())] += 1
        direction = "forward" if forward else "backward"
        return self._calm(self.s.scroll(c, forward, note=f"explorer: scroll {direction}"))

    def _scroll_once(self, c: Control, step: Step) -> Step | None:
        """One scroll of a candidate container; it is done when the screen did not change or after
        MAX_SCROLLS."""
        sid, key = step.state.id, c.selector.key()
        there = find(step.reading, c.selector) or c
        after = self._scroll(there, step)
        if after is None:
            return None
        same = after.state.id == sid and not moved(step, after, there.bounds)
        # a scroll that led to another state is that state's to continue (no loop back to this one)
        if same or after.state.id != sid or self.scroll_counts[(sid, key)] >= MAX_SCROLLS:
            self.tried.setdefault(sid, set()).add(key)
        return after

    def _reveal(self, step: Step, sel: Selector) -> tuple[Step | None, Control | None]:
        """Find a control that may have scrolled out of view: back to the top of the page's scroll
        container, then down one scroll at a time until it shows or the end is reached."""
        c = find(step.reading, sel)
        if c is not None or sel.role in (SCROLL, HSCROLL):
            return step, c
        cur: Step | None = step
        # every container along its axes: the page up and down, a tab strip sideways
        for key in [b.selector for b in scrollers(step)]:
            for forward in (False, True):
                for _ in range(MAX_SCROLLS):
                    if cur is None:
                        return None, None
                    box = next((b for b in scrollers(cur) if b.selector == key), None)
                    if box is None:
                        break
                    nxt = self._scroll(box, cur, forward)
                    if nxt is None:
                        return None, None
                    went = moved(cur, nxt, box.bounds)
                    cur = nxt
                    c = find(cur.reading, sel)
                    if c is not None:
                        return cur, c
                    if not went:
                        break
        return cur, None

    def _back(self, note: str) -> Step | None:
        return self._calm(self.s.key(Key.BACK, note=note))

    def _note(self, step: Step, goal: Goal) -> None:
        """Candidates of the state: its scroll containers first, then its controls. A state seen again
        at another scroll offset adds the controls that have scrolled into view."""
        sid = step.state.id
        known = {c.selector.key() for _, c in self.cands.get(sid, [])}
        new = [(goal.scroll_score, c) for c in scrollers(step) if c.selector.key() not in known]
        # what the safety guard would refuse is not even tried (it would only cost a refused step)
        guard = self.s.guard
        cs = [
            c
            for c in controls(step.reading)
            if allowed(c, step) and c.selector.key() not in known and guard.judge_point(*c.point).allowed
        ]
        scored = [(goal.score(c, step), c) for c in cs]
        self.cands.setdefault(sid, []).extend(new + [(sc, c) for sc, c in scored if sc > 0])

    def _untried(self, sid: str) -> list[tuple[float, Control]]:
        tried = self.tried.get(sid, set())
        return [(self._worth(sc, c), c) for sc, c in self.cands.get(sid, []) if c.selector.key() not in tried]

    def _worth(self, score: float, c: Control) -> float:
        """A control whose outcome is already known is tried last: the selected tab leads to this very
        screen, and one tapped on another screen (a tab bar, a shared button) to a state already seen."""
        if c.selected or c.selector.key() in self.effects:
            return min(score, LOW_SCORE)
        return score

    # --- planning ------------------------------------------------------------------------------------
    def _planning_graph(self) -> nx.DiGraph:
        g = nx.DiGraph()
        g.add_nodes_from(self.s.graph.g.nodes)  # states reached by a launch only have no tap edge yet
        nodes = self.s.graph.g.nodes
        for u, v, d in self.s.graph.g.edges(data=True):
            if d["action"] == TAP and u != v and not g.has_edge(u, v) and _replayable(d, nodes[u]):
                g.add_edge(u, v, weight=1.0, move=("tap", v, d))
        backs = self.s.graph.back_edges()
        for u, v in backs.items():
            if not g.has_edge(u, v):
                g.add_edge(u, v, weight=1.0, move=("back", v, None))
        for u, parent in self.parents.items():
            if u not in backs and u not in self.no_back and not g.has_edge(u, parent):
                g.add_edge(u, parent, weight=1.0, move=("back", parent, None), assumed=True)
        if self.home is not None:
            for n in list(g.nodes):
                g.add_edge(n, _RELAUNCH, weight=RELAUNCH_COST)
            g.add_edge(_RELAUNCH, self.home, weight=0.0, move=("relaunch", self.home, None))
        return g

    def _plan(self, src: str, dst: str) -> list[tuple[Move, bool]] | None:
        """Cheapest known moves from src to dst (each with: is it an assumed BACK), or None."""
        g = self._planning_graph()
        if src not in g or dst not in g:
            return None
        try:
            nodes = nx.dijkstra_path(g, src, dst)
        except nx.NetworkXNoPath:
            return None
        out = []
        for a, b in zip(nodes, nodes[1:], strict=False):
            e = g.edges[a, b]
            if "move" in e:
                out.append((e["move"], bool(e.get("assumed"))))
        return out

    def _distances(self, src: str) -> dict[str, float]:
        g = self._planning_graph()
        if src not in g:
            return {src: 0.0}
        return dict(nx.single_source_dijkstra_path_length(g, src))

    def _goto(self, target: str, cur: Step) -> Step | None:
        """Bring the app to state `target` by the cheapest known moves, re-planning when it lands
        elsewhere; None when it cannot."""
        step: Step | None = cur
        for _ in range(MAX_REPLANS):
            if step is None:
                return None
            if step.state.id == target:
                return step
            plan = self._plan(step.state.id, target)
            if plan is None:
                return None
            expected = [m[1] for m, _ in plan]
            i = 0
            while i < len(plan):
                (kind, expect, data), assumed = plan[i]
                src = step.state.id
                if kind == "tap":
                    step, c = self._reveal(step, Selector(**data["selector"]))
                    if step is None or c is None:
                        break
                    step = self._tap(c, "explorer: replay path")
                elif kind == "back":
                    step = self.settle(self.s.key(Key.BACK, note="explorer: back"))
                    if step is None or not step.in_app:
                        self.no_back.add(src)  # BACK leaves the app here (a tab's root, a replaced page)
                        step = self.relaunch()
                else:
                    step = self.relaunch()
                if step is None:
                    return None
                if step.state.id == target:
                    return step
                if kind == "back" and assumed and step.state.id != expect:
                    self.no_back.add(src)
                # landed further along the plan (an interruption answered on the way): skip ahead
                if step.state.id in expected[i:]:
                    i = i + expected[i:].index(step.state.id) + 1
                    continue
                break  # somewhere else: re-plan from here
        return step if step is not None and step.state.id == target else None

    # --- the loop ----------------------------------------------------------------------------------
    def explore(self, goal: Goal, start: Step) -> ExploreResult:
        s = self.s
        taps0, acts0, scrolls0 = self.own_taps, s.actions, self.own_scrolls
        step: Step | None = start
        if self.home is None:
            self.home = start.state.id
        bfs_queue: deque[tuple[str, Control]] = deque()
        queued: set[tuple[str, str]] = set()
        if self.strategy == "bfs":  # what earlier phases of this explorer saw and left untried
            for sid in list(self.cands):
                for _, c in self._untried(sid):
                    queued.add((sid, c.selector.key()))
                    bfs_queue.append((sid, c))

        def result(found: Step | None, reason: str) -> ExploreResult:
            path = s.graph.tap_path(self.home, found.state.id) if found and self.home else None
            return ExploreResult(
                found,
                self.own_taps - taps0,
                s.actions - acts0,
                reason,
                path or [],
                self.own_scrolls - scrolls0,
            )

        if goal.known and self.strategy == "goal":
            step = self._shortcut(goal, start) or step

        while step is not None:
            if goal.reached(step):
                return result(step, "reached")
            if s.actions - acts0 >= self.max_actions:
                return result(None, f"explorer budget of {self.max_actions} actions used up")
            self._note(step, goal)
            if self.strategy == "bfs":
                for _sc, c in self.cands[step.state.id]:
                    k = (step.state.id, c.selector.key())
                    if k not in queued:
                        queued.add(k)
                        bfs_queue.append((step.state.id, c))
            nxt = self._choose(step, bfs_queue)
            if nxt is None:
                return result(None, "nothing left to try")
            if isinstance(nxt, Step):  # the random baseline pressed BACK
                step = nxt
                continue
            sid, c = nxt
            if sid != step.state.id:
                there = self._goto(sid, step)
                if there is None:
                    self.goto_fails[sid] += 1
                    step = s.current if s.current is not None and s.current.in_app else self.relaunch()
                    continue
                step = there
            before = step.state.id
            if is_scroll(c):
                step = self._scroll_once(c, step)
                continue
            key = c.selector.key()
            revealed, c2 = self._reveal(step, c.selector)
            if revealed is None:
                step = self.relaunch()
                continue
            if c2 is None and revealed is step and not scrollers(step):
                c2 = c  # nothing scrolls here: the control as it was seen (a blind page's OCR word)
            if c2 is None or revealed.state.id != before:  # gone from the page (or the page changed)
                self.tried.setdefault(before, set()).add(key)
                step = revealed
                continue
            step, c = revealed, c2
            self.tried.setdefault(before, set()).add(key)
            step = self._tap(c, f"explorer ({self.strategy}, goal {goal.name})")
            if step is not None and step.state.id != before:
                self.parents.setdefault(step.state.id, before)
                self.effects.setdefault(c.selector.key(), set()).add(step.state.id)
        return result(None, "app could not be brought back")

    def _shortcut(self, goal: Goal, start: Step) -> Step | None:
        g = self.s.graph
        best = None
        for node, attrs in g.g.nodes(data=True):
            rank = goal.known(attrs) if goal.known and attrs.get("package") == self.s.package else None
            if rank is None:
                continue
            path = g.tap_path(start.state.id, node)
            if path is not None and (best is None or (rank, len(path)) < best[2]):
                best = (node, path, (rank, len(path)))
        if best is None:
            return None
        return self._goto(best[0], start)

    def _choose(self, step: Step, bfs_queue: deque) -> tuple[str, Control] | Step | None:
        sid = step.state.id
        if self.strategy == "random":
            cs = [c for _, c in self.cands.get(sid, [])]
            if not cs or self.rng.random() < RANDOM_BACK:
                back = self._back("explorer (random): back")
                if back is None or (not cs and back.state.id == sid):
                    return None
                return back
            return sid, self.rng.choice(cs)
        if self.strategy == "bfs":
            while bfs_queue:
                qs, c = bfs_queue.popleft()
                if c.selector.key() in self.tried.get(qs, set()):
                    continue
                if self.goto_fails[qs] >= MAX_GOTO_FAILS:
                    continue
                return qs, c
            return None
        # goal-directed: the best-scored untried control known; of equals, the one cheapest to reach
        dist = self._distances(sid)
        best: tuple[tuple[float, float], str, Control] | None = None
        for other in self.cands:
            if self.goto_fails[other] >= MAX_GOTO_FAILS:
                continue
            u = max(self._untried(other), key=lambda t: t[0], default=None)
            d = 0.0 if other == sid else dist.get(other)
            if u is None or d is None:
                continue
            key = (u[0], -d)
            if best is None or key > best[0]:
                best = (key, other, u[1])
        return (best[1], best[2]) if best else None
