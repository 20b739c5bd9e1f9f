"""Parses a `uiautomator dump` XML into elements with bounds, clickability and index paths.

Keeps the nodes that matter for reading and tapping: labelled ones, clickable/checkable/scrollable ones and
blind surfaces (WebView, Flutter, Unity, SurfaceView: words painted, not in the tree). A clickable container
gets the texts of its non-clickable descendants as `inner_text` (a settings row is a clickable LinearLayout
around two TextViews), and every kept node knows which clickable element a tap on it reaches (`owner`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from lxml import etree

from exerciser import knowledge
from exerciser.perceive.reading import Bounds, Element
from exerciser.perceive.text import normalise

_VIEWS = knowledge.load("android/view_signatures.yaml")
# Views whose words are painted, not in the tree; dialog / sheet cards and their parts (see the YAML).
BLIND_CLASS_SUFFIXES = tuple(_VIEWS["blind_class_suffixes"])
DIALOG_IDS = frozenset(_VIEWS["dialog_ids"])
DIALOG_PART_IDS = frozenset(_VIEWS["dialog_part_ids"])
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=True)


class HierarchyError(ValueError):
    """The text is not a uiautomator dump."""


@dataclass
class Tree:
    elements: list[Element]
    owner: list[int]  # per element: index of the clickable element a tap on it reaches, -1 for none
    packages: list[str]  # packages of the window roots, bottom to top
    roots: list[Bounds]  # bounds of the window roots
    screen: tuple[int, int]
    dialog_bounds: Bounds | None = None
    blind_regions: list[Bounds] = field(default_factory=list)  # painted surfaces without text nodes
    has_text: bool = False  # any label at all

    @property
    def package(self) -> str:
        return self.packages[-1] if self.packages else ""


def parse_bounds(s: str) -> Bounds:
    # "[x1,y1][x2,y2]"
    try:
        a, b = s[1:-1].split("][")
        x1, y1 = a.split(",")
        x2, y2 = b.split(",")
        return int(x1), int(y1), int(x2), int(y2)
    except (ValueError, AttributeError):
        return 0, 0, 0, 0


def png_size(png: bytes) -> tuple[int, int] | None:
    """Width and height from the PNG header, without decoding."""
    if len(png) >= 24 and png[:8] == b"\x89PNG\r\n\x1a\n":
        w, h = struct.unpack(">II", png[16:24])
        return int(w), int(h)
    return None


def _area(b: Bounds) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _id_name(rid: str) -> str:
    return rid.rsplit(":id/", 1)[-1] if rid else ""


def parse(xml: str | bytes, screen: tuple[int, int] | None = None) -> Tree:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    data = data.strip()
    if not data:
        return Tree([], [], [], [], screen or (0, 0))
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise HierarchyError(f"not a uiautomator dump: {exc}") from None
    if root.tag == "node":  # a bare node dump
        tops = [root]
    elif root.tag == "hierarchy":
        windows = [n for n in root if n.tag == "node"]
        if (screen is None or screen == (0, 0)) and len(windows) > 1:  # the extent of all windows
            ext = [parse_bounds(n.get("bounds", "")) for n in windows]
            screen = (max(b[2] for b in ext), max(b[3] for b in ext))
        tops = _top_window(windows, screen)
    else:
        raise HierarchyError(f"not a uiautomator dump: root element <{root.tag}>")

    elements: list[Element] = []
    owner: list[int] = []
    inner: dict[int, list[str]] = {}
    packages: list[str] = []
    roots: list[Bounds] = []
    blind_nodes: list[tuple[Bounds, int]] = []  # (bounds, number of labels before it)
    dialog_bounds: Bounds | None = None
    part_path: str | None = None  # index path of the first dialog part (title, button bar)
    node_bounds: dict[str, Bounds] = {}
    labels_seen = 0
    label_count_at: list[int] = []

    # Iterative walk: (node, index_path, owner index of the nearest clickable ancestor)
    stack: list[tuple[etree._Element, str, int]] = [
        (n, str(i), -1) for i, n in reversed(list(enumerate(tops)))
    ]
    top_ids = {id(n) for n in tops}
    while stack:
        node, path, anc = stack.pop()
        a = node.attrib
        if a.get("visible-to-user") == "false":
            continue  # uiautomator2 marks nodes scrolled or covered out of sight
        b = parse_bounds(a.get("bounds", ""))
        cls = a.get("class", "")
        rid = a.get("resource-id", "")
        pkg = a.get("package", "")
        if id(node) in top_ids:
            packages.append(pkg)
            roots.append(b)
        text = normalise(a.get("text", "")) if a.get("text") else ""
        desc = normalise(a.get("content-desc", "")) if a.get("content-desc") else ""
        clickable = a.get("clickable") == "true" or a.get("long-clickable") == "true"
        checkable = a.get("checkable") == "true"
        scrollable = a.get("scrollable") == "true"
        name = _id_name(rid)
        if dialog_bounds is None and (name in DIALOG_IDS or "Dialog" in cls):
            dialog_bounds = b
        if part_path is None and name in DIALOG_PART_IDS:
            part_path = path
        node_bounds[path] = b
        blind = cls.endswith(BLIND_CLASS_SUFFIXES)
        my_owner = anc
        if text or desc or clickable or checkable or scrollable or blind:
            idx = len(elements)
            elements.append(
                Element(
                    text=text,
                    bounds=b,
                    source="hierarchy",
                    resource_id=rid,
                    cls=cls,
                    content_desc=desc,
                    package=pkg,
                    clickable=clickable,
                    checkable=checkable,
                    checked=a.get("checked") == "true",
                    enabled=a.get("enabled", "true") == "true",
                    scrollable=scrollable,
                    index_path=path,
                    selected=a.get("selected") == "true",
                )
            )
            if clickable or checkable:
                my_owner = idx
            owner.append(my_owner)
            label_count_at.append(labels_seen)
            if (text or desc) and _area(b) > 0:
                labels_seen += 1
                if anc >= 0 and not (clickable or checkable):
                    inner.setdefault(anc, []).append(text or desc)
            if blind:
                blind_nodes.append((b, idx))
        children = [c for c in node if c.tag == "node"]
        for i in range(len(children) - 1, -1, -1):
            stack.append((children[i], f"{path}/{i}", my_owner))

    for idx, parts in inner.items():
        e = elements[idx]
        if not (e.text or e.content_desc):
            elements[idx] = _with_inner(e, "\n".join(parts))

    if screen is None or screen == (0, 0):
        w = max((r[2] for r in roots), default=0)
        h = max((r[3] for r in roots), default=0)
        screen = (w, h)
    if dialog_bounds is None and part_path is not None:
        dialog_bounds = _enclosing_card(part_path, node_bounds, screen)
    if dialog_bounds is None and roots:
        top = roots[-1]
        sw, sh = screen
        # A window root clearly smaller than the screen is a dialog window.
        if sw and sh and _area(top) > 0 and _area(top) < 0.8 * sw * sh:
            dialog_bounds = top

    blind_regions = []
    for b, idx in blind_nodes:
        # Blind when no labelled node lies inside it (a WebView with accessibility text is readable).
        inside = any(
            (e.text or e.content_desc) and _inside(e.bounds, b) for e in elements[idx + 1 :] if e.bounds != b
        )
        if not inside and _area(b) > 0.03 * max(1, screen[0] * screen[1]):
            blind_regions.append(b)
    return Tree(
        elements=elements,
        owner=owner,
        packages=packages,
        roots=roots,
        screen=screen,
        dialog_bounds=dialog_bounds,
        blind_regions=blind_regions,
        has_text=labels_seen > 0,
    )


SYSTEM_BARS = ("com.android.systemui",)  # status bar, navigation bar, notification shade windows


def _top_window(roots: list[etree._Element], screen: tuple[int, int] | None) -> list[etree._Element]:
    """The window the user faces. `uiautomator dump` writes only the active window; uiautomator2's dump
    writes every window root (the dialog above the activity, the system bars) in no fixed order. The
    front one is the smallest app window that is more than a sliver (a dialog is smaller than the activity
    it covers); among equal ones the first, where uiautomator2 puts the active window."""
    if len(roots) <= 1:
        return roots
    apps = [r for r in roots if r.get("package", "") not in SYSTEM_BARS] or roots
    areas = [_area(parse_bounds(r.get("bounds", ""))) for r in apps]
    big = max(areas)
    floor = 0.05 * (screen[0] * screen[1] if screen and screen[0] else big)
    cands = [k for k, a in enumerate(areas) if a >= floor] or list(range(len(apps)))
    best = min(cands, key=lambda k: (areas[k], k))
    return [apps[best]]


def _enclosing_card(path: str, node_bounds: dict[str, Bounds], screen: tuple[int, int]) -> Bounds:
    """The dialog around a dialog part: its outermost ancestor smaller than the screen (the window root
    of a dialog window; inside a full-screen window, the card container)."""
    full = 0.8 * max(1, screen[0] * screen[1])
    parts = path.split("/")
    best = node_bounds[path]
    for n in range(len(parts) - 1, 0, -1):
        b = node_bounds.get("/".join(parts[:n]))
        if b is None or _area(b) >= full:
            continue
        best = b  # keep climbing: the outermost one below screen size is the card
    return best


def _inside(inner: Bounds, outer: Bounds) -> bool:
    return inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _with_inner(e: Element, inner_text: str) -> Element:
    from dataclasses import replace

    return replace(e, inner_text=inner_text)
