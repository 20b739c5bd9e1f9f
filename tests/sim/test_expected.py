"""Expected values per profile family (exerciser/sim/expected.py): a sample's `profiles` entries decide the
verdict and figure on the profiles whose Android behaves differently, and only there."""

from __future__ import annotations

import pytest
import yaml

from exerciser import SAMPLES_DIR
from exerciser.sim.expected import check_profiles_entry, expected_on, load_expected, matches
from exerciser.sim.profiles import PROFILES


def test_the_every_launch_re_ask_differs_where_a_second_denial_is_final():
    exp = load_expected(SAMPLES_DIR / "re_ask_every_launch_en" / "expected.yaml")
    for name, profile in PROFILES.items():
        got = expected_on(exp, profile)
        assert got["6"].verdict == "violation"
        assert got["6"].figure == (1 if profile.second_denial_fixes else 3), name
        assert (got["6"].fact is not None) == profile.second_denial_fixes
        assert all(
            got[c].fact is None and got[c].figure == exp[c]["figure"] for c in ("consent", "5", "7", "8")
        )
    old = {n for n, p in PROFILES.items() if not p.second_denial_fixes}
    assert {"api23", "api28", "api29"} <= old and all(PROFILES[n].api_level < 30 for n in old)


BASE = yaml.safe_load(
    """
consent: {verdict: compliant, figure: 0, notes: x}
"5": {verdict: compliant, figure: 0, notes: x}
"6": {verdict: violation, figure: 3, notes: x}
"7": {verdict: compliant, figure: 0, notes: x}
"8": {verdict: compliant, figure: 4, notes: x}
profiles:
  - when: {api_max: 23}
    fact: "Android 6.0 only: a fact stated for this test alone"
    "6": {verdict: compliant, figure: 0}
  - when: {api_min: 23, rom: aosp}
    fact: "Android 6+ on AOSP: a second fact stated for this test"
    "6": {figure: 2}
    "8": {figure: 5}
"""
)


def test_first_matching_entry_decides_each_category():
    api23 = expected_on(BASE, PROFILES["api23"])
    assert (api23["6"].verdict, api23["6"].figure) == ("compliant", 0)  # the first entry wins for 6
    assert api23["8"].figure == 5  # the second still decides 8
    api33 = expected_on(BASE, PROFILES["api33"])
    assert (api33["6"].verdict, api33["6"].figure) == ("violation", 2)
    miui = expected_on(BASE, PROFILES["miui14"])
    assert (miui["6"].figure, miui["8"].figure, miui["6"].fact) == (3, 4, None)


def test_bad_entries_are_refused():
    with pytest.raises(ValueError, match="unknown key 'android'"):
        matches({"android": 11}, PROFILES["api33"])
    with pytest.raises(AssertionError):
        check_profiles_entry({"when": {"api_min": 30}, "6": {"figure": 1}})  # no fact
    with pytest.raises(AssertionError):
        check_profiles_entry({"when": {"api_min": 30}, "fact": "a fact long enough to be stated"})  # nothing
    with pytest.raises(AssertionError):
        check_profiles_entry(
            {"when": {"api_min": 30}, "fact": "a fact long enough to be stated", "6": {"notes": "x"}}
        )
