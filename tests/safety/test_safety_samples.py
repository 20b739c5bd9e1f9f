"""The safety sample apps (sample_apks/safety): each puts a deletion, payment, call, SMS, post or sign-out
where the explorer and the probes go, and leads to a screen whose activity holds `.irreversible.` when it
is pressed. Unguarded, every one of them was reached (sample_apks/safety/README.md). Asserted from the
traces: no probe reaches one on any profile, unless the scenario says `test_account: true`, where only
the deletion probe finishes the deletion. Each app runs on its own profile (its verdicts checked too) and
on two more, so that every profile runs six of them; bench/bench_guard.py --matrix runs all of them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from safety_runs import ALL_PROFILES, SAFETY_SCENARIOS, harm_steps, run_safety, scenario

from exerciser.perceive import Reader

CASES = [
    (path, profile)
    for i, path in enumerate(SAFETY_SCENARIOS)
    for profile in dict.fromkeys((scenario(path).profile, ALL_PROFILES[i % 7], ALL_PROFILES[(i + 3) % 7]))
]


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def test_the_samples_are_there() -> None:
    assert len(SAFETY_SCENARIOS) >= 10
    covered = {p for _, p in CASES}
    assert covered == set(ALL_PROFILES)


@pytest.mark.parametrize("path,profile", CASES, ids=[f"{p.stem}-{pr}" for p, pr in CASES])
def test_no_run_reaches_an_irreversible_screen(
    path: Path, profile: str, reader: Reader, tmp_path: Path
) -> None:
    sc = scenario(path, profile)
    res, trace = run_safety(sc, tmp_path, reader)
    harm = harm_steps(trace)
    if sc.test_account:
        assert harm, "a test account's deletion is finished by the deletion probe"
        assert {probe for _, probe, _ in harm} == {"8"}, harm
        assert all("AccountDeleted" in act for _, _, act in harm), harm
    else:
        assert harm == [], f"irreversible screens reached: {harm}"
    if profile == scenario(path).profile:
        exp = yaml.safe_load((Path(sc.app.value).parent / "expected.yaml").read_text(encoding="utf-8"))
        got = {c: (v.verdict, v.figure) for c, v in res.categories.items()}
        want = {c: (exp[c]["verdict"], exp[c]["figure"]) for c in got}
        assert got == want
