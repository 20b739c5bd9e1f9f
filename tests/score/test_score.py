"""Scoring: probe measurements + the rule pack -> verdict, figure, reason, severity and evidence steps
per category; thresholds that are conventions can be changed, regulation cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from exerciser.errors import UserError
from exerciser.probes.common import ProbeResult
from exerciser.scenario import AppRef, Scenario
from exerciser.score.rulepack import load_overrides_file, load_rulepack
from exerciser.score.score import score_all

SC = Scenario("app", AppRef("package", "com.example.app"))


@pytest.fixture(scope="module")
def pack():
    return load_rulepack()


def result(probe: str, inconclusive: str = "", **facts) -> ProbeResult:
    return ProbeResult(probe, facts=facts, inconclusive=inconclusive)


def one(pack, cat: str, res: ProbeResult, errors=None):
    cats, extra = score_all({cat: res}, SC, pack, "en", errors)
    return cats[cat]


# --- consent ------------------------------------------------------------------------------------


def test_consent_compliant(pack):
    r = result("consent", figure=0, consent_dialog_step=3, prompts_before_consent=[])
    r.cite("consent_dialog", 3)
    v = one(pack, "consent", r)
    assert (v.verdict, v.figure, v.evidence_steps, v.severity) == ("compliant", 0, [3], "none")


def test_consent_prompts_before_agreement(pack):
    prompts = [{"group": "camera", "step": 2}, {"group": "location", "step": 4}]
    r = result("consent", figure=2, consent_dialog_step=6, prompts_before_consent=prompts)
    r.cite("prompts_before_consent", 2, 4)
    r.cite("consent_dialog", 6)
    v = one(pack, "consent", r)
    assert (v.verdict, v.figure, v.severity) == ("violation", 2, "high")
    assert v.evidence_steps == [2, 4, 6]
    assert "camera, location" in v.reason
    assert [x["id"] for x in v.rules] == ["consent.prompts_before_consent"]
    assert v.rules[0]["source"].startswith("miit2019 §3.1")


def test_no_consent_dialog(pack):
    r = result("consent", figure=0, consent_dialog_step=None, prompts_before_consent=[])
    r.cite("no_consent_dialog", 1, 9)
    v = one(pack, "consent", r)
    assert (v.verdict, v.figure) == ("violation", 0)
    assert [x["id"] for x in v.rules] == ["consent.dialog_at_first_run"]
    assert v.evidence_steps == [1, 9]


# --- 5 ------------------------------------------------------------------------------------------


def test_refusal_blocks(pack):
    refusals = [
        {"what": "policy", "outcome": "browse", "blocked": False, "steps": [3, 5]},
        {"what": "location", "outcome": "killed", "blocked": True, "steps": [40, 41]},
    ]
    r = result("5", figure=1, refusals=refusals)
    r.cite("refusal_blocks_use", 40, 41)
    v = one(pack, "5", r)
    assert (v.verdict, v.figure) == ("violation", 1)
    assert "location → killed" in v.reason and v.evidence_steps == [40, 41]


def test_refusals_tolerated_and_nothing_to_refuse(pack):
    r = result("5", figure=0, refusals=[{"what": "policy", "outcome": "browse", "blocked": False}])
    r.cite("refusals_tolerated", 3)
    assert one(pack, "5", r).verdict == "compliant"
    v = one(pack, "5", result("5", figure=0, refusals=[]))
    assert v.verdict == "inconclusive" and "Nothing to refuse" in v.reason


# --- 6 ------------------------------------------------------------------------------------------


def _rerequest(count: int, hours: float = 0.5) -> ProbeResult:
    re_requests = [{"step": 50 + i, "source": "system", "hours_after_refusal": hours} for i in range(count)]
    g = {
        "group": "location",
        "refused_at": 44,
        "re_requests": re_requests,
        "count": count,
        "system": count,
        "in_app": 0,
        "every_relaunch": count >= 3,
    }
    r = result("6", figure=count, groups=[g], worst_group="location" if count else None)
    if count:
        r.cite("re_requests", 44, *[x["step"] for x in re_requests])
    else:
        r.cite("refusals", 44)
    return r


def test_rerequest(pack):
    v = one(pack, "6", _rerequest(3))
    assert (v.verdict, v.figure, v.severity) == ("violation", 3, "medium")
    assert "every relaunch" in v.reason and v.evidence_steps == [44, 50, 51, 52]
    v = one(pack, "6", _rerequest(0))
    assert (v.verdict, v.figure, v.evidence_steps) == ("compliant", 0, [44])


def test_rerequest_tolerance_is_a_convention(pack):
    lenient = pack.with_overrides({"rerequests_in_window_max": 2})
    assert one(lenient, "6", _rerequest(2)).verdict == "compliant"
    assert one(lenient, "6", _rerequest(3)).verdict == "violation"


# --- 7 ------------------------------------------------------------------------------------------


def test_advance(pack):
    groups = [
        {"group": "contacts", "steps": [8], "reasons": ["asked at start-up, before any user action"]},
        {"group": "camera", "steps": [20], "reasons": []},
    ]
    r = result("7", figure=1, groups=groups)
    r.cite("advance_or_excessive", 8)
    v = one(pack, "7", r)
    assert (v.verdict, v.figure, v.evidence_steps) == ("violation", 1, [8])
    assert "contacts (asked at start-up" in v.reason
    v = one(pack, "7", result("7", figure=0, groups=[groups[1]]))
    assert (v.verdict, v.evidence_steps) == ("compliant", [20])


# --- 8 and the policy check ---------------------------------------------------------------------


def _deletion(taps, obstacles=(), confirm=30, found=True) -> ProbeResult:
    r = result(
        "8",
        figure=taps if found else None,
        entry_found=found,
        path=["Me", "Settings", "Account & security", "Delete account"][: taps or 0],
        obstacles=list(obstacles),
        confirmation_step=confirm,
        policy={"found": True, "taps": 3, "steps": [10, 14]},
    )
    r.cite("main_screen", 10)
    if found:
        r.cite("deletion_entry", 25)
    else:
        r.cite("deletion_missing", 10, 90)
    return r


def test_deletion(pack):
    v = one(pack, "8", _deletion(4))
    assert (v.verdict, v.figure, v.evidence_steps) == ("compliant", 4, [10, 25])
    assert "Me → Settings → Account & security → Delete account" in v.reason
    v = one(pack, "8", _deletion(7))
    assert (v.verdict, v.figure, v.severity) == ("violation", 7, "low")
    assert [x["id"] for x in v.rules] == ["8.deletion_too_deep"]
    v = one(pack, "8", _deletion(None, found=False))
    assert (v.verdict, v.figure, v.severity) == ("violation", None, "high")


def test_deletion_obstacles(pack):
    hotline = [{"step": 27, "obstacle": "hotline", "evidence": ["hotline:400-820-8820"]}]
    v = one(pack, "8", _deletion(4, hotline, confirm=None))
    assert (v.verdict, v.figure) == ("violation", 4)
    assert "hotline" in v.reason and 27 in v.evidence_steps
    # a cooling-off period after a request the user could submit in the app is what §6 allows
    waiting = [{"step": 28, "obstacle": "waiting", "evidence": ["waiting:15 working days"]}]
    assert one(pack, "8", _deletion(4, waiting, confirm=30)).verdict == "compliant"
    assert one(pack, "8", _deletion(4, waiting, confirm=None)).verdict == "violation"


def test_deletion_processing_time(pack):
    """§6: a manual processing time may be promised for at most 15 working days (regulation)."""
    r = _deletion(4)
    r.facts["processing_time"] = [{"step": 26, "working_days": 15, "text": "15 个工作日"}]
    r.facts["processing_working_days"] = 15
    assert one(pack, "8", r).verdict == "compliant"
    r.facts["processing_time"].append({"step": 27, "working_days": 30, "text": "30 working days"})
    r.facts["processing_working_days"] = 30
    v = one(pack, "8", r)
    assert (v.verdict, v.figure) == ("violation", 4)
    assert [x["id"] for x in v.rules] == ["8.deletion_processing_time"]
    assert 27 in v.evidence_steps and 26 not in v.evidence_steps
    with pytest.raises(UserError, match="regulation"):
        pack.with_overrides({"deletion_processing_working_days_max": 30})


def test_deletion_depth_is_a_convention(pack):
    assert one(pack.with_overrides({"deletion_max_taps": 7}), "8", _deletion(7)).verdict == "compliant"


def test_policy_reachable_extra(pack):
    cats, extra = score_all({"8": _deletion(4)}, SC, pack, "en")
    pol = extra["privacy_policy_reachable"]
    assert (pol["verdict"], pol["figure"], pol["limit"]) == ("compliant", 3, 4)
    r = _deletion(4)
    r.facts["policy"] = {"found": False, "taps": None, "steps": [10]}
    pol = score_all({"8": r}, SC, pack, "en")[1]["privacy_policy_reachable"]
    assert (pol["verdict"], pol["figure"]) == ("violation", None)
    assert pol["source"] == "miit2019 §1.3"


# --- inconclusive -------------------------------------------------------------------------------


def test_inconclusive_with_reason(pack):
    v = one(pack, "8", result("8", inconclusive="the app shows a blocking wall at launch (step 4)"))
    assert v.verdict == "inconclusive" and "blocking wall" in v.reason
    cats, _ = score_all({}, SC, pack, "en", {"6": "budget: action budget of 10 used up"})
    assert cats["6"].verdict == "inconclusive" and "budget" in cats["6"].reason
    assert cats["consent"].reason == "the probe did not run"
    # a measured violation stands even when a later part of the probe failed
    r = _deletion(7)
    assert one(pack, "8", r, {"8": "tool error"}).verdict == "violation"
    assert one(pack, "8", _deletion(4), {"8": "tool error"}).verdict == "inconclusive"


# --- the rule pack -------------------------------------------------------------------------------


def test_rule_pack_cites_and_marks_every_number(pack):
    assert {t.kind for t in pack.thresholds.values()} <= {"regulation", "convention", "protocol"}
    for t in pack.thresholds.values():
        assert t.source and t.meaning, t
        assert any(key in t.source for key in (*pack.sources, "this tool")), t
    for r in pack.rules:
        assert r.source and r.kind in ("regulation", "convention"), r
        assert any(key in r.source for key in pack.sources), r
    # the numbers, each with its standing
    want = {
        "policy_max_taps": (4, "regulation"),
        "deletion_max_taps": (5, "convention"),
        "reprompt_window_hours": (48, "convention"),
        "prompts_before_consent_max": (0, "regulation"),
    }
    for name, (value, kind) in want.items():
        assert (pack.value(name), pack.thresholds[name].kind) == (value, kind)


def test_overrides(pack, tmp_path):
    assert pack.with_overrides({"deletion_max_taps": 6}).value("deletion_max_taps") == 6
    assert pack.value("deletion_max_taps") == 5  # the pack itself is unchanged
    assert pack.with_overrides({"policy_max_taps": 4}).value("policy_max_taps") == 4  # its own value
    with pytest.raises(UserError, match="regulation"):
        pack.with_overrides({"policy_max_taps": 6})
    with pytest.raises(UserError, match="no such threshold"):
        pack.with_overrides({"deletion_taps": 6})
    with pytest.raises(UserError, match="non-negative number"):
        pack.with_overrides({"deletion_max_taps": "six"})
    f = tmp_path / "r.yaml"
    f.write_text("thresholds:\n  deletion_max_taps: {value: 8}\n  relaunches: 2\n")
    assert load_overrides_file(f) == {"deletion_max_taps": 8, "relaunches": 2}
    f.write_text("- 1\n")
    with pytest.raises(UserError, match="mapping"):
        load_overrides_file(f)
    with pytest.raises(UserError, match="not found"):
        load_overrides_file(Path(tmp_path / "none.yaml"))
