"""Probe 6 (re-requests after refusal), after MIIT 2020 No. 164's test cases (a)-(d).

Per permission group the app asks for: clean install, agree, allow the other groups, make the app ask
for the group (the feature tap, or its own start-up request) and refuse it (R0). Groups the app asks for
in one go (the same start-up burst, the same feature tap) are refused together in one round, as a user
refusing that burst does, and counted each on its own; a group the app then no longer asks for gets its
own round. What follows within the refusal window (`refusal_observe_seconds`) is the refusal's direct
outcome, scored by 5. Then:
  R1 (a) stay on the screen without input for `stay_observe_seconds`;
  R2 (b) HOME, `home_away_seconds` in the background, back from the launcher, watch `return_observe_seconds`;
  R3 (c, d) `relaunches` times: force-stop, launch at a device time spread over the window after the
       refusal (`relaunch_gap_minutes`, `relaunch_2_hours`, `relaunch_3_hours`: +10 min, +6 h, +24 h; the
       clock is moved, never waited for), watch the screen the app opens on (no navigation, no feature
       tap: whatever is asked is unsolicited, e.g. an unrelated group at launch);
and finally one relaunch past the re-prompt window (recorded, not counted).
Every system prompt, in-app nag (dialog or page) and settings page the app opens by itself for the group
in R1-R3 is refused (cancel, back) and counted, with its device time. The don't-ask-again box (API 23-28)
or button (API 29) is used only when the scenario says so; on API 30+ Android itself stops after the
second denial, so the app's in-app nags are what remain to count.
"""

from __future__ import annotations

import json
from typing import Any

from exerciser.device.contract import Key
from exerciser.probes import advance
from exerciser.probes.common import (
    Driver,
    ProbeAborted,
    ProbeContext,
    ProbeResult,
    Prompt,
    ask_for,
    coverage,
    refusal_of,
)
from exerciser.score.rulepack import RulePack

HOUR_MS = 3600 * 1000
WATCH_STEP = 5.0  # device seconds between looks while watching


def _watch(ctx: ProbeContext, d: Driver, seconds: float, note: str) -> None:
    s = ctx.session
    left = seconds
    while left > 1e-6:
        chunk = min(WATCH_STEP, left)
        if d.settle(s.wait(chunk, note=note)) is None:
            return
        left -= chunk


def relaunch_schedule(rules: RulePack) -> list[float]:
    """Hours after the refusal of each R3 relaunch: the first `relaunch_gap_minutes` after it, the second
    and third at `relaunch_2_hours` and `relaunch_3_hours` (an app that waits hours is caught too), any
    further one 6 h after the one before."""
    at = [rules.value("relaunch_gap_minutes") / 60, rules.value("relaunch_2_hours")]
    at.append(rules.value("relaunch_3_hours"))
    n = rules.int("relaunches")
    while len(at) < n:
        at.append(at[-1] + 6)
    return at[:n]


def _span(hours: float) -> str:
    return f"{hours * 60:g} min" if hours < 1 else f"{hours:g} h"


def probe_group(ctx: ProbeContext, group: str, trigger: dict[str, Any], key: str = "") -> dict[str, Any]:
    return probe_groups(ctx, [group], trigger, key)[0]


def probe_groups(
    ctx: ProbeContext, groups: list[str], trigger: dict[str, Any], key: str = ""
) -> list[dict[str, Any]]:
    """One protocol round refusing `groups` (asked by the same trigger); one result per group.

    Before each long wait the round's progress goes to `ctx.progress["6"]["round"]` (JSON: the driver's
    record, the refusal time, the next relaunch): a run stopped at that wait (a checkpoint) comes back
    here with the same `key` and goes on with the wait, not from the start."""
    s = ctx.session
    rules = ctx.rules
    names = ", ".join(groups)
    prog = ctx.progress.setdefault("6", {})
    cur = prog.get("round") if key and (prog.get("round") or {}).get("key") == key else None
    d = Driver(ctx, prompts=lambda g: "deny" if g in groups else "allow", policy="agree", phase="R0")
    d.suspects = list(groups)  # a settings page the app opens names no group: it is about these
    schedule = relaunch_schedule(rules)
    if cur is None:
        step = d.launch(note=f"6: clean install to refuse {names}", clear=True)
        ask_for(ctx, d, step, list(groups), trigger, f"6: go to where {names} is asked")
        firsts = {g: refusal_of(d.prompts, g) for g in groups}
        asked = [g for g in groups if firsts[g] is not None]
        if not asked:
            return [{"group": g, "outcome": "not_asked"} for g in groups]
        t_first = min(firsts[g].time_ms for g in asked)
        _before_relaunches(ctx, d, names)
        start = 0
    else:  # resumed at a wait: the app is stopped, the driver's record is the checkpoint's
        d.restore(cur["driver"])
        firsts = {g: None if i is None else d.prompts[i] for g, i in cur["firsts"].items()}
        asked = [g for g in groups if firsts[g] is not None]
        t_first, start = cur["t_first"], cur["next"]

    def before_wait(i: int, note: str) -> None:
        nonlocal cur
        if cur is None:
            s.stop(note=note)
        cur = None
        firsts_at = {g: None if p is None else d.prompts.index(p) for g, p in firsts.items()}
        prog["round"] = {"key": key, "next": i, "t_first": t_first, "firsts": firsts_at} | {
            "driver": d.snapshot()
        }

    # R3 (c, d): kill and relaunch on a schedule spread over the window, timed from the refusal
    for i, at_h in enumerate(schedule):
        if i < start:
            continue
        d.phase = f"R3.{i + 1}"
        before_wait(i, f"6 R3: force-stop #{i + 1}")
        jump = max(60.0, t_first / 1000 + at_h * 3600 - s.device.now_ms() / 1000)
        s.advance(jump, note=f"6 R3: {_span(at_h)} after the refusal")
        if d.launch(note=f"6 R3: relaunch #{i + 1}") is not None:
            _watch(ctx, d, rules.value("return_observe_seconds"), f"6 R3: watch after relaunch #{i + 1}")
    # past the window: allowed again, recorded only
    window_h = rules.value("reprompt_window_hours")
    d.phase = "after_window"
    before_wait(len(schedule), "6: force-stop before the window ends")
    elapsed_h = (s.device.now_ms() - t_first) / HOUR_MS
    past = max(0.0, window_h - elapsed_h) + rules.value("past_window_hours")
    s.advance(past * 3600, note=f"6: past the {window_h:g} h window")
    prog.pop("round", None)
    if d.launch(note="6: relaunch after the window") is not None:
        _watch(ctx, d, rules.value("return_observe_seconds"), "6: watch after the window")
    return [
        _count(g, firsts[g], d.prompts, rules) if g in asked else {"group": g, "outcome": "not_asked"}
        for g in groups
    ]


def _before_relaunches(ctx: ProbeContext, d: Driver, names: str) -> None:
    """R0 (the refusal window, probe 5's), R1 (a) stay, R2 (b) home and back."""
    s, rules = ctx.session, ctx.rules
    _watch(ctx, d, rules.value("refusal_observe_seconds"), f"6 R0: refusal window after refusing {names}")
    d.phase = "R1"
    _watch(ctx, d, rules.value("stay_observe_seconds"), f"6 R1: stay after refusing {names}")
    d.phase = "R2"
    s.key(Key.HOME, note="6 R2: home")
    s.wait(rules.value("home_away_seconds"), note="6 R2: in the background")
    d.user_tap = None
    if d.settle(s.start(note="6 R2: back from the launcher", settle=0.5)) is not None:
        _watch(ctx, d, rules.value("return_observe_seconds"), "6 R2: watch after coming back")


def _count(group: str, first: Prompt, prompts: list[Prompt], rules: RulePack) -> dict[str, Any]:
    """The re-requests of one refused group within the window, R0 and past-the-window ones apart."""
    t0 = first.time_ms
    window_h = rules.value("reprompt_window_hours")
    counted: list[dict[str, Any]] = []
    not_counted: list[dict[str, Any]] = []
    relaunch_hits: set[str] = set()
    for p in prompts:
        if p.group != group or p is first:
            continue
        hours = round((p.time_ms - t0) / HOUR_MS, 4)
        rec = {"step": p.step, "source": p.source, "phase": p.phase, "hours_after_refusal": hours}
        if p.phase == "R0":
            not_counted.append(rec | {"why": "direct outcome of the refusal (scored by 5)"})
        elif p.phase == "after_window" or hours > window_h:
            not_counted.append(rec | {"why": f"after the {window_h:g} h window"})
        else:
            counted.append(rec)
            if p.phase.startswith("R3"):
                relaunch_hits.add(p.phase)
    return {
        "group": group,
        "refused_at": first.step,
        "refused_with": first.answer,
        "re_requests": counted,
        "not_counted": not_counted,
        "count": len(counted),
        "system": sum(1 for r in counted if r["source"] == "system"),
        "in_app": sum(1 for r in counted if r["source"] != "system"),
        "settings_page": sum(1 for r in counted if r["source"] == "settings_page"),
        "every_relaunch": len(relaunch_hits) == rules.int("relaunches") > 0,
    }


def run(ctx: ProbeContext) -> ProbeResult:
    s = ctx.session
    res = ProbeResult("6")
    if ctx.appmap is None:
        ctx.results.setdefault("7", advance.run(ctx))
    s.probe = "6"
    if ctx.appmap is None:
        res.inconclusive = "the app could not be mapped (probe 7 failed)"
        return res
    batches: dict[str, list[str]] = {}
    for group, trig in ctx.appmap.triggers.items():
        batches.setdefault(json.dumps(trig, sort_keys=True), []).append(group)
    prog = ctx.progress.setdefault("6", {})
    found: dict[str, dict[str, Any]] = prog.setdefault("found", {})  # kept by a checkpoint
    done: list[str] = prog.setdefault("done", [])  # rounds finished (a resumed run skips them)

    def round_(key: str, groups: list[str], trig: dict[str, Any]) -> None:
        if key not in done:
            for r in probe_groups(ctx, groups, trig, key):
                found[r["group"]] = r
            done.append(key)

    for bkey, groups in batches.items():
        trig = ctx.appmap.triggers[groups[0]]
        try:
            round_(f"batch:{bkey}", groups, trig)
            # a group not asked while the others of its burst were refused: its own round
            for g in [g for g in groups if found[g].get("outcome") == "not_asked" and len(groups) > 1]:
                round_(f"own:{g}", [g], trig)
        except ProbeAborted as exc:
            prog.pop("round", None)
            for g in groups:
                found.setdefault(g, {"group": g, "outcome": "unreachable", "note": str(exc), "count": 0})
    per_group = [found[g] for g in ctx.appmap.triggers]
    res.facts["groups"] = per_group
    res.facts["coverage"] = coverage(per_group)
    res.facts["api_level"] = ctx.api_level
    res.facts["dont_ask_again_used"] = ctx.scenario.dont_ask_again
    worst = max(per_group, key=lambda g: g.get("count", 0), default=None)
    res.facts["figure"] = worst.get("count", 0) if worst else 0
    res.facts["worst_group"] = worst["group"] if worst and worst.get("count") else None
    for g in per_group:
        if g.get("count"):
            res.cite("re_requests", g["refused_at"], *[r["step"] for r in g["re_requests"]])
        elif "refused_at" in g:
            res.cite("refusals", g["refused_at"])
    return res
