"""`exerciser run` as a user meets it: exit 0 when all is compliant, 2 when the run cannot establish it,
rule overrides with --rules, and bad input as one clear line with exit status 2 that loses nothing.

The runs here are small (one app, a few probes) and go through the command in this process (click's
runner: the same parsing, error display and exit status as the console script, without a new
interpreter per case); tests/run/test_run_samples.py runs the real console script.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from run_helpers import ROOT, check_shape, trace_steps, verdict

from exerciser.cli.main import cli

pytestmark = pytest.mark.timeout(600)


def scenario(tmp: Path, name: str, text: str) -> Path:
    p = tmp / f"{name}.yaml"
    p.write_text(text, encoding="utf-8")
    return p


class Result:
    def __init__(self, r) -> None:
        self.returncode = r.exit_code
        self.stdout = r.stdout
        self.stderr = r.stderr
        self.exception = r.exception


def exerciser(*args: str) -> Result:
    return Result(CliRunner().invoke(cli, list(args), catch_exceptions=True))


def one_error_line(proc: Result) -> str:
    lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:], proc.exception)
    assert len(lines) == 1, lines
    assert isinstance(proc.exception, SystemExit), proc.exception  # no traceback
    return lines[0]


# --- exit statuses of real runs --------------------------------------------------------------------


def test_all_compliant_exits_0(tmp_path):
    sc = scenario(tmp_path, "c", 'app: {sample: compliant_en}\nprobes: [consent, "8"]\n')
    out = tmp_path / "out"
    proc = exerciser("run", str(sc), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    v = verdict(out / "compliant_en")  # the folder is the app id: the sample's, unless `id:` says
    assert set(v["categories"]) == {"consent", "8"}
    assert all(c["verdict"] == "compliant" for c in v["categories"].values())
    assert v["categories"]["8"]["figure"] == 4


def test_budget_exhausted_is_inconclusive_exit_2_and_keeps_the_trace(tmp_path):
    sc = scenario(tmp_path, "b", "id: b\napp: {sample: compliant_zh}\nbudgets: {actions: 12}\n")
    out = tmp_path / "out"
    proc = exerciser("run", str(sc), "--out", str(out), "--quiet")
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    d = out / "b"
    steps = trace_steps(d)
    assert len(steps) == 12  # every action the budget allowed is on record
    v = verdict(d)
    check_shape(v, steps)
    assert v["status"] == "inconclusive"
    assert "budget" in v["error"]
    not_done = [c for c in v["categories"].values() if c["verdict"] == "inconclusive"]
    assert not_done and all("budget" in c["reason"] for c in not_done)


def test_rules_file_changes_a_convention(tmp_path):
    sc = scenario(tmp_path, "d", 'id: d\napp: {sample: deletion_7_deep_en}\nprobes: ["8"]\n')
    proc = exerciser("run", str(sc), "--out", str(tmp_path / "default"), "--quiet")
    assert proc.returncode == 1
    cat = verdict(tmp_path / "default" / "d")["categories"]["8"]
    assert (cat["verdict"], cat["figure"]) == ("violation", 7)
    # too deep, and its page says the account is removed after 30 days (22 working days, over 15)
    assert sorted(r["id"] for r in cat["rules"]) == ["8.deletion_processing_time", "8.deletion_too_deep"]

    rules = tmp_path / "rules.yaml"
    rules.write_text("deletion_max_taps: 7\n", encoding="utf-8")
    proc = exerciser("run", str(sc), "--out", str(tmp_path / "seven"), "--rules", str(rules), "--quiet")
    assert proc.returncode == 1, proc.stdout[-2000:]
    cat = verdict(tmp_path / "seven" / "d")["categories"]["8"]
    assert (cat["verdict"], cat["figure"]) == ("violation", 7)
    assert [r["id"] for r in cat["rules"]] == ["8.deletion_processing_time"]  # 7 taps are within 7
    run = json.loads((tmp_path / "seven" / "d" / "run.json").read_text(encoding="utf-8"))
    th = run["rules"]["thresholds"]["deletion_max_taps"]
    assert th["value"] == 7 and th["default"] == 5 and th["kind"] == "convention"


# --- bad input: one line, exit 2, nothing lost ----------------------------------------------------


def test_missing_file(tmp_path):
    line = one_error_line(exerciser("run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o")))
    assert "nope.yaml" in line and "not found" in line


def test_broken_yaml_names_file_and_line(tmp_path):
    sc = scenario(
        tmp_path, "y", "app: {sample: compliant_en}\nfeatures:\n  - {name: x, permissions: [camera\n"
    )
    line = one_error_line(exerciser("run", str(sc), "--out", str(tmp_path / "o")))
    assert f"{sc}:" in line and "yaml" in line


def test_schema_error_names_file_line_and_field(tmp_path):
    sc = scenario(
        tmp_path,
        "f",
        "app: {sample: compliant_en}\nlocale: en-US\nfeatures:\n  - name: Scan\n    permissions: camera\n",
    )
    line = one_error_line(exerciser("run", str(sc), "--out", str(tmp_path / "o")))
    assert line.startswith(f"Error: {sc}:5: features[0].permissions:"), line


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("app: {sample: no_such_app}\n", ("app.sample", "no_such_app")),
        ("app: {sample: compliant_en, package: com.x.y}\n", ("exactly one",)),
        ("app: {sample: compliant_en}\nprofile: api99\n", ("profile", "api99")),
        ("app: {package: com.example.app}\n", ("real device",)),
        ("app: {sample: compliant_en}\nrules: {policy_max_taps: 6}\n", ("regulation", "policy_max_taps")),
        ("app: {sample: compliant_en}\nrules: {no_such: 1}\n", ("no such threshold",)),
        ('app: {sample: compliant_en}\nprobes: ["9"]\n', ("probes[0]",)),
    ],
)
def test_bad_scenario(tmp_path, text, words):
    sc = scenario(tmp_path, "bad", text)
    line = one_error_line(exerciser("run", str(sc), "--out", str(tmp_path / "o")))
    assert str(sc) in line
    for w in words:
        assert w in line, line
    assert not (tmp_path / "o" / "bad").exists()  # nothing ran


def test_suite_with_missing_scenario_names_the_line(tmp_path):
    scenario(tmp_path, "ok", "app: {sample: compliant_en}\n")
    suite = scenario(tmp_path, "suite", "name: s\nscenarios:\n  - ok.yaml\n  - gone.yaml\n")
    line = one_error_line(exerciser("run", str(suite), "--out", str(tmp_path / "o")))
    assert f"{suite}:4: scenarios[1]" in line and "gone.yaml" in line


def test_suite_names_the_broken_scenario_file(tmp_path):
    scenario(tmp_path, "ok", "app: {sample: compliant_en}\n")
    broken = scenario(tmp_path, "broken", "app: {sample: compliant_zh}\nlocale: zh-CN\ntest_account: maybe\n")
    suite = scenario(tmp_path, "suite", "scenarios: [ok.yaml, broken.yaml]\n")
    line = one_error_line(exerciser("run", str(suite), "--out", str(tmp_path / "o")))
    assert f"{broken.resolve()}:3: test_account:" in line, line


def test_suite_with_duplicate_app(tmp_path):
    scenario(tmp_path, "a", "app: {sample: compliant_en}\n")
    scenario(tmp_path, "b", "app: {sample: compliant_en}\n")
    suite = scenario(tmp_path, "suite", "scenarios: [a.yaml, b.yaml]\n")
    line = one_error_line(exerciser("run", str(suite), "--out", str(tmp_path / "o")))
    assert "duplicate app id 'compliant_en'" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--rules", "RULES"], ("rules file not found",)),
        (["--profile", "api99"], ("unknown profile",)),
        (["--locale", "fr-FR"], ("unsupported locale",)),
        (["--jobs", "-1"], ("--jobs",)),
        (["--jobs", "2", "--devices", "emulator-5554"], ("--jobs",)),
    ],
)
def test_bad_options(tmp_path, args, words):
    sc = scenario(tmp_path, "c", "app: {sample: compliant_en}\n")
    args = [str(tmp_path / "missing.yaml") if a == "RULES" else a for a in args]
    line = one_error_line(exerciser("run", str(sc), "--out", str(tmp_path / "o"), *args))
    for w in words:
        assert w in line, line


def test_out_is_a_file(tmp_path):
    sc = scenario(tmp_path, "c", "app: {sample: compliant_en}\n")
    (tmp_path / "o").write_text("not a folder")
    line = one_error_line(exerciser("run", str(sc), "--out", str(tmp_path / "o")))
    assert "not a folder" in line
    assert (tmp_path / "o").read_text() == "not a folder"


def test_out_holding_a_run_is_refused_and_kept(tmp_path):
    sc = scenario(tmp_path, "c", "id: c\napp: {sample: compliant_en}\n")
    old = tmp_path / "o" / "c"
    old.mkdir(parents=True)
    (old / "trace.jsonl").write_text('{"n": 1}\n')
    line = one_error_line(exerciser("run", str(sc), "--out", str(tmp_path / "o")))
    assert "already holds results of c" in line
    assert (old / "trace.jsonl").read_text() == '{"n": 1}\n'
    assert sorted(p.name for p in old.iterdir()) == ["trace.jsonl"]


def test_samples_suite_is_valid():
    from exerciser.scenario import load_suite_or_scenario

    suite = load_suite_or_scenario(ROOT / "scenarios" / "samples.yaml")
    samples = list((ROOT / "sample_apks").glob("*/app.yaml"))
    assert len(suite.scenarios) == len(samples) >= 18  # every sample app, each once
    assert all(sc.probes == ("consent", "5", "6", "7", "8") for sc in suite.scenarios)
