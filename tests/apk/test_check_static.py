"""`exerciser check app.apk` without a device: facts, groups at target and newest API, category-7 findings,
text / --json / --junit, exit 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from exerciser.apk import groups
from exerciser.apk.build import build_apk
from exerciser.cli.main import cli

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_apks"
PERMS = [
    "android.permission.INTERNET",
    "android.permission.CAMERA",
    "android.permission.ACCESS_FINE_LOCATION",
    "android.permission.READ_EXTERNAL_STORAGE",
]


def check(*args: str):
    return CliRunner().invoke(cli, ["check", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def apk(tmp_path_factory):
    path = tmp_path_factory.mktemp("static") / "scanner.apk"
    return build_apk(path, "org.example.scanner", target_sdk=30, permissions=PERMS, label="Scanner")


def test_json_has_facts_groups_and_findings(apk):
    result = check(str(apk), "--json", "--feature", "scan=camera")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["mode"] == "manifest"
    assert data["apk"]["package"] == "org.example.scanner"
    assert (data["apk"]["label"], data["apk"]["target_sdk"]) == ("Scanner", 30)
    target = data["dangerous"]["target_sdk"]
    assert set(target) == {"camera", "location", "storage"}
    # on the newest level, READ_EXTERNAL_STORAGE of a target-30 app brings the media permissions split from it
    newest = data["dangerous"]["newest_api"]
    assert data["newest_api"] == groups.newest_level()
    assert "android.permission.READ_MEDIA_IMAGES" in newest["storage"]
    assert "android.permission.READ_MEDIA_IMAGES" not in target["storage"]
    assert {f["group"] for f in data["findings"]} == {"location", "storage"}  # camera is justified
    assert data["verdict"] == "findings" and data["exit_code"] == 1


def test_app_targeting_below_23(tmp_path):
    """Granted at install without a dialog (still a category-7 finding), and refused by an API 34 phone."""
    old = build_apk(tmp_path / "old.apk", "org.example.old", min_sdk=15, target_sdk=22, permissions=PERMS[:2])
    data = json.loads(check(str(old), "--json").output)
    assert data["granted_at_install"] is True
    assert data["dangerous"]["target_sdk"] == {"camera": ["android.permission.CAMERA"]}
    assert (data["installable_on_newest"], data["dangerous"]["newest_api"]) == (False, {})
    assert [f["group"] for f in data["findings"]] == ["camera"]
    text = check(str(old)).output
    assert "granted at install, no dialog" in text
    assert f"on an API {groups.newest_level()} phone: not installable" in text


def test_all_groups_justified_exits_0_with_text(apk):
    result = check(str(apk), "--feature", "scan=camera", "--feature", "map=location,storage")
    assert result.exit_code == 0, result.output
    assert "manifest only, no device" in result.output
    assert "every dangerous group is justified" in result.output
    assert "verdict:  OK  (exit 0)" in result.output


def test_scenario_features_are_used(apk):
    scenario = Path(__file__).resolve().parents[2] / "scenarios" / "blind_privacy_dialog_zh.yaml"
    result = check(str(apk), "--scenario", str(scenario), "--json")
    data = json.loads(result.output)
    assert data["scenario"] == str(scenario)
    assert [f["permissions"] for f in data["features"]] == [["android.permission.CAMERA"]]
    assert "camera" not in {f["group"] for f in data["findings"]}


def test_junit_one_case_per_group(apk, tmp_path):
    out = tmp_path / "junit.xml"
    result = check(str(apk), "--feature", "scan=camera", "--junit", str(out))
    assert result.exit_code == 1
    root = ET.parse(out).getroot()
    (suite,) = root.findall("testsuite")
    cases = {tc.get("name"): tc for tc in suite.findall("testcase")}
    assert set(cases) == {
        "manifest: readable",
        "7 manifest: camera",
        "7 manifest: location",
        "7 manifest: storage",
    }
    failed = {n for n, tc in cases.items() if tc.find("failure") is not None}
    assert failed == {"7 manifest: location", "7 manifest: storage"}
    assert root.get("tests") == suite.get("tests") == "4"
    assert root.get("failures") == suite.get("failures") == "2"


def test_unwritable_junit_is_one_line_exit_2(apk, tmp_path):
    result = CliRunner().invoke(cli, ["check", str(apk), "--junit", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: {tmp_path}: cannot write the JUnit file (Is a directory)"
    ]


@pytest.mark.skipif(not REAL.is_dir(), reason=f"no real APKs at {REAL}")
def test_every_real_apk_gives_a_result_or_one_line():
    for path in sorted(REAL.glob("*.apk")):
        result = CliRunner().invoke(cli, ["check", str(path), "--json"])
        if result.exit_code == 2:
            assert len(result.output.strip().splitlines()) == 1, result.output
            assert result.output.startswith(f"Error: {path}: ")
            continue
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        data = json.loads(result.output)
        assert result.exit_code == data["exit_code"] == (1 if data["findings"] else 0), path.name


def test_the_command_loads_no_run_stack(apk):
    """What the deviceless path imports: no device libraries, no OpenCV, no run stack."""
    code = (
        "import sys\n"
        "from exerciser.cli.main import main\n"
        f"sys.argv = ['exerciser', 'check', {str(apk)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('cv2', 'numpy', 'uiautomator2', 'adbutils', 'PIL', 'exerciser.runner', 'exerciser.sim',\n"
        "         'exerciser.perceive', 'pyaxmlparser', 'jsonschema')\n"
        "print([m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(heavy)])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_manifest_only_skips_the_virtual_device_run(tmp_path):
    """An APK embedding an app model would run on the virtual device; --manifest-only reads it only."""
    from exerciser.apk import axml
    from exerciser.apk.build import manifest_xml, write_apk
    from exerciser.apk.check import EMBEDDED_MODEL

    manifest = axml.encode_text(manifest_xml("org.example.embedded", permissions=PERMS[:2]))
    path = write_apk(
        tmp_path / "embedded.apk", manifest, {EMBEDDED_MODEL: b"package: org.example.embedded\n"}
    )
    result = check(str(path), "--manifest-only", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["findings"][0]["group"] == "camera"
    assert not (tmp_path / "runs").exists()
    result = CliRunner().invoke(cli, ["check", "compliant_en", "--manifest-only"])
    assert result.exit_code == 2
    assert "--manifest-only applies to an APK checked without --device" in result.output
