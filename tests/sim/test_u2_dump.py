"""uiautomator2's form of the dump (uixml.dump_u2): every visible window, the active one first, with the
attributes its on-device dumper adds; and the recogniser reads it as it reads `uiautomator dump`'s."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from exerciser import SAMPLES_DIR
from exerciser.device.contract import Observation
from exerciser.perceive import Reader, hierarchy
from exerciser.sim import VirtualDevice, load_app_model, uixml
from exerciser.sim.adbfront.phone import Phone

APPS = ("compliant_zh", "compliant_en", "re_ask_in_app_dialog_zh", "refusal_wall_en")


def _frames(profile: str = "api33"):
    for app in APPS:
        m = load_app_model(Path(SAMPLES_DIR) / app / "app.yaml")
        loc = "zh-CN" if m.language == "zh" else "en-US"
        dev = VirtualDevice([m], profile=profile, locale=loc)
        for name in m.dialogs:
            yield f"{app}/{name}", dev, m, dev.frame_for(m.package, screen=m.launch_screen, dialog=name)


def test_a_dialog_is_dumped_above_the_activity_behind_it():
    name, dev, m, frame = next(iter(_frames()))
    root = etree.fromstring(uixml.dump_u2(frame, 33).encode())
    windows = [n for n in root if n.tag == "node"]
    assert len(windows) == 2, name
    dialog, activity = (hierarchy.parse_bounds(w.get("bounds")) for w in windows)
    area = [(b[2] - b[0]) * (b[3] - b[1]) for b in (dialog, activity)]
    assert area[0] < area[1]  # the active (dialog) window first
    names = list(windows[0].attrib)
    assert names[-5:] == ["visible-to-user", "bounds", "drawing-order", "hint", "display-id"]
    assert all(n.get("visible-to-user") == "true" for n in root.iter("node"))
    assert windows[0].get("drawing-order") == "0" and windows[0][0].get("drawing-order") == "1"


def test_attributes_follow_the_api_level():
    _, _, _, frame = next(iter(_frames("api23")))
    node = etree.fromstring(uixml.dump_u2(frame, 23).encode())[0]
    assert "visible-to-user" in node.attrib
    assert not {"drawing-order", "hint", "display-id"} & set(node.attrib)
    node = etree.fromstring(uixml.dump_u2(frame, 28).encode())[0]
    assert "drawing-order" in node.attrib and "hint" in node.attrib and "display-id" not in node.attrib


@pytest.mark.parametrize("profile", ["api23", "api33"])
def test_the_reader_reads_both_forms_alike(profile):
    reader = Reader(ocr=False)
    n = 0
    for name, dev, m, frame in _frames(profile):
        act = m.screens[m.launch_screen].activity
        a = reader.read(Observation(uixml.dump(frame), b"", m.package, act, 0), dev.info)
        b = reader.read(
            Observation(uixml.dump_u2(frame, dev.profile.api_level), b"", m.package, act, 0), dev.info
        )
        assert [k.kind for k in b.kinds] == [k.kind for k in a.kinds], name
        assert [(t.role, t.bounds) for t in b.targets] == [(t.role, t.bounds) for t in a.targets], name
        assert b.dialog_bounds == a.dialog_bounds, name
        n += 1
    assert n >= 8


def test_the_served_phone_answers_in_the_form_asked():
    name, dev, m, frame = next(iter(_frames()))
    dev.app_start(m.package)
    phone = Phone(dev, "emulator-5554", 5555)
    assert phone.hierarchy() == dev.observe().xml  # default: what `uiautomator dump` writes
    phone.dump_form = "u2"
    u2 = phone.hierarchy()
    assert u2 == dev.hierarchy_u2() and 'display-id="0"' in u2
    assert hierarchy.parse(u2).package == hierarchy.parse(dev.observe().xml).package
