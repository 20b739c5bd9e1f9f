"""Explorers over a live app: goal-directed best-first, breadth-first and random (the two baselines).

An explorer only taps; everything else on the way (permission prompts, the consent dialog, crash dialogs,
foreign apps) is the job of the `settle` hook the probe passes in, which answers interruptions and returns
the first calm in-app Step (or None when the app is gone). Backtracking is by BACK when the wanted state is
behind us, else by relaunch and replay of the shortest known tap path from the main screen.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from exerciser.device.contract import Key
from exerciser.explore.selector import Control, Selector, controls, find, from_target
from exerciser.explore.state import norm_label
from exerciser.runner.session import Session, Step

Settle = Callable[[Step], Step | None]
STRATEGIES = ("goal", "bfs", "random")

# Controls an explorer must never press: they end the session, log out, or leave the app for good.
_NEVER_ROLES = {"exit", "refuse", "deny", "deny_dont_ask_again", "go_to_settings", "dont_ask_again_checkbox"}
_NEVER_WORDS = re.compile(
    r"(log ?out|sign ?out|退出登录|退出账号|退出帐号|切换账号"
    r"|uninstall|卸载|quit app|exit app|退出应用|退出app)",
    re.I,
)


def hint_of(label: str) -> str | None:
    try:
        from exerciser.perceive.hints import goal_hint
    except ImportError:  # perceive not there yet: a small fallback keeps the explorer usable
        return _fallback_hint(label)
    return goal_hint(label)


_FALLBACK = (
    ("deletion", r"delete (my )?account|close (my )?account|deactivate|注销|删除账号|删除帐号"),
    ("security", r"account (and|&) security|security|账号与安全|账户与安全|账号安全|安全中心|帐号与安全"),
    ("account", r"^me$|^my\b|profile|account|我的|^我$|个人中心|账号|账户"),
    ("settings", r"settings?|设置"),
    ("privacy_policy", r"privacy policy|隐私政策|隐私协议"),
)


def _fallback_hint(label: str) -> str | None:
    t = label.strip().lower()
    for name, rx in _FALLBACK:
        if re.search(rx, t):
            return name
    return None


@dataclass
class Goal:
    name: str
    reached: Callable[[Step], bool]
    score: Callable[[Control, Step], float]  # > 0: worth trying; higher first (goal strategy only)
    # a state already in the graph (seen by an earlier probe) that satisfies the goal: go straight there
    # (rank: lower is better, None: not a goal state)
    known: Callable[[dict], int | None] | None = None


HINT_SCORES = {
    "deletion": {"deletion": 10, "security": 6, "account": 5, "settings": 4, "privacy_policy": 0.3},
    "privacy_policy": {"privacy_policy": 10, "settings": 5, "account": 4, "security": 2, "deletion": 0.2},
}
ROLE_HINT = {"deletion_entry": "deletion", "account_entry": "account", "settings_entry": "settings"}


def hint_score(goal: str) -> Callable[[Control, Step], float]:
    table = HINT_SCORES[goal]

    def score(c: Control, step: Step) -> float:
        h = ROLE_HINT.get(c.selector.role) or hint_of(c.label)
        return float(table.get(h, 1.0)) if h else 1.0

    return score


def deletion_goal() -> Goal:
    kinds = ("deletion_entry", "deletion_confirm", "deletion_obstacle")
    return Goal(
        "deletion",
        lambda s: (
            s.in_app and (bool(entry_targets(s)) or s.has("deletion_confirm") or s.has("deletion_obstacle"))
        ),
        hint_score("deletion"),
        lambda node: min(
            (kinds.index(k.split(":")[0]) for k in node.get("kinds", []) if k.split(":")[0] in kinds),
            default=None,
        ),
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
        return s.in_app and not s.reading.kinds and _is_policy_page(s)

    return Goal("privacy_policy", reached, hint_score("privacy_policy"))


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
    taps: int  # taps the explorer spent until found (or until the budget ran out)
    actions: int  # every action: taps, back keys, relaunches, answers of interruptions
    reason: str = ""
    path: list[dict] = field(default_factory=list)  # shortest known tap path main -> found (edge data)


def allowed(c: Control, step: Step, allow_confirm: bool = False) -> bool:
    if c.selector.role in _NEVER_ROLES:
        return False
    if c.selector.role == "confirm" and step.has("deletion_confirm") and not allow_confirm:
        return False
    if step.has("deletion_confirm") and not allow_confirm and c.selector.role != "cancel":
        return False  # the irreversible step: nothing but cancel on that screen
    return not _NEVER_WORDS.search(c.label or "")


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
        # what this explorer tried itself (the session's graph also holds other probes' taps)
        self.tried: dict[str, set[str]] = {}

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
        step = self.tap_fn(c, note)
        if step is None or not step.in_app:
            return self.relaunch()
        return step

    def _note(self, step: Step, goal: Goal) -> None:
        sid = step.state.id
        if sid in self.cands:
            return
        cs = [c for c in controls(step.reading) if allowed(c, step)]
        scored = [(goal.score(c, step), c) for c in cs]
        self.cands[sid] = [(sc, c) for sc, c in scored if sc > 0]

    def _untried(self, sid: str) -> list[tuple[float, Control]]:
        tried = self.tried.get(sid, set())
        return [(sc, c) for sc, c in self.cands.get(sid, []) if c.selector.key() not in tried]

    def _goto(self, target: str, cur: Step) -> Step | None:
        """Bring the app to state `target`: BACK while the target is an ancestor, else relaunch + path."""
        if cur.state.id == target:
            return cur
        anc, p = [], cur.state.id
        while p in self.parents and len(anc) < 8:
            p = self.parents[p]
            anc.append(p)
        if target in anc:
            step: Step | None = cur
            for _ in range(anc.index(target) + 1):
                step = self._calm(self.s.key(Key.BACK, note="explorer: back"))
                if step is None or step.state.id == target:
                    break
            if step is not None and step.state.id == target:
                return step
            cur = step or cur
        path = self.s.graph.tap_path(cur.state.id, target)
        if path is None:
            step = self.relaunch()
            if step is None:
                return None
            path = self.s.graph.tap_path(step.state.id, target)
            if path is None:
                return None
        else:
            step = cur
        for edge in path:
            c = find(step.reading, Selector(**edge["selector"]))
            if c is None:
                return None
            step = self._tap(c, "explorer: replay path")
            if step is None:
                return None
        return step if step.state.id == target else None

    # --- the loop ----------------------------------------------------------------------------------
    def explore(self, goal: Goal, start: Step) -> ExploreResult:
        s = self.s
        taps0, acts0 = s.taps, s.actions
        step: Step | None = start
        self.home = start.state.id
        bfs_queue: deque[tuple[str, Control]] = deque()
        queued: set[tuple[str, str]] = set()
        if self.strategy == "bfs":  # what earlier phases of this explorer saw and left untried
            for sid in list(self.cands):
                for _, c in self._untried(sid):
                    queued.add((sid, c.selector.key()))
                    bfs_queue.append((sid, c))

        def result(found: Step | None, reason: str) -> ExploreResult:
            path = s.graph.tap_path(self.home, found.state.id) if found else None
            return ExploreResult(found, s.taps - taps0, s.actions - acts0, reason, path or [])

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
            sid, c = nxt
            if sid != step.state.id:
                step = self._goto(sid, step)
                if step is None:
                    step = self.relaunch()
                    continue
                c = find(step.reading, c.selector) or c
            before = step.state.id
            self.tried.setdefault(before, set()).add(c.selector.key())
            step = self._tap(c, f"explorer ({self.strategy}, goal {goal.name})")
            if step is not None and step.state.id != before:
                self.parents.setdefault(step.state.id, before)
        return result(None, "app could not be brought back")

    def _shortcut(self, goal: Goal, start: Step) -> Step | None:
        g = self.s.graph
        best = None
        for node, attrs in g.g.nodes(data=True):
            rank = goal.known(attrs) if attrs.get("package") == self.s.package else None
            if rank is None:
                continue
            path = g.tap_path(start.state.id, node)
            if path is not None and (best is None or (rank, len(path)) < best[2]):
                best = (node, path, (rank, len(path)))
        if best is None:
            return None
        return self._goto(best[0], start)

    def _choose(self, step: Step, bfs_queue: deque) -> tuple[str, Control] | None:
        sid = step.state.id
        if self.strategy == "random":
            cs = [c for _, c in self.cands.get(sid, [])]
            if not cs or self.rng.random() < 0.1:
                # a random back press, as monkey-style baselines do; next loop re-reads the screen
                back = self._calm(self.s.key(Key.BACK, note="explorer (random): back"))
                if back is None:
                    return None
                self._note(back, Goal("", lambda _: False, lambda c, s: 1.0))
                cs2 = [c for _, c in self.cands.get(back.state.id, [])]
                if not cs2:
                    return None
                self.s.current = back
                return back.state.id, self.rng.choice(cs2)
            return sid, self.rng.choice(cs)
        if self.strategy == "bfs":
            while bfs_queue:
                qs, c = bfs_queue.popleft()
                if c.selector.key() not in self.tried.get(qs, set()):
                    return qs, c
            return None
        # goal-directed: the best untried control here, unless a clearly better one waits elsewhere
        here = max(self._untried(sid), key=lambda t: t[0], default=None)
        best_else = None
        for other in self.cands:
            if other == sid:
                continue
            u = max(self._untried(other), key=lambda t: t[0], default=None)
            if u and (best_else is None or u[0] > best_else[1][0]):
                best_else = (other, u)
        if here and (best_else is None or here[0] >= best_else[1][0]):
            return sid, here[1]
        if best_else:
            return best_else[0], best_else[1][1]
        return None


def label_matches(label: str, words: list[str] | tuple[str, ...]) -> bool:
    n = norm_label(label)
    return any(norm_label(w) and norm_label(w) in n for w in words)
