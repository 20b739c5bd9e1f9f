"""Probe 6 (re-requests after refusal), after MIIT 2020 No. 164's test cases (a)-(d).

Per permission group the app asks for: clean install, agree, allow the other groups, go where the group is
asked, refuse it (the don't-ask-again box/button only when the scenario says so), then
  (a) stay on the screen for the protocol's seconds and count what comes back,
  (b) go home and come back,
  (c) kill and relaunch several times, minutes apart, and re-visit the screen that asked (without
      pressing the control that asked, so anything asked there is unsolicited),
  (d) count what is asked at each launch for a group whose feature is not the launch screen,
and finally relaunch once past the re-prompt window (not counted: the window is over).
Re-requests are system prompts and in-app requests/nags for the same group with their device times.
Android's own rule is respected: on API 30+ the system stops after the second denial by itself, so the
app's in-app nags are what remain to count; on API 23-28 the checkbox is not ticked unless asked.
"""

from __future__ import annotations

from typing import Any

from exerciser.device.contract import Key
from exerciser.probes import advance
from exerciser.probes.common import Driver, ProbeAborted, ProbeContext, ProbeResult, Prompt

HOUR_MS = 3600 * 1000


def _solicited(p: Prompt, trigger: dict[str, Any]) -> bool:
    """Asked right after the user pressed the very control that asks for the feature: not a nag."""
    if p.user_tap is None or trigger.get("phase") != "feature":
        return False
    return p.user_tap.get("selector") == trigger["path"][-1]


def probe_group(ctx: ProbeContext, group: str, trigger: dict[str, Any]) -> dict[str, Any]:
    s = ctx.session
    rules = ctx.rules
    d = Driver(ctx, prompts=lambda g: "deny" if g == group else "allow", policy="agree", phase="first_refusal")
    step = d.launch(note=f"6: clean install to refuse {group}", clear=True)
    path = trigger.get("path", [])
    if trigger.get("phase") == "feature" and step is not None:
        for sel in path:
            if any(p.group == group for p in d.prompts):
                break
            step = d.tap_selector(sel, note=f"6: go to where {group} is asked")
            if step is None:
                break
    mine = [p for p in d.prompts if p.group == group]
    if not mine:
        return {"group": group, "outcome": "not_asked"}
    first = mine[0]
    t0 = first.time_ms

    def revisit() -> None:
        # the screen that asked, reached by the same taps minus the one that asked
        for sel in path[:-1]:
            if d.tap_selector(sel, note=f"{d.phase}: re-visit the screen that asked for {group}") is None:
                break

    # (a) stay
    d.phase = "stay"
    stay = rules.value("stay_observe_seconds")
    chunks = max(1, int(stay // 5))
    for _ in range(chunks):
        cur = d.settle(s.wait(stay / chunks, note=f"6 (a): stay after refusing {group}"))
        if cur is None:
            break
    # (b) home and back
    d.phase = "home"
    s.key(Key.HOME, note="6 (b): home")
    s.wait(2.0, note="6 (b): in the background")
    d.user_tap = None
    d.settle(s.start(note="6 (b): back to the app"))
    # (c)+(d) kill and relaunch, re-visit
    gap = rules.value("relaunch_gap_minutes") * 60
    for i in range(ctx.rules.int("relaunches")):
        d.phase = "relaunch"
        s.stop(note=f"6 (c): kill #{i + 1}")
        s.advance(gap, note=f"6 (c): {gap / 60:.0f} min later")
        if d.launch(note=f"6 (c): relaunch #{i + 1}") is None:
            continue
        revisit()
    # past the window: allowed again, recorded only
    window_h = rules.value("reprompt_window_hours")
    d.phase = "after_window"
    s.stop(note="6: kill before the window ends")
    elapsed_h = (s.device.now_ms() - t0) / HOUR_MS
    s.advance(max(0.0, window_h - elapsed_h) * 3600 + 3600, note=f"6: past the {window_h:g} h window")
    if d.launch(note="6: relaunch after the window") is not None:
        revisit()
    counted, not_counted = [], []
    for p in mine[1:] + [p for p in d.prompts if p.group == group and p not in mine]:
        within = (p.time_ms - t0) <= window_h * HOUR_MS and p.phase != "after_window"
        rec = {"step": p.step, "source": p.source, "phase": p.phase, "hours_after_refusal":
               round((p.time_ms - t0) / HOUR_MS, 3)}
        if within and not _solicited(p, trigger):
            counted.append(rec)
        else:
            not_counted.append(rec | {"why": "after the window" if not within else "asked by the user's tap"})
    counted.sort(key=lambda r: r["step"])
    return {
        "group": group,
        "refused_at": first.step,
        "re_requests": counted,
        "not_counted": not_counted,
        "count": len(counted),
        "system": sum(1 for r in counted if r["source"] == "system"),
        "in_app": sum(1 for r in counted if r["source"] == "in_app"),
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
    per_group = []
    for group, trig in ctx.appmap.triggers.items():
        try:
            per_group.append(probe_group(ctx, group, trig))
        except ProbeAborted as exc:
            per_group.append({"group": group, "outcome": "unreachable", "note": str(exc), "count": 0})
    res.facts["groups"] = per_group
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
