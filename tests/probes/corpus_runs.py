"""What the corpus probe tests (test_corpus2_profiles.py, test_corpus3_probes.py) share: which profile
each app runs on, and how a run's verdicts and figures differ from what its expected.yaml states there."""

from __future__ import annotations

from exerciser.runner.app_run import AppResult
from exerciser.scenario import Scenario
from exerciser.sim.expected import CATEGORIES, expected_on, load_expected
from exerciser.sim.profiles import PROFILES


def expected_of(sc: Scenario) -> dict:
    assert sc.app.expected_path is not None
    return load_expected(sc.app.expected_path)


def signature(sc: Scenario) -> str:
    """ "VccVc": which categories the app violates."""
    exp = expected_of(sc)
    return "".join("V" if exp[c]["verdict"] == "violation" else "c" for c in CATEGORIES)


def assignment(scenarios: dict[str, Scenario]) -> list[tuple[str, str]]:
    """(app, profile) pairs: apps sorted by verdict signature (violators of each category together), then
    dealt round the profiles, so each category's violators land on different profiles."""
    order = sorted(scenarios, key=lambda a: (signature(scenarios[a]), a))
    names = list(PROFILES)
    return [(app, names[i % len(names)]) for i, app in enumerate(order)]


def mismatches(res: AppResult, sc: Scenario, profile: str) -> dict[str, str]:
    """Per category that differs from expected.yaml on `profile`: what came out, what was expected, why."""
    want = expected_on(expected_of(sc), PROFILES[profile])
    got = {c: (res.categories[c].verdict, res.categories[c].figure) for c in CATEGORIES}
    return {
        c: f"{got[c]} != {(want[c].verdict, want[c].figure)}: {res.categories[c].reason}"
        for c in CATEGORIES
        if got[c] != (want[c].verdict, want[c].figure)
    }
