"""Probe 7 (advance / excessive requests), which also maps where each permission group is asked from.

Protocol (clean install): launch, agree to the policy, allow every prompt (so the app goes on and shows
what else it wants), run the login steps, then explore: first each declared feature's entry, then the
rest of the app, nearest untried control first, within the exploration budget. Every system prompt is
recorded with the last user action before it (none: asked before any user action), the screen that
asked, and the burst it came in (several groups in a row without a user action: bundled). A group counts
when it was asked before any user action, on a screen that has nothing to do with a feature justifying
it, or when no declared feature justifies it at all.
"""

from __future__ import annotations

import re
from typing import Any

from exerciser.explore.explorer import Explorer, Goal, allowed
from exerciser.explore.selector import Control, Selector, controls, find
from exerciser.explore.state import norm_label
from exerciser.probes.common import AppMap, Driver, ProbeAborted, ProbeContext, ProbeResult, Prompt
from exerciser.probes.groups import group_words
from exerciser.runner.session import Step
from exerciser.scenario import Feature


def run_login(ctx: ProbeContext, d: Driver, step: Step) -> Step:
    s = ctx.session
    for i, st in enumerate(ctx.scenario.login):
        cur = s.current or step
        if "tap" in st:
            want = st["tap"]
            c = find(cur.reading, Selector(text=want)) or find(cur.reading, Selector(resource_id=want))
            if c is None:
                raise ProbeAborted(f"login step {i + 1}: nothing labelled '{want}' on screen (step {cur.n})")
            nxt = d.tap(c, note=f"login: tap {want}")
        elif "type" in st:
            nxt = d.settle(s.type_text(st["type"], note="login: type"))
        elif "key" in st:
            from exerciser.device.contract import Key

            nxt = d.settle(s.key(Key(st["key"]), note="login: key"))
        else:
            nxt = d.settle(s.wait(float(st["wait"]), note="login: wait"))
        if nxt is None:
            raise ProbeAborted(f"login step {i + 1}: the app left the screen")
        step = nxt
    return step


def start_app(ctx: ProbeContext, d: Driver, note: str, clear: bool = True) -> Step:
    """Clean install (optional), launch, agree, answer launch prompts, log in: the main screen."""
    step = d.launch(note=note, clear=clear)
    if step is None:
        raise ProbeAborted("the app did not stay in front after launch")
    if step.has("blocking_wall"):
        raise ProbeAborted(f"the app shows a blocking wall at launch (step {step.n})")
    if ctx.scenario.login:
        d.phase, phase = "login", d.phase
        step = run_login(ctx, d, step)
        d.phase = phase
    return step


def feature_for_tap(ctx: ProbeContext, group: str, tap: dict[str, Any] | None) -> Feature | None:
    """The declared feature justifying `group` that the user's last tap used: it pressed one of the
    feature's entries, or it was made on one of the feature's screens (None: none)."""
    if tap is None:
        return None
    label = norm_label(tap.get("label", ""))
    for f in ctx.scenario.features:
        if group not in f.groups:
            continue
        words = list(f.entry) or [f.name, *group_words(group)]
        for w in words:
            nw = norm_label(w)
            if label and nw and (nw == label or nw in label):
                return f
        if any(_same_activity(a, tap.get("screen", ""), ctx.package) for a in f.screens):
            return f
    return None


def _same_activity(declared: str, activity: str, package: str) -> bool:
    """A scenario's activity (".scan.ScanActivity" or the full name) is the activity on screen."""
    if not declared or not activity:
        return False
    full = package + declared if declared.startswith(".") else declared
    return activity == full or activity.endswith(declared if declared.startswith(".") else "." + declared)


def tour_goal(ctx: ProbeContext) -> Goal:
    """Visit screens without using a feature: controls naming a declared entry or a permission's words
    are left for later."""
    feat = feature_goal(ctx)
    return Goal("non_feature_screens", lambda s: False, lambda c, st: float(feat.score(c, st) <= 1.0))


def feature_goal(ctx: ProbeContext) -> Goal:
    entries = [(w, f) for f in ctx.scenario.features for w in (f.entry or (f.name,))]
    gwords = sorted({w for f in ctx.scenario.features for g in f.groups for w in group_words(g)})

    def score(c: Control, step: Step) -> float:
        label = norm_label(c.label)
        if not label:
            return 0.5
        if any(norm_label(w) in label for w, _ in entries):
            return 10.0
        if any(
            re.search(r"\b" + re.escape(w) + r"\b", label) or (w in label and not w.isascii()) for w in gwords
        ):
            return 4.0
        return 1.0

    return Goal("features", lambda s: False, score)


def run(ctx: ProbeContext) -> ProbeResult:
    s = ctx.session
    s.probe = "7"
    res = ProbeResult("7")
    d = Driver(ctx, prompts="allow", policy="agree", phase="launch")
    try:
        main = start_app(ctx, d, "7: first run after clean install")
    except ProbeAborted as exc:
        res.inconclusive = str(exc)
        res.facts["prompts"] = [p.to_json() for p in d.prompts]
        _classify(ctx, res, d.prompts)
        return res
    amap = AppMap(main_state=main.state.id)
    d.phase = "feature"
    ex = Explorer(
        s,
        d.settle,
        "goal",
        max_actions=ctx.scenario.budgets.explore_actions,
        tap=d.tap,
        relaunch=lambda: _relaunch(ctx, d),
    )
    # first the app's other screens, before any feature is used (an app may ask on an unrelated screen
    # only while its feature is unused); then the declared entries, then everything else; of equal
    # promise the nearest control first, so covering the app costs few moves between its screens
    tour = Explorer(
        s,
        d.settle,
        "goal",
        max_actions=ctx.rules.int("tour_actions"),
        tap=d.tap,
        relaunch=lambda: _relaunch(ctx, d),
    )
    t = tour.explore(tour_goal(ctx), main)
    res.facts["tour"] = {"actions": t.actions, "taps": t.taps, "stop": t.reason}
    goal = feature_goal(ctx)
    # the features from the main screen again (the explorer knows the screens it has seen itself)
    here = _relaunch(ctx, d) or main
    ex.explore(Goal("features", lambda st: _all_entries_tried(ctx, ex, st), goal.score), here)
    r = ex.explore(goal, s.current if s.current and s.current.in_app else main)
    res.facts["explore"] = {
        "actions": r.actions,
        "taps": r.taps,
        "stop": r.reason,
        "states": s.graph.g.number_of_nodes(),
    }
    amap.prompts = list(d.prompts)
    for p in d.prompts:
        if p.source != "system" or p.group in amap.triggers:
            continue
        if p.user_tap is None:
            amap.triggers[p.group] = {"phase": "launch"}
            continue
        path = s.graph.tap_path(main.state.id, p.user_tap.get("state", "")) or []
        amap.triggers[p.group] = {
            "phase": "feature",
            "path": [e["selector"] for e in path] + [p.user_tap["selector"]],
            "screen": p.user_tap.get("screen", ""),
        }
    ctx.appmap = amap
    res.facts["prompts"] = [p.to_json() for p in d.prompts]
    res.facts["triggers"] = amap.triggers
    _classify(ctx, res, d.prompts)
    return res


def _all_entries_tried(ctx: ProbeContext, ex: Explorer, step: Step) -> bool:
    """The goal phase ends once no untried control matching a declared entry is known anywhere."""
    entries = [norm_label(w) for f in ctx.scenario.features for w in (f.entry or (f.name,))]
    for sid, cands in ex.cands.items():
        tried = ex.tried.get(sid, set())
        for _, c in cands:
            if c.selector.key() not in tried and any(e in norm_label(c.label) for e in entries):
                return False
    # the current screen may hold entries not noted yet
    if step.state.id not in ex.cands:
        return not any(
            any(e in norm_label(c.label) for e in entries) for c in controls(step.reading) if allowed(c, step)
        )
    return True


def _relaunch(ctx: ProbeContext, d: Driver) -> Step | None:
    s = ctx.session
    s.stop(note=f"{d.phase}: relaunch")
    return d.launch(note=f"{d.phase}: relaunch")


def _classify(ctx: ProbeContext, res: ProbeResult, prompts: list[Prompt]) -> None:
    """Judge each group on its first request: at start-up (no user action since launch other than the
    policy agreement and earlier prompts), not the result of tapping a feature that needs it, or with no
    declared feature justifying it at all."""
    declared = ctx.scenario.declared_groups
    groups: dict[str, dict[str, Any]] = {}
    for p in prompts:
        if p.source != "system":
            continue
        g = groups.setdefault(p.group, {"group": p.group, "steps": [], "reasons": []})
        g["steps"].append(p.step)
        if len(g["steps"]) > 1:
            continue  # judged on its first request; later ones belong to probe 6
        feat = feature_for_tap(ctx, p.group, p.user_tap)
        g["before_user_action"] = p.user_tap is None
        g["before_consent"] = p.before_consent
        g["screen"] = p.screen
        g["asked_after"] = p.user_tap.get("label") if p.user_tap else None
        g["feature"] = feat.name if feat else None
        g["declared"] = p.group in declared
        g["burst_position"] = p.page
        if p.user_tap is None and p.after_tap is not None:
            g["reasons"].append(
                f"asked by the app itself {p.time_ms - p.after_tap['time_ms']} ms after "
                f"'{p.after_tap.get('label', '')}', not by that tap"
            )
        elif p.user_tap is None:
            g["reasons"].append("asked at start-up, before any user action")
        elif feat is None:
            g["reasons"].append(f"asked after '{p.user_tap.get('label', '')}', not by its feature")
        if p.group not in declared:
            g["reasons"].append("no declared feature justifies it")
    bursts: list[list[str]] = []
    for p in prompts:
        if p.source != "system":
            continue
        if p.page <= 1 or not bursts:
            bursts.append([])
        bursts[-1].append(p.group)
    res.facts["bundled"] = [sorted(set(b)) for b in bursts if len(set(b)) > 1]
    flagged = [g for g in groups.values() if g["reasons"]]
    res.facts["groups"] = list(groups.values())
    res.facts["flagged_groups"] = [g["group"] for g in flagged]
    res.facts["figure"] = len(flagged)
    for g in flagged:
        res.cite("advance_or_excessive", g["steps"][0])
