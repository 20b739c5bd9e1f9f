"""Renderer of the virtual device: lays out a `Frame`, paints it to a PNG and answers hit tests.

Geometry lives in `layout.py`, text in `fonts.py`, the `uiautomator dump` XML in `uixml.py`. Painting
follows the layout boxes exactly, so a node's `bounds` enclose the pixels drawn for it; blind nodes are
painted like any other (only the dump hides them).
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image, ImageDraw

from exerciser.sim import fonts
from exerciser.sim.layout import Box, Rect, WindowPlan, apply_bounds, frame_key, layout_frame, plans_for
from exerciser.sim.scroll import scroll_clips
from exerciser.sim.ui import REF_DENSITY, Frame, Node, Window

PNG_CACHE_SIZE = 16
LAYER_CACHE_SIZE = 6  # 7.5 MB each at 1080x2340
SCRIM = 0.45  # share of the light left behind a dimming dialog (55 % black)


@dataclass(frozen=True)
class Theme:
    bg: str
    card: str
    fg: str
    muted: str
    accent: str
    danger: str
    divider: str
    outline: str
    tonal: str
    on_tonal: str
    primary: str
    image: str
    bar: str
    scale: float = 1.0  # device px per reference px (density / 440): strokes and marks follow it

    def px(self, v: float) -> int:
        """A length written for 440 dpi in this device's pixels (at least 1: a stroke stays visible)."""
        return max(1, round(v * self.scale)) if v > 0 else round(v * self.scale)


LIGHT = Theme(
    bg="#ffffff",
    card="#ffffff",
    fg="#1f1f1f",
    muted="#5f6368",
    accent="#1a73e8",
    danger="#d93025",
    divider="#e0e0e0",
    outline="#9aa0a6",
    tonal="#d3e3fd",
    on_tonal="#041e49",
    primary="#1a73e8",
    image="#dadce0",
    bar="#f8f9fa",
)
DARK = Theme(
    bg="#121212",
    card="#2d2d2d",
    fg="#e8eaed",
    muted="#bdc1c6",
    accent="#8ab4f8",
    danger="#f28b82",
    divider="#5f6368",
    outline="#8e918f",
    tonal="#004a77",
    on_tonal="#c2e7ff",
    primary="#1a73e8",
    image="#5f6368",
    bar="#202124",
)
WHITE = "#ffffff"
_LAUNCHER_COLOURS = ("#ea4335", "#34a853", "#fbbc04", "#4285f4", "#a142f4", "#f439a0", "#24c1e0", "#ff6d00")


class Renderer:
    """Lays out and paints frames of the virtual device.

    Caches, all keyed by frame content (the runtime rebuilds frames on every action): layout plans
    (module-wide), painted window layers (a dialog over an unchanged activity repaints only the
    dialog), PNG bytes per content and clock text, and the deflated bands of the last PNG.
    """

    def __init__(self, width: int = 1080, height: int = 2340):
        # The display size; frames carry their own width/height, which the layout follows.
        self.width = width
        self.height = height
        self._png_cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._layers: OrderedDict[tuple, Image.Image] = OrderedDict()
        self._encoder = PngEncoder()
        self._lock = threading.RLock()

    # ------------------------------------------------------------ public API

    def layout(self, frame: Frame) -> None:
        """Fill `node.bounds` for every node of every window (idempotent)."""
        layout_frame(frame)

    def png(self, frame: Frame) -> bytes:
        """The whole screen as PNG bytes (lays the frame out first)."""
        key = frame_key(frame)
        plans = plans_for(frame, key)
        apply_bounds(frame, plans)
        pkey = (key, frame.clock_text)
        with self._lock:
            data = _lru_get(self._png_cache, pkey)
            if data is None:
                data = self._encoder.encode(self._image(frame, plans, key))
                _lru_put(self._png_cache, pkey, data, PNG_CACHE_SIZE)
        return data

    def image(self, frame: Frame) -> Image.Image:
        """The whole screen as a PIL image (a fresh copy the caller may draw on)."""
        key = frame_key(frame)
        plans = plans_for(frame, key)
        apply_bounds(frame, plans)
        with self._lock:
            return self._image(frame, plans, key)

    def hit_test(self, frame: Frame, x: int, y: int) -> Node | None:
        """Deepest clickable, enabled node of the top window containing (x, y), or None.

        Blind nodes' descendants count: they are what the user sees and taps.
        """
        layout_frame(frame)
        root = frame.top.root
        if not _contains(root.bounds, x, y):
            return None
        return _deepest_clickable(root, x, y)

    # ------------------------------------------------------------ layers

    def _image(self, frame: Frame, plans: list[WindowPlan], key: tuple) -> Image.Image:
        img = self._layer(frame, plans, key, len(frame.windows)).copy()
        _paint_system_bars(img, frame)  # above every app window, never cached (the clock changes)
        return img

    def _layer(self, frame: Frame, plans: list[WindowPlan], key: tuple, n: int) -> Image.Image:
        """Windows [0, n) painted (scrims included); cached by their content. Do not draw on it."""
        if n == 0:
            return Image.new("RGB", (frame.width, frame.height), LIGHT.bg)
        lkey = (key[:-1], key[-1][:n])
        img = _lru_get(self._layers, lkey)
        if img is None:
            below = self._layer(frame, plans, key, n - 1)
            win = frame.windows[n - 1]
            img = _scrim(below) if win.dim_behind else below.copy()
            _paint_window(img, frame, win, plans[n - 1])
            _lru_put(self._layers, lkey, img, LAYER_CACHE_SIZE)
        return img


def _lru_get(cache: OrderedDict, key: tuple):
    value = cache.get(key)
    if value is not None:
        cache.move_to_end(key)
    return value


def _lru_put(cache: OrderedDict, key: tuple, value: object, size: int) -> None:
    cache[key] = value
    if len(cache) > size:
        cache.popitem(last=False)


def _contains(b: Rect | None, x: int, y: int) -> bool:
    return b is not None and b[0] <= x < b[2] and b[1] <= y < b[3]


def _deepest_clickable(node: Node, x: int, y: int) -> Node | None:
    # Later siblings are drawn on top, so they win.
    for c in reversed(node.children):
        if _contains(c.bounds, x, y):
            hit = _deepest_clickable(c, x, y)
            if hit is not None:
                return hit
    if node.clickable and node.enabled and _contains(node.bounds, x, y):
        return node
    return None


# ---------------------------------------------------------------- PNG


class PngEncoder:
    """PNG writer that recompresses only the horizontal bands that changed since the last image.

    Each band is an independent raw-deflate segment (no filter, level 1, ended by a full flush), so
    segments from the previous screen can be spliced into the new zlib stream: a clock tick or a
    toggled checkbox costs a band or two instead of the whole 7.5 MB screen. Two row buffers are kept
    and swapped, so encoding allocates (and page-faults) nothing big.
    """

    BAND = 78  # rows per band (2340 = 30 bands)

    def __init__(self) -> None:
        self._cur: np.ndarray | None = None
        self._prev: np.ndarray | None = None
        self._bands: list[tuple[bytes, int]] = []  # per band of _prev: (deflated, adler32)
        self._lock = threading.Lock()

    def encode(self, img: Image.Image | np.ndarray) -> bytes:
        """PNG of an RGB image, or of an HxWx3 uint8 array in RGB order (no copy made of it first)."""
        rgb = img if isinstance(img, np.ndarray) else np.asarray(img)
        h, w = rgb.shape[:2]
        with self._lock:
            cur, prev = self._buffers(w, h)
            cur[:, 1:] = rgb.reshape(h, w * 3)  # column 0 stays 0: filter "None"
            bands: list[tuple[bytes, int]] = []
            parts: list[bytes] = []
            adler = 1
            for k, y in enumerate(range(0, h, self.BAND)):
                rows = cur[y : y + self.BAND]
                if (
                    k < len(self._bands)
                    and prev is not None
                    and np.array_equal(rows, prev[y : y + self.BAND])
                ):
                    band = self._bands[k]
                else:
                    band = (_deflate(rows), zlib.adler32(rows))
                bands.append(band)
                parts.append(band[0])
                adler = _adler32_combine(adler, band[1], rows.nbytes)
            self._bands = bands
            self._cur, self._prev = prev, cur
        idat = b"\x78\x01" + b"".join(parts) + b"\x03\x00" + adler.to_bytes(4, "big")
        return _png_bytes(w, h, idat)

    def _buffers(self, w: int, h: int) -> tuple[np.ndarray, np.ndarray | None]:
        shape = (h, w * 3 + 1)
        if self._prev is None or self._prev.shape != shape:
            self._cur, self._prev, self._bands = None, None, []
        cur = self._cur if self._cur is not None else np.zeros(shape, np.uint8)
        return cur, self._prev


def _deflate(data: np.ndarray) -> bytes:
    co = zlib.compressobj(1, zlib.DEFLATED, -15)
    return co.compress(data) + co.flush(zlib.Z_FULL_FLUSH)


_ADLER_BASE = 65521


def _adler32_combine(a1: int, a2: int, len2: int) -> int:
    """zlib's adler32_combine (not exposed by Python's zlib module)."""
    rem = len2 % _ADLER_BASE
    s1 = a1 & 0xFFFF
    s2 = (rem * s1) % _ADLER_BASE
    s1 = (s1 + (a2 & 0xFFFF) + _ADLER_BASE - 1) % _ADLER_BASE
    s2 = (s2 + (a1 >> 16) + (a2 >> 16) + _ADLER_BASE - rem) % _ADLER_BASE
    return s1 | (s2 << 16)


def _chunk(tag: bytes, data: bytes) -> bytes:
    body = tag + data
    return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")


def _png_bytes(w: int, h: int, idat: bytes) -> bytes:
    ihdr = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


# ---------------------------------------------------------------- painting


_SCRIM_LUT = [int(v * SCRIM) for v in range(256)] * 3


def _scrim(img: Image.Image) -> Image.Image:
    return img.point(_SCRIM_LUT)


def _theme(win: Window, frame: Frame) -> Theme:
    t = DARK if win.dark else LIGHT
    return t if frame.density == REF_DENSITY else replace(t, scale=frame.density / REF_DENSITY)


def _paint_window(img: Image.Image, frame: Frame, win: Window, plan: WindowPlan) -> None:
    draw = ImageDraw.Draw(img)
    t = _theme(win, frame)
    if win.kind == "launcher":
        img.paste(_wallpaper(frame.width, frame.height))
    elif win.kind in ("activity", "fullscreen"):
        draw.rectangle((0, 0, frame.width, frame.height), fill=t.bg)
    else:
        _card(draw, plan, t, frame.height)
    deferred: list[tuple[Node, Box]] = []
    bar_nodes = _bar_subtree_ids(win.root) if win.kind == "activity" else set()
    clips = scroll_clips(win.root, plan)
    for i, (node, box) in enumerate(zip(win.root.walk(), plan.boxes, strict=True)):
        clips.enter(img, i)
        if id(node) in bar_nodes:
            deferred.append((node, box))
        elif not clips.hidden(box.rect):
            paint_node(draw, node, box, t)
        clips.leave(img, i)
    if win.kind == "activity":
        _paint_activity_chrome(draw, frame, plan, t, deferred)


def _bar_subtree_ids(root: Node) -> set[int]:
    ids: set[int] = set()
    for n in root.walk():
        if n.role in ("toolbar", "tab"):
            ids.update(id(d) for d in n.walk())
    return ids


def _paint_activity_chrome(
    draw: ImageDraw.ImageDraw, frame: Frame, plan: WindowPlan, t: Theme, bars: list[tuple[Node, Box]]
) -> None:
    """Status-bar and nav-bar backgrounds, toolbar and tab bar, drawn over scrolled-off content."""
    W, H = frame.width, frame.height
    draw.rectangle((0, 0, W, frame.status_bar_height - 1), fill=t.bar)
    draw.rectangle((0, H - frame.nav_bar_height, W, H), fill=t.bar)
    if plan.tab_bar:
        x1, y1, x2, y2 = plan.tab_bar
        draw.rectangle(plan.tab_bar, fill=t.bar)
        draw.line((x1, y1, x2, y1), fill=t.divider, width=t.px(2))
    if plan.toolbar:
        draw.rectangle(plan.toolbar, fill=t.bg)
        x1, y1, x2, y2 = plan.toolbar
        draw.line((x1, y2 - t.px(2), x2, y2 - t.px(2)), fill=t.divider, width=t.px(3))
    for node, box in bars:
        paint_node(draw, node, box, t)


def _card(draw: ImageDraw.ImageDraw, plan: WindowPlan, t: Theme, screen_h: int) -> None:
    x1, y1, x2, y2 = plan.rect
    r = plan.radius
    if plan.top_radius_only:  # a bottom sheet continues behind the navigation bar
        draw.rounded_rectangle((x1, y1, x2 - 1, screen_h + r), radius=r, fill=t.card)
    else:
        draw.rounded_rectangle((x1, y1, x2 - 1, y2 - 1), radius=r, fill=t.card)


_WALLPAPERS: dict[tuple[int, int], Image.Image] = {}


def _wallpaper(w: int, h: int) -> Image.Image:
    img = _WALLPAPERS.get((w, h))
    if img is None:
        grad = Image.linear_gradient("L").resize((w, h))
        top = Image.new("RGB", (w, h), "#1e3c72")
        bottom = Image.new("RGB", (w, h), "#7b4397")
        img = Image.composite(bottom, top, grad)
        _WALLPAPERS[(w, h)] = img
    return img


# ---------------------------------------------------------------- nodes


def paint_node(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    fn = _PAINTERS.get(box.look)
    if fn is not None:
        fn(draw, node, box, t)
    elif box.lines:
        _lines(draw, box, _text_colour(node, t))


def _text_colour(node: Node, t: Theme) -> str:
    if not node.enabled:
        return t.outline
    return {"muted": t.muted, "accent": t.accent, "danger": t.danger}.get(node.style, t.fg)


def _lines(draw: ImageDraw.ImageDraw, box: Box, colour: str, underline: bool = False) -> None:
    f = fonts.font(box.size, box.bold)
    lh = fonts.line_height(box.size)
    anchor = "mm" if box.align == "center" else "lm"
    for k, line in enumerate(box.lines):
        y = box.text_y + k * lh + lh // 2
        parts = fonts.runs(line, box.size, box.bold)
        if len(parts) == 1:
            draw.text((box.text_x, y), line, font=f, fill=colour, anchor=anchor)
        else:  # mixed faces: draw piece by piece from the left edge
            x = box.text_x
            if box.align == "center":
                x -= fonts.text_width(line, box.size, box.bold) / 2
            for piece, pf in parts:
                draw.text((x, y), piece, font=pf, fill=colour, anchor="lm")
                x += fonts.text_width(piece, box.size, box.bold)
        if underline and line:
            w = fonts.text_width(line, box.size, box.bold)
            x = box.text_x - w // 2 if box.align == "center" else box.text_x
            stroke = max(1, round(box.size / 22))  # 2 px at 440 dpi's text sizes, thinner on small text
            uy = y + box.size // 2 + stroke
            draw.line((x, uy, x + w, uy), fill=colour, width=stroke)


def _paint_text(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    _lines(draw, box, _text_colour(node, t))


def _paint_link(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    _lines(draw, box, t.accent, underline=True)


def _pill(
    draw: ImageDraw.ImageDraw, box: Box, t: Theme, fill: str | None, outline: str | None = None
) -> None:
    x1, y1, x2, y2 = box.rect
    inset = t.px(6)
    r = min((y2 - y1) // 2, t.px(66))
    rect = (x1, y1 + inset, x2 - 1, y2 - inset - 1)
    draw.rounded_rectangle(rect, radius=r - inset, fill=fill, outline=outline, width=t.px(3))


def _paint_btn_primary(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    _pill(draw, box, t, t.primary if node.enabled else t.outline)
    _lines(draw, box, WHITE)


def _paint_btn_danger(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    _pill(draw, box, t, t.danger)
    _lines(draw, box, WHITE)


def _paint_btn_tonal(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    _pill(draw, box, t, t.tonal)
    _lines(draw, box, t.on_tonal)


def _paint_btn_outline(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    _pill(draw, box, t, None, t.outline)
    _lines(draw, box, t.accent if node.enabled else t.outline)


def _paint_btn_text(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    colour = t.muted if node.style == "muted" else t.accent
    _lines(draw, box, colour if node.enabled else t.outline)


def _paint_row(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    x1, y1, x2, y2 = box.rect
    p = t.px
    draw.line((x1 + p(66), y2 - p(2), x2, y2 - p(2)), fill=t.divider, width=p(2))
    if node.clickable and not any(c.resource_id.endswith(":id/widget_frame") for c in node.children):
        cx, cy = x2 - p(66), (y1 + y2) // 2
        draw.line((cx - p(14), cy - p(22), cx + p(8), cy, cx - p(14), cy + p(22)), fill=t.muted, width=p(5))
    _lines(draw, box, _text_colour(node, t))


def _paint_input(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    x1, y1, x2, y2 = box.rect
    colour = t.accent if node.focusable and node.selected else t.outline
    draw.line((x1, y2 - t.px(8), x2, y2 - t.px(8)), fill=colour, width=t.px(4))
    _lines(draw, box, t.fg if node.text else t.muted)


def _mark_rect(box: Box, side: int) -> Rect:
    x1, y1, _, y2 = box.rect
    cy = (y1 + y2) // 2
    return (x1, cy - side // 2, x1 + side, cy + side // 2)


def _paint_checkbox(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    p = t.px
    r = _mark_rect(box, p(54))
    if node.checked:
        draw.rounded_rectangle(r, radius=p(6), fill=t.accent)
        x1, y1, x2, y2 = r
        tick = (x1 + p(11), y1 + p(28), x1 + p(22), y1 + p(40), x2 - p(10), y1 + p(14))
        draw.line(tick, fill=t.card, width=p(6))
    else:
        draw.rounded_rectangle(r, radius=p(6), outline=t.muted, width=p(5))
    _lines(draw, box, _text_colour(node, t))


def _paint_radio(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    p = t.px
    r = _mark_rect(box, p(54))
    draw.ellipse(r, outline=t.accent if node.checked else t.muted, width=p(5))
    if node.checked:
        x1, y1, x2, y2 = r
        draw.ellipse((x1 + p(14), y1 + p(14), x2 - p(14), y2 - p(14)), fill=t.accent)
    _lines(draw, box, _text_colour(node, t))


def _paint_switch(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    x1, y1, x2, y2 = box.rect
    cy = (y1 + y2) // 2
    p = t.px
    track = (x2 - p(120), cy - p(24), x2, cy + p(24))
    draw.rounded_rectangle(track, radius=p(24), fill=t.tonal if node.checked else t.divider)
    kx = x2 - p(36) if node.checked else x2 - p(84)
    knob = (kx - p(30), cy - p(30), kx + p(30), cy + p(30))
    draw.ellipse(knob, fill=t.accent if node.checked else t.outline)
    _lines(draw, box, _text_colour(node, t))


def _paint_image(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    x1, y1, x2, y2 = box.rect
    p = t.px
    draw.rounded_rectangle((x1, y1, x2 - 1, y2 - 1), radius=p(22), fill=t.image)
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    hills = [(-90, 60), (-20, -30), (30, 30), (60, 0), (100, 60)]
    draw.polygon([(cx + p(dx), cy + p(dy)) for dx, dy in hills], fill=t.outline)
    draw.ellipse((cx + p(30), cy - p(70), cx + p(70), cy - p(30)), fill=t.outline)


def _paint_icon(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    x1, y1, x2, y2 = box.rect
    draw.ellipse((x1, y1, x2 - 1, y2 - 1), fill=t.accent)
    s = (x2 - x1) // 4
    draw.ellipse((x1 + s + t.px(6), y1 + s, x2 - s - t.px(6), y2 - s - t.px(12)), fill=t.card)


def _paint_nav_icon(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    x1, y1, x2, y2 = box.rect
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    p = t.px
    draw.line((cx - p(30), cy, cx + p(30), cy), fill=t.fg, width=p(6))
    draw.line((cx - p(6), cy - p(26), cx - p(30), cy, cx - p(6), cy + p(26)), fill=t.fg, width=p(6))


def _paint_action_icon(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    x1, y1, x2, y2 = box.rect
    cx, cy = (x1 + x2) // 2, (y1 + y2) // 2
    p = t.px
    for dy in (-p(24), 0, p(24)):
        draw.ellipse((cx - p(7), cy + dy - p(7), cx + p(7), cy + dy + p(7)), fill=t.fg)


def _paint_tab(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    x1, y1, x2, y2 = box.rect
    colour = t.accent if node.selected else t.muted
    cx = (x1 + x2) // 2
    p = t.px
    draw.rounded_rectangle(
        (cx - p(33), y1 + p(22), cx + p(33), y1 + p(88)), radius=p(14), outline=colour, width=p(6)
    )
    _lines(draw, box, colour)


def _paint_launcher_icon(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    x1, y1, x2, y2 = box.rect
    cx = (x1 + x2) // 2
    colour = _LAUNCHER_COLOURS[int(hashlib.md5(node.text.encode()).hexdigest(), 16) % len(_LAUNCHER_COLOURS)]
    p = t.px
    draw.rounded_rectangle((cx - p(77), y1 + p(44), cx + p(77), y1 + p(198)), radius=p(40), fill=colour)
    initial = (node.text or node.content_desc or "?")[:1]
    draw.text((cx, y1 + p(121)), initial, font=fonts.font(p(77), True), fill=WHITE, anchor="mm")
    d = p(2)
    shadow = Box(box.rect, box.look, box.lines, box.size, box.bold, box.align, box.text_x + d, box.text_y + d)
    _lines(draw, shadow, "#202124")
    _lines(draw, box, WHITE)


def _paint_toolbar(draw: ImageDraw.ImageDraw, node: Node, box: Box, t: Theme) -> None:
    _lines(draw, box, t.fg)


_PAINTERS = {
    "text": _paint_text,
    "link": _paint_link,
    "btn_primary": _paint_btn_primary,
    "btn_danger": _paint_btn_danger,
    "btn_tonal": _paint_btn_tonal,
    "btn_outline": _paint_btn_outline,
    "btn_text": _paint_btn_text,
    "row": _paint_row,
    "input": _paint_input,
    "checkbox": _paint_checkbox,
    "radio": _paint_radio,
    "switch": _paint_switch,
    "image": _paint_image,
    "icon": _paint_icon,
    "nav_icon": _paint_nav_icon,
    "action_icon": _paint_action_icon,
    "tab": _paint_tab,
    "launcher_icon": _paint_launcher_icon,
    "toolbar": _paint_toolbar,
}


# ---------------------------------------------------------------- system bars


def _paint_system_bars(img: Image.Image, frame: Frame) -> None:
    """Clock, status icons and navigation buttons: SystemUI windows above every app window."""
    base = _base_window(frame)
    if base is not None and base.kind == "fullscreen":
        return
    draw = ImageDraw.Draw(img)
    top = frame.top
    light_status = base is None or base.kind == "launcher" or base.dark or top.dim_behind
    _status_bar(draw, frame, "#ffffff" if light_status else "#202124")
    # Under a bottom sheet the navigation buttons sit on the sheet's card.
    light_nav = top.dark if top.kind == "bottom_sheet" else light_status
    _nav_bar(draw, frame, "#ffffff" if light_nav else "#5f6368")


def _base_window(frame: Frame) -> Window | None:
    for w in reversed(frame.windows):
        if w.kind in ("activity", "fullscreen", "launcher"):
            return w
    return None


def _status_bar(draw: ImageDraw.ImageDraw, frame: Frame, fg: str) -> None:
    h = frame.status_bar_height
    k = frame.density / REF_DENSITY
    pad, gap, line = round(44 * k), round(33 * k), max(1, round(3 * k))
    size = max(int(h * 0.6), 8)
    draw.text((pad, h // 2), frame.clock_text, font=fonts.font(size, True), fill=fg, anchor="lm")
    W = frame.width
    cy = h // 2
    s = size // 2
    inner = max(1, round(5 * k))
    bx = W - pad - 2 * s
    draw.rounded_rectangle(
        (bx, cy - s, bx + 2 * s, cy + s), radius=max(1, round(4 * k)), outline=fg, width=line
    )
    draw.rectangle((bx + inner, cy - s + inner, bx + int(2 * s * 0.8), cy + s - inner), fill=fg)
    sx = bx - gap - 2 * s
    draw.polygon([(sx, cy + s), (sx + 2 * s, cy + s), (sx + 2 * s, cy - s)], fill=fg)
    wx = sx - gap - 2 * s
    draw.pieslice((wx - s, cy - s, wx + 3 * s, cy + 3 * s), 225, 315, fill=fg)  # wifi fan


def _nav_bar(draw: ImageDraw.ImageDraw, frame: Frame, fg: str) -> None:
    W, H, h = frame.width, frame.height, frame.nav_bar_height
    cy = H - h // 2
    s = h // 6
    line = max(1, round(4 * frame.density / REF_DENSITY))
    bx = W // 4
    draw.polygon([(bx + s, cy - s), (bx + s, cy + s), (bx - s, cy)], outline=fg, width=line)
    draw.ellipse((W // 2 - s, cy - s, W // 2 + s, cy + s), outline=fg, width=line)
    rx = 3 * W // 4
    draw.rounded_rectangle((rx - s, cy - s, rx + s, cy + s), radius=line, outline=fg, width=line)
