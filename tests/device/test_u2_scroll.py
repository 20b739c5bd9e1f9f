"""uiautomator2's own scroll, fling, swipe, text and toast calls on a virtual device served over the real
adb server, as a test author would write them against a phone."""

from __future__ import annotations

import time

import pytest
from adb_helpers import driven, past_consent

from exerciser.sim import VirtualDevice, load_sample

APP = "scroll_feature_below_feed_en"
PKG = "com.forkful.recipes"


@pytest.fixture(scope="module")
def u2(adb_server):
    """(raw uiautomator2 device, the driver, the served virtual device) with the app past its consent."""
    dev = VirtualDevice([load_sample(APP)], profile="api33", locale="en-US", seed=3)
    with driven(dev, adb_server) as drv:
        yield past_consent(drv, PKG), drv, dev


def _first_row(d) -> int:
    """Index of the first feed post whose top is inside the list (the list's offset, in rows)."""
    top = d(scrollable=True).info["bounds"]["top"]
    out = []
    for i in range(1, 25):
        el = d(resourceId=f"{PKG}:id/post_{i}")
        if el.exists and el.info["bounds"]["top"] >= top:
            out.append(i)
    return min(out) if out else 99


def test_scroll_to_text_forward_and_ends(u2) -> None:
    d, _, _ = u2
    box = d(scrollable=True)
    assert box.exists and box.info["className"] == "androidx.recyclerview.widget.RecyclerView"
    assert not d(text="Scan a food label").exists  # below the fold: not in the dump
    assert box.scroll.to(text="Scan a food label")
    assert d(text="Scan a food label").exists
    assert box.scroll.toBeginning()
    assert d(text="Sourdough starter, day 3").exists
    assert box.scroll.forward()  # the content moved
    assert _first_row(d) > 1
    box.scroll.toEnd()
    assert not box.scroll.forward()  # at the end nothing moves any more
    assert box.scroll.toBeginning() and _first_row(d) == 1


def test_fling_travels_further_than_a_scroll_and_swipe_duration_counts(u2) -> None:
    d, _, _ = u2
    box = d(scrollable=True)
    box.scroll.toBeginning()
    box.scroll.forward(steps=400)  # a slow drag: 2 s
    slow = _first_row(d)
    box.scroll.toBeginning()
    box.fling()  # flingForward: the same drag in 25 ms
    fast = _first_row(d)
    assert fast > slow > 1
    box.scroll.toBeginning()
    b = box.info["bounds"]
    x, y1, y2 = (b["left"] + b["right"]) // 2, b["bottom"] - 200, b["bottom"] - 800
    d.swipe(x, y1, x, y2, duration=2.0)
    dragged = _first_row(d)
    box.scroll.toBeginning()
    d.swipe(x, y1, x, y2, duration=0.05)
    flung = _first_row(d)
    assert flung > dragged > 1


def test_text_focus_clear_and_toast(u2) -> None:
    d, drv, _ = u2
    d(scrollable=True).scroll.to(text="Scan a food label")
    d(text="Scan a food label").click()
    d.clear_toast()
    d(text="Open camera").click()
    d(resourceIdMatches=r".*:id/permission_deny_button").click()
    assert d.last_toast == "Camera is off. Type the label in instead."
    field = d(resourceId=f"{PKG}:id/et_calories")
    field.click()
    assert field.info["focused"] and d(focused=True).info["resourceName"] == f"{PKG}:id/et_calories"
    field.set_text("250")
    assert field.get_text() == "250"
    field.set_text("310")  # replaces, as UiObject.setText does
    assert field.get_text() == "310"
    d.press("delete")
    assert field.get_text() == "31"
    field.clear_text()
    assert field.get_text() == "Calories"  # an empty field shows its hint
    field.set_text("12")
    d.clear_text()  # the focused field, without an IME
    assert field.get_text() == "Calories"
    field.set_text("5")
    d.send_keys("77", clear=True)  # clear, then paste into the focused field
    assert field.get_text() == "77"


def test_wait_for_exists_honours_its_timeout(u2) -> None:
    d, drv, _ = u2
    t0 = time.monotonic()
    assert not d(text="No such thing").wait(timeout=2)
    assert time.monotonic() - t0 >= 2  # the server looked again until the timeout
    # a node of the app is on screen whichever test drove it last (xdist may run this one alone)
    assert d(packageName=PKG).wait(timeout=1)
