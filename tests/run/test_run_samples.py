"""`exerciser run scenarios/samples.yaml` reproduces, for every sample app and category, the verdict and
the figure of sample_apks/<app>/expected.yaml, writes the documented results folder, and exits 1 (the
samples violate on purpose).

One run of the whole suite, two apps at a time (the 2-core CI machine), shared by every test here.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import yaml
from run_helpers import CATEGORIES, ROOT, check_shape, exerciser, expected, trace_steps, verdict

from exerciser import SAMPLES_DIR

SUITE = ROOT / "scenarios" / "samples.yaml"
SAMPLES = sorted(p.parent.name for p in SAMPLES_DIR.glob("*/app.yaml"))

pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples") / "run"
    proc = exerciser("run", str(SUITE), "--out", str(out), "--jobs", "2")
    return proc, out


def test_suite_lists_every_sample():
    listed = yaml.safe_load(SUITE.read_text(encoding="utf-8"))["scenarios"]
    apps = {yaml.safe_load((SUITE.parent / f).read_text(encoding="utf-8"))["app"]["sample"] for f in listed}
    assert apps == set(SAMPLES)


def test_exit_status_is_violation(suite_run):
    proc, out = suite_run
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    # the summary table names every app
    for app in SAMPLES:
        assert app[:20] in proc.stdout


@pytest.mark.parametrize("app", SAMPLES)
def test_verdicts_and_figures_match_expected(suite_run, app):
    _, out = suite_run
    v = verdict(out / app)
    exp = expected(app)
    got = {c: (v["categories"][c]["verdict"], v["categories"][c]["figure"]) for c in CATEGORIES}
    want = {c: (exp[c]["verdict"], exp[c]["figure"]) for c in CATEGORIES}
    assert got == want, {c: v["categories"][c]["reason"] for c in CATEGORIES if got[c] != want[c]}
    assert v["status"] == ("violation" if any(w == "violation" for w, _ in want.values()) else "compliant")
    assert v["error"] is None


@pytest.mark.parametrize("app", SAMPLES)
def test_results_folder(suite_run, app):
    _, out = suite_run
    d = out / app
    steps = trace_steps(d)
    v = verdict(d)
    check_shape(v, steps)
    for cat, c in v["categories"].items():
        # a violation is proved by steps of the trace, each with its screenshot beside verdict.json
        if c["verdict"] == "violation":
            assert c["evidence_steps"], (cat, c)
        assert len(c["screenshots"]) == len(c["evidence_steps"])
        for shot in c["screenshots"]:
            assert (d / shot).stat().st_size > 0
    # the state graph, as JSON and as GraphML, with the tap edges' selectors
    g = json.loads((d / "graph.json").read_text(encoding="utf-8"))
    assert len(g["nodes"]) >= 5
    taps = [e for e in g["edges"] if e["action"] == "tap"]
    assert taps and all(e["selector"] and len(e["point"]) == 2 for e in taps)
    ET.parse(d / "graph.graphml")
    # the extra check: the privacy policy within 4 taps of the main screen
    pol = v["extra"]["privacy_policy_reachable"]
    assert pol["verdict"] in ("violation", "compliant") and pol["limit"] == 4
    assert pol["verdict"] == (
        "compliant" if pol["figure"] is not None and pol["figure"] <= 4 else "violation"
    )


def test_refusal_wall_is_one_appearance(suite_run):
    """The wall that stays up after refusing location is the refusal's outcome (5), seen once, not a
    re-request each time the probe looks at it (6)."""
    _, out = suite_run
    run = json.loads((out / "refusal_wall_en" / "run.json").read_text(encoding="utf-8"))
    groups = run["probes"]["6"]["facts"]["groups"]
    loc = next(g for g in groups if g["group"] == "location")
    assert loc["count"] == 0
    walls = [r for r in loc["not_counted"] if r["source"] == "in_app"]
    assert len(walls) == 1 and walls[0]["phase"] == "R0"
    refusals = run["probes"]["5"]["facts"]["refusals"]
    assert next(r for r in refusals if r["what"] == "location")["outcome"] == "wall"


def test_suite_summary_files(suite_run):
    _, out = suite_run
    assert (out / "report.html").exists() and (out / "junit.xml").exists()
    assert {p.name for p in out.iterdir() if p.is_dir()} >= set(SAMPLES)
