"""The probes on sample apps (virtual device, real screen reader), each asked for what its protocol
measures: the facts and the trace behind a verdict, not only the verdict."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from exerciser import SCENARIOS_DIR
from exerciser.runner.app_run import run_app
from exerciser.runner.parallel import virtual_device
from exerciser.scenario import load_scenario


def run(tmp_path, app: str, probes: tuple[str, ...], **changes):
    sc = load_scenario(SCENARIOS_DIR / f"{app}.yaml")
    sc = replace(sc, probes=probes, **changes)
    res = run_app(sc, virtual_device(sc, "probe-test"), tmp_path, finalize=False)
    d = tmp_path / sc.id
    facts = json.loads((d / "run.json").read_text(encoding="utf-8"))["probes"]
    trace = [json.loads(x) for x in (d / "trace.jsonl").read_text(encoding="utf-8").splitlines() if x]
    return res, facts, trace


def test_a_standing_wall_is_one_appearance(tmp_path):
    """RideNow's "Location required … Exit / Go to settings" stays up after the refusal: one in-app
    request at the refusal (probe 5's business), never pressed, never counted as re-requests."""
    res, facts, trace = run(tmp_path, "refusal_wall_en", ("6",))
    g = next(x for x in facts["6"]["facts"]["groups"] if x["group"] == "location")
    assert g["count"] == 0
    assert [r["phase"] for r in g["not_counted"]] == ["R0"]
    walls = [t for t in trace if t["probe"] == "6" and "blocking_wall" in t["kinds"]]
    assert len(walls) >= 5  # seen again and again (R0, R1, R2) ...
    pressed = [t for t in trace if t["probe"] == "6" and "in-app request" in t["note"]]
    assert pressed == []  # ... and nothing pressed on it: BACK does nothing, exit/settings are no answer
    assert res.categories["6"].verdict == "compliant"


def test_nags_are_counted_per_appearance(tmp_path):
    """StrideFit (api33) asks again 6 s after each refusal: a system prompt, then its own "Location is
    off … Cancel / Go to settings" dialog, each dismissed: two appearances, with their device times."""
    res, facts, _ = run(tmp_path, "re_ask_after_seconds_en", ("6",))
    g = next(x for x in facts["6"]["facts"]["groups"] if x["group"] == "location")
    assert (g["count"], g["system"], g["in_app"]) == (2, 1, 1)
    assert [r["phase"] for r in g["re_requests"]] == ["R1", "R1"]
    hours = [r["hours_after_refusal"] for r in g["re_requests"]]
    assert 0 < hours[0] < hours[1] < 0.02  # seconds after the refusal, on the device clock
    assert (res.categories["6"].verdict, res.categories["6"].figure) == ("violation", 2)


@pytest.mark.parametrize(
    ("profile", "dont_ask", "count"),
    [
        ("api28", False, 3),  # plain DENY is not permanent on 6-10: asked at every relaunch
        # 6-9 show the "Don't ask again" box only once the group was denied: the second prompt
        # gets it ticked, and Android answers for the user from then on
        ("api28", True, 1),
        ("api33", False, 1),  # 11+: a second denial is permanent
    ],
)
def test_dont_ask_again_semantics_per_android_version(tmp_path, profile, dont_ask, count):
    _, facts, trace = run(
        tmp_path, "re_ask_every_launch_en", ("6",), profile=profile, dont_ask_again=dont_ask
    )
    g = next(x for x in facts["6"]["facts"]["groups"] if x["group"] == "location")
    assert g["count"] == count
    assert g["every_relaunch"] is (count == 3)
    ticked = [t["n"] for t in trace if "tick don't ask again" in t["note"]]
    assert bool(ticked) is (dont_ask and profile == "api28")
    if ticked:
        prompts = [t["n"] for t in trace if t["probe"] == "6" and "permission_prompt" in t["kinds"]]
        assert max(prompts) == ticked[0]  # the ticked prompt was the last one


def test_consent_before_agreement_and_policy_refusal(tmp_path):
    _, facts, _ = run(tmp_path, "perms_before_consent_en", ("consent",))
    f = facts["consent"]["facts"]
    assert f["figure"] == 2
    assert sorted(p["group"] for p in f["prompts_before_consent"]) == ["camera", "location"]
    assert all(p["step"] < f["consent_dialog_step"] for p in f["prompts_before_consent"])


@pytest.mark.parametrize(
    ("app", "outcome", "second"),
    [
        ("compliant_en", "browse", 1),
        ("quit_on_policy_refusal_zh", "exit", 1),
        ("blind_privacy_dialog_zh", "killed", 0),
    ],
)
def test_policy_refusal_outcomes(tmp_path, app, outcome, second):
    _, facts, _ = run(tmp_path, app, ("consent",))
    pol = facts["consent"]["facts"]["policy_refusal"]
    assert pol["outcome"] == outcome
    assert len(pol["second_chance"]) == second


def test_feature_map_and_advance_requests(tmp_path):
    _, facts, _ = run(tmp_path, "compliant_en", ("7",))
    f = facts["7"]["facts"]
    trig = f["triggers"]
    assert set(trig) == {"camera", "microphone"}
    assert trig["camera"]["phase"] == "feature" and trig["camera"]["path"][-1]["text"] == "Open camera"
    assert f["flagged_groups"] == [] and f["bundled"] == []
    assert all(g["feature"] and not g["before_user_action"] for g in f["groups"])

    _, facts, _ = run(tmp_path / "b", "startup_bundle_zh", ("7",))
    f = facts["7"]["facts"]
    assert sorted(f["flagged_groups"]) == ["camera", "contacts", "location", "phone"]
    assert f["bundled"] == [["camera", "contacts", "location", "phone"]]
    assert all(g["before_user_action"] for g in f["groups"])


def test_deletion_is_never_confirmed_for_a_real_account(tmp_path):
    res, facts, trace = run(tmp_path, "compliant_en", ("8",))
    f = facts["8"]["facts"]
    # the safety guard stops the walk before the button that starts the deletion: it is never pressed
    stop = f["stopped_before_irreversible"]
    assert f["entry_found"] and not f["confirmed"] and f["final_step_offered"]
    assert stop["control"] == "Delete my account" and stop["category"] == "account_deletion"
    refused = next(t for t in trace if t["n"] == stop["step"])
    assert refused["action"]["refused"]["rule"] == stop["rule"] and "REFUSED" in refused["note"]
    assert not any(t["activity"].endswith("DeleteSubmittedActivity") for t in trace)
    assert res.categories["8"].figure == 4
    assert f"stopped before the irreversible step at step {stop['step']}" in res.categories["8"].reason
    # the flow's stated processing time, read from its texts ("within 15 working days")
    assert f["processing_working_days"] == 15


def test_a_test_account_is_deleted_for_real(tmp_path):
    _, facts, trace = run(tmp_path, "compliant_en", ("8",), test_account=True)
    f = facts["8"]["facts"]
    assert f["confirmed"] is True and f["after_confirm_step"]
    done = next(t for t in trace if t["n"] == f["after_confirm_step"])
    assert done["action"]["role"] == "confirm"


def test_which_feature_a_tap_used():
    """A request is its feature's when the user's last tap pressed one of the feature's entries, or was
    made on one of the feature's screens; a tap elsewhere, or a feature for another group, is not."""
    from exerciser.probes.advance import feature_for_tap
    from exerciser.probes.common import ProbeContext
    from exerciser.score.rulepack import load_rulepack

    sc = load_scenario(SCENARIOS_DIR / "compliant_en.yaml")
    ctx = ProbeContext(None, sc, load_rulepack(), "com.pocketledger.app")  # type: ignore[arg-type]
    main = "com.pocketledger.app.main.MainActivity"
    scan = "com.pocketledger.app.record.ScanActivity"
    assert feature_for_tap(ctx, "camera", {"label": "Scan receipt", "screen": main}).name == "Scan receipt"
    assert feature_for_tap(ctx, "camera", {"label": "Take picture", "screen": scan}).name == "Scan receipt"
    assert feature_for_tap(ctx, "camera", {"label": "Discover", "screen": main}) is None
    assert feature_for_tap(ctx, "location", {"label": "Scan receipt", "screen": scan}) is None
    assert feature_for_tap(ctx, "camera", None) is None


def test_a_request_no_answer_dismisses_blocks_use(tmp_path):
    """Cancel only brings the same "Location is off" dialog back: one appearance, pressed once, and the
    refusal's outcome is a wall (5), not a stream of re-requests (6)."""
    from pathlib import Path

    from exerciser.scenario import load_scenario as load

    sc_file = tmp_path / "nag_loop.yaml"
    model = Path(__file__).parent / "apps" / "nag_loop_en" / "app.yaml"
    sc_file.write_text(
        f"app: {{model: {model}}}\n"
        "features: [{name: Store finder, permissions: [location], entry: [Find stores]}]\n"
        'probes: ["5", "6"]\n'
    )
    sc = load(sc_file)
    res = run_app(sc, virtual_device(sc, "probe-test"), tmp_path / "out", finalize=False)
    facts = json.loads((tmp_path / "out" / sc.id / "run.json").read_text())["probes"]
    loc = next(r for r in facts["5"]["facts"]["refusals"] if r["what"] == "location")
    assert loc["outcome"] == "wall" and loc["blocked"]
    g = next(x for x in facts["6"]["facts"]["groups"] if x["group"] == "location")
    assert g["count"] == 0 and [r["phase"] for r in g["not_counted"]] == ["R0"]
    assert (res.categories["5"].verdict, res.categories["6"].verdict) == ("violation", "compliant")
