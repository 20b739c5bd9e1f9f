"""The second corpus' verdicts and figures on every device profile: each app runs all five probes once, on
one profile assigned deterministically (apps ordered by which categories they violate, then dealt round
the profiles), so that every profile gets apps of both verdict sides; the expected values are those its
expected.yaml states for that profile's Android family. The full matrix (every app on every profile) is
bench/check_samples.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from corpus_runs import assignment, mismatches, signature

from exerciser import SCENARIOS_DIR
from exerciser.perceive import Reader
from exerciser.runner.app_run import run_app
from exerciser.runner.parallel import virtual_device
from exerciser.scenario import load_suite_or_scenario
from exerciser.sim.profiles import PROFILES

SCENARIOS = {sc.id: sc for sc in load_suite_or_scenario(SCENARIOS_DIR / "corpus2.yaml").scenarios}
CASES = assignment(SCENARIOS)
# A small phone's panel, as in test_corpus3_probes: no verdict may depend on the panel (check_samples and
# `exerciser run scenarios/corpus2.yaml` read the default 1080x2340@440), and encoding each step's
# screenshot, most of a run's CPU time, costs a quarter as much.
PANEL = "540x1170@240"


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def test_every_profile_gets_apps_of_both_sides():
    for profile in PROFILES:
        mine = [SCENARIOS[a] for a, p in CASES if p == profile]
        verdicts = {v for sc in mine for v in signature(sc)}
        assert len(mine) >= 2 and verdicts == {"V", "c"}, (profile, [sc.id for sc in mine])
    assert sorted(a for a, _ in CASES) == sorted(SCENARIOS)


@pytest.mark.parametrize("app,profile", CASES, ids=[f"{a}-{p}" for a, p in CASES])
def test_verdicts_and_figures_on_the_assigned_profile(app: str, profile: str, reader: Reader, tmp_path: Path):
    sc = replace(SCENARIOS[app], profile=profile, display=PANEL)
    res = run_app(sc, virtual_device(sc, f"c2-{profile}"), tmp_path, reader=reader, finalize=False)
    wrong = mismatches(res, sc, profile)
    assert not wrong, wrong
