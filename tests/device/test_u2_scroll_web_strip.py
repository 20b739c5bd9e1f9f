"""uiautomator2 scrolls a WebView page and a sideways strip of the virtual device served over the real
adb server, as a test author would against a phone: `d(scrollable=True).scroll.to(text=…)` reads a WebView
policy to its end (its agree button waits for that), `scroll.horiz.forward()` / `toEnd()` move a tab
strip until its last tab shows."""

from __future__ import annotations

import pytest
from adb_helpers import driven

from exerciser.sim import VirtualDevice, load_sample

WEB, WEB_PKG = "webview_agree_after_read_en", "com.meadow.journal"
STRIP, STRIP_PKG = "hscroll_tab_deletion_zh", "com.shiguang.album"


@pytest.fixture(scope="module")
def u2(adb_server):
    """(raw uiautomator2 device, the driver) of one served device holding both apps."""
    dev = VirtualDevice([load_sample(WEB), load_sample(STRIP)], profile="api33", locale="en-US", seed=5)
    with driven(dev, adb_server) as drv:
        yield drv._u2, drv


def test_scroll_to_reads_a_webview_policy_to_its_end(u2) -> None:
    d, drv = u2
    drv.app_start(WEB_PKG)
    assert d(text="Agree").wait(timeout=5)
    assert not d(text="Agree").info["enabled"]
    web = d(scrollable=True)
    assert web.info["className"] == "android.webkit.WebView" and web.info["text"] == "Privacy Policy"
    last = "End of the Privacy Policy."
    assert not d(text=last).exists  # below the fold of the page: not in the dump
    assert web.scroll.to(text=last)
    assert d(text=last).exists and d(className="android.view.View", text=last).exists
    assert not d(text="Meadow Journal Privacy Policy").exists  # the top went out of view
    assert not web.scroll.forward()  # the end: nothing moves
    assert d(text="Agree").info["enabled"]  # the WebView's end enabled it
    assert web.scroll.toBeginning() and d(text="Meadow Journal Privacy Policy").exists
    d(text="Agree").click()
    assert d(text="New entry").wait(timeout=5)


def test_scroll_horiz_moves_a_tab_strip_to_its_last_tab(u2) -> None:
    d, drv = u2
    drv.app_start(STRIP_PKG)
    assert d(text="同意").wait(timeout=5)
    d(text="同意").click()
    strip = d(resourceId=f"{STRIP_PKG}:id/channel_tabs")
    assert strip.wait(timeout=5) and strip.info["className"] == "android.widget.HorizontalScrollView"
    assert strip.info["scrollable"] and not d(text="账号设置").exists
    left = d(text="关注").info["bounds"]["left"]
    assert strip.scroll.horiz.forward()  # the chips moved left
    assert not d(text="关注").exists or d(text="关注").info["bounds"]["left"] < left
    strip.scroll.horiz.toEnd()
    assert d(text="账号设置").exists
    assert not strip.scroll.horiz.forward()  # at the end
    assert not strip.scroll.vert.forward()  # a vertical swipe does not move a sideways strip
    strip.fling.horiz.toBeginning()
    assert d(text="推荐").exists and not d(text="账号设置").exists
    assert strip.scroll.horiz.to(text="账号设置")
    d(text="账号设置").click()
    assert d(text="账号与安全").wait(timeout=5)
