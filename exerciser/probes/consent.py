"""Consent probe: the privacy dialog at first run, what happens before agreement, and refusing the policy.

Protocol (clean install): launch and watch, without agreeing, until the privacy dialog appears or the app
settles on a screen; every permission prompt (refused) and permission request before agreement is noted.
Then refuse the policy and follow what comes: a second chance (refused again), an exit, a wall, or a
browse mode (prompts there are still "before agreement").
"""

from __future__ import annotations

from exerciser.device.contract import EventKind
from exerciser.probes.common import Driver, ProbeContext, ProbeResult, exit_events
from exerciser.runner.session import Step

MAX_SECOND_CHANCES = 3
SPLASH_WAITS = 2  # the dialog may come after a splash timer: look again this often (2 s each)


def _requests_before(ctx: ProbeContext, until_n: int, from_n: int) -> list[tuple[int, str]]:
    out = []
    for n, e in ctx.session.events_log:
        if from_n < n <= until_n and e.kind == EventKind.PERMISSION_REQUEST and e.package == ctx.package:
            out.append((n, e.detail.get("permissions", "")))
    return out


def policy_refusal(ctx: ProbeContext, d: Driver, step: Step, res: ProbeResult) -> dict:
    """Refuse the policy on `step` (showing the dialog) and classify what follows."""
    s = ctx.session
    observe = ctx.rules.value("refusal_observe_seconds")
    refused_at = step.n
    second = []
    cur: Step | None = step
    for _ in range(MAX_SECOND_CHANCES + 1):
        if cur is None or not (cur.has("privacy_consent") or cur.has("consent_second_chance")):
            break
        if cur.n != refused_at:
            second.append(cur.n)
        roles = ("refuse", "exit", "cancel", "close")
        t = next((cur.reading.target(r) for r in roles if cur.reading.target(r)), None)
        if t is None:
            res.notes.append(f"step {cur.n}: the privacy dialog offers no way to refuse")
            return {"outcome": "no_refuse_option", "steps": [cur.n], "second_chance": second}
        from exerciser.explore.selector import from_target

        cur = s.tap(from_target(t), note="consent: refuse the policy")
    # watch what the refusal does
    after = s.wait(observe, note="consent: observe after refusing the policy")
    ex = exit_events(s, refused_at)
    prompts_before = len(d.prompts)
    calm = d.settle(after)
    outcome = "browse"
    steps = [refused_at, *second, after.n]
    if ex["died"] or not s.device.is_alive(ctx.package):
        outcome = "killed"
        steps += ex["died"]
    elif calm is None or not after.in_app:
        outcome = "exit"
        steps += ex["finished"]
    elif calm.has("blocking_wall"):
        outcome = "wall"
        steps.append(calm.n)
    elif calm.has("privacy_consent") or calm.has("consent_second_chance"):
        outcome = "loop"  # only agreeing lets the user on
        steps.append(calm.n)
    new_prompts = d.prompts[prompts_before:]
    return {
        "outcome": outcome,
        "blocked": outcome != "browse",
        "second_chance": second,
        "steps": sorted(set(steps)),
        "prompts_in_browse_mode": [p.to_json() for p in new_prompts],
    }


def run(ctx: ProbeContext) -> ProbeResult:
    s = ctx.session
    s.probe = "consent"
    res = ProbeResult("consent")
    d = Driver(ctx, prompts="deny", policy="refuse", phase="first_run")
    s.clear()
    first = s.start(note="consent: first run after clean install")
    start_n = first.n - 1
    step: Step | None = first
    dialog: Step | None = None
    waits = 0
    for _ in range(20):
        if step is None:
            break
        if step.has("privacy_consent"):
            dialog = step
            break
        if step.has("permission_prompt"):
            step = d._on_prompt(step)
            continue
        if step.has("permission_rationale"):
            step = d._on_nag(step)
            continue
        if not step.in_app and not step.reading.kinds:
            break
        if waits < SPLASH_WAITS:
            waits += 1
            step = s.wait(2.0, note="consent: wait for the first-run dialog")
            continue
        break
    res.facts["consent_dialog_step"] = dialog.n if dialog else None
    # A consent box ticked before the user touched it is consent by default (非明示方式征求用户同意).
    kind = dialog.reading.kind("privacy_consent") if dialog else None
    res.facts["consent_box"] = kind.detail.get("checkbox") if kind else None
    res.facts["preticked_consent"] = res.facts["consent_box"] == "ticked"
    if res.facts["preticked_consent"]:
        res.cite("preticked_consent", dialog.n)
    res.facts["first_screen_step"] = first.n
    end_n = dialog.n if dialog else s.n
    before = [p for p in d.prompts if p.before_consent]
    reqs = _requests_before(ctx, end_n, start_n)
    refusal = None
    if dialog is not None:
        res.cite("consent_dialog", dialog.n)
        refusal = policy_refusal(ctx, d, dialog, res)
        before += [p for p in d.prompts[len(before) :] if p.before_consent]
        reqs = _requests_before(ctx, s.n, start_n)
        res.cite("policy_refusal", *refusal["steps"])
    else:
        res.cite("no_consent_dialog", first.n, s.n)
    res.facts["prompts_before_consent"] = [p.to_json() for p in before]
    res.facts["requests_before_consent"] = [{"step": n, "permissions": p} for n, p in reqs]
    res.facts["policy_refusal"] = refusal
    for p in before:
        res.cite("prompts_before_consent", p.step)
    # the figure: system prompts shown before agreement (requests logged are kept as facts)
    res.facts["figure"] = len({p.step for p in before if p.source == "system"})
    return res
