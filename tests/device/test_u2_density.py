"""A cheap phone's panel (540x1170 at 240 dpi) served over the real adb server: uiautomator2, adbutils and
the driver read the same display, `wm size` / `wm density` overrides included, and u2's own scrolling
works in dp there."""

from __future__ import annotations

import pytest
from adb_helpers import driven, past_consent

from exerciser.sim import VirtualDevice, load_sample

APP = "scroll_feature_below_feed_en"
PKG = "com.forkful.recipes"


@pytest.fixture(scope="module")
def u2(adb_server):
    dev = VirtualDevice([load_sample(APP)], width=540, height=1170, density=240, seed=5)
    with driven(dev, adb_server) as drv:
        d = past_consent(drv, PKG)
        yield d, drv, dev
        d.shell("wm size reset; wm density reset")


def test_clients_read_the_panel_and_its_density(u2) -> None:
    d, drv, _ = u2
    info = d.info
    assert (info["displayWidth"], info["displayHeight"]) == (540, 1170)
    assert (info["displaySizeDpX"], info["displaySizeDpY"]) == (360, 780)
    assert d.window_size() == (540, 1170)
    assert d.screenshot().size == (540, 1170)
    assert d.shell("getprop ro.sf.lcd_density").output.strip() == "240"
    i = drv.info
    assert (i.width, i.height, i.density) == (540, 1170, 240)


def test_u2_scrolls_in_dp_on_the_small_panel(u2) -> None:
    d, _, _ = u2
    box = d(scrollable=True)
    assert box.exists and not d(text="Scan a food label").exists
    assert box.scroll.to(text="Scan a food label")
    assert d(text="Scan a food label").exists
    assert box.scroll.toBeginning()


def test_wm_overrides_reach_every_client(u2) -> None:
    d, drv, dev = u2
    d.shell("wm size 720x1600; wm density 320")
    assert d.shell("wm size").output == "Physical size: 540x1170\nOverride size: 720x1600\n"
    assert d.window_size() == (720, 1600)  # adbutils reads the override
    assert d.info["displayWidth"] == 720 and d.info["displaySizeDpX"] == 360
    assert d.screenshot().size == (720, 1600)
    i = drv._read_info()  # what the driver reads when it connects: `wm size; wm density`, Override first
    assert (i.width, i.height, i.density) == (720, 1600, 320)
    d.shell("wm size reset; wm density reset")
    assert d.window_size() == (540, 1170) and (dev.info.width, dev.info.density) == (540, 240)
