"""The third corpus (sample_apks/corpus3/) through the probes: each app runs all five probes once, on one
profile assigned deterministically (apps ordered by which categories they violate, then dealt round the
profiles), and must give the verdicts and figures its expected.yaml states for that profile's Android
family; the same runs show the facts behind the classes corpus3 exposed (an in-app explanation's 取消 as
the refusal, a deletion entry known by the page it opens, a help article that is no entry, a code sent to
the account's own address, a cooling-off period in any wording). The full matrix is
`bench/check_samples.py --corpus corpus3`."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from corpus_runs import assignment, mismatches, signature

from exerciser import SCENARIOS_DIR
from exerciser.perceive import Reader
from exerciser.runner.app_run import AppResult, run_app
from exerciser.runner.parallel import virtual_device
from exerciser.scenario import load_suite_or_scenario

SCENARIOS = {sc.id: sc for sc in load_suite_or_scenario(SCENARIOS_DIR / "corpus3.yaml").scenarios}
ASSIGNED = dict(assignment(SCENARIOS))
# A small phone's panel: no verdict may depend on the panel (bench/check_samples.py and `exerciser run`
# check the default 1080x2340@440 on every profile), and a quarter of the pixels halves the run's CPU time,
# most of which is encoding each step's screenshot.
PANEL = "540x1170@240"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[AppResult, dict[str, Any]]]:
    """Each app once on its profile (small panel): (result, run.json), shared by every test here."""
    reader, out = Reader(), tmp_path_factory.mktemp("corpus3")
    done: dict[str, tuple[AppResult, dict[str, Any]]] = {}
    for app, profile in ASSIGNED.items():
        sc = replace(SCENARIOS[app], profile=profile, display=PANEL)
        res = run_app(sc, virtual_device(sc, f"c3-{profile}"), out, reader=reader, finalize=False)
        done[app] = (res, json.loads((out / app / "run.json").read_text(encoding="utf-8")))
    return done


def facts(runs, app: str, probe: str) -> dict[str, Any]:
    return runs[app][1]["probes"][probe]["facts"]


def test_profiles_get_both_sides():
    assert sorted(ASSIGNED) == sorted(SCENARIOS) and len(set(ASSIGNED.values())) >= 7
    assert {v for a in ASSIGNED for v in signature(SCENARIOS[a])} == {"V", "c"}


@pytest.mark.parametrize("app", sorted(ASSIGNED), ids=[f"{a}-{ASSIGNED[a]}" for a in sorted(ASSIGNED)])
def test_verdicts_and_figures_on_the_assigned_profile(app: str, runs):
    wrong = mismatches(runs[app][0], SCENARIOS[app], ASSIGNED[app])
    assert not wrong, wrong


def test_the_explanations_cancel_is_the_refusal(runs):
    """悦跑: 开始跑步 → its own 位置权限申请 → 取消 is the refusal of location (no system dialog follows), and
    what comes of it blocks; exploring with everything allowed goes on through 去开启 to the system prompt,
    which is then that tap's feature request, not the app asking by itself."""
    loc = next(
        r for r in facts(runs, "health_rationale_cancel_quits_zh", "5")["refusals"] if r["what"] == "location"
    )
    assert loc["refused_with"] == "in_app:cancel" and loc["blocked"]
    g7 = next(
        g for g in facts(runs, "health_rationale_cancel_quits_zh", "7")["groups"] if g["group"] == "location"
    )
    assert g7["asked_after"] == "去开启" and g7["feature"] == "户外跑" and not g7["reasons"]
    # EchoNote: Not now on the explanation, then its own dialog at each cold start
    g6 = next(
        g
        for g in facts(runs, "tools_rationale_then_dialog_each_launch_en", "6")["groups"]
        if g["group"] == "microphone"
    )
    assert g6["refused_with"] == "cancel" and [r["phase"] for r in g6["re_requests"]] == [
        "R3.1",
        "R3.2",
        "R3.3",
    ]


def test_deletion_entry_known_by_the_page_it_opens(runs):
    f = facts(runs, "news_delete_my_data_en", "8")
    assert f["path"] == ["Me", "Settings", "Privacy", "Delete my data"] and f["figure"] == 4
    assert f["obstacles"] == []  # the e-mail address the code goes to is the account's own
    assert f["final_step_offered"]


def test_a_help_article_and_a_deactivation_are_no_deletion(runs):
    f = facts(runs, "social_deactivate_only_en", "8")
    assert f["entry_found"] is False and f["figure"] is None


def test_a_cooling_off_period_is_no_processing_time(runs):
    f = facts(runs, "video_cooloff_30days_zh", "8")
    assert f["processing_time"] == [] and f["obstacles"] == [] and f["figure"] == 4


def test_resume_and_cold_start_reasks_are_told_apart(runs):
    cold = facts(runs, "news_reask_cold_start_only_zh", "6")["groups"][0]
    resume = facts(runs, "food_reask_on_resume_en", "6")["groups"][0]
    assert [r["phase"] for r in cold["re_requests"]] == ["R3.1", "R3.2", "R3.3"] and cold["every_relaunch"]
    assert [r["phase"] for r in resume["re_requests"]] == ["R2"] and not resume["every_relaunch"]
