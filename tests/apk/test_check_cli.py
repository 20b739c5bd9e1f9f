"""`exerciser check` on sample apps of the virtual device: exit 0 when compliant, 1 when violating."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import yaml
from click.testing import CliRunner

from exerciser import SAMPLES_DIR
from exerciser.apk import axml
from exerciser.apk.build import manifest_xml, write_apk
from exerciser.apk.check import EMBEDDED_MODEL
from exerciser.cli.main import cli


def check(*args: str):
    return CliRunner().invoke(cli, ["check", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def violating(tmp_path_factory):
    """An APK of the SkyCast sample (re-asks location at every launch) whose manifest also declares
    contacts, which none of the app's declared features needs. Its run is shared by the tests below."""
    tmp = tmp_path_factory.mktemp("check")
    model_text = (SAMPLES_DIR / "re_ask_every_launch_en" / "app.yaml").read_text(encoding="utf-8")
    model = yaml.safe_load(model_text)
    perms = [*model["permissions"], "android.permission.READ_CONTACTS"]
    manifest = axml.encode_text(
        manifest_xml(
            model["package"], version_name="8.1.0", target_sdk=33, permissions=perms, label=model["label"]
        )
    )
    apk = write_apk(tmp / "skycast-release.apk", manifest, {EMBEDDED_MODEL: model_text.encode()})
    out, junit = tmp / "out", tmp / "junit.xml"
    result = check(str(apk), "--out", str(out), "--junit", str(junit), "--quiet")
    return result, out, junit


def test_violating_app_exits_1_with_summary(violating):
    result, out, _ = violating
    assert result.exit_code == 1, result.output
    text = result.output
    assert "com.skycast.weather" in text and "target SDK 33" in text
    six = next(line for line in text.splitlines() if line.strip().startswith("6 "))
    assert "VIOLATION" in six and "figure 3" in six
    assert "verdict:  VIOLATION  (exit 1)" in text
    assert f"evidence: {out / 'com.skycast.weather'}" in text
    assert len(text.splitlines()) < 40  # one screen


def test_manifest_warning_is_separate_from_the_dynamic_finding(violating):
    result, out, _ = violating
    # the project's scenario declares location (Local weather); contacts is declared for nothing
    assert "! manifest declares contacts (READ_CONTACTS) but no declared feature needs it" in result.output
    assert "manifest declares location" not in result.output
    saved = json.loads((out / "com.skycast.weather.check.json").read_text())
    assert [w["group"] for w in saved["manifest_warnings"]] == ["contacts"]
    assert saved["apk"]["dangerous"] == {
        "location": ["android.permission.ACCESS_FINE_LOCATION", "android.permission.ACCESS_COARSE_LOCATION"],
        "contacts": ["android.permission.READ_CONTACTS"],
    }


def test_junit_has_the_violations_and_the_manifest_case(violating):
    _, out, junit = violating
    root = ET.parse(junit).getroot()
    cases = {tc.get("name").split(":")[0]: tc for tc in root.iter("testcase")}
    assert cases["6"].find("failure") is not None
    assert cases["consent"].find("failure") is None
    manifest_case = cases["manifest 7"]
    assert manifest_case.find("failure") is None  # a warning, not a failure
    assert "READ_CONTACTS" in manifest_case.find("system-out").text
    assert int(root.get("failures")) >= 1


def test_results_folder_is_summarised_without_a_run(violating):
    _, out, _ = violating
    result = check(str(out / "com.skycast.weather"))
    assert result.exit_code == 1
    assert "! manifest declares contacts" in result.output  # read back from the .check.json beside it


def test_compliant_sample_exits_0(tmp_path):
    junit = tmp_path / "j.xml"
    result = check("compliant_en", "--out", str(tmp_path / "out"), "--junit", str(junit), "--quiet")
    assert result.exit_code == 0, result.output
    assert "verdict:  COMPLIANT  (exit 0)" in result.output
    assert "VIOLATION" not in result.output
    # the model's camera and microphone are both justified by the features of scenarios/compliant_en.yaml
    assert "every declared dangerous permission group is justified" in result.output
    assert ET.parse(junit).getroot().get("failures") == "0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_sample_app"], "no such APK, scenario, results folder or sample id"),
        (["--feature", "scan", "compliant_en"], "expected NAME=PERMISSION"),
        (["--feature", "scan=telepathy", "compliant_en"], "'telepathy' is not a runtime permission"),
    ],
)
def test_input_errors_exit_2(args, message):
    result = CliRunner().invoke(cli, ["check", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_broken_apk_exits_2_with_one_line(tmp_path):
    apk = tmp_path / "half.apk"
    apk.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    result = CliRunner().invoke(cli, ["check", str(apk)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {apk}: truncated or damaged APK (zip central directory missing; incomplete download?)"
    ]


def test_unknown_apk_needs_a_device(tmp_path):
    apk = write_apk(tmp_path / "other.apk", axml.encode_text(manifest_xml("com.example.other")))
    result = CliRunner().invoke(cli, ["check", str(apk)])
    assert result.exit_code == 2
    assert "--device SERIAL" in result.output
