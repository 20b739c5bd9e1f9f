"""Fixtures and helpers of the virtual-device tests: read the dump XML and tap what it shows, as a client
would. Plain functions, no conftest.py: other test folders `import conftest` by that bare name."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

from exerciser.device.contract import Device
from exerciser.sim import AppModel, VirtualDevice, load_app_model

FIXTURES = Path(__file__).with_name("fixtures")
PKG = "com.example.simtest"


@cache
def sim_model() -> AppModel:
    """The test app (tests/sim/fixtures/testapp.yaml), loaded once."""
    return load_app_model(FIXTURES / "testapp.yaml")


def make_device(profile: str = "api33", locale: str = "en-US") -> VirtualDevice:
    return VirtualDevice([sim_model()], profile=profile, locale=locale)


def nodes(dev: Device) -> list[dict[str, str]]:
    root = ET.fromstring(dev.observe().xml)
    return [n.attrib for n in root.iter("node")]


def texts(dev: Device) -> list[str]:
    return [n["text"] for n in nodes(dev) if n["text"]]


def ids(dev: Device) -> list[str]:
    return [n["resource-id"] for n in nodes(dev) if n["resource-id"]]


def find(dev: Device, *, rid: str | None = None, text: str | None = None) -> dict[str, str]:
    """The node whose resource-id ends with `:id/<rid>` (or equals it), or whose text equals `text`."""
    for n in nodes(dev):
        if rid is not None and (n["resource-id"] == rid or n["resource-id"].endswith(":id/" + rid)):
            return n
        if text is not None and n["text"] == text:
            return n
    raise AssertionError(f"no node rid={rid!r} text={text!r} on screen: {texts(dev)} {ids(dev)}")


def has(dev: Device, *, rid: str | None = None, text: str | None = None) -> bool:
    try:
        find(dev, rid=rid, text=text)
        return True
    except AssertionError:
        return False


def centre(node: dict[str, str]) -> tuple[int, int]:
    x1, y1, x2, y2 = map(int, re.findall(r"-?\d+", node["bounds"]))
    return (x1 + x2) // 2, (y1 + y2) // 2


def tap(dev: Device, *, rid: str | None = None, text: str | None = None) -> None:
    dev.tap(*centre(find(dev, rid=rid, text=text)))


def start_accepted(dev: Device) -> None:
    """Start the test app and accept its privacy dialog."""
    dev.app_start(PKG)
    tap(dev, rid="btn_agree")
    assert dev.observe().activity == f"{PKG}.MainActivity"
