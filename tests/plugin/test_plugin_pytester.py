"""The plugin seen from outside: a test session of a user project (pytester), failing on a nagging app."""

from __future__ import annotations

pytest_plugins = ["pytester"]

USER_TESTS = """
def test_no_nagging(exerciser_run):
    assert exerciser_run("re_ask_every_launch_en", probes=["6"]).category(6).compliant

def test_verdict_comparison(exerciser_run):
    assert exerciser_run("re_ask_every_launch_en", probes=["6"]).category(6).verdict == "compliant"

def test_bad_target(exerciser_run):
    exerciser_run("no_such_app")

def test_release_manifest(exerciser_run):
    result = exerciser_run("build/skycast-release.apk", probes=["consent"])
    assert result.category("consent").compliant
    assert not result.warnings
"""


def _release_apk(path):
    """The SkyCast sample as an APK whose manifest also declares contacts, which no feature needs."""
    import yaml

    from exerciser import SAMPLES_DIR
    from exerciser.apk import axml
    from exerciser.apk.build import manifest_xml, write_apk
    from exerciser.apk.check import EMBEDDED_MODEL

    text = (SAMPLES_DIR / "re_ask_every_launch_en" / "app.yaml").read_text(encoding="utf-8")
    model = yaml.safe_load(text)
    perms = [*model["permissions"], "android.permission.READ_CONTACTS"]
    manifest = axml.encode_text(manifest_xml(model["package"], permissions=perms, label=model["label"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_apk(path, manifest, {EMBEDDED_MODEL: text.encode()})


def test_failure_message_has_verdict_reason_figure_and_evidence_paths(pytester):
    out = pytester.path / "evidence"
    pytester.makepyfile(test_user_app=USER_TESTS)
    _release_apk(pytester.path / "build" / "skycast-release.apk")
    result = pytester.runpytest("--exerciser-out", str(out), "-p", "no:cacheprovider")
    result.assert_outcomes(failed=4)
    text = result.stdout.str()

    # one run for both tests (session cache), under --exerciser-out
    runs = sorted(out.glob("*/re_ask_every_launch_en"))
    assert len(runs) == 1
    evidence = sorted(runs[0].glob("deciding/6-*.png"))
    assert evidence
    section = text.split("exerciser: verdicts and evidence", 1)[1]
    for path in evidence:
        assert str(path) in section
    assert "category 6 (re-requests after refusal) of re_ask_every_launch_en: violation" in section
    assert "figure:   3" in section
    assert "reason:   After refusing location it was asked again" in section

    # `==` on a verdict explains itself through pytest_assertrepr_compare
    assert "assert category 6 of re_ask_every_launch_en is 'violation', not == 'compliant'" in text
    # a bad target is one line, not a traceback
    result.stdout.fnmatch_lines(["*exerciser_run('no_such_app'): no_such_app: no such APK, scenario*"])
    assert "During handling of the above exception" not in text
    # the APK's manifest warning is part of the failure report, beside the (compliant) dynamic verdict
    result.stdout.fnmatch_lines(
        [
            "*category consent (consent first) of com.skycast.weather: compliant",
            "*manifest warning (category 7): manifest declares contacts (READ_CONTACTS) but no declared"
            " feature needs it",
        ]
    )


def test_options_are_registered(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*--exerciser-device=SERIAL*",
            "*--exerciser-profile=NAME*",
            "*--exerciser-locale=LOCALE*",
            "*--exerciser-out=DIR*",
        ]
    )


def test_exerciser_device_is_virtual_by_default(pytester):
    pytester.makepyfile("""
        def test_device(exerciser_device):
            info = exerciser_device.info
            assert (info.api_level, info.locale) == (28, "zh-CN")
    """)
    pytester.runpytest("--exerciser-profile", "api28", "--exerciser-locale", "zh-CN").assert_outcomes(
        passed=1
    )
