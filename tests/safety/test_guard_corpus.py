"""The safety guard on a generated corpus of real screens (virtual device XML + PNG, read by the same
reader as a run): every irreversible final step refused, every harmless look-alike allowed.

Each case is tapped through the whole action pipeline (Session → GuardedDevice → device), so a refusal
is also a trace line and an allowed tap really happens.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from safety_corpus import CASES, HARM, Case, model_yaml

from exerciser.explore.selector import Control, controls, from_element
from exerciser.perceive import Reader
from exerciser.perceive.text import compact
from exerciser.runner.session import Session, Step
from exerciser.sim import VirtualDevice
from exerciser.sim.appmodel import parse_app_model

LOCALES = {"en": "en-US", "zh": "zh-CN"}


@pytest.fixture(scope="module")
def devices() -> dict[str, VirtualDevice]:
    out = {}
    for lang, locale in LOCALES.items():
        models = [parse_app_model(model_yaml(c), f"{c.name}.yaml") for c in CASES if c.lang == lang]
        out[lang] = VirtualDevice(models, profile="api33", locale=locale)
    return out


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def _find(step: Step, target: str) -> Control:
    cs = controls(step.reading)
    if target.startswith("id:"):  # an unlabelled icon: the explorer skips it, a probe could still tap it
        els = [e for e in step.reading.elements if e.resource_id.endswith(":id/" + target[3:])]
        hit = from_element(els[0]) if els else None
    else:
        want = compact(target)
        hit = next((c for c in cs if compact(c.label) == want), None)
        hit = hit or next((c for c in cs if want and want in compact(c.label)), None)
    assert hit is not None, f"no control {target!r} on screen: {[c.label for c in cs]}"
    return hit


def _session(dev: VirtualDevice, case: Case, tmp: Path, reader: Reader) -> Session:
    return Session(dev, case.package, tmp, reader)


def test_corpus_size() -> None:
    refused = [c for c in CASES if c.refuse]
    allowed = [c for c in CASES if not c.refuse]
    assert len(refused) >= 60 and len(allowed) >= 20
    assert {c.lang for c in refused} == {"en", "zh"}
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, devices: dict[str, VirtualDevice], reader: Reader, tmp_path: Path) -> None:
    dev = devices[case.lang]
    dev.app_clear(case.package)
    s = _session(dev, case, tmp_path, reader)
    step = s.start()
    for label in case.pre:
        with s.guard.deletion_walk():
            step = s.tap(_find(step, label))
        assert not step.refused, f"pre-tap {label!r} was refused: {step.refused}"
    c = _find(step, case.target)
    if case.walk:
        with s.guard.deletion_walk():
            after = s.tap(c)
    else:
        after = s.tap(c)
    s.close()
    lines = [json.loads(x) for x in (tmp_path / "trace.jsonl").read_text().splitlines()]
    if case.refuse:
        assert after.refused, f"{case.name}: {c.label!r} was performed (screen {after.obs.activity})"
        assert lines[-1]["action"]["refused"]["rule"] == after.refused["rule"]
        assert "REFUSED" in lines[-1]["note"]
    else:
        assert not after.refused, f"{case.name}: {c.label!r} refused: {after.refused}"
    assert all(not str(x.get("activity", "")).endswith(HARM) for x in lines) or not case.refuse
