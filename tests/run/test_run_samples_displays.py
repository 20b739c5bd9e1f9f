"""The sample suite's verdicts hold on the cheap phones' panels (issue 15): a 540x1170 phone at 240 dpi and
a 720x1600 one at 320 dpi, where the same dialogs come in fewer pixels (smaller text for OCR, more lines,
more scrolling). Verdicts and figures must match sample_apks/<app>/expected.yaml.

By default a few apps run, one per way of reading a screen (a blind dialog read by OCR, a system permission
prompt, a page scrolled to its deletion entry), each on both displays in one `exerciser run`; with
EXERCISER_DISPLAY_SUITE=all the whole suite does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from run_helpers import CATEGORIES, ROOT, exerciser, expected, verdict

DISPLAYS = {"540": "540x1170@240", "720": "720x1600@320"}
FEW = ("blind_privacy_dialog_zh", "quit_on_location_refusal_zh", "scroll_deletion_below_fold_en")

pytestmark = pytest.mark.timeout(1800)


def _scenarios() -> list[str]:
    suite = yaml.safe_load((ROOT / "scenarios" / "samples.yaml").read_text(encoding="utf-8"))["scenarios"]
    if os.environ.get("EXERCISER_DISPLAY_SUITE") == "all":
        return suite
    return [f for f in suite if f.removesuffix(".yaml") in FEW]


@pytest.fixture(scope="module")
def display_run(tmp_path_factory):
    """Every chosen scenario on each display, as `<app>-<width>` in one suite run."""
    tmp = tmp_path_factory.mktemp("displays")
    files = []
    for f in _scenarios():
        scenario = yaml.safe_load((ROOT / "scenarios" / f).read_text(encoding="utf-8"))
        for width, display in DISPLAYS.items():
            one = dict(scenario, id=f"{scenario['app']['sample']}-{width}", display=display)
            path = tmp / f"{one['id']}.yaml"
            path.write_text(yaml.safe_dump(one, allow_unicode=True), encoding="utf-8")
            files.append(str(path))
    suite = tmp / "suite.yaml"
    suite.write_text(yaml.safe_dump({"name": "displays", "scenarios": files}), encoding="utf-8")
    proc = exerciser("run", str(suite), "--out", str(tmp / "run"), "--jobs", "2", timeout=1700)
    return files, proc, tmp / "run"


def test_verdicts_hold_on_small_displays(display_run):
    files, proc, out = display_run
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    wrong = []
    for f in files:
        sc = yaml.safe_load(Path(f).read_text(encoding="utf-8"))
        app_dir = out / sc["id"]
        v, exp = verdict(app_dir), expected(sc["app"]["sample"])
        assert v["error"] is None, (sc["id"], v["error"])
        for c in CATEGORIES:
            got, want = v["categories"][c], exp[c]
            if (got["verdict"], got["figure"]) != (want["verdict"], want["figure"]):
                wrong.append(f"{sc['id']} {c}: {got['verdict']} {got['figure']} ({got['reason']})")
    assert not wrong, "\n".join(wrong)


def test_the_runs_were_on_those_displays(display_run):
    files, _, out = display_run
    for f in files:
        sc = yaml.safe_load(Path(f).read_text(encoding="utf-8"))
        dev = json.loads((out / sc["id"] / "run.json").read_text(encoding="utf-8"))["device"]
        assert f"{dev['width']}x{dev['height']}@{dev['density']}" == sc["display"]
