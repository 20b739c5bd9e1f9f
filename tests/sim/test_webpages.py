"""H5 pages in the virtual device: links of a WebView page (Chrome's tree: clickable android.view.View;
blind: only painted), `load` navigating inside the WebView with a back/forward list, and model errors
about pages named at file:line."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from exerciser.device.contract import Key
from exerciser.sim import VirtualDevice
from exerciser.sim.appmodel import AppModelError, parse_app_model

TEXT = """\
package: com.example.h5
label: H5 Test
screens:
  home:
    title: Home
    widgets:
      - {id: row_help, type: list_item, text: Help, on_tap: [{goto: help}]}
  help:
    title: Help
    activity: .web.HelpActivity
    widgets:
      - {id: web, type: webview, blind: false, page: start}
  native:
    title: Native page
pages:
  start:
    title: Help Centre
    paragraphs:
      - Popular questions
      - {text: Delete account, on_tap: [{load: notice}]}
  notice:
    title: Before you delete
    paragraphs:
      - Your data is erased.
      - {text: Continue, on_tap: [{goto: native}]}
"""


def _dev(text: str = TEXT) -> VirtualDevice:
    dev = VirtualDevice([parse_app_model(text, "x/app.yaml")])
    dev.app_start("com.example.h5")
    return dev


def _nodes(dev: VirtualDevice) -> list[dict[str, str]]:
    return [dict(n.attrib) for n in ET.fromstring(dev.observe().xml.encode()).iter("node")]


def _tap_text(dev: VirtualDevice, text: str) -> None:
    node = next(n for n in _nodes(dev) if n.get("text") == text)
    x1, y1, x2, y2 = (int(v) for v in re.findall(r"\d+", node["bounds"]))
    dev.tap((x1 + x2) // 2, (y1 + y2) // 2)


def test_links_are_clickable_views_and_load_navigates_with_history() -> None:
    dev = _dev()
    _tap_text(dev, "Help")
    nodes = _nodes(dev)
    link = next(n for n in nodes if n.get("text") == "Delete account")
    para = next(n for n in nodes if n.get("text") == "Popular questions")
    assert (
        link["class"] == "android.view.View" and link["clickable"] == "true" and link["focusable"] == "true"
    )
    assert para["clickable"] == "false"
    doc = [n for n in nodes if n["class"] == "android.webkit.WebView" and n.get("text")]
    assert [n["text"] for n in doc] == ["Help Centre"]  # the document node reports the page's <title>
    activity = dev.observe().activity
    _tap_text(dev, "Delete account")
    texts = [n.get("text") for n in _nodes(dev)]
    assert "Before you delete" in texts and "Popular questions" not in texts
    assert dev.observe().activity == activity  # same activity: the WebView navigated
    dev.key(Key.BACK)
    assert "Popular questions" in [n.get("text") for n in _nodes(dev)]  # back: the page before
    _tap_text(dev, "Delete account")
    _tap_text(dev, "Continue")
    assert dev.observe().activity.endswith(".NativeActivity")
    dev.key(Key.BACK)
    assert "Before you delete" in [n.get("text") for n in _nodes(dev)]  # the WebView kept its history
    dev.key(Key.BACK)
    dev.key(Key.BACK)
    assert dev.observe().activity.endswith(".HomeActivity")


def test_a_blind_webview_paints_its_links_and_still_follows_them() -> None:
    dev = _dev(TEXT.replace("type: webview, blind: false", "type: webview"))
    _tap_text(dev, "Help")
    web = [n for n in _nodes(dev) if n["class"] == "android.webkit.WebView"]
    assert len(web) == 1 and not web[0].get("text")  # the WebView alone: no tree
    before = dev.observe().png
    # the link's painted place is where Chrome's tree would put it
    tree = _dev()
    _tap_text(tree, "Help")
    node = next(n for n in _nodes(tree) if n.get("text") == "Delete account")
    x1, y1, x2, y2 = (int(v) for v in re.findall(r"\d+", node["bounds"]))
    dev.tap((x1 + x2) // 2, (y1 + y2) // 2)
    assert dev.observe().png != before
    assert dev.observe().activity.endswith(".web.HelpActivity")


@pytest.mark.parametrize(
    "old, new, needle, field",
    [
        ("{load: notice}", "{load: notise}", "load: notise", "pages.start.paragraphs[1].on_tap[0].load"),
        ("page: start}", "page: strat}", "page: strat", "screens.help.widgets[0].page"),
        ("{goto: native}", "{goto: nativ}", "goto: nativ", "pages.notice.paragraphs[1].on_tap[0].goto"),
    ],
)
def test_page_errors_name_file_line_and_field(old: str, new: str, needle: str, field: str) -> None:
    bad = TEXT.replace(old, new, 1)
    with pytest.raises(AppModelError) as info:
        parse_app_model(bad, "x/app.yaml")
    prefix, path, rest = info.value.message.split(": ", 2)
    line = next(i for i, ln in enumerate(bad.splitlines(), 1) if needle in ln)
    assert prefix == f"x/app.yaml:{line}" and path == field, info.value.message
    assert "unknown" in rest
