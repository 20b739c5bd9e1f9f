"""`exerciser check` on sample apps of the virtual device: exit 0 when compliant, 1 when violating."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

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


def junit_cases(path) -> dict:
    """Testcases by category key of a JUnit file, after checking what CI readers rely on: one suite per
    app, counts that match the testcases, every case named and classed."""
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    cases = suites[0].findall("testcase")
    failed = [tc for tc in cases if tc.find("failure") is not None]
    skipped = [tc for tc in cases if tc.find("skipped") is not None]
    for el in (root, suites[0]):
        assert int(el.get("tests")) == len(cases)
        assert int(el.get("failures")) == len(failed)
        assert int(el.get("skipped")) == len(skipped)
        assert int(el.get("errors")) == 0
    assert all(tc.get("name") and tc.get("classname") for tc in cases)
    return {tc.get("name").split(":")[0]: tc for tc in cases}


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
    assert f"json:     {out / 'com.skycast.weather.check.json'}" in result.output
    saved = json.loads((out / "com.skycast.weather.check.json").read_text())
    assert [w["group"] for w in saved["manifest_warnings"]] == ["contacts"]
    # the dynamic category 7 stands on its own: location, justified in the manifest, is asked at start-up
    assert saved["categories"]["7"]["verdict"] == "violation"
    assert "location" in saved["categories"]["7"]["reason"]
    assert saved["categories"]["6"]["verdict"] == "violation" and saved["categories"]["6"]["figure"] == 3
    assert all(Path(p).is_file() for p in saved["categories"]["6"]["evidence"])
    assert saved["apk"]["dangerous"] == {
        "location": ["android.permission.ACCESS_FINE_LOCATION", "android.permission.ACCESS_COARSE_LOCATION"],
        "contacts": ["android.permission.READ_CONTACTS"],
    }


def test_junit_has_the_violations_and_the_manifest_case(violating):
    _, out, junit = violating
    cases = junit_cases(junit)
    assert list(cases) == ["consent", "5", "6", "7", "8", "manifest 7"]
    assert cases["6"].find("failure") is not None
    assert "figure: 3" in cases["6"].find("failure").text
    assert cases["consent"].find("failure") is None
    manifest_case = cases["manifest 7"]
    assert manifest_case.find("failure") is None  # a warning, not a failure
    assert "READ_CONTACTS" in manifest_case.find("system-out").text


def test_results_folder_is_summarised_without_a_run(violating, tmp_path):
    _, out, _ = violating
    junit = tmp_path / "again.xml"
    result = check(str(out / "com.skycast.weather"), "--junit", str(junit))
    assert result.exit_code == 1
    assert "! manifest declares contacts" in result.output  # read back from the .check.json beside it
    assert "READ_CONTACTS" in junit_cases(junit)["manifest 7"].find("system-out").text


def test_compliant_model_exits_0(tmp_path):
    """An app model file on the virtual device (short probe list: the exit status is what is tested)."""
    junit = tmp_path / "j.xml"
    model = SAMPLES_DIR / "compliant_en"
    args = ["--probe", "consent", "--probe", "8", "--quiet"]
    result = check(str(model), "--out", str(tmp_path / "out"), "--junit", str(junit), *args)
    assert result.exit_code == 0, result.output
    assert "verdict:  COMPLIANT  (exit 0)" in result.output
    assert "VIOLATION" not in result.output
    # camera and microphone are justified by the features of the sample's scenarios/compliant_en.yaml
    assert "every declared dangerous permission group is justified" in result.output
    cases = junit_cases(junit)
    assert list(cases) == ["consent", "8", "manifest 7"]
    assert not any(tc.find("failure") is not None for tc in cases.values())
    saved = json.loads((tmp_path / "out" / "compliant_en.check.json").read_text())
    assert {k: v["verdict"] for k, v in saved["categories"].items()} == {
        "consent": "compliant",
        "8": "compliant",
    }


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


def _zip(path, entries: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("not a zip", "not an APK (not a zip archive)"),
        ("zip, no manifest", "not an APK (the zip holds no AndroidManifest.xml)"),
        ("truncated", "truncated or damaged APK (zip central directory missing; incomplete download?)"),
        ("empty manifest", "AndroidManifest.xml is empty"),
    ],
)
def test_broken_apk_exits_2_with_one_line(tmp_path, kind, message):
    apk = tmp_path / "release.apk"
    if kind == "not a zip":
        apk.write_text("<html><body>502 Bad Gateway</body></html>\n")
    elif kind == "zip, no manifest":
        _zip(apk, {"classes.dex": b"dex\n035\x00", "resources.arsc": b""})
    elif kind == "truncated":
        _zip(
            apk, {"AndroidManifest.xml": axml.encode_text(manifest_xml("com.x")), "classes.dex": b"\0" * 4096}
        )
        apk.write_bytes(apk.read_bytes()[:-30])
    else:
        _zip(apk, {"AndroidManifest.xml": b""})
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", str(apk), "--out", str(out)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: {apk}: {message}"]
    assert not out.exists()  # nothing half-written


def test_unknown_apk_without_device_is_checked_from_its_manifest(tmp_path):
    apk = write_apk(tmp_path / "other.apk", axml.encode_text(manifest_xml("com.example.other")))
    result = CliRunner().invoke(cli, ["check", str(apk)])
    assert result.exit_code == 0, result.output
    assert "manifest only, no device" in result.output
    # run options make no sense without a run: one line, exit 2
    result = CliRunner().invoke(cli, ["check", str(apk), "--probe", "6"])
    assert result.exit_code == 2
    assert "without --device an APK is checked from its manifest alone" in result.output
