"""Virtual-device renderer: layout, pixels, `uiautomator dump` XML and hit tests on hand-built frames."""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from exerciser.sim import fonts
from exerciser.sim.render import LIGHT, PngEncoder, Renderer
from exerciser.sim.ui import Frame, Node, Window
from exerciser.sim.uixml import dump, escape

PKG = "com.example.render"
W, H = 1080, 2340
ATTR_ORDER = [
    "index",
    "text",
    "resource-id",
    "class",
    "package",
    "content-desc",
    "checkable",
    "checked",
    "clickable",
    "enabled",
    "focusable",
    "focused",
    "scrollable",
    "long-clickable",
    "password",
    "selected",
    "bounds",
]
CONSENT = (
    "在使用我们的产品及/或服务之前，请您先仔细阅读并了解《用户服务协议》和《个人信息处理规则》。"
    "如您点击“同意”即表示您已阅读并同意全部条款。"
)


# ---------------------------------------------------------------- frames


def tv(text: str, role: str = "text", **kw) -> Node:
    return Node(role, "android.widget.TextView", text=text, **kw)  # type: ignore[arg-type]


def btn(text: str, name: str, style: str = "", pkg: str = PKG) -> Node:
    return Node(
        "button",
        "android.widget.Button",
        text=text,
        resource_id=f"{pkg}:id/{name}",
        clickable=True,
        style=style,
        action=name,
    )


def activity(rows: int = 4, tabs: bool = True) -> Window:
    kids = [Node("toolbar", "android.view.ViewGroup", children=[tv("设置")])]
    kids += [
        Node(
            "list_item",
            "android.widget.LinearLayout",
            clickable=True,
            action=f"row{i}",
            children=[tv(f"选项 {i}")],
        )
        for i in range(rows)
    ]
    if tabs:
        kids.append(
            Node(
                "container",
                "android.widget.LinearLayout",
                children=[
                    Node("tab", "android.widget.FrameLayout", text=t, clickable=True)
                    for t in ("首页", "我的")
                ],
            )
        )
    return Window("activity", PKG, Node("container", "android.widget.FrameLayout", children=kids))


def consent(blind: bool = False, buttons: list[Node] | None = None) -> Window:
    body = [tv("温馨提示", "title"), tv(CONSENT, "message")]
    body += buttons if buttons is not None else [btn("不同意", "disagree"), btn("同意", "agree", "primary")]
    if blind:
        body = [Node("webview", "android.webkit.WebView", blind=True, children=body)]
    return Window(
        "dialog", PKG, Node("container", "android.widget.FrameLayout", children=body), dim_behind=True
    )


def grant_api28() -> Window:
    pi = "com.android.packageinstaller"
    root = Node(
        "container",
        "android.widget.LinearLayout",
        resource_id=f"{pi}:id/dialog_container",
        children=[
            Node(
                "container",
                "android.widget.LinearLayout",
                children=[
                    Node("icon", "android.widget.ImageView"),
                    tv("Allow Shop to access this device's location?", "message"),
                ],
            ),
            Node(
                "container",
                "android.widget.LinearLayout",
                resource_id=f"{pi}:id/button_group",
                children=[
                    btn("DENY", "permission_deny_button", "accent", pi),
                    btn("ALLOW", "permission_allow_button", "accent", pi),
                ],
            ),
        ],
    )
    return Window("system_dialog", pi, root, dim_behind=True)


def grant_api33() -> Window:
    pc = "com.android.permissioncontroller"
    kids = [
        Node("icon", "android.widget.ImageView"),
        tv("Allow Shop to access this device’s location?", "message"),
        btn("While using the app", "permission_allow_foreground_only_button", "tonal", pc),
        btn("Only this time", "permission_allow_one_time_button", "tonal", pc),
        btn("Don’t allow", "permission_deny_button", "tonal", pc),
    ]
    return Window(
        "system_dialog", pc, Node("container", "android.widget.FrameLayout", children=kids), dim_behind=True
    )


def frame(*wins: Window) -> Frame:
    return Frame(W, H, list(wins), clock_text="9:41")


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(W, H)


def by_action(f: Frame, action: str) -> Node:
    return next(n for n in f.top.root.walk() if n.action == action)


def centre(n: Node) -> tuple[int, int]:
    x1, y1, x2, y2 = n.bounds  # type: ignore[misc]
    return (x1 + x2) // 2, (y1 + y2) // 2


def decode(png: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(png))
    img.load()
    return img.convert("RGB")


def parse_bounds(s: str) -> tuple[int, ...]:
    return tuple(int(v) for v in re.findall(r"\d+", s))


# ---------------------------------------------------------------- XML


def test_dump_is_one_line_in_uiautomator_format(renderer: Renderer) -> None:
    xml = dump(frame(activity()))
    assert xml.startswith(
        "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\"><node "
    )
    assert xml.endswith("</node></hierarchy>") and "\n" not in xml
    root = ET.fromstring(xml)
    for node in root.iter("node"):
        assert list(node.attrib) == ATTR_ORDER
        assert node.get("package") == PKG
    first = root.find("node")
    assert first is not None and first.get("bounds") == "[0,0][1080,2340]"
    # Raw attribute order in the text too (ElementTree keeps it, but check the bytes once).
    assert re.search(
        r'<node index="0" text="" resource-id="" class="android.widget.FrameLayout" package=', xml
    )
    assert 'long-clickable="false" password="false" selected="false" bounds="[' in xml


def test_children_lie_inside_their_parent_and_indexes_count_siblings() -> None:
    for f in (frame(activity()), frame(activity(), consent()), frame(activity(), grant_api28())):
        root = ET.fromstring(dump(f))
        for parent in root.iter("node"):
            px1, py1, px2, py2 = parse_bounds(parent.get("bounds", ""))
            for i, child in enumerate(parent.findall("node")):
                x1, y1, x2, y2 = parse_bounds(child.get("bounds", ""))
                assert px1 <= x1 < x2 <= px2 and py1 <= y1 < y2 <= py2, (parent.attrib, child.attrib)
                assert child.get("index") == str(i)


def test_dialog_dump_shows_only_the_top_window_rooted_at_its_card() -> None:
    f = frame(activity(), consent())
    root = ET.fromstring(dump(f))
    texts = [n.get("text") for n in root.iter("node")]
    assert "温馨提示" in texts and "设置" not in texts
    card = parse_bounds(root[0].get("bounds", ""))
    assert card[0] > 0 and card[2] < W and card[1] > 0 and card[3] < H
    assert card[2] - card[0] == pytest.approx(0.85 * W, abs=4)


def test_windows_sit_under_the_framework_decor() -> None:
    """As on a phone: DecorView > LinearLayout > android:id/content > the layout, then the bar
    backgrounds; a dialog window's decor is its card."""
    root = ET.fromstring(dump(frame(activity())))
    decor = root[0]
    assert [c.get("resource-id") for c in decor] == [
        "",
        "android:id/statusBarBackground",
        "android:id/navigationBarBackground",
    ]
    assert decor[0].get("class") == "android.widget.LinearLayout"
    assert decor[0][0].get("resource-id") == "android:id/content"
    assert decor[1].get("bounds") == "[0,0][1080,63]" and decor[2].get("bounds") == "[0,2214][1080,2340]"
    dialog = ET.fromstring(dump(frame(activity(), consent())))[0]
    assert len(dialog) == 1 and dialog[0][0].get("resource-id") == "android:id/content"
    assert dialog.get("bounds") == dialog[0][0].get("bounds") == dialog[0][0][0].get("bounds")


def test_blind_node_hides_text_and_children_but_keeps_the_pixels(renderer: Renderer) -> None:
    blind, plain = frame(activity(), consent(blind=True)), frame(activity(), consent())
    root = ET.fromstring(dump(blind))
    web = [n for n in root.iter("node") if n.get("class") == "android.webkit.WebView"]
    assert (
        len(web) == 1 and web[0].get("text") == "" and web[0].get("content-desc") == "" and len(web[0]) == 0
    )
    assert all(not n.get("text") for n in root.iter("node"))
    # The words are still painted: the dialog pixels equal those of the same dialog with a real tree.
    a, b = decode(renderer.png(blind)), decode(renderer.png(plain))
    card = blind.top.root.bounds
    assert card == plain.top.root.bounds
    assert np.array_equal(np.asarray(a.crop(card)), np.asarray(b.crop(card)))


def test_escaping_follows_kxmlserializer() -> None:
    assert escape("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape("Don't\nallow\t") == "Don't&#10;allow&#9;"
    assert escape("say 'hi'", "'") == "say &apos;hi&apos;"
    assert escape("🙂") == "&#128578;"
    win = Window(
        "activity", PKG, Node("container", "android.widget.FrameLayout", children=[tv('Tap "Agree" & go')])
    )
    xml = dump(frame(win))
    assert "text='Tap \"Agree\" &amp; go'" in xml  # a value holding " is quoted with '
    assert [n.get("text") for n in ET.fromstring(xml).iter("node") if n.get("text")] == ['Tap "Agree" & go']


def test_naf_marks_clickable_nodes_without_any_label() -> None:
    bare = Node("container", "android.widget.FrameLayout", clickable=True)
    labelled = Node("container", "android.widget.LinearLayout", clickable=True, children=[tv("ok")])
    sized = Node("image", "android.widget.ImageView", clickable=True)
    win = Window(
        "activity", PKG, Node("container", "android.widget.FrameLayout", children=[sized, labelled, bare])
    )
    xml = dump(frame(win))
    assert xml.count('NAF="true"') == 1
    assert '<node NAF="true" index="0" text="" resource-id="" class="android.widget.ImageView"' in xml


def test_offscreen_rows_are_not_dumped_and_not_hittable(renderer: Renderer) -> None:
    f = frame(activity(rows=30))
    root = ET.fromstring(dump(f))
    shown = [n.get("text") for n in root.iter("node") if (n.get("text") or "").startswith("选项")]
    assert "选项 0" in shown and "选项 29" not in shown
    content_bottom = H - f.nav_bar_height - 176
    for n in f.top.root.walk():
        if n.role == "list_item" and n.bounds[3] > n.bounds[1]:  # type: ignore[index]
            assert n.bounds[3] <= content_bottom  # type: ignore[index]


# ---------------------------------------------------------------- layout


def test_layout_is_idempotent_and_fills_every_node(renderer: Renderer) -> None:
    f = frame(activity(), consent())
    renderer.layout(f)
    first = [n.bounds for w in f.windows for n in w.root.walk()]
    renderer.layout(f)
    assert first == [n.bounds for w in f.windows for n in w.root.walk()]
    assert all(b is not None for b in first)


def test_activity_bars_toolbar_top_tabs_bottom(renderer: Renderer) -> None:
    f = frame(activity())
    renderer.layout(f)
    toolbar = next(n for n in f.top.root.walk() if n.role == "toolbar")
    tabs = [n for n in f.top.root.walk() if n.role == "tab"]
    assert toolbar.bounds[1] == f.status_bar_height  # type: ignore[index]
    assert all(t.bounds[3] == H - f.nav_bar_height for t in tabs)  # type: ignore[index]
    assert tabs[0].bounds[2] <= tabs[1].bounds[0]  # type: ignore[index]
    rows = [n for n in f.top.root.walk() if n.role == "list_item"]
    assert all(a.bounds[3] <= b.bounds[1] for a, b in zip(rows, rows[1:], strict=False))  # type: ignore[index]
    holder = f.top.root.children[-1]
    assert holder.bounds == (0, tabs[0].bounds[1], W, H - f.nav_bar_height)  # type: ignore[index]


def test_permission_buttons_side_by_side_in_button_group_else_stacked(renderer: Renderer) -> None:
    old = frame(activity(), grant_api28())
    renderer.layout(old)
    deny, allow = by_action(old, "permission_deny_button"), by_action(old, "permission_allow_button")
    assert deny.bounds[1] == allow.bounds[1] and deny.bounds[2] <= allow.bounds[0]  # type: ignore[index]
    assert allow.bounds[2] == old.top.root.bounds[2] - 66  # right-aligned in the card  # type: ignore[index]
    new = frame(activity(), grant_api33())
    renderer.layout(new)
    names = [
        "permission_allow_foreground_only_button",
        "permission_allow_one_time_button",
        "permission_deny_button",
    ]
    bs = [by_action(new, a).bounds for a in names]
    assert len({b[0] for b in bs}) == 1 and len({b[2] for b in bs}) == 1  # type: ignore[index]
    assert bs[0][3] <= bs[1][1] and bs[1][3] <= bs[2][1]  # type: ignore[index]


def test_app_dialog_two_buttons_in_a_row_three_stacked(renderer: Renderer) -> None:
    two = frame(activity(), consent())
    renderer.layout(two)
    a, b = by_action(two, "disagree"), by_action(two, "agree")
    assert a.bounds[1] == b.bounds[1] and a.bounds[2] < b.bounds[0]  # type: ignore[index]
    three = frame(
        activity(), consent(buttons=[btn("同意", "a", "primary"), btn("不同意", "b"), btn("退出", "c")])
    )
    renderer.layout(three)
    ys = [by_action(three, k).bounds[1] for k in "abc"]  # type: ignore[index]
    assert ys == sorted(ys) and len(set(ys)) == 3


def test_long_dialog_text_is_cut_to_fit_the_screen(renderer: Renderer) -> None:
    f = frame(activity(), consent(buttons=[btn("同意", "agree", "primary")]))
    f.top.root.children[1].text = CONSENT * 12
    renderer.layout(f)
    card = f.top.root.bounds
    assert card[1] >= f.status_bar_height and card[3] <= H - f.nav_bar_height  # type: ignore[index]
    assert by_action(f, "agree").bounds[3] <= card[3]  # type: ignore[index]


def test_wrapping_cjk_per_character_latin_per_word() -> None:
    latin = fonts.wrap("Allow Shop to access this device's location?", 500, 44)
    assert len(latin) > 1 and all(fonts.text_width(ln, 44) <= 500 for ln in latin)
    assert " ".join(latin) == "Allow Shop to access this device's location?"
    cjk = fonts.wrap(CONSENT, 700, 44)
    assert "".join(cjk) == CONSENT and all(fonts.text_width(ln, 44) <= 700 for ln in cjk)
    assert not any(ln[0] in "，。》”" for ln in cjk)  # closing punctuation never starts a line


# ---------------------------------------------------------------- hit test


def test_hit_test_finds_the_button_and_ignores_the_backdrop(renderer: Renderer) -> None:
    for blind in (False, True):
        f = frame(activity(), consent(blind=blind))
        renderer.layout(f)
        agree = by_action(f, "agree")
        assert renderer.hit_test(f, *centre(agree)) is agree
        assert renderer.hit_test(f, 20, H // 2) is None  # dimmed backdrop
        title = next(n for n in f.top.root.walk() if n.role == "title")
        assert renderer.hit_test(f, *centre(title)) is None  # inside the card, nothing clickable
    f = frame(activity())
    renderer.layout(f)
    row = by_action(f, "row2")
    assert renderer.hit_test(f, *centre(row)) is row  # the clickable row, not its label


# ---------------------------------------------------------------- pixels


def test_png_is_a_full_screen_image(renderer: Renderer) -> None:
    img = decode(renderer.png(frame(activity())))
    assert img.size == (W, H)


def test_scrim_darkens_what_lies_behind_a_dialog(renderer: Renderer) -> None:
    base = np.asarray(decode(renderer.png(frame(activity()))), dtype=float)
    dimmed = np.asarray(decode(renderer.png(frame(activity(), consent()))), dtype=float)
    spot = (slice(400, 500), slice(10, 60))  # a patch of the activity left of the card
    assert base[spot].mean() > 200
    assert dimmed[spot].mean() == pytest.approx(base[spot].mean() * 0.45, abs=3)


def test_primary_button_is_white_text_on_accent(renderer: Renderer) -> None:
    f = frame(activity(), consent())
    img = np.asarray(decode(renderer.png(f)))
    x1, y1, x2, y2 = by_action(f, "agree").bounds  # type: ignore[misc]
    patch = img[y1 + 20 : y2 - 20, x1 + 40 : x2 - 40].reshape(-1, 3).astype(int)
    accent = np.array([int(LIGHT.primary[i : i + 2], 16) for i in (1, 3, 5)])
    on_accent = (np.abs(patch - accent).sum(axis=1) < 30).mean()
    white = (patch.min(axis=1) > 235).mean()
    assert on_accent > 0.6 and white > 0.02


def test_text_pixels_lie_inside_the_text_bounds(renderer: Renderer) -> None:
    f = frame(activity(), consent(buttons=[]))
    f.top.root.children[1].text = CONSENT + " Tap “Agree” to go on, typing jpg"  # descenders too
    img = np.asarray(decode(renderer.png(f)).convert("L"))
    cx1, cy1, cx2, cy2 = f.top.root.bounds  # type: ignore[misc]
    cx1, cy1, cx2, cy2 = cx1 + 50, cy1 + 50, cx2 - 50, cy2 - 50  # inside the rounded corners
    ys, xs = np.nonzero(img[cy1:cy2, cx1:cx2] < 128)  # ink on the white card
    ys, xs = ys + cy1, xs + cx1
    boxes = [n.bounds for n in f.top.root.children]
    inside = np.zeros(len(xs), bool)
    for x1, y1, x2, y2 in boxes:  # type: ignore[misc]
        inside |= (xs >= x1) & (xs < x2) & (ys >= y1) & (ys < y2)
    assert len(xs) > 1000 and inside.all()


def test_curly_quotes_are_narrow_as_android_draws_them(renderer: Renderer) -> None:
    """Roboto on a phone, not the full-width CJK forms: "Don’t allow" is as wide as "Don't allow"."""
    assert abs(fonts.text_width("Don’t allow", 44) - fonts.text_width("Don't allow", 44)) <= 4
    assert fonts.text_width("“同意”", 44) < fonts.text_width("同意同意", 44)
    win = Window(
        "activity", PKG, Node("container", "android.widget.FrameLayout", children=[tv("Don’t “allow”")])
    )
    f = frame(win)
    img = np.asarray(decode(renderer.png(f)).convert("L"))
    x1, y1, x2, y2 = f.top.root.children[0].bounds  # type: ignore[misc]
    xs = np.nonzero((img[y1:y2] < 128).any(axis=0))[0]
    assert x1 <= xs.min() and xs.max() < x2 and xs.max() - xs.min() > 0.8 * (x2 - x1)  # ink spans the box


def test_png_encoder_splices_unchanged_bands_exactly() -> None:
    enc = PngEncoder()
    a = Image.new("RGB", (W, H), "#ffffff")
    b = a.copy()
    b.paste((200, 10, 10), (100, 1000, 300, 1100))
    for img in (a, b, a):  # second and third encodes reuse bands of the previous one
        assert np.array_equal(np.asarray(decode(enc.encode(img))), np.asarray(img))


def test_clock_change_repaints_only_the_status_bar(renderer: Renderer) -> None:
    f = frame(activity())
    one = np.asarray(decode(renderer.png(f)))
    f.clock_text = "23:58"
    two = np.asarray(decode(renderer.png(f)))
    rows = np.nonzero((one != two).any(axis=(1, 2)))[0]
    assert rows.size and rows.max() < f.status_bar_height


# ---------------------------------------------------------------- OCR (real tesseract)


def _ocr(img: Image.Image) -> str:
    pytesseract = pytest.importorskip("pytesseract")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    return pytesseract.image_to_string(img, lang="chi_sim+eng", config="--psm 7").replace(" ", "").strip()


def test_ocr_reads_white_on_accent_primary_button(renderer: Renderer) -> None:
    f = frame(activity(), consent(blind=True))
    img = decode(renderer.png(f))
    assert "同意" in _ocr(img.crop(by_action(f, "agree").bounds))


def test_ocr_reads_system_dialog_text_button(renderer: Renderer) -> None:
    f = frame(activity(), grant_api28())
    img = decode(renderer.png(f))
    assert "ALLOW" in _ocr(img.crop(by_action(f, "permission_allow_button").bounds)).upper()


@pytest.mark.skipif(fonts.symbol_font(44) is None, reason="DejaVu Sans not installed (fonts-dejavu-core)")
def test_symbols_the_cjk_faces_lack_are_drawn_not_boxed() -> None:
    """✗ ✕ ✔ ⋮ ☰ are missing from Noto Sans CJK (an empty box); they come from the symbol font, as on a
    phone, while letters, CJK and the curly quotes keep their faces."""
    box = np.asarray(fonts.font(44).getmask("\uffff"))
    for ch in "✗✕✔⋮☰":
        assert fonts.face_of(ch) == fonts.SYMBOL
        (_, f), *_ = fonts.runs(ch, 44)
        assert not np.array_equal(np.asarray(f.getmask(ch)), box), ch
    assert [fonts.face_of(c) for c in "a中×‘"] == [fonts.SC_INDEX] * 3 + [fonts.JP_INDEX]
    runs = fonts.runs("关闭 ✗", 44)
    assert [t for t, _ in runs] == ["关闭 ", "✗"]
    assert fonts.text_width("✗", 44) == round(fonts.symbol_font(44).getlength("✗"))
