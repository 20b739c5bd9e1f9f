"""Helpers of the explore tests: sample apps on the virtual device, read by the real screen reader."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from exerciser.device.contract import Observation
from exerciser.perceive.reading import ScreenReading, center
from exerciser.runner.app_run import default_reader
from exerciser.sim.appmodel import load_sample
from exerciser.sim.runtime import VirtualDevice

XML_HEAD = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"


def device(app: str, profile: str = "api33") -> VirtualDevice:
    model = load_sample(app)
    locale = "zh-CN" if model.language == "zh" else "en-US"
    return VirtualDevice(apps=[model], profile=profile, locale=locale)


def read(dev: VirtualDevice, obs: Observation | None = None) -> ScreenReading:
    return default_reader().read(obs or dev.observe(), dev.info)


def tap(dev: VirtualDevice, label: str | re.Pattern[str]) -> ScreenReading:
    """Tap the element whose label is `label` (or matches it) on the current screen, then read."""
    r = read(dev)
    hit = next(
        (
            e
            for e in r.elements
            if (e.label == label if isinstance(label, str) else bool(label.search(e.label or "")))
        ),
        None,
    )
    assert hit is not None, (label, [e.label for e in r.elements if e.label])
    dev.tap(*center(hit.bounds))
    dev.wait(0.6)
    return read(dev)


def tap_role(dev: VirtualDevice, role: str) -> ScreenReading:
    """Tap the reader's target of `role` (agree, refuse, allow, deny, ...), then read."""
    t = read(dev).target(role)
    assert t is not None, role
    dev.tap(*center(t.bounds))
    dev.wait(0.6)
    return read(dev)


def launch(dev: VirtualDevice, package: str, settle: float = 1.5) -> ScreenReading:
    dev.app_start(package)
    dev.wait(settle)
    return read(dev)


def edited(obs: Observation, edit) -> Observation:
    """The same capture with its hierarchy changed by `edit(root)` (an ElementTree of the dump)."""
    root = ET.fromstring(obs.xml.encode("utf-8"))
    edit(root)
    xml = XML_HEAD + ET.tostring(root, encoding="unicode")
    return Observation(xml, b"", obs.package, obs.activity, obs.time_ms)


def nodes(root: ET.Element, rid_suffix: str) -> list[ET.Element]:
    return [n for n in root.iter("node") if n.get("resource-id", "").endswith(rid_suffix)]


def parent_of(root: ET.Element, child: ET.Element) -> ET.Element:
    return next(p for p in root.iter("node") if child in list(p))


def fresh(app: str, tmp: Path, name: str, profile: str | None = None):
    """A clean install of sample `app` on its scenario's profile, policy agreed, prompts allowed:
    (session, driver, main-screen step)."""
    from exerciser import SCENARIOS_DIR
    from exerciser.probes.advance import start_app
    from exerciser.probes.common import Driver, ProbeContext
    from exerciser.runner.app_run import app_info
    from exerciser.runner.parallel import virtual_device
    from exerciser.runner.session import Session
    from exerciser.scenario import load_scenario
    from exerciser.score.rulepack import load_rulepack

    sc = load_scenario(SCENARIOS_DIR / f"{app}.yaml").with_overrides(profile=profile)
    info = app_info(sc)
    s = Session(virtual_device(sc, "test"), info.package, tmp / name, default_reader(), sc.budgets)
    ctx = ProbeContext(s, sc, load_rulepack(), info.package, info.label)
    d = Driver(ctx, prompts="allow", policy="agree", phase="test")
    return s, d, start_app(ctx, d, "test: clean install")
