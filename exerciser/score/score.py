"""Scoring: the probes' measurements + the rule pack -> per category a verdict, figure, reason, evidence."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from exerciser.probes.common import ProbeResult, not_measured_note
from exerciser.scenario import Scenario
from exerciser.score.rulepack import RulePack

CATEGORIES = ("consent", "5", "6", "7", "8")
SEVERITY_ORDER = {"none": 0, "low": 1, "medium": 2, "high": 3}


@dataclass
class CategoryVerdict:
    verdict: str  # violation | compliant | inconclusive
    figure: int | float | None
    reason: str
    evidence_steps: list[int]
    severity: str = "none"  # of the worst rule that fired; "none" when compliant
    rules: list[dict[str, Any]] = field(default_factory=list)  # fired rules: id, source, kind
    screenshots: list[str] = field(default_factory=list)  # deciding/<cat>-<step>.png beside verdict.json

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _fire(rp: RulePack, rid: str) -> dict[str, Any]:
    r = rp.rule(rid)
    out = {"id": r.id, "source": r.source, "kind": r.kind, "severity": r.severity}
    if r.threshold:
        t = rp.thresholds[r.threshold]
        out["threshold"] = {"name": t.name, "value": t.value, "kind": t.kind}
    return out


def _verdict(rp: RulePack, fired: list[str], figure: Any, reason: str, steps: list[int]) -> CategoryVerdict:
    rules = [_fire(rp, r) for r in fired]
    sev = max((r["severity"] for r in rules), key=lambda s: SEVERITY_ORDER[s], default="none")
    return CategoryVerdict(
        "violation" if fired else "compliant", figure, reason, sorted(set(steps)), sev, rules
    )


def _inconclusive(figure: Any, reason: str, steps: list[int]) -> CategoryVerdict:
    return CategoryVerdict("inconclusive", figure, reason, sorted(set(steps)))


def _steps(res: ProbeResult, *names: str) -> list[int]:
    return [n for k in names for n in res.evidence.get(k, [])]


def score_consent(res: ProbeResult, sc: Scenario, rp: RulePack, language: str) -> CategoryVerdict:
    f = res.facts
    figure = f.get("figure", 0)
    fired, why = [], []
    if figure > rp.value("prompts_before_consent_max"):
        fired.append("consent.prompts_before_consent")
        groups = sorted({p["group"] for p in f.get("prompts_before_consent", [])})
        why.append(f"{figure} permission request(s) before agreement ({', '.join(groups) or 'silent'})")
    if f.get("consent_dialog_step") is None:
        fired.append("consent.dialog_at_first_run")
        why.append("no privacy-policy dialog at first run")
    if f.get("preticked_consent"):
        fired.append("consent.preticked")
        why.append("the consent box was ticked before the user touched it")
    steps = _steps(res, "prompts_before_consent", "consent_dialog", "no_consent_dialog", "preticked_consent")
    if fired:
        return _verdict(rp, fired, figure, "; ".join(why) + ".", steps)
    if res.inconclusive:
        return _inconclusive(figure, res.inconclusive, steps)
    return _verdict(
        rp, [], figure, "The privacy dialog came first and nothing was asked before agreement.", steps
    )


def score_refusal(res: ProbeResult, sc: Scenario, rp: RulePack) -> CategoryVerdict:
    f = res.facts
    figure = f.get("figure", 0)
    blocked = [r for r in f.get("refusals", []) if r.get("blocked")]
    if figure > rp.value("blocking_refusals_max"):
        what = ", ".join(f"{r['what']} → {r['outcome']}" for r in blocked)
        return _verdict(
            rp,
            ["5.refusal_blocks_use"],
            figure,
            f"Refusal blocked use: {what}.",
            _steps(res, "refusal_blocks_use"),
        )
    if res.inconclusive:
        return _inconclusive(figure, res.inconclusive, _steps(res, "refusals_tolerated"))
    n = len(f.get("refusals", []))
    if n == 0:
        return _inconclusive(
            figure, "Nothing to refuse: no privacy dialog and no permission prompt was met.", []
        )
    measured = len((f.get("coverage") or {}).get("measured", [])) or n
    return _verdict(
        rp,
        [],
        figure,
        f"All {measured} refusal(s) were tolerated; the app stayed usable." + not_measured_note(f),
        _steps(res, "refusals_tolerated"),
    )


def score_rerequest(res: ProbeResult, sc: Scenario, rp: RulePack) -> CategoryVerdict:
    f = res.facts
    figure = f.get("figure", 0)
    window = rp.value("reprompt_window_hours")
    if figure > rp.value("rerequests_in_window_max"):
        g = f.get("worst_group")
        worst = next(x for x in f["groups"] if x["group"] == g)
        return _verdict(
            rp,
            ["6.frequent_rerequest"],
            figure,
            f"After refusing {g} it was asked again {figure} time(s) within {window:g} h "
            f"({worst['system']} system prompt(s), {worst['in_app']} in-app"
            + (f", of which {worst['settings_page']} settings page(s)" if worst.get("settings_page") else "")
            + ")"
            + (", at every relaunch." if worst.get("every_relaunch") else "."),
            _steps(res, "re_requests"),
        )
    if res.inconclusive:
        return _inconclusive(figure, res.inconclusive, [])
    groups = [g for g in f.get("groups", []) if "refused_at" in g]
    if not groups:
        unreachable = [g["group"] for g in f.get("groups", []) if g.get("outcome") == "unreachable"]
        if unreachable:
            return _inconclusive(figure, f"Could not reach where {', '.join(unreachable)} is asked.", [])
        why = "The app asks for no permission, so nothing is re-requested." + not_measured_note(f)
        return _verdict(rp, [], figure, why, [])
    return _verdict(
        rp,
        [],
        figure,
        f"No refused group ({', '.join(g['group'] for g in groups)}) was asked again within {window:g} h."
        + not_measured_note(f),
        _steps(res, "refusals"),
    )


def score_advance(res: ProbeResult, sc: Scenario, rp: RulePack) -> CategoryVerdict:
    f = res.facts
    figure = f.get("figure", 0)
    if figure > rp.value("advance_groups_max"):
        parts = [f"{g['group']} ({'; '.join(g['reasons'])})" for g in f["groups"] if g["reasons"]]
        return _verdict(
            rp,
            ["7.advance_or_excessive"],
            figure,
            f"{figure} group(s) asked in advance or without a feature: {', '.join(parts)}.",
            _steps(res, "advance_or_excessive"),
        )
    if res.inconclusive:
        return _inconclusive(figure, res.inconclusive, [])
    groups = [g["group"] for g in f.get("groups", [])]
    reason = (
        f"Every group ({', '.join(groups)}) was asked on its feature's screen after the user chose it."
        if groups
        else "No permission was asked during the exploration."
    )
    steps = [g["steps"][0] for g in f.get("groups", [])]
    return _verdict(rp, [], figure, reason, steps)


def counted_obstacles(f: dict[str, Any], rp: RulePack) -> list[dict[str, Any]]:
    raw = rp.rule("8.deletion_obstacles").raw
    known = set(raw.get("obstacles") or [])
    confirmable = f.get("confirmation_step") or f.get("final_step_offered")
    tolerated = set(raw.get("tolerated_when_confirmable") or []) if confirmable else set()
    return [
        o
        for o in f.get("obstacles") or []
        if (not known or o["obstacle"] in known) and o["obstacle"] not in tolerated
    ]


def score_deletion(res: ProbeResult, sc: Scenario, rp: RulePack) -> CategoryVerdict:
    f = res.facts
    figure = f.get("figure")
    if res.inconclusive and not f.get("entry_found"):
        return _inconclusive(figure, res.inconclusive, _steps(res, "main_screen"))
    if not f.get("entry_found"):
        return _verdict(
            rp,
            ["8.deletion_missing"],
            None,
            "No account-deletion entry was found from the main screen.",
            _steps(res, "deletion_missing"),
        )
    fired, why = [], []
    obstacles = counted_obstacles(f, rp)
    if obstacles:
        fired.append("8.deletion_obstacles")
        why.append("obstacles on the deletion path: " + ", ".join(sorted({o["obstacle"] for o in obstacles})))
    days, days_max = f.get("processing_working_days"), rp.value("deletion_processing_working_days_max")
    if days is not None and days > days_max:
        fired.append("8.deletion_processing_time")
        why.append(f"the app states {days} working days to process the deletion (more than {days_max:g})")
    limit = rp.value("deletion_max_taps")
    if figure is not None and figure > limit:
        fired.append("8.deletion_too_deep")
        why.append(f"the deletion entry is {figure} taps from the main screen (more than {limit:g})")
    path = " → ".join(p for p in f.get("path", []) if p)
    steps = _steps(
        res, "main_screen", "deletion_entry", "deletion_confirmation", "stopped_before_irreversible"
    )
    steps += [o["step"] for o in obstacles]
    if "8.deletion_processing_time" in fired:
        steps += [t["step"] for t in f.get("processing_time", []) if t["working_days"] > days_max]
    stop = f.get("stopped_before_irreversible")
    stopped = (
        f" The probe stopped before the irreversible step at step {stop['step']} ('{stop['control']}': "
        f"{stop['rule']}); depth and obstacles are measured up to there."
        if stop
        else ""
    )
    if fired:
        return _verdict(rp, fired, figure, "; ".join(why).capitalize() + "." + stopped, steps)
    if f.get("confirmation_step"):
        conf = "with a confirmation step"
    elif f.get("final_step_offered"):
        conf = "whose final step is offered in the app"
    else:
        conf = "without reaching a confirmation"
    return _verdict(
        rp, [], figure, f"Deletion entry {figure} taps from the main screen ({path}), {conf}.{stopped}", steps
    )


def score_policy(facts: dict[str, Any] | None, rp: RulePack) -> dict[str, Any] | None:
    if facts is None:
        return None
    limit = rp.value("policy_max_taps")
    ok = bool(facts.get("found")) and facts.get("taps") is not None and facts["taps"] <= limit
    r = rp.rule("extra.policy_reachable")
    return {
        "check": "privacy_policy_reachable",
        "verdict": "compliant" if ok else "violation",
        "figure": facts.get("taps"),
        "limit": limit,
        "reason": (
            f"The privacy policy is {facts['taps']} taps from the main screen."
            if facts.get("found")
            else "The privacy policy could not be reached from the main screen."
        ),
        "evidence_steps": facts.get("steps", []),
        "source": r.source,
        "severity": "none" if ok else r.severity,
    }


def score_all(
    results: dict[str, ProbeResult],
    sc: Scenario,
    rp: RulePack,
    language: str,
    errors: dict[str, str] | None = None,
) -> tuple[dict[str, CategoryVerdict], dict[str, Any]]:
    errors = errors or {}
    out: dict[str, CategoryVerdict] = {}
    fns = {
        "consent": lambda r: score_consent(r, sc, rp, language),
        "5": lambda r: score_refusal(r, sc, rp),
        "6": lambda r: score_rerequest(r, sc, rp),
        "7": lambda r: score_advance(r, sc, rp),
        "8": lambda r: score_deletion(r, sc, rp),
    }
    for cat in CATEGORIES:
        if cat not in sc.probes:
            continue
        if cat in errors and cat not in results:
            out[cat] = _inconclusive(None, errors[cat], [])
            continue
        res = results.get(cat)
        if res is None:
            out[cat] = _inconclusive(None, "the probe did not run", [])
            continue
        out[cat] = fns[cat](res)
        if cat in errors and out[cat].verdict == "compliant":
            out[cat] = _inconclusive(out[cat].figure, errors[cat], out[cat].evidence_steps)
    extra: dict[str, Any] = {}
    if "8" in results:
        pol = score_policy(results["8"].facts.get("policy"), rp)
        if pol:
            extra["privacy_policy_reachable"] = pol
    return out, extra
