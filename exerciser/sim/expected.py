"""A sample app's expected verdicts and figures on one device profile.

`expected.yaml` states each category for the profile its scenario names; where Android itself behaves
differently on a family of profiles (a second plain denial is permanent from Android 11, Android 6-9 offer
"don't ask again" only from the second prompt, a ROM's own dialog), a `profiles` entry overrides the
verdict or figure there, with the Android fact that causes it:

    profiles:
      - when: {second_denial_fixes: true}      # every profile where this holds (api30+, the ROMs)
        fact: "Android 11+: a second plain denial is permanent (USER_FIXED), so ..."
        "6": {figure: 1}

`when` keys: `api_min` / `api_max` (API level, inclusive) and the profile's own fields (`rom`, `layout`,
`second_denial_fixes`, ...), all of which must hold. Families, not profile names, so that a profile added
later (another ROM on API 34) falls in the family whose Android behaviour it has.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from exerciser.sim.profiles import Profile

CATEGORIES = ("consent", "5", "6", "7", "8")
_PROFILE_FIELDS = {f.name for f in fields(Profile)}


@dataclass(frozen=True)
class Expectation:
    verdict: str
    figure: int | None
    fact: str | None = None  # the Android fact behind a per-profile value; None: the file's base value


def load_expected(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def matches(when: dict[str, Any], profile: Profile) -> bool:
    """Does `profile` belong to the family `when` describes?"""
    for key, want in when.items():
        if key == "api_min":
            ok = profile.api_level >= int(want)
        elif key == "api_max":
            ok = profile.api_level <= int(want)
        elif key in _PROFILE_FIELDS:
            ok = getattr(profile, key) == want
        else:
            raise ValueError(f"profiles: when: unknown key {key!r} (api_min, api_max or a profile field)")
        if not ok:
            return False
    return True


def expected_on(exp: dict[str, Any], profile: Profile) -> dict[str, Expectation]:
    """Per category, the verdict and figure `exp` (an expected.yaml) states for `profile`; the first
    matching `profiles` entry wins for each category it names."""
    out = {c: Expectation(exp[c]["verdict"], exp[c]["figure"]) for c in CATEGORIES}
    done: set[str] = set()
    for entry in exp.get("profiles") or ():
        if not matches(entry["when"], profile):
            continue
        for c in CATEGORIES:
            if c in entry and c not in done:
                base = out[c]
                over = entry[c]
                out[c] = Expectation(
                    over.get("verdict", base.verdict), over.get("figure", base.figure), entry["fact"]
                )
                done.add(c)
    return out


def check_profiles_entry(entry: dict[str, Any]) -> None:
    """One `profiles` entry is well formed (raises AssertionError / ValueError naming what is wrong)."""
    assert set(entry) - set(CATEGORIES) == {"when", "fact"}, entry
    assert isinstance(entry["fact"], str) and len(entry["fact"]) > 20, entry
    assert isinstance(entry["when"], dict) and entry["when"], entry
    for key in entry["when"]:
        if key not in ("api_min", "api_max") and key not in _PROFILE_FIELDS:
            raise ValueError(f"profiles: when: unknown key {key!r}")
    cats = [c for c in CATEGORIES if c in entry]
    assert cats, f"profiles entry overrides no category: {entry}"
    for c in cats:
        assert entry[c] and set(entry[c]) <= {"verdict", "figure"}, (c, entry[c])
        assert entry[c].get("verdict", "compliant") in ("violation", "compliant", "inconclusive")
