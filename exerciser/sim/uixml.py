"""`uiautomator dump` XML of the virtual device, byte for byte as a real device writes it.

Mirrors AOSP `cmds/uiautomator` `AccessibilityNodeInfoDumper` serialised by libcore's `KXmlSerializer`:
one line, no indentation, attributes in the dumper's order, `NAF="true"` first on clickable nodes without
text or description (none in their subtree either), childless nodes closed with ` />`, invisible
(zero-area) nodes skipped while sibling indexes keep counting. Only the top (active) window is dumped.
Blind nodes show their own attributes with empty text and content-desc, and no children.

The window's own views sit under the framework's decor, as in dumps from phones: DecorView
(FrameLayout) > LinearLayout > FrameLayout `android:id/content` > the window's layout (a Material
bottom sheet adds `<pkg>:id/design_bottom_sheet`); an activity has the `android:id/statusBarBackground`
and `navigationBarBackground` Views after it. The decor has the bounds of the window's root.
"""

from __future__ import annotations

from exerciser.sim.layout import layout_frame
from exerciser.sim.ui import Frame, Node, Window

HEADER = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
FRAME = "android.widget.FrameLayout"
LINEAR = "android.widget.LinearLayout"
VIEW = "android.view.View"
_NAF_EXCLUDED = (
    "android.widget.GridView",
    "android.widget.GridLayout",
    "android.widget.ListView",
    "android.widget.TableLayout",
)


def dump(frame: Frame) -> str:
    """The hierarchy of the top window, as `adb shell uiautomator dump` writes it."""
    layout_frame(frame)
    win = frame.top
    out: list[str] = [HEADER, '<hierarchy rotation="0">']
    _node(out, decor(frame, win), 0, win.package, frame.width, frame.height)
    out.append("</hierarchy>")
    return "".join(out)


def dump_u2(frame: Frame, api_level: int = 33) -> str:
    """The hierarchy as uiautomator2's on-device server writes it (`dumpWindowHierarchy`): every window
    the user sees, the active one first (a dialog, then the activity dimmed behind it), indented, with the
    attributes `visible-to-user`, `drawing-order` (API 24+), `hint` (26+) and `display-id` (30+) after
    `bounds`. Source: openatx/android-uiautomator-server AccessibilityNodeInfoDumper.dumpWindowHierarchy
    (getWindowRoots: the active root plus every window's root; XmlSerializer with indent-output)."""
    layout_frame(frame)
    wins = [frame.top]
    if frame.top.kind in DIALOG_WINDOWS:  # the windows behind a dialog stay on screen, down to a full one
        for win in reversed(frame.windows[:-1]):
            wins.append(win)
            if win.kind not in DIALOG_WINDOWS:
                break
    out: list[str] = [HEADER, '\n<hierarchy rotation="0">']
    for win in wins:
        _node(out, decor(frame, win), 0, win.package, frame.width, frame.height, u2=(api_level, 1))
    out.append("\n</hierarchy>")
    return "".join(out)


DIALOG_WINDOWS = ("dialog", "system_dialog", "bottom_sheet")


def decor(frame: Frame, win: Window) -> Node:
    """The window root wrapped in the framework's decor views (laid-out nodes, bounds filled).

    PhoneWindow's screen_simple layout: DecorView > LinearLayout > FrameLayout android:id/content, for
    activities and (title-less) dialog windows alike."""
    b = win.root.bounds or (0, 0, frame.width, frame.height)

    def wrap(child: Node, rid: str = "", cls: str = FRAME) -> Node:
        return Node("container", cls, resource_id=rid, children=[child], bounds=b)

    inner = win.root
    if win.kind == "bottom_sheet":  # Material BottomSheetDialog
        inner = wrap(inner, f"{win.package}:id/design_bottom_sheet")
    kids = [wrap(wrap(inner, "android:id/content"), cls=LINEAR)]
    if win.kind == "activity":  # opaque system bars; the launcher and dialogs draw none
        w, h = frame.width, frame.height
        for rid, bar in (
            ("android:id/statusBarBackground", (0, 0, w, frame.status_bar_height)),
            ("android:id/navigationBarBackground", (0, h - frame.nav_bar_height, w, h)),
        ):
            kids.append(Node("container", VIEW, resource_id=rid, bounds=bar))
    return Node("container", FRAME, children=kids, bounds=b)


def _visible(node: Node) -> bool:
    b = node.bounds
    return b is not None and b[2] > b[0] and b[3] > b[1]


def _node(
    out: list[str],
    node: Node,
    index: int,
    package: str,
    w: int,
    h: int,
    u2: tuple[int, int] | None = None,  # (API level, depth) for uiautomator2's form
) -> None:
    blind = node.blind
    text = "" if blind else node.text
    desc = "" if blind else node.content_desc
    attrs: list[tuple[str, str]] = []
    if _is_naf(node, text, desc):
        attrs.append(("NAF", "true"))
    attrs += [
        ("index", str(index)),
        ("text", text),
        ("resource-id", node.resource_id),
        ("class", node.cls),
        ("package", package),
        ("content-desc", desc),
        ("checkable", _b(node.checkable)),
        ("checked", _b(node.checked)),
        ("clickable", _b(node.clickable)),
        ("enabled", _b(node.enabled)),
        ("focusable", _b(node.focusable)),
        ("focused", _b(node.focused)),
        ("scrollable", _b(node.scrollable)),
        ("long-clickable", "false"),
        ("password", _b(node.password)),
        ("selected", _b(node.selected)),
        ("bounds", _bounds(node, w, h)),
    ]
    if u2 is not None:
        api, depth = u2
        attrs.insert(-1, ("visible-to-user", "true"))  # invisible children are not dumped
        if api >= 24:  # a child's place in its parent's drawing order; 0 for a window root
            attrs.append(("drawing-order", str(index + 1 if depth > 1 else 0)))
        if api >= 26:
            # an empty EditText reports its hint as text too (TextView shows the hint); the sim's inputs
            # hold their placeholder as text
            attrs.append(("hint", text if node.cls.endswith("EditText") else ""))
        if api >= 30:
            attrs.append(("display-id", "0"))
        out.append("\n" + "  " * depth)
    out.append("<node")
    for name, value in attrs:
        out.append(_attribute(name, value))
    children = [] if blind else [(i, c) for i, c in enumerate(node.children) if _visible(c)]
    if not children:
        out.append(" />")
        return
    out.append(">")
    for i, c in children:
        _node(out, c, i, package, w, h, None if u2 is None else (u2[0], u2[1] + 1))
    if u2 is not None:
        out.append("\n" + "  " * u2[1])
    out.append("</node>")


def _b(v: bool) -> str:
    return "true" if v else "false"


def _bounds(node: Node, w: int, h: int) -> str:
    x1, y1, x2, y2 = node.bounds or (0, 0, 0, 0)
    # AccessibilityNodeInfoHelper.getVisibleBoundsInScreen: clipped to the display.
    x1, y1 = min(max(x1, 0), w), min(max(y1, 0), h)
    x2, y2 = min(max(x2, 0), w), min(max(y2, 0), h)
    return f"[{x1},{y1}][{x2},{y2}]"


def _is_naf(node: Node, text: str, desc: str) -> bool:
    """Clickable and enabled, with no text or description on it or anywhere below (as the dump sees it)."""
    if not (node.clickable and node.enabled) or text or desc:
        return False
    if node.cls.endswith(_NAF_EXCLUDED):
        return False
    return not (not node.blind and _subtree_has_label(node))


def _subtree_has_label(node: Node) -> bool:
    for c in node.children:
        if (c.text or c.content_desc) and not c.blind:
            return True
        if not c.blind and _subtree_has_label(c):
            return True
    return False


# ---------------------------------------------------------------- KXmlSerializer escaping


def _attribute(name: str, value: str) -> str:
    # KXmlSerializer quotes with " unless the value holds one, then with '.
    q = "'" if '"' in value else '"'
    return f" {name}={q}{escape(_strip_invalid(value), q)}{q}"


def _strip_invalid(s: str) -> str:
    """The dumper's stripInvalidXMLChars: control and non-characters become '.'."""
    if s.isprintable() and s.isascii():
        return s
    return "".join("." if _invalid(ord(ch)) else ch for ch in s)


def _invalid(o: int) -> bool:
    return (
        o <= 0x8
        or 0xB <= o <= 0xC
        or 0xE <= o <= 0x1F
        or 0x7F <= o <= 0x84
        or 0x86 <= o <= 0x9F
        or 0xFDD0 <= o <= 0xFDDF
    )


_ESC = {"&": "&amp;", ">": "&gt;", "<": "&lt;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def escape(s: str, quot: str = '"') -> str:
    """KXmlSerializer.writeEscaped for an attribute value quoted with `quot` (UTF-8 output)."""
    if not any(ch in _ESC or ch == quot or ord(ch) > 0xFFFF for ch in s):
        return s
    out: list[str] = []
    for ch in s:
        if ch in _ESC:
            out.append(_ESC[ch])
        elif ch == quot:
            out.append("&quot;" if quot == '"' else "&apos;")
        elif ord(ch) > 0xFFFF:  # a surrogate pair in Java: written as one character reference
            out.append(f"&#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)
