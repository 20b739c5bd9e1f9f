"""WebView pages and sideways strips on the virtual device: a WebView's page scrolls inside the view
(Chrome's tree dumped as a real phone dumps it, only what is on screen; a blind one in the pixels only),
its own on_scroll_end can enable an agree button, and a strip of chips moves with sideways drags only."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from sim_helpers import FIXTURES

from exerciser.sim import AppModelError, VirtualDevice, load_app_model, uixml
from exerciser.sim.appmodel import parse_app_model

PKG = "com.example.webstrip"
WEBVIEW = "android.webkit.WebView"


def device(screen: str = "") -> VirtualDevice:
    dev = VirtualDevice([load_app_model(FIXTURES / "webstrip.yaml")])
    dev.app_start(PKG)
    if screen:
        tap(dev, text=screen)
    return dev


def tree(dev: VirtualDevice) -> ET.Element:
    return ET.fromstring(uixml.dump(dev.frame()))


def bounds(n: ET.Element) -> tuple[int, int, int, int]:
    a, b = n.get("bounds", "")[1:-1].split("][")
    x1, y1 = (int(v) for v in a.split(","))
    x2, y2 = (int(v) for v in b.split(","))
    return x1, y1, x2, y2


def tap(dev: VirtualDevice, text: str) -> None:
    n = next(n for n in tree(dev).iter("node") if n.get("text") == text)
    x1, y1, x2, y2 = bounds(n)
    dev.tap((x1 + x2) // 2, (y1 + y2) // 2)


def texts(dev: VirtualDevice) -> list[str]:
    return [n.get("text", "") for n in tree(dev).iter("node") if n.get("text")]


def pixels(dev: VirtualDevice, box: tuple[int, int, int, int]) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(dev.observe().png)).convert("L").crop(box), dtype=np.int16)


def drag_up(dev: VirtualDevice, box: tuple[int, int, int, int], ms: int = 1500) -> None:
    x = (box[0] + box[2]) // 2
    dev.swipe(x, box[3] - 100, x, box[1] + 100, ms)


def test_a_webview_page_dumps_chromes_tree_of_what_is_on_screen_and_scrolls_to_its_end() -> None:
    dev = device("Policy")
    app_view = next(n for n in tree(dev).iter("node") if n.get("class") == WEBVIEW)
    doc = app_view[0]
    # as real dumps have it: the app's WebView (not scrollable) > the document (title, focused, scrolls)
    assert app_view.get("scrollable") == "false" and app_view.get("resource-id") == f"{PKG}:id/web"
    assert doc.get("class") == WEBVIEW and doc.get("text") == "Privacy Policy"
    assert (doc.get("scrollable"), doc.get("focused")) == ("true", "true")
    blocks = list(doc)
    assert blocks and all(b.get("class") == "android.view.View" for b in blocks)
    view = bounds(doc)
    assert all(view[1] <= bounds(b)[1] and bounds(b)[3] <= view[3] for b in blocks)
    assert "Block 15. Last block of the policy." not in texts(dev)  # below the fold: not dumped
    assert "Done" in texts(dev)  # the button after the WebView stays on screen (it takes what is left)
    for _ in range(10):
        drag_up(dev, view)
    seen = texts(dev)
    assert "Block 15. Last block of the policy." in seen and not any(t.startswith("Block 1.") for t in seen)
    before = uixml.dump(dev.frame())
    drag_up(dev, view, 50)  # at the end a fling moves nothing
    assert uixml.dump(dev.frame()) == before


def test_a_block_cut_by_the_edge_has_its_visible_bounds() -> None:
    dev = device("Policy")
    doc = next(n for n in tree(dev).iter("node") if n.get("scrollable") == "true")
    top = bounds(doc)[1]
    x = (bounds(doc)[0] + bounds(doc)[2]) // 2
    dev.swipe(x, 1500, x, 1440, 1500)  # 60 px drag, 22 px of slop: the first block moves up by 38 px
    first = next(n for n in tree(dev).iter("node") if n.get("scrollable") == "true")[0]
    assert first.get("text", "").startswith("Block 1.") and bounds(first)[1] == top


def test_a_blind_webview_scrolls_in_the_pixels_only() -> None:
    dev = device("Blind policy")
    web = next(n for n in tree(dev).iter("node") if n.get("class") == WEBVIEW)
    assert len(web) == 0 and web.get("text") == "" and web.get("scrollable") == "true"
    view = bounds(web)
    xml0, shot0 = uixml.dump(dev.frame()), pixels(dev, view)
    drag_up(dev, view)
    assert uixml.dump(dev.frame()) == xml0  # nothing in the hierarchy moved
    shot1 = pixels(dev, view)
    assert np.abs(shot1 - shot0).mean() > 2  # the page did
    for _ in range(10):
        drag_up(dev, view)
    end = pixels(dev, view)
    drag_up(dev, view)
    assert np.array_equal(pixels(dev, view), end)  # stopped at the end


@pytest.mark.parametrize(
    "opener, title, button", [("Consent", "Terms", "Agree"), ("Full terms", "Full terms", "I agree")]
)
def test_agree_waits_for_the_end_of_the_webview_policy(opener: str, title: str, button: str) -> None:
    """In a dialog card and in a full-screen dialog: the WebView takes what the window leaves it, the
    button stays on screen, disabled until the page is scrolled to its end."""
    dev = device(opener)
    agree = lambda: next(n for n in tree(dev).iter("node") if n.get("text") == button)  # noqa: E731
    assert agree().get("enabled") == "false" and bounds(agree())[3] <= dev.info.height - 126
    doc = next(n for n in tree(dev).iter("node") if n.get("scrollable") == "true")
    assert doc.get("class") == WEBVIEW and doc.get("text") == title
    for _ in range(12):
        if agree().get("enabled") == "true":
            break
        drag_up(dev, bounds(doc))
    assert agree().get("enabled") == "true"


def test_a_strip_scrolls_sideways_with_sideways_drags_only() -> None:
    dev = device()
    strip = next(n for n in tree(dev).iter("node") if n.get("class") == "android.widget.HorizontalScrollView")
    assert strip.get("scrollable") == "true" and strip.get("resource-id") == f"{PKG}:id/tabs"
    chips = list(strip[0])
    view = bounds(strip)
    assert chips[0].get("text") == "Recommended" and "Account settings" not in texts(dev)
    assert all(view[0] <= bounds(c)[0] and bounds(c)[2] <= view[2] for c in chips)
    assert bounds(chips[-1])[2] == view[2]  # the last one shown is cut by the edge
    y = (view[1] + view[3]) // 2
    before = uixml.dump(dev.frame())
    dev.swipe(540, y, 540, y + 400, 1500)  # a vertical drag on the strip does not move it
    assert uixml.dump(dev.frame()) == before
    shot = pixels(dev, view)
    dev.swipe(900, y, 500, y, 4000)  # a slow sideways drag (no fling): 400 px less the slop
    assert left(dev, "Local news") == bounds(chips[2])[0] - (400 - 22)
    assert np.abs(pixels(dev, view) - shot).mean() > 2
    dev.swipe(900, y, 500, y, 30)  # a fling goes on to the end
    assert "Account settings" in texts(dev)
    tap(dev, "Account settings")
    assert "Account page" in texts(dev)


def test_a_fling_moves_a_strip_further_than_a_drag() -> None:
    slow, fast = device(), device()
    y = bounds(next(n for n in tree(slow).iter("node") if n.get("scrollable") == "true"))[1] + 66
    slow.swipe(700, y, 500, y, 2000)
    fast.swipe(700, y, 500, y, 40)

    def first_whole(dev: VirtualDevice) -> int:
        """Index of the first chip shown whole: how far the strip has moved, in chips."""
        row = next(n for n in tree(dev).iter("node") if n.get("scrollable") == "true")[0]
        return min(int(c.get("resource-id", "")[-1]) for c in row if bounds(c)[0] > 0)

    assert first_whole(fast) > first_whole(slow) > first_whole(device())


def left(dev: VirtualDevice, text: str) -> int:
    return bounds(next(n for n in tree(dev).iter("node") if n.get("text") == text))[0]


BASE = (FIXTURES / "webstrip.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("{id: btn_done, type: button, text: Done}",
         "{id: btn_done, type: button, text: Done, paragraphs: [a]}", "paragraphs"),
        ("{id: btn_policy, type: button, text: Policy, on_tap: [{goto: policy}]}",
         "{id: btn_policy, type: tab, text: Policy, strip: tabs}", "strip"),
    ],
)  # fmt: skip
def test_model_errors_of_webview_and_strip_fields(old: str, new: str, field: str) -> None:
    assert old in BASE
    text = BASE.replace(old, new)
    line = text.splitlines().index(next(ln for ln in text.splitlines() if new in ln)) + 1
    with pytest.raises(AppModelError) as e:
        parse_app_model(text, "webstrip.yaml")
    assert f"webstrip.yaml:{line}" in str(e.value) and field in str(e.value)
