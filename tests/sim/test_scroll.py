"""Scrolling on the virtual device: what the dump and the pixels show, how drags and flings move the
content (Android's touch slop and fling distance), the ends, `on_scroll_end` / `enabled_if`, text fields
and toasts, and the model errors of the new fields."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from sim_helpers import FIXTURES

from exerciser.sim import AppModelError, VirtualDevice, load_app_model, uixml
from exerciser.sim import scroll as SC
from exerciser.sim.appmodel import parse_app_model

PKG = "com.example.scrolltest"
TEXT = (FIXTURES / "scrollapp.yaml").read_text(encoding="utf-8")


def device() -> VirtualDevice:
    dev = VirtualDevice([load_app_model(FIXTURES / "scrollapp.yaml")])
    dev.app_start(PKG)
    return dev


def dump(dev: VirtualDevice) -> list[dict[str, str]]:
    # the dump alone, as observe() has it (painting each look would triple the cost)
    return [n.attrib for n in ET.fromstring(uixml.dump(dev.frame())).iter("node")]


def bounds(n: dict[str, str]) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = (int(v) for v in re.findall(r"-?\d+", n["bounds"]))
    return x1, y1, x2, y2


def node(dev: VirtualDevice, rid: str) -> dict[str, str] | None:
    return next((n for n in dump(dev) if n["resource-id"] == f"{PKG}:id/{rid}"), None)


def scroller(dev: VirtualDevice) -> dict[str, str]:
    return next(n for n in dump(dev) if n["scrollable"] == "true")


def tap(dev: VirtualDevice, rid: str) -> None:
    n = node(dev, rid)
    assert n is not None, rid
    x1, y1, x2, y2 = bounds(n)
    dev.tap((x1 + x2) // 2, (y1 + y2) // 2)


def test_a_long_page_dumps_only_what_is_on_screen() -> None:
    dev = device()
    box = scroller(dev)
    assert box["class"] == "android.widget.ScrollView" and box["resource-id"] == f"{PKG}:id/content_frame"
    top, bottom = bounds(box)[1], bounds(box)[3]
    rows = [n for n in dump(dev) if re.fullmatch(rf"{PKG}:id/row_\d+", n["resource-id"])]
    assert 5 < len(rows) < 20 and node(dev, "btn_bottom") is None  # the rest is below the fold
    assert all(top <= bounds(r)[1] and bounds(r)[3] <= bottom for r in rows)
    cut = rows[-1]  # the last row shown is cut by the container's edge, as Android reports it
    assert (
        bounds(cut)[3] == bottom and bounds(cut)[3] - bounds(cut)[1] < bounds(rows[0])[3] - bounds(rows[0])[1]
    )


def test_a_slow_drag_follows_the_finger_a_fling_goes_further_the_ends_stop_it() -> None:
    dev = device()
    x = 540
    before = bounds(node(dev, "row_8"))[1]
    dev.swipe(x, 1600, x, 1100, 2000)  # 500 px in 2 s: 250 px/s
    moved = before - bounds(node(dev, "row_8"))[1]
    assert moved == 500 - SC.TOUCH_SLOP + SC.fling_distance(250)
    assert 0 < SC.fling_distance(250) < 10 < SC.fling_distance(5000)
    slow = SC.gesture_delta(500, 2000)
    assert SC.gesture_delta(500, 50) > 3 * slow  # the same length in 50 ms flings on
    dev.swipe(x, 1600, x, 300, 20)  # fling to the end
    assert node(dev, "btn_bottom") is not None and node(dev, "row_1") is None
    end = uixml.dump(dev.frame())
    dev.swipe(x, 1600, x, 300, 20)
    assert uixml.dump(dev.frame()) == end  # nothing past the end
    dev.swipe(x, 400, x, 2000, 20)
    first, again = bounds(node(dev, "row_1")), bounds(node(dev, "row_2"))
    assert first[1] == bounds(scroller(dev))[1] and first[3] == again[1]  # back at the top, row 1 whole


def test_a_drag_within_the_touch_slop_is_a_tap() -> None:
    dev = device()
    dev.swipe(540, 400, 540, 2000, 20)
    n = node(dev, "row_2")
    assert n is not None
    dev.swipe(540, 1700, 540, 300, 20)
    b = bounds(node(dev, "btn_bottom"))
    cx, cy = (b[0] + b[2]) // 2, (b[1] + b[3]) // 2
    dev.swipe(cx, cy, cx, cy - SC.TOUCH_SLOP + 2, 100)
    assert dev.foreground()[1].endswith("FormActivity")


def test_the_screenshot_shows_the_new_content_clipped_to_the_container() -> None:
    dev = device()
    a = np.asarray(Image.open(io.BytesIO(dev.observe().png)).convert("RGB"))
    dev.swipe(540, 1700, 540, 1000, 1500)
    b = np.asarray(Image.open(io.BytesIO(dev.observe().png)).convert("RGB"))
    top = bounds(scroller(dev))[1]
    assert (a[top:] != b[top:]).any()  # the rows moved
    assert (a[70:top] == b[70:top]).all()  # the toolbar is not drawn over (status bar clock aside)


def test_agree_waits_for_the_end_of_the_policy_body() -> None:
    dev = device()
    dev.swipe(540, 1700, 540, 300, 20)
    tap(dev, "btn_bottom")
    assert dev.toasts[-1][2] == "You reached the bottom"
    tap(dev, "btn_policy")
    body = scroller(dev)
    assert body["resource-id"] == "android:id/scrollView"
    assert node(dev, "btn_agree")["enabled"] == "false"
    msg = next(n for n in dump(dev) if n["resource-id"] == "android:id/message")
    assert bounds(msg)[3] == bounds(body)[3]  # the body is cut by its ScrollView, its words are whole
    assert msg["text"].endswith("backup only.")
    x1, y1, x2, y2 = bounds(body)
    for _ in range(10):
        if node(dev, "btn_agree")["enabled"] == "true":
            break
        dev.swipe((x1 + x2) // 2, y2 - 50, (x1 + x2) // 2, y1 + 50, 300)
    assert node(dev, "btn_agree")["enabled"] == "true"
    tap(dev, "btn_agree")
    assert node(dev, "btn_agree") is None


def test_agree_waits_for_the_tick_and_fields_take_focus_and_deletes() -> None:
    dev = device()
    dev.swipe(540, 1700, 540, 300, 20)
    tap(dev, "btn_bottom")
    tap(dev, "btn_tick")
    assert node(dev, "btn_yes")["enabled"] == "false"
    tap(dev, "cb_read")
    assert node(dev, "btn_yes")["enabled"] == "true"
    tap(dev, "btn_yes")
    assert node(dev, "et_name")["focused"] == "false"
    tap(dev, "et_name")
    assert node(dev, "et_name")["focused"] == "true"
    dev.type_text("Alexa")
    dev.delete_text(1)
    assert node(dev, "et_name")["text"] == "Alex"
    dev.clear_text()
    assert node(dev, "et_name")["text"] == "Your name"  # an empty field shows its hint


@pytest.mark.parametrize(
    "old, new, needle, field, words",
    [
        (
            "enabled_if: {checked: cb_read}",
            "enabled_if: {checked: cb_reed}",
            "cb_reed",
            "dialogs.tick.buttons[1].enabled_if.checked",
            "unknown checkbox",
        ),
        (
            "on_scroll_end: [{set: {policy_read: true}}]",
            "on_scroll_end: [{goto: nowhere}]",
            "goto: nowhere",
            "dialogs.policy.on_scroll_end[0].goto",
            "unknown screen",
        ),
        (
            "title: Long page",
            "title: Long page\n    scroll: grid",
            "scroll: grid",
            "screens.home.scroll",
            "grid",
        ),
        ("{toast: You reached the bottom}", "{toast: [1]}", "toast: [1]", ".on_tap[0].toast", "not of type"),
    ],
)
def test_model_errors_name_file_line_and_field(old, new, needle, field, words) -> None:
    assert old in TEXT
    bad = TEXT.replace(old, new, 1)
    with pytest.raises(AppModelError) as info:
        parse_app_model(bad, "x/app.yaml")
    prefix, path, rest = info.value.message.split(": ", 2)
    line = next(i for i, ln in enumerate(bad.splitlines(), 1) if needle in ln)
    assert prefix == f"x/app.yaml:{line}" and path.endswith(field) and words in rest, info.value.message


def test_a_list_activity_scrolls_as_its_list_view() -> None:
    rows = "\n".join(f"      - {{type: text, text: Demo {i}, on_tap: [{{goto: two}}]}}" for i in range(30))
    model = parse_app_model(
        "package: com.example.listdemo\nlabel: Demos\nscreens:\n"
        f"  one:\n    list: true\n    widgets:\n{rows}\n  two:\n    title: Two\n"
    )
    dev = VirtualDevice([model])
    dev.app_start("com.example.listdemo")
    box = scroller(dev)
    assert box["class"] == "android.widget.ListView" and box["resource-id"] == "android:id/list"
    assert "Demo 29" not in [n["text"] for n in dump(dev)]
    dev.swipe(540, 2000, 540, 300, 20)
    assert "Demo 29" in [n["text"] for n in dump(dev)]
