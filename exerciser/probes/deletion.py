"""Probe 8 (account deletion), plus the extra check that the privacy policy is reachable.

Protocol (clean install): launch, agree, allow prompts, log in when the scenario says how, then search
goal-directed from the main screen for the deletion entry. The figure is the length of the shortest tap
path found from the main screen to the deletion entry's page (tapping the entry included). From there the
probe walks on towards the final confirmation (ticking the terms box, pressing "next"-like controls),
noting every obstacle the screens name (hotline, e-mail, ID upload, waiting for a call ...). The
irreversible confirmation is never pressed unless the scenario marks the account as a test account;
otherwise the probe cancels. Then, relaunched, it searches the privacy policy from the main screen.
"""

from __future__ import annotations

import re
from typing import Any

from exerciser.explore.explorer import Explorer, deletion_goal, entry_targets, policy_goal
from exerciser.explore.selector import Control, controls, from_target
from exerciser.explore.state import norm_label
from exerciser.probes import durations
from exerciser.probes.advance import start_app
from exerciser.probes.common import Driver, ProbeAborted, ProbeContext, ProbeResult
from exerciser.runner.session import Step

MAX_FLOW_STEPS = 12
_FORWARD = re.compile(
    r"next|continue|proceed|apply|request|submit|delete|deactivate|close account|confirm|i understand|"
    r"下一步|继续|申请|提交|注销|确认|确定|我已知晓|我知道了",
    re.I,
)
_BACKWARD = re.compile(r"cancel|back|not now|keep|取消|返回|暂不|再想想|放弃", re.I)


def _past_entry(step: Step) -> bool:
    """Already inside the deletion flow: no entry to tap, but a confirmation or an obstacle page."""
    return not entry_targets(step) and (step.has("deletion_obstacle") or step.has("deletion_confirm"))


def _opened_by_last_tap(step: Step, path: list[dict[str, Any]]) -> bool:
    """The path's last tap opened a page about deleting the account that bears its name (a row "Delete my
    data" opening the "Delete my data" page that deletes the account): that row was the entry, however it
    is worded, and the page's own buttons are the deletion flow, not one more tap to reach it."""
    k = step.reading.kind("deletion_entry")
    if not path or k is None or k.detail.get("page") != "deletion":
        return False
    last = norm_label(_path_label(path[-1]) or "")
    return bool(last) and last == norm_label(k.detail.get("title", ""))


def _path_label(p: dict[str, Any]) -> str:
    return p.get("selector", {}).get("text") or p.get("label") or p.get("selector_key") or ""


def _obstacles(step: Step) -> list[dict[str, Any]]:
    out = []
    for k in step.reading.kinds:
        if k.kind == "deletion_obstacle":
            for name in (k.detail.get("obstacle") or "unspecified").split(","):
                ev = [e for e in k.evidence if e.startswith(name + ":")] or list(k.evidence)
                out.append({"step": step.n, "obstacle": name, "evidence": ev})
    return out


def refusal_after(ctx: ProbeContext, n: int) -> dict[str, Any] | None:
    """The first action the safety guard refused after step `n`, as the verdict cites it."""
    r = next((r for r in ctx.session.refusals if r["step"] > n), None)
    if r is None:
        return None
    return {
        "step": r["step"],
        "control": (r.get("control") or {}).get("label", ""),
        "rule": r["rule"],
        "category": r["category"],
        "reason": r["reason"],
    }


def walk_to_confirmation(ctx: ProbeContext, d: Driver, step: Step, res: ProbeResult) -> dict[str, Any]:
    """From the deletion entry's page to the final confirmation; cancel there (or confirm a test account).

    The safety guard decides what may be pressed on the way: on a real account the walk ends at the first
    control it refuses, and the facts say where ("stopped before the irreversible step")."""
    s = ctx.session
    obstacles: list[dict[str, Any]] = []
    stated: list[dict[str, Any]] = []  # processing times the flow states ("within 15 working days")
    timing = ctx.rules.rule("8.deletion_processing_time").raw
    patterns = (durations.patterns(timing), timing.get("calendar") or {})
    taps = 0
    pressed: set[tuple[str, str]] = set()
    confirm_step = None
    stopped: dict[str, Any] | None = None
    for _ in range(MAX_FLOW_STEPS):
        for o in _obstacles(step):
            if not any(o["obstacle"] == x["obstacle"] for x in obstacles):
                obstacles.append(o)
        for t in _stated_days(step, patterns):
            if not any(t["text"] == x["text"] for x in stated):
                stated.append(t)
        if step.has("deletion_confirm"):
            confirm_step = step.n
            break
        # tick unticked boxes first ("I have read the deletion terms"), then the most forward control
        checkables = {e.bounds for e in step.reading.elements if e.checkable}
        box = next(
            (
                e
                for e in step.reading.elements
                if e.checkable
                and not e.checked
                and e.enabled
                and (step.state.id, e.index_path) not in pressed
            ),
            None,
        )
        if box is not None:
            pressed.add((step.state.id, box.index_path))
            c = Control(_sel(box), box.bounds, box.label)
        else:
            fwd = [
                c
                for c in controls(step.reading)
                if (step.state.id, c.selector.key()) not in pressed
                and c.bounds not in checkables
                and not _BACKWARD.search(c.label or "")
                and (c.selector.role in ("deletion_entry", "confirm") or _FORWARD.search(c.label or ""))
            ]
            if not fwd:
                break
            fwd.sort(key=lambda c: c.selector.role not in ("deletion_entry", "confirm"))
            c = fwd[0]
            pressed.add((step.state.id, c.selector.key()))
        n0 = s.n
        nxt = d.tap(c, note="8: walk towards the deletion confirmation")
        stop = refusal_after(ctx, n0)
        if stop is not None:
            stopped = stop
            break
        taps += 1
        if nxt is None:
            break
        step = nxt
    out: dict[str, Any] = {
        "obstacles": obstacles,
        "processing_time": stated,
        "processing_working_days": max((t["working_days"] for t in stated), default=None),
        "confirmation_step": confirm_step,
        "taps_entry_to_confirmation": taps if confirm_step else None,
        "confirmed": False,
        "stopped_before_irreversible": stopped,
        # the flow offered its final step (refused here): the user could finish the deletion in the app
        "final_step_offered": bool(stopped and stopped["category"] == "account_deletion"),
    }
    if confirm_step is not None:
        cur = s.current
        if ctx.scenario.test_account:
            t = cur.reading.target("confirm")
            if t is not None:
                n0 = s.n
                after = d.tap(from_target(t), note="8: confirm deletion (scenario: test account)")
                out["stopped_before_irreversible"] = refusal_after(ctx, n0)
                out["confirmed"] = out["stopped_before_irreversible"] is None
                out["after_confirm_step"] = after.n if after else None
        else:
            t = cur.reading.target("cancel")
            if t is not None:
                d.tap(from_target(t), note="8: cancel: never confirm deletion of a real account")
            out["cancelled"] = True
    return out


def _stated_days(
    step: Step, patterns: tuple[list[durations.Pattern], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Processing times the screen states, as working days (a range counts by its upper end)."""
    out = []
    for e in step.reading.elements:
        text = e.label or ""
        if e.clickable or not text:
            continue
        out += [{"step": step.n, **t} for t in durations.stated(text, *patterns)]
    return out


def _sel(e):  # Element -> Selector
    from exerciser.explore.selector import Selector

    return Selector(e.resource_id, e.label, e.cls, e.index_path)


def run(ctx: ProbeContext) -> ProbeResult:
    s = ctx.session
    s.probe = "8"
    res = ProbeResult("8")
    d = Driver(ctx, prompts="allow", policy="agree", phase="deletion")
    try:
        main = start_app(ctx, d, "8: clean install")
    except ProbeAborted as exc:
        res.inconclusive = str(exc)
        return res
    if ctx.scenario.login:
        # the depth counts from the main screen after login, not from where the login steps ended: open
        # the app again as a logged-in user does (rule 8.deletion_too_deep, `definition`)
        s.stop(note="8: relaunch after the login steps")
        main = d.launch(note="8: the main screen after login") or main
    res.facts["main_step"] = main.n
    res.cite("main_screen", main.n)
    ex = Explorer(s, d.settle, "goal", max_actions=ctx.scenario.budgets.explore_actions, tap=d.tap)
    r = ex.explore(deletion_goal(), main)
    res.facts["search"] = {"taps": r.taps, "scrolls": r.scrolls, "actions": r.actions, "stop": r.reason}
    if r.found is None:
        res.facts["figure"] = None
        res.facts["entry_found"] = False
        res.cite("deletion_missing", main.n, s.n)
        res.notes.append(f"deletion entry not found: {r.reason}")
        if "budget" in r.reason:
            res.inconclusive = f"the search for the deletion entry ran out of budget ({r.reason})"
    else:
        found = r.found
        # one definition of the depth (rule 8.deletion_too_deep): taps of the user's way from the main
        # screen; a pop-up dismissed on the way (coupon, teen mode, update, ...) is not part of it
        dismissals = {p["dismiss_step"] for p in d.popups}
        path = [e for e in r.path if not dismissals & set(e.get("steps", []))]
        entries = [] if _past_entry(found) or _opened_by_last_tap(found, path) else entry_targets(found)
        stop = None
        if entries:
            # the entry is on screen: tapping it is part of the path
            c = entries[0]
            path.append({"selector": c.selector.to_json(), "label": c.label})
            res.cite("deletion_entry", found.n)
            n0 = s.n
            with s.guard.deletion_walk(ctx.scenario.test_account):
                nxt = d.tap(c, note="8: open the deletion entry")
            stop = refusal_after(ctx, n0)
            if nxt is not None and stop is None:
                found = nxt
        taps = len(path)
        res.facts["entry_found"] = True
        res.facts["figure"] = taps
        res.facts["entry_step"] = found.n
        res.facts["path"] = [_path_label(p) for p in path]
        res.cite("deletion_entry", found.n)
        if stop is None:
            with s.guard.deletion_walk(ctx.scenario.test_account):
                flow = walk_to_confirmation(ctx, d, found, res)
        else:  # the entry itself is a final step ("申请注销" on the settings page): nothing more is pressed
            flow = {
                "obstacles": _obstacles(found),
                "processing_time": [],
                "processing_working_days": None,
                "confirmation_step": None,
                "taps_entry_to_confirmation": None,
                "confirmed": False,
                "stopped_before_irreversible": stop,
                "final_step_offered": stop["category"] == "account_deletion",
            }
        res.facts.update(flow)
        if flow["stopped_before_irreversible"]:
            res.cite("stopped_before_irreversible", flow["stopped_before_irreversible"]["step"])
        if flow["obstacles"]:
            res.cite("deletion_obstacles", *[o["step"] for o in flow["obstacles"]])
        if flow["confirmation_step"]:
            res.cite("deletion_confirmation", flow["confirmation_step"])
    # extra: the privacy policy within 4 taps of the main screen
    res.facts["policy"] = policy_reach(ctx, d)
    return res


def policy_reach(ctx: ProbeContext, d: Driver) -> dict[str, Any]:
    s = ctx.session
    s.probe = "8"
    d.phase = "policy"
    s.stop(note="policy: relaunch")
    main = d.launch(note="policy: relaunch")
    if main is None:
        return {"found": False, "taps": None, "reason": "the app did not come back"}
    ex = Explorer(s, d.settle, "goal", max_actions=ctx.scenario.budgets.explore_actions, tap=d.tap)
    r = ex.explore(policy_goal(), main)
    if r.found is None:
        return {"found": False, "taps": None, "reason": r.reason, "steps": [main.n]}
    return {
        "found": True,
        "taps": len(r.path),
        "steps": [main.n, r.found.n],
        "path": [e.get("selector", {}).get("text", "") for e in r.path],
    }


def norm(label: str) -> str:
    return norm_label(label)
