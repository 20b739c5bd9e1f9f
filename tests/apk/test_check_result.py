"""Reading a results folder back (what `exerciser check` and the pytest plugin show), and naming targets."""

from __future__ import annotations

import json

import pytest

from exerciser.apk.build import build_apk
from exerciser.apk.check import (
    CheckResult,
    default_scenario_file,
    parse_feature,
    resolve_target,
    sample_for_package,
    sample_of_model,
)
from exerciser.errors import UserError


def _folder(tmp_path, categories, error=None):
    run = tmp_path / "demo_app"
    (run / "steps").mkdir(parents=True)
    (run / "deciding").mkdir()
    for n in (3, 7, 9):
        (run / "steps" / f"{n:04d}.png").write_bytes(b"png")
    (run / "deciding" / "6-0007.png").write_bytes(b"png")
    lines = [
        json.dumps({"n": n, "screenshot": f"steps/{n:04d}.png", "xml": f"steps/{n:04d}.xml"})
        for n in (3, 7, 9)
    ]
    (run / "trace.jsonl").write_text("\n".join(lines) + "\n")
    (run / "verdict.json").write_text(
        json.dumps({"app": "demo_app", "categories": categories, "error": error})
    )
    return run


def test_evidence_paths_prefer_the_deciding_copies(tmp_path):
    run = _folder(
        tmp_path,
        {
            "6": {
                "verdict": "violation",
                "figure": 2,
                "reason": "asked again",
                "evidence_steps": [7, 9],
                "screenshots": ["deciding/6-0007.png"],
            },
            "5": {"verdict": "compliant", "figure": 0, "reason": "fine", "evidence_steps": [3, 9]},
        },
    )
    result = CheckResult.from_run_dir(run)
    six = result.category(6)
    assert six is result.category("6")
    assert (six.violation, six.compliant, six.figure, six.steps) == (True, False, 2, (7, 9))
    assert six.evidence == (run / "deciding" / "6-0007.png",)
    # no copies listed: the trace's step screenshots
    assert result.category(5).evidence == (run / "steps" / "0003.png", run / "steps" / "0009.png")
    assert list(result.categories) == ["5", "6"]  # category order, not file order
    assert (result.verdict, result.exit_code) == ("violation", 1)
    text = six.explain()
    assert "violation" in text and "asked again" in text and str(run / "deciding" / "6-0007.png") in text
    assert "figure=2" in repr(six) and "6-0007.png" in repr(six)


def test_unrun_category_and_exit_codes(tmp_path):
    result = CheckResult.from_run_dir(_folder(tmp_path, {"5": {"verdict": "compliant", "figure": 0}}))
    assert (result.verdict, result.exit_code) == ("compliant", 0)
    eight = result.category(8)
    assert eight.verdict == "not run" and not eight.compliant and not eight.violation
    with pytest.raises(KeyError, match="unknown category"):
        result.category(9)


def test_inconclusive_and_tool_error_exit_2(tmp_path):
    run = _folder(tmp_path, {"5": {"verdict": "inconclusive", "figure": None, "reason": "budget"}})
    assert CheckResult.from_run_dir(run).exit_code == 2
    (run / "verdict.json").write_text(json.dumps({"categories": {}, "error": "device lost"}))
    assert CheckResult.from_run_dir(run).verdict == "error"


def test_not_a_results_folder(tmp_path):
    with pytest.raises(UserError, match="no verdict.json"):
        CheckResult.from_run_dir(tmp_path)
    (tmp_path / "verdict.json").write_text("{oops")
    with pytest.raises(UserError, match="not valid JSON"):
        CheckResult.from_run_dir(tmp_path)


def test_resolve_target_kinds(tmp_path, monkeypatch):
    from exerciser import ROOT

    monkeypatch.chdir(tmp_path)
    assert resolve_target("compliant_en").kind == "sample"
    assert resolve_target("scenarios/compliant_en.yaml", search=[ROOT]).kind == "scenario"
    assert resolve_target(str(ROOT / "sample_apks" / "compliant_en")).kind == "model"
    assert resolve_target(str(ROOT / "sample_apks" / "compliant_en" / "app.yaml")).kind == "model"
    apk = build_apk(tmp_path / "a.apk", "a.b")
    assert resolve_target("a.apk").kind == "apk" and resolve_target("a.apk").value == str(apk)
    run = _folder(tmp_path, {})
    assert resolve_target(str(run)).kind == "results"
    with pytest.raises(UserError, match="compliant_en"):  # lists the sample ids
        resolve_target("nope")


def test_parse_feature():
    assert parse_feature("scan=camera, microphone") == {
        "name": "scan",
        "permissions": ["camera", "microphone"],
    }
    with pytest.raises(UserError):
        parse_feature("=camera")


def test_samples_found_by_model_file_and_by_package(tmp_path):
    from exerciser import SAMPLES_DIR, SCENARIOS_DIR

    assert sample_of_model(SAMPLES_DIR / "compliant_en" / "app.yaml") == "compliant_en"
    copy = tmp_path / "compliant_en" / "app.yaml"  # same name, outside sample_apks/: the user's own model
    copy.parent.mkdir()
    copy.write_text((SAMPLES_DIR / "compliant_en" / "app.yaml").read_text())
    assert sample_of_model(copy) is None
    assert sample_for_package("com.skycast.weather") == "re_ask_every_launch_en"
    assert sample_for_package("com.skycast") is None  # the whole name, not a prefix
    assert default_scenario_file("re_ask_every_launch_en") == SCENARIOS_DIR / "re_ask_every_launch_en.yaml"
