"""Every sample app runs on the virtual device: cold start on every profile, and a deterministic walk
that taps what the dump offers, so runtime errors in any model path surface here."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from exerciser import SAMPLES_DIR
from exerciser.device.contract import Key
from exerciser.sim import PROFILES, VirtualDevice, load_sample, uixml

SAMPLES = sorted(p.parent.name for p in Path(SAMPLES_DIR).glob("*/app.yaml"))


@pytest.mark.parametrize("app_id", SAMPLES)
def test_cold_start_every_profile(app_id):
    model = load_sample(app_id)
    for profile in PROFILES:
        dev = VirtualDevice([model], profile=profile, locale="zh-CN" if model.language == "zh" else "en-US")
        dev.app_start(model.package)
        pkg, _ = dev.foreground()
        assert pkg in (model.package, dev.profile.controller_package), (profile, pkg)


@pytest.mark.parametrize("app_id", SAMPLES)
def test_random_walk(app_id):
    model = load_sample(app_id)
    rng = random.Random(app_id)
    for profile in ("api28", "api33"):
        dev = VirtualDevice([model], profile=profile)
        dev.app_start(model.package)
        for _ in range(40):
            # The dump alone (what observe() returns as xml): painting every step would triple the cost.
            root = ET.fromstring(uixml.dump(dev.frame()))
            targets = [n.attrib["bounds"] for n in root.iter("node") if n.attrib["clickable"] == "true"]
            roll = rng.random()
            if not targets or roll < 0.08:
                dev.key(Key.BACK)
            elif roll < 0.11:
                dev.app_start(model.package)
            elif roll < 0.13:
                dev.wait(rng.choice((5, 61, 3600)))
            else:
                x1, y1, x2, y2 = map(int, re.findall(r"\d+", rng.choice(targets)))
                dev.tap((x1 + x2) // 2, (y1 + y2) // 2)
        obs = dev.observe()  # where the walk ended, painted
        assert obs.png.startswith(b"\x89PNG") and dev.events()


@pytest.mark.parametrize("app_id", SAMPLES)
def test_every_widget_is_on_screen(app_id):
    """A widget laid out below the fold can only be tapped when a scroll container holds it."""
    model = load_sample(app_id)
    dev = VirtualDevice([model])
    views = [(s, None) for s in model.screens] + [(None, d) for d in model.dialogs]
    for screen, dialog in views:
        frame = dev.frame_for(model.package, screen, dialog)
        # a container that can move (a game's surface moves without saying so to accessibility)
        movable = [
            n for n in frame.top.root.walk() if n.scroll is not None and (n.scroll_extent or (0, 0))[0]
        ]
        scrolled = {id(d) for n in movable for d in n.walk()}
        hidden = [
            n.text or n.resource_id or n.content_desc
            for n in frame.top.root.walk()
            if n.action is not None
            and id(n) not in scrolled
            and (n.bounds is None or n.bounds[3] <= n.bounds[1] or n.bounds[2] <= n.bounds[0])
        ]
        assert not hidden, f"{app_id} {screen or dialog}: off screen: {hidden}"
