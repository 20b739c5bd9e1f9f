"""Geometry of the virtual device's windows: where every node goes and how it will be painted.

`plan_frame` turns a `Frame` into one `WindowPlan` per window. A plan lists one `Box` per node in
`root.walk()` order (the painter and the dump rely on that order), plus the visible (clipped) bounds that
become `node.bounds`. Sizes are written for a 1080x2340 phone at 440 dpi (1 dp = 2.75 px); a frame of
another density is planned at 440 dpi on a screen of the same size in dp and every box is then converted
to its pixels (fonts too), so 48 dp stays 48 dp, as Android's dp and sp units do.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from exerciser.sim import fonts
from exerciser.sim.ui import REF_DENSITY, Frame, Node, Window

Rect = tuple[int, int, int, int]
ClipFn = Callable[[Node], Rect | None]  # extra clip of a node (activity content area)

DP = 2.75
MARGIN = 66  # 24 dp page and card padding
GAP = 28  # space between blocks in a vertical flow
BUTTON_H = 132  # 48 dp touch target
ROW_H = 176  # 64 dp list row
INPUT_H = 154
TOOLBAR_H = 154  # 56 dp
TABBAR_H = 176
ICON = 99
DIALOG_FRACTION = 0.85
CARD_RADIUS = 44

SIZE_BODY = 44
SIZE_TITLE = 56
SIZE_BUTTON = 44
SIZE_ROW = 46
SIZE_SMALL = 36
SIZE_SYS_MESSAGE = 50

TEXT_ROLES = {"text", "title", "message", "link"}
DIALOG_KINDS = {"dialog", "system_dialog", "bottom_sheet"}
BUTTON_GROUP_SUFFIX = ":id/button_group"


@dataclass
class Box:
    """Where a node is drawn and how: `look` selects the painter, text is pre-wrapped."""

    rect: Rect
    look: str = "none"
    lines: tuple[str, ...] = ()
    size: int = SIZE_BODY
    bold: bool = False
    align: str = "left"  # left | center
    text_x: int = 0  # left edge of the text block (for center: centre x)
    text_y: int = 0  # top of the first line


@dataclass
class WindowPlan:
    rect: Rect  # the root's rect: whole screen, or the dialog card
    boxes: list[Box]  # root.walk() order
    bounds: list[Rect]  # visible bounds, root.walk() order
    radius: int = 0
    top_radius_only: bool = False
    content: Rect | None = None  # activity content area (clip)
    tab_bar: Rect | None = None
    toolbar: Rect | None = None
    # scroll containers by root.walk() index: (range, offset) in px; range 0 = the content fits
    extents: dict[int, tuple[int, int]] = field(default_factory=dict)


@dataclass
class _Ctx:
    frame: Frame
    kind: str
    boxes: dict[int, Box] = field(default_factory=dict)
    max_lines: dict[int, int] = field(default_factory=dict)
    group: bool = False  # the window has an Android 6–9 style button_group
    scroll_bottom: int = 0  # activity: bottom of the content area, where a page's scroll view ends
    scroll_limit: dict[int, int] = field(default_factory=dict)  # card: viewport height per scroll node
    extents: dict[int, tuple[int, int]] = field(default_factory=dict)  # id(node) -> (range, offset)

    @property
    def dialog(self) -> bool:
        return self.kind in DIALOG_KINDS

    @property
    def margin(self) -> int:
        # Dialog cards are already padded; pages pad each leaf.
        return 0 if self.dialog else MARGIN


def plan_frame(frame: Frame) -> list[WindowPlan]:
    if frame.density == REF_DENSITY:
        return [plan_window(frame, w) for w in frame.windows]
    ref = reference_frame(frame)
    sx, sy = frame.width / ref.width, frame.height / ref.height
    return [_to_device(plan_window(ref, w), sx, sy) for w in frame.windows]


def reference_frame(frame: Frame) -> Frame:
    """The frame at the layout's density: the same screen in dp, its system bars in the reference px."""
    s = frame.density / REF_DENSITY
    return replace(
        frame,
        width=round(frame.width / s),
        height=round(frame.height / s),
        status_bar_height=round(frame.status_bar_height / s),
        nav_bar_height=round(frame.nav_bar_height / s),
        density=REF_DENSITY,
        layout_scale=frame.height / round(frame.height / s),
    )


def _to_device(plan: WindowPlan, sx: float, sy: float) -> WindowPlan:
    """A plan in reference units converted to the device's pixels (fonts by the same factor, as sp)."""

    def r(rect: Rect) -> Rect:
        return (round(rect[0] * sx), round(rect[1] * sy), round(rect[2] * sx), round(rect[3] * sy))

    boxes = [
        replace(
            b,
            rect=r(b.rect),
            size=max(1, round(b.size * sy)),
            text_x=round(b.text_x * sx),
            text_y=round(b.text_y * sy),
        )
        for b in plan.boxes
    ]
    return WindowPlan(
        rect=r(plan.rect),
        boxes=boxes,
        bounds=[r(b) for b in plan.bounds],
        radius=round(plan.radius * sy),
        top_radius_only=plan.top_radius_only,
        content=r(plan.content) if plan.content else None,
        tab_bar=r(plan.tab_bar) if plan.tab_bar else None,
        toolbar=r(plan.toolbar) if plan.toolbar else None,
        extents={i: (round(rng * sy), round(off * sy)) for i, (rng, off) in plan.extents.items()},
    )


def plan_window(frame: Frame, win: Window) -> WindowPlan:
    planner = {
        "activity": _plan_activity,
        "fullscreen": _plan_fullscreen,
        "launcher": _plan_launcher,
        "dialog": _plan_card,
        "system_dialog": _plan_card,
        "bottom_sheet": _plan_card,
    }.get(win.kind, _plan_activity)
    return planner(frame, win)


# ---------------------------------------------------------------- text helpers


def _text_style(node: Node, ctx: _Ctx) -> tuple[int, bool]:
    if node.role == "title":
        return SIZE_TITLE, True
    if node.role == "message" and ctx.kind == "system_dialog":
        return SIZE_SYS_MESSAGE, False
    size = SIZE_SMALL if node.style == "muted" else SIZE_BODY
    return size, node.style == "emphasis"


def _display_text(node: Node) -> str:
    return node.text or node.content_desc


def _text_block(
    ctx: _Ctx, node: Node, x: int, y: int, w: int, align: str = "left", look: str = "text"
) -> int:
    size, bold = _text_style(node, ctx)
    text = _display_text(node)
    lines = fonts.wrap(text, max(w, size), size, bold) if text else ()
    limit = ctx.max_lines.get(id(node))
    if limit is not None and len(lines) > limit:
        lines = _ellipsize(lines[: max(limit, 1)], w, size, bold)
    lh = fonts.line_height(size)
    tw = max((fonts.text_width(ln, size, bold) for ln in lines), default=0)
    h = lh * len(lines)
    left = x + (w - tw) // 2 if align == "center" else x
    box = Box((left, y, left + tw, y + h), look, lines, size, bold, align, left, y)
    if align == "center":
        box.text_x = x + w // 2
    ctx.boxes[id(node)] = box
    return y + h


def _ellipsize(lines: tuple[str, ...], w: int, size: int, bold: bool) -> tuple[str, ...]:
    last = lines[-1]
    while last and fonts.text_width(last + "…", size, bold) > w:
        last = last[:-1]
    return (*lines[:-1], last + "…")


# ---------------------------------------------------------------- generic vertical flow


def _flow(ctx: _Ctx, children: list[Node], x: int, y: int, w: int) -> int:
    """Stack children top to bottom with a gap between visible blocks; returns the bottom y."""
    i, prev = 0, None
    while i < len(children):
        c = children[i]
        if (ctx.kind == "activity" and c.role in ("toolbar", "tab")) or c.place:
            i += 1  # bars and floating widgets are placed by their window
            continue
        rows = prev is not None and prev.role == "list_item" and c.role == "list_item"
        gap = 0 if prev is None or rows else GAP
        if ctx.dialog and c.role == "button":
            run = _button_run(children, i)
            end = _place_buttons(ctx, run, x, y + gap, w)
            i += len(run)
        else:
            end = place(ctx, c, x, y + gap, w)
            i += 1
        if end > y + gap:  # an empty block (no text, only bars inside) takes no gap either
            y, prev = end, c
    return y


def _button_run(children: list[Node], i: int) -> list[Node]:
    j = i
    while j < len(children) and children[j].role == "button":
        j += 1
    return children[i:j]


def place(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    """Lay out one node (and its subtree) at x, y within width w; returns the bottom y."""
    if node.scroll is not None:
        if node.scroll.horizontal:
            return _place_strip(ctx, node, x, y, w)
        return _place_scroll(ctx, node, x, y, w)
    fn = _PLACERS.get(node.role, _place_container)
    return fn(ctx, node, x, y, w)


PAGE_END_PAD = 33  # a scrolled page ends this far below its last block (its top padding)


def _place_scroll(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    """A scroll container: its children flow at full height; the viewport is what fits (the content
    area of an activity, the height left in a dialog card); the offset moves the children up."""
    end = _flow(ctx, node.children, x, y, w)
    natural = end - y
    assert node.scroll is not None
    if ctx.kind == "activity" and ctx.scroll_bottom and (node.role != "webview" or node.scroll.page):
        limit: int | None = ctx.scroll_bottom - y
        natural += PAGE_END_PAD
    else:  # a dialog body, a WebView: the height the window's planner left it
        limit = ctx.scroll_limit.get(id(node))
    if limit is None or natural <= limit:
        ctx.extents[id(node)] = (0, 0)
        rect = (x, y, x + w, end)
        if node.role == "webview" and node.children and not node.scroll.page:  # the view wraps its text
            rect = _bounding([ctx.boxes[id(c)].rect for c in node.children])
        ctx.boxes[id(node)] = Box(rect, "none")
        return end
    rng = natural - limit
    off = min(max(round(node.scroll.offset / ctx.frame.layout_scale), 0), rng)
    for c in node.children:
        _shift(ctx, c, -off)
    ctx.extents[id(node)] = (rng, off)
    ctx.boxes[id(node)] = Box((x, y, x + w, y + limit), "none")
    return y + limit


STRIP_GAP = 22  # between the items of a sideways strip
CHIP_PAD = 44  # a text item's padding either side of its label
CARD_SHARE = 0.8  # an image or row in a strip (a carousel card) takes this share of the row's width


def _place_strip(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    """A row that scrolls sideways (HorizontalScrollView > LinearLayout, as TabLayout and carousels
    are): its items left to right at their own width, the viewport the row's width, the offset moving
    them left."""
    m = ctx.margin
    row = node.children[0] if node.children else None
    left = cx = x + m
    bottom = y
    for c in row.children if row else []:
        cw = _strip_item_width(c, w - 2 * m)
        pad = 0 if c.role == "list_item" else m  # a row pads its own text; other placers pad by m
        bottom = max(bottom, place(ctx, c, cx - pad, y, cw + 2 * pad))
        cx += cw + STRIP_GAP
    right = max(cx - STRIP_GAP, left) + m
    rng = max(right - (x + w), 0)
    off = min(max(round(node.scroll.offset / ctx.frame.layout_scale) if node.scroll else 0, 0), rng)
    if row is not None:
        for c in row.children:
            _shift(ctx, c, 0, -off)
        ctx.boxes[id(row)] = Box((x - off, y, right - off, bottom), "none")
    ctx.extents[id(node)] = (rng, off)
    ctx.boxes[id(node)] = Box((x, y, x + w, bottom), "none")
    return bottom


def _strip_item_width(c: Node, w: int) -> int:
    if c.role in ("image", "list_item"):
        return int(w * CARD_SHARE)
    label = fonts.text_width(_display_text(c), SIZE_BUTTON, True)
    return min(max(label + 2 * CHIP_PAD, 176), w)


def _place_container(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    if node.resource_id.endswith(BUTTON_GROUP_SUFFIX):
        return _place_button_group(ctx, node, x, y, w)
    # Android 10+ grant dialog: the icon sits centred above the message, not beside it.
    if _is_icon_row(node) and not (ctx.kind == "system_dialog" and not _has_button_group(ctx)):
        return _place_icon_row(ctx, node, x, y, w)
    if not node.children:
        if _display_text(node) and node.role == "webview":
            m = ctx.margin
            return _text_block(ctx, node, x + m, y, w - 2 * m)
        ctx.boxes[id(node)] = Box((x, y, x + w, y), "none")
        return y
    bottom = _flow(ctx, node.children, x, y, w)
    ctx.boxes[id(node)] = Box((x, y, x + w, bottom), "none")
    return bottom


def _place_text(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    m = ctx.margin
    align = "center" if _centred_text(ctx, node) else "left"
    look = "link" if node.role == "link" else "text"
    return _text_block(ctx, node, x + m, y, w - 2 * m, align, look)


def _centred_text(ctx: _Ctx, node: Node) -> bool:
    # Android 10+ grant dialog: icon and message centred above stacked buttons.
    return ctx.kind == "system_dialog" and node.role == "message" and not _has_button_group(ctx)


def _has_button_group(ctx: _Ctx) -> bool:
    return ctx.group


def _button_look(node: Node, ctx: _Ctx, text_button: bool = False) -> str:
    if node.style == "primary":
        return "btn_primary"
    if node.style == "danger":
        return "btn_danger"
    if node.style == "tonal":
        return "btn_tonal"
    if text_button or node.style == "muted":
        return "btn_text"
    return "btn_outline"


def _button_box(ctx: _Ctx, node: Node, rect: Rect, look: str) -> None:
    x1, y1, x2, y2 = rect
    size, bold = SIZE_BUTTON, True
    inner = max(x2 - x1 - 2 * 33, size)
    lines = fonts.wrap(_display_text(node), inner, size, bold)
    if len(lines) > 2:
        lines = _ellipsize(lines[:2], inner, size, bold)
    lh = fonts.line_height(size)
    need = len(lines) * lh + 2 * 22
    if need > y2 - y1:
        y2 = y1 + need
    ty = y1 + (y2 - y1 - len(lines) * lh) // 2
    ctx.boxes[id(node)] = Box((x1, y1, x2, y2), look, lines, size, bold, "center", (x1 + x2) // 2, ty)
    _place_inner(ctx, node, (x1, y1, x2, y2))


def _place_inner(ctx: _Ctx, node: Node, rect: Rect) -> None:
    """Children of a widget drawn as one piece (a button's label TextView): share its rect."""
    for c in node.children:
        for d in c.walk():
            ctx.boxes[id(d)] = Box(rect, "none")


def _place_parts(ctx: _Ctx, node: Node, icon: Rect, label: Rect) -> None:
    """Children of a widget painted as one piece (a tab, a launcher icon): icon and label rects."""
    for c in node.children:
        for d in c.walk():
            rect = icon if d.role == "icon" else label if d.role in TEXT_ROLES else ctx.boxes[id(node)].rect
            ctx.boxes[id(d)] = Box(rect, "none")


def _place_button(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    if ctx.dialog:
        return _place_buttons(ctx, [node], x, y, w)
    m = ctx.margin
    _button_box(ctx, node, (x + m, y, x + w - m, y + BUTTON_H), _button_look(node, ctx))
    return ctx.boxes[id(node)].rect[3]


def _place_buttons(ctx: _Ctx, run: list[Node], x: int, y: int, w: int) -> int:
    """A run of dialog buttons: two side by side, otherwise stacked full width."""
    if ctx.kind != "system_dialog" and len(run) == 2:
        half = (w - GAP) // 2
        for k, b in enumerate(run):
            bx = x + k * (half + GAP)
            _button_box(ctx, b, (bx, y, bx + half, y + BUTTON_H), _button_look(b, ctx))
        return max(ctx.boxes[id(b)].rect[3] for b in run)
    text_button = ctx.kind == "system_dialog"
    for k, b in enumerate(run):
        if k:
            y += 16
        _button_box(ctx, b, (x, y, x + w, y + BUTTON_H), _button_look(b, ctx, text_button))
        y = ctx.boxes[id(b)].rect[3]
    return y


def _place_button_group(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    """Android 6–9 grant dialog: text buttons side by side, right-aligned (… DENY  ALLOW); they may sit
    in an inner LinearLayout, which then spans them."""
    right = x + w
    size = SIZE_BUTTON
    buttons = [c for c in node.walk() if c.role == "button"]
    for b in reversed(buttons):
        bw = max(176, fonts.text_width(_display_text(b), size, True) + 66)
        _button_box(ctx, b, (right - bw, y, right, y + BUTTON_H), _button_look(b, ctx, text_button=True))
        right -= bw + 11
    rows = [c for c in node.children if c.role != "button" and any(d.role == "button" for d in c.walk())]
    for c in rows:
        rects = [ctx.boxes[id(d)].rect for d in c.walk() if d.role == "button"]
        ctx.boxes[id(c)] = Box((min(r[0] for r in rects), y, x + w, max(r[3] for r in rects)), "none")
    others = [c for c in node.children if c.role != "button" and c not in rows]
    for c in others:  # e.g. the "1 of 2" page counter sits at the left
        place(ctx, c, x, y + (BUTTON_H - fonts.line_height(SIZE_SMALL)) // 2, max(right - x, 1))
    bottom = max([y + BUTTON_H] + [ctx.boxes[id(c)].rect[3] for c in node.children])
    ctx.boxes[id(node)] = Box((x, y, x + w, bottom), "none")
    return bottom


def _is_icon_row(node: Node) -> bool:
    kids = node.children
    return (
        len(kids) >= 2
        and kids[0].role == "icon"
        and all(k.role in TEXT_ROLES or k.role == "container" for k in kids[1:])
    )


def _place_icon_row(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    m = ctx.margin
    icon, rest = node.children[0], node.children[1:]
    ctx.boxes[id(icon)] = Box((x + m, y, x + m + ICON, y + ICON), "icon")
    tx = x + m + ICON + 44
    bottom = y
    for c in rest:
        bottom = _text_or_place(ctx, c, tx, bottom, x + w - m - tx)
    bottom = max(bottom, y + ICON)
    ctx.boxes[id(node)] = Box((x, y, x + w, bottom), "none")
    return bottom


def _text_or_place(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    if node.role in TEXT_ROLES:
        return _text_block(ctx, node, x, y, w, "left", "link" if node.role == "link" else "text")
    return place(ctx, node, x, y, w)


WIDGET_FRAME = ":id/widget_frame"  # a preference row's widget (its switch) sits at the row's right end


def _place_list_item(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    pad = MARGIN
    if node.children:
        widgets = [c for c in node.children if c.resource_id.endswith(WIDGET_FRAME)]
        texts = [c for c in node.children if c not in widgets]
        inner = y
        for k, c in enumerate(texts):
            inner = _text_or_place(
                ctx, c, x + pad, inner + (6 if k else 0), w - 2 * pad - 60 - 150 * bool(widgets)
            )
        bottom = max(y + (inner - y) + 66, y + ROW_H)
        for c in texts:  # centre the row's content vertically
            _shift(ctx, c, (bottom - inner) // 2)
        for c in widgets:
            rect = (x + w - pad - 150, y, x + w - pad, bottom)
            ctx.boxes[id(c)] = Box(rect, "none")
            for d in c.walk():
                if d is not c:
                    ctx.boxes[id(d)] = Box(rect, "switch" if d.role == "switch" else "none")
        box = Box((x, y, x + w, bottom), "row", (), SIZE_ROW)
    else:
        size = SIZE_ROW
        lines = fonts.wrap(_display_text(node), w - 2 * pad - 60, size)
        lh = fonts.line_height(size)
        bottom = max(y + ROW_H, y + len(lines) * lh + 66)
        ty = y + (bottom - y - len(lines) * lh) // 2
        box = Box((x, y, x + w, bottom), "row", lines, size, False, "left", x + pad, ty)
    ctx.boxes[id(node)] = box
    return bottom


def _place_input(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    m = ctx.margin
    size = SIZE_BODY
    text = _display_text(node)
    lines = (_fit_line(text, w - 2 * m - 22, size),) if text else ()
    ty = y + (INPUT_H - fonts.line_height(size)) // 2
    ctx.boxes[id(node)] = Box(
        (x + m, y, x + w - m, y + INPUT_H), "input", lines, size, False, "left", x + m + 11, ty
    )
    return y + INPUT_H


def _place_grid(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    """Cells of equal width in rows (a calendar month, a clock face); style "colsN offsetK"."""
    opts = {k.rstrip("0123456789"): int(k[len(k.rstrip("0123456789")) :] or 0) for k in node.style.split()}
    cols, offset = max(opts.get("cols", 7), 1), opts.get("offset", 0)
    m = ctx.margin
    cw, ch = (w - 2 * m) // cols, 120
    size = SIZE_BODY
    lh = fonts.line_height(size)
    bottom = y
    for k, c in enumerate(node.children):
        r, col = divmod(k + offset, cols)
        x1, y1 = x + m + col * cw, y + r * ch
        line = _display_text(c)
        ctx.boxes[id(c)] = Box(
            (x1, y1, x1 + cw, y1 + ch),
            "text",
            (line,) if line else (),
            size,
            c.style == "emphasis",
            "center",
            x1 + cw // 2,
            y1 + (ch - lh) // 2,
        )
        for d in c.children:
            for e in d.walk():
                ctx.boxes[id(e)] = Box((x1, y1, x1 + cw, y1 + ch), "none")
        bottom = max(bottom, y1 + ch)
    ctx.boxes[id(node)] = Box((x, y, x + w, bottom), "none")
    return bottom


def _fit_line(text: str, w: int, size: int, bold: bool = False) -> str:
    lines = fonts.wrap(text, max(w, size), size, bold)
    return lines[0] if len(lines) == 1 else _ellipsize(lines[:1], w, size, bold)[0]


def _place_toggle(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    """Checkbox / radio (mark left of the label) and switch (label left, track right)."""
    m = ctx.margin
    size = SIZE_BODY
    mark = 120 if node.role == "switch" else 54
    if node.role == "switch":
        tx, tw = x + m, w - 2 * m - mark - 33
    else:
        tx, tw = x + m + mark + 33, w - 2 * m - mark - 33
    lines = fonts.wrap(_display_text(node), max(tw, size), size) if _display_text(node) else ()
    lh = fonts.line_height(size)
    h = max(BUTTON_H, len(lines) * lh + 44)
    ty = y + (h - len(lines) * lh) // 2
    look = {"switch": "switch", "radio": "radio"}.get(node.role, "checkbox")
    ctx.boxes[id(node)] = Box((x + m, y, x + w - m, y + h), look, lines, size, False, "left", tx, ty)
    _place_inner(ctx, node, (x + m, y, x + w - m, y + h))
    return y + h


def _place_image(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    m = ctx.margin
    h = 300 if ctx.dialog else 440
    ctx.boxes[id(node)] = Box((x + m, y, x + w - m, y + h), "image")
    return y + h


def _place_icon(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    m = ctx.margin
    left = x + (w - ICON) // 2 if ctx.kind == "system_dialog" else x + m
    ctx.boxes[id(node)] = Box((left, y, left + ICON, y + ICON), "icon")
    return y + ICON


def _place_launcher_icon(ctx: _Ctx, node: Node, x: int, y: int, w: int) -> int:
    cell_w = min(w, 270)
    _launcher_cell(ctx, node, (x, y, x + cell_w, y + 330))
    return y + 330


_PLACERS = {
    "container": _place_container,
    "webview": _place_container,
    "text": _place_text,
    "title": _place_text,
    "message": _place_text,
    "link": _place_text,
    "toolbar": _place_text,
    "button": _place_button,
    "tab": _place_button,
    "list_item": _place_list_item,
    "input": _place_input,
    "checkbox": _place_toggle,
    "radio": _place_toggle,
    "switch": _place_toggle,
    "image": _place_image,
    "icon": _place_icon,
    "launcher_icon": _place_launcher_icon,
    "grid": _place_grid,
}


# ---------------------------------------------------------------- windows


def _finish(ctx: _Ctx, win: Window, rect: Rect, clip_for: ClipFn | None, **kw: object) -> WindowPlan:
    boxes: list[Box] = []
    bounds: list[Rect] = []
    _collect(ctx, win.root, (0, 0, ctx.frame.width, ctx.frame.height), clip_for, boxes, bounds)
    extents = {i: ctx.extents[id(n)] for i, n in enumerate(win.root.walk()) if id(n) in ctx.extents}
    return WindowPlan(rect, boxes, bounds, extents=extents, **kw)


def _collect(
    ctx: _Ctx, node: Node, parent_clip: Rect, clip_for: ClipFn | None, boxes: list[Box], bounds: list[Rect]
) -> None:
    box = ctx.boxes.get(id(node))
    if box is None:  # not placed (e.g. a tab outside an activity): zero-size at the parent origin
        box = Box((parent_clip[0], parent_clip[1], parent_clip[0], parent_clip[1]))
        ctx.boxes[id(node)] = box
    clip = _intersect(box.rect, parent_clip)
    extra = clip_for(node) if clip_for else None
    if extra is not None:
        clip = _intersect(clip, extra)
    boxes.append(box)
    bounds.append(clip)
    for c in node.children:
        _collect(ctx, c, clip, clip_for, boxes, bounds)


def _intersect(a: Rect, b: Rect) -> Rect:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    if x2 <= x1 or y2 <= y1:
        return (x1, y1, x1, y1) if x2 < x1 or y2 < y1 else (x1, y1, x2, y2)
    return (x1, y1, x2, y2)


def _bounding(rects: list[Rect]) -> Rect:
    xs1, ys1, xs2, ys2 = zip(*rects, strict=True)
    return (min(xs1), min(ys1), max(xs2), max(ys2))


def _union(a: Rect, b: Rect) -> Rect:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _plan_activity(frame: Frame, win: Window) -> WindowPlan:
    ctx = _Ctx(frame, "activity")
    W, H = frame.width, frame.height
    top = frame.status_bar_height
    bottom = H - frame.nav_bar_height
    toolbar = next((n for n in win.root.walk() if n.role == "toolbar"), None)
    tabs = [n for n in win.root.walk() if n.role == "tab"]
    tb_rect = None
    if toolbar is not None:
        tb_rect = (0, top, W, top + TOOLBAR_H)
        _place_toolbar(ctx, toolbar, tb_rect)
        top += TOOLBAR_H
    tab_rect = None
    if tabs:
        tab_rect = (0, bottom - TABBAR_H, W, bottom)
        _place_tabs(ctx, tabs, tab_rect)
        bottom -= TABBAR_H
    content = (0, top, W, bottom)
    ctx.scroll_bottom = bottom
    end = _flow(ctx, win.root.children, 0, top + 33, W)
    for _ in range(3):  # a WebView takes what the page leaves it (its own page scrolls inside it)
        if not _limit_scroll(ctx, win.root, _page_overflow(ctx, win.root), webview=True):
            break
        end = _flow(ctx, win.root.children, 0, top + 33, W)
    _place_floating(ctx, win.root, content)
    _fill_last_webview(ctx, win.root, top, bottom)
    ctx.boxes[id(win.root)] = Box((0, 0, W, H), "none")
    _grow_bar_ancestors(ctx, win.root)
    bars = {id(n) for n in ([toolbar] if toolbar else []) + tabs}
    inside_bar = {id(d) for n in ([toolbar] if toolbar else []) + tabs for d in n.walk()}
    holders = _bar_holders(win.root, bars)

    def clip_for(node: Node) -> Rect | None:
        if node is win.root or id(node) in inside_bar or id(node) in holders:
            return None
        return content

    del end
    return _finish(ctx, win, (0, 0, W, H), clip_for, content=content, tab_bar=tab_rect, toolbar=tb_rect)


CORNER_MARGIN = 44
CORNER_H = 110


def _place_floating(ctx: _Ctx, root: Node, area: Rect) -> None:
    """Widgets out of the flow: `fill` takes the whole area (a full-bleed advert), a corner widget floats
    in its corner of the area, sized to its label (a "跳过 3" pill on the advert)."""
    x1, y1, x2, y2 = area
    parents = {id(c): n for n in root.walk() for c in n.children}
    for n in root.walk():
        if not n.place:
            continue
        if n.place == "fill":
            ctx.boxes[id(n)] = Box(area, "image" if n.role == "image" else "none")
            _place_inner(ctx, n, area)
        else:
            w = min(fonts.text_width(_display_text(n), SIZE_BUTTON, True) + 2 * 44, x2 - x1)
            left = x1 + CORNER_MARGIN if n.place.endswith("left") else x2 - CORNER_MARGIN - w
            top = y1 + CORNER_MARGIN if n.place.startswith("top") else y2 - CORNER_MARGIN - CORNER_H
            _button_box(ctx, n, (left, top, left + w, top + CORNER_H), "btn_tonal")
        rect, up = ctx.boxes[id(n)].rect, parents.get(id(n))
        while up is not None and up is not root:  # its holders enclose it (else it is clipped away)
            box = ctx.boxes[id(up)]
            box.rect = rect if box.rect[3] == box.rect[1] else _union(box.rect, rect)
            rect, up = box.rect, parents.get(id(up))


def _bar_holders(root: Node, bars: set[int]) -> set[int]:
    """Containers that hold the toolbar or the tabs: not clipped to the content area."""
    out: set[int] = set()

    def visit(n: Node) -> bool:
        has = id(n) in bars
        for c in n.children:
            has = visit(c) or has
        if has and id(n) not in bars:
            out.add(id(n))
        return has

    visit(root)
    return out


def _grow_bar_ancestors(ctx: _Ctx, node: Node) -> None:
    """Containers around the toolbar or tabs grow to enclose them (they were skipped by the flow)."""
    for c in node.children:
        _grow_bar_ancestors(ctx, c)
    box = ctx.boxes.get(id(node))
    if box is None or node.role in ("toolbar", "tab"):
        return
    for c in node.children:
        if _holds_bar(c):
            r = ctx.boxes[id(c)].rect
            box.rect = r if box.rect[3] == box.rect[1] else _union(box.rect, r)


def _holds_bar(node: Node) -> bool:
    return any(d.role in ("toolbar", "tab") for d in node.walk())


def _fill_last_webview(ctx: _Ctx, root: Node, top: int, bottom: int) -> None:
    """A WebView/Flutter view that ends the page fills the rest of it (all of it when it is alone)."""
    content = [c for c in root.children if c.role not in ("toolbar", "tab")]
    if content and content[-1].role == "webview":
        box = ctx.boxes[id(content[-1])]
        x1, y1, x2, y2 = box.rect
        box.rect = (x1, top if len(content) == 1 else y1, x2, max(bottom, y2))


def _place_toolbar(ctx: _Ctx, node: Node, rect: Rect) -> None:
    x1, y1, x2, y2 = rect
    size = SIZE_TITLE - 4
    lh = fonts.line_height(size)
    ty = y1 + (TOOLBAR_H - lh) // 2
    lead = [c for c in node.children if c.role in ("icon", "button") and not c.text][:1]
    tx = x1 + (198 if lead else MARGIN)
    for c in lead:
        ctx.boxes[id(c)] = Box((x1 + 11, y1 + 11, x1 + 11 + 132, y1 + 143), "nav_icon")
    title_nodes = [c for c in node.children if c.role in TEXT_ROLES]
    right = x2
    for c in reversed([c for c in node.children if c not in lead and c not in title_nodes]):
        ctx.boxes[id(c)] = Box((right - 143, y1 + 11, right - 11, y1 + 143), "action_icon")
        _place_inner(ctx, c, ctx.boxes[id(c)].rect)
        right -= 132
    text = node.text or (title_nodes[0].text if title_nodes else "")
    line = _fit_line(text, right - tx - 22, size, True) if text else ""
    tw = fonts.text_width(line, size, True)
    title_box = Box((tx, ty, tx + tw, ty + lh), "text", (line,) if line else (), size, True, "left", tx, ty)
    own = title_box.lines if not title_nodes else ()  # painted once, by the title node if there is one
    ctx.boxes[id(node)] = Box(rect, "toolbar", own, size, True, "left", tx, ty)
    for c in title_nodes:
        ctx.boxes[id(c)] = title_box if c is title_nodes[0] else Box((tx, ty, tx, ty))


def _place_tabs(ctx: _Ctx, tabs: list[Node], rect: Rect) -> None:
    x1, y1, x2, y2 = rect
    cw = (x2 - x1) // len(tabs)
    size = SIZE_SMALL
    for k, t in enumerate(tabs):
        cx1 = x1 + k * cw
        cx2 = x2 if k == len(tabs) - 1 else cx1 + cw
        line = _fit_line(_display_text(t), cw - 22, size)
        ty = y1 + 22 + 66 + 8
        box = Box(
            (cx1, y1, cx2, y2),
            "tab",
            (line,) if line else (),
            size,
            t.selected,
            "center",
            (cx1 + cx2) // 2,
            ty,
        )
        ctx.boxes[id(t)] = box
        cx = (cx1 + cx2) // 2
        lw = fonts.text_width(line, size, t.selected)
        label = (cx - lw // 2, ty, cx + lw - lw // 2, ty + fonts.line_height(size))
        _place_parts(ctx, t, (cx - 33, y1 + 22, cx + 33, y1 + 88), label)


def _plan_fullscreen(frame: Frame, win: Window) -> WindowPlan:
    ctx = _Ctx(frame, "fullscreen")
    W, H = frame.width, frame.height
    kids = win.root.children
    if len(kids) == 1 and kids[0].role == "webview" and kids[0].scroll is None:  # a blind dialog
        _flow(ctx, kids, 0, 0, W)
        box = ctx.boxes[id(kids[0])]
        box.rect = (0, 0, W, H)
    else:
        avail = H - frame.status_bar_height - frame.nav_bar_height
        end = _flow(ctx, kids, 0, 0, W)
        top = max((H - end) // 2, 0)
        for _ in range(3):  # a WebView policy that does not fit scrolls inside its view, between the bars
            if not _limit_scroll(ctx, win.root, end - avail, webview=True):
                break
            end = _flow(ctx, kids, 0, 0, W)
            top = frame.status_bar_height
        _shift(ctx, win.root, top)
    _place_floating(ctx, win.root, (0, frame.status_bar_height, W, H - frame.nav_bar_height))
    ctx.boxes[id(win.root)] = Box((0, 0, W, H), "none")
    return _finish(ctx, win, (0, 0, W, H), None)


def _shift(ctx: _Ctx, node: Node, dy: int, dx: int = 0) -> None:
    for n in node.walk():
        box = ctx.boxes.get(id(n))
        if box is None:
            continue
        x1, y1, x2, y2 = box.rect
        box.rect = (x1 + dx, y1 + dy, x2 + dx, y2 + dy)
        box.text_x += dx
        box.text_y += dy


def _launcher_cell(ctx: _Ctx, node: Node, rect: Rect) -> None:
    x1, y1, x2, y2 = rect
    size = SIZE_SMALL
    line = _fit_line(_display_text(node), x2 - x1 - 22, size)
    ty = y1 + 44 + 154 + 22
    ctx.boxes[id(node)] = Box(
        rect, "launcher_icon", (line,) if line else (), size, False, "center", (x1 + x2) // 2, ty
    )
    cx, lw = (x1 + x2) // 2, fonts.text_width(line, size)
    label = (cx - lw // 2, ty, cx + lw - lw // 2, ty + fonts.line_height(size))
    _place_parts(ctx, node, (cx - 77, y1 + 44, cx + 77, y1 + 198), label)


def _plan_launcher(frame: Frame, win: Window) -> WindowPlan:
    ctx = _Ctx(frame, "launcher")
    W, H = frame.width, frame.height
    icons = [n for n in win.root.walk() if n.role == "launcher_icon"]
    cols, cell_w, cell_h = 4, W // 4, 330
    y0 = frame.status_bar_height + 154
    for k, n in enumerate(icons):
        r, c = divmod(k, cols)
        x = c * cell_w
        y = y0 + r * cell_h
        _launcher_cell(ctx, n, (x, y, x + cell_w, y + cell_h))
    _size_holders(ctx, win.root, (0, 0, W, H))
    return _finish(ctx, win, (0, 0, W, H), None)


def _size_holders(ctx: _Ctx, node: Node, default: Rect) -> Rect | None:
    """Containers of pre-placed nodes take the union of their children's rects."""
    if id(node) in ctx.boxes:
        return ctx.boxes[id(node)].rect
    rect: Rect | None = None
    for c in node.children:
        r = _size_holders(ctx, c, default)
        if r is not None:
            rect = r if rect is None else _union(rect, r)
    if rect is None and node.children == []:
        return None
    ctx.boxes[id(node)] = Box(rect or default, "none")
    return rect


def _plan_card(frame: Frame, win: Window) -> WindowPlan:
    """Dialog, system dialog and bottom sheet: a padded card; shrinks the longest text if too tall."""
    sheet = win.kind == "bottom_sheet" or win.sheet
    ctx = _Ctx(frame, "bottom_sheet" if sheet else win.kind)
    ctx.group = any(n.resource_id.endswith(BUTTON_GROUP_SUFFIX) for n in win.root.walk())
    W, H = frame.width, frame.height
    cw = W if sheet else int(round(W * DIALOG_FRACTION))
    x = (W - cw) // 2
    avail = H - frame.status_bar_height - frame.nav_bar_height - (0 if sheet else 2 * MARGIN)
    for _ in range(3):
        ctx.boxes.clear()
        end = (
            _flow(ctx, win.root.children, x + MARGIN, MARGIN, cw - 2 * MARGIN)
            if win.root.children
            else MARGIN
        )
        if not win.root.children and _display_text(win.root):
            end = _text_block(ctx, win.root, x + MARGIN, MARGIN, cw - 2 * MARGIN)
        height = end + MARGIN + (22 if sheet else 0)
        overflow = height - avail
        if overflow <= 0:
            break
        if not (_limit_scroll(ctx, win.root, overflow) or _shrink_longest(ctx, win.root, overflow)):
            break
    height = min(height, avail)
    if sheet:
        top = H - frame.nav_bar_height - height
    elif win.bottom:
        top = H - frame.nav_bar_height - MARGIN - height
    else:
        top = frame.status_bar_height + (H - frame.status_bar_height - frame.nav_bar_height - height) // 2
    root_box = ctx.boxes.get(id(win.root))
    lines = root_box.lines if root_box else ()
    ctx.boxes[id(win.root)] = Box(
        (x, 0, x + cw, height), "none", lines, SIZE_BODY, False, "left", x + MARGIN, MARGIN
    )
    _shift(ctx, win.root, top)
    rect = (x, top, x + cw, top + height)
    return _finish(ctx, win, rect, None, radius=CARD_RADIUS + (4 if sheet else 0), top_radius_only=sheet)


MIN_SCROLL_VIEW = 220  # a dialog's scrolling body keeps at least this much height (about 3 lines)


def _limit_scroll(ctx: _Ctx, root: Node, overflow: int, webview: bool = False) -> bool:
    """A card with a scrolling body (AlertDialog's message ScrollView, a WebView) fits the screen by
    shortening the body's viewport: the words stay whole and scroll, as on a phone. `webview`: only
    WebViews (a page that overflows gives its WebView the height left, as layout_weight does)."""
    if overflow <= 0:
        return False
    for n in root.walk():
        if n.scroll is None or n.scroll.horizontal or id(n) in ctx.scroll_limit:
            continue
        if webview and n.role != "webview":
            continue
        x1, y1, x2, y2 = ctx.boxes[id(n)].rect
        if y2 - y1 <= MIN_SCROLL_VIEW:
            continue
        ctx.scroll_limit[id(n)] = max(MIN_SCROLL_VIEW, y2 - y1 - overflow)
        return True
    return False


def _page_overflow(ctx: _Ctx, root: Node) -> int:
    """How far an activity's page is taller than the content area."""
    pages = [c for c in root.children if c.scroll is not None and not c.scroll.page]  # a blind page scrolls
    return max((ctx.extents.get(id(c), (0, 0))[0] for c in pages), default=0)


def _shrink_longest(ctx: _Ctx, root: Node, overflow: int) -> bool:
    """Cap the longest text block so the card fits the screen (its body scrolls on a real phone)."""
    best, best_lines = None, 0
    for n in root.walk():
        box = ctx.boxes.get(id(n))
        if box and box.look in ("text", "link") and len(box.lines) > best_lines:
            best, best_lines = n, len(box.lines)
    if best is None or best_lines <= 1:
        return False
    lh = fonts.line_height(ctx.boxes[id(best)].size)
    ctx.max_lines[id(best)] = max(1, best_lines - math.ceil(overflow / lh))
    return True


# ---------------------------------------------------------------- cache


def node_key(n: Node) -> tuple:
    return (
        n.role,
        n.cls if n.scroll is None else n.scroll,  # a scroll node's class and flag follow its extent
        n.text,
        n.resource_id,
        n.content_desc,
        n.clickable,
        n.checkable,
        n.checked,
        n.enabled,
        n.focusable,
        n.focused,
        n.password,
        n.place,
        n.scrollable if n.scroll is None else None,
        n.selected,
        n.blind,
        n.style,
        tuple(node_key(c) for c in n.children),
    )


def frame_key(frame: Frame) -> tuple:
    """Everything that changes layout, pixels or the dump, except the status-bar clock."""
    wins = tuple((w.kind, w.package, w.dim_behind, w.dark, node_key(w.root)) for w in frame.windows)
    return (frame.width, frame.height, frame.status_bar_height, frame.nav_bar_height, frame.density, wins)


_PLANS: OrderedDict[tuple, list[WindowPlan]] = OrderedDict()
_PLAN_CACHE_SIZE = 64
_PLANS_LOCK = threading.Lock()


def plans_for(frame: Frame, key: tuple | None = None) -> list[WindowPlan]:
    """Cached plans of a frame, keyed by content (frames are rebuilt by the runtime on each action)."""
    key = frame_key(frame) if key is None else key
    with _PLANS_LOCK:
        plans = _PLANS.get(key)
        if plans is not None:
            _PLANS.move_to_end(key)
            return plans
    plans = plan_frame(frame)
    with _PLANS_LOCK:
        _PLANS[key] = plans
        if len(_PLANS) > _PLAN_CACHE_SIZE:
            _PLANS.popitem(last=False)
    return plans


def apply_bounds(frame: Frame, plans: list[WindowPlan]) -> None:
    for win, plan in zip(frame.windows, plans, strict=True):
        for i, (node, b) in enumerate(zip(win.root.walk(), plan.bounds, strict=True)):
            node.bounds = b
            extent = plan.extents.get(i)
            if extent is not None and node.scroll is not None:
                node.scroll_extent = extent
                # AccessibilityNodeInfo.isScrollable: only a container that can move
                node.scrollable = extent[0] > 0 and node.scroll.accessible
                if node.scrollable:
                    node.cls = node.scroll.cls


def layout_frame(frame: Frame) -> list[WindowPlan]:
    """Fill `bounds` of every node of every window; returns the plans (idempotent, cached)."""
    plans = plans_for(frame)
    apply_bounds(frame, plans)
    return plans
