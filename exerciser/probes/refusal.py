"""Probe 5 (refusal blocks use): refuse each permission group, and separately the policy, and watch.

Protocol, per permission group the app asks for (where from: the map of probe 7): clean install, agree
to the policy, allow every other group, go where the group is asked and refuse it (the system dialog, or
the app's own explanation before it: its 取消 is a refusal too), then watch for the
protocol's seconds: did the process die (am_proc_died / am_crash / pidof), did the app leave the front
(launcher in front, wm_finish_activity), does a wall offer only exit or settings, or do the pop-ups come
back in a loop. The policy refusal is the consent probe's (run here when that probe was not).
"""

from __future__ import annotations

from typing import Any

from exerciser.probes import advance
from exerciser.probes.common import (
    Driver,
    ProbeAborted,
    ProbeContext,
    ProbeResult,
    ask_for,
    coverage,
    exit_events,
    refusal_of,
)
from exerciser.probes.consent import policy_refusal

LOOP_PROMPTS = 3  # the same group asked this often in one watch, with no user action: a pop-up loop


def refuse_group(ctx: ProbeContext, group: str, trigger: dict[str, Any]) -> dict[str, Any]:
    s = ctx.session
    d = Driver(ctx, prompts=lambda g: "deny" if g == group else "allow", policy="agree", phase="refusal")
    step = d.launch(note=f"5: clean install to refuse {group}", clear=True)
    if trigger.get("phase") == "feature" and step is None:
        return {"group": group, "outcome": "unreachable", "steps": []}
    ask_for(ctx, d, step, [group], trigger, f"5: go to where {group} is asked")
    first = refusal_of(d.prompts, group)
    if first is None:
        return {"group": group, "outcome": "not_asked", "steps": []}
    watch = s.wait(ctx.rules.value("refusal_observe_seconds"), note=f"5: watch after refusing {group}")
    calm = d.settle(watch)
    ex = exit_events(s, first.step)
    again = [p for p in d.prompts if p.group == group and p.step > first.step]
    steps = [first.step]
    outcome = "tolerated"
    if ex["died"] or not s.device.is_alive(ctx.package):
        outcome = "killed"
        steps += ex["died"][:1] or [watch.n]
    elif calm is None:
        outcome = "exit"
        steps += (ex["finished"][:1] or []) + d.left_app[-1:]
    elif calm.has("blocking_wall") or d.stuck(calm):
        outcome = "wall"  # only exit or settings lead out, or an in-app request no answer dismisses
        steps.append(calm.n)
    elif len(again) >= LOOP_PROMPTS - 1 and all(
        p.user_tap is None or p.user_tap["step"] < first.step for p in again
    ):
        outcome = "loop"
        steps += [p.step for p in again]
    return {
        "group": group,
        "outcome": outcome,
        "blocked": outcome in ("killed", "exit", "wall", "loop"),
        "refused_at": first.step,
        "refused_with": f"{first.source}:{first.answer}",
        "steps": sorted(set(steps)),
        "asked_again": [p.step for p in again],
    }


def run(ctx: ProbeContext) -> ProbeResult:
    s = ctx.session
    res = ProbeResult("5")
    if ctx.appmap is None:
        from exerciser.probes import advance as adv

        ctx.results.setdefault("7", adv.run(ctx))
    s.probe = "5"
    amap = ctx.appmap
    refusals: list[dict[str, Any]] = []
    # the policy: reuse the consent probe's refusal when it ran
    cons = ctx.results.get("consent")
    pol = cons.facts.get("policy_refusal") if cons else None
    if pol is None and cons is None:
        d = Driver(ctx, prompts="deny", policy="refuse", phase="policy_refusal")
        s.clear()
        step = s.start(note="5: clean install to refuse the policy")
        for _ in range(6):
            if step.has("privacy_consent") or not step.in_app:
                break
            if step.has("permission_prompt"):
                step = d._on_prompt(step)
            else:
                step = s.wait(2.0, note="5: wait for the privacy dialog")
        if step.has("privacy_consent"):
            pol = policy_refusal(ctx, d, step, res)
    if pol is not None:
        refusals.append({"what": "policy", **{k: v for k, v in pol.items() if k != "prompts_in_browse_mode"}})
    if amap is not None:
        for group, trig in amap.triggers.items():
            try:
                r = refuse_group(ctx, group, trig)
            except ProbeAborted as exc:
                r = {"group": group, "outcome": "unreachable", "steps": [], "note": str(exc)}
            refusals.append({"what": group, **r})
    else:
        res.inconclusive = "the app could not be mapped (probe 7 failed)"
    blocked = [r for r in refusals if r.get("blocked")]
    res.facts["refusals"] = refusals
    res.facts["coverage"] = coverage([r | {"group": r["what"]} for r in refusals])
    res.facts["blocked"] = [r["what"] for r in blocked]
    res.facts["figure"] = len(blocked)
    for r in blocked:
        res.cite("refusal_blocks_use", *r["steps"])
    if not blocked:
        for r in refusals:
            res.cite("refusals_tolerated", *r.get("steps", [])[:2])
    unreachable = [r["what"] for r in refusals if r.get("outcome") == "unreachable"]
    if unreachable and not blocked:
        res.inconclusive = f"could not reach where {', '.join(unreachable)} is asked again"
    _ = advance  # the map comes from probe 7
    return res
