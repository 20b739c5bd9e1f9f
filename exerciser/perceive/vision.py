"""OpenCV for blind screens: find the dialog card, segment its buttons and text lines, prepare OCR crops.

Card: a large near-uniform region (light or dark) whose filled outline is a rectangle (rounded corners
allowed), over a dimmed backdrop: everything outside it is darker than an undimmed screen (dialogs dim the
windows behind them). This finds light cards, dark-mode cards (darker than the backdrop of a dimmed light
app) and bottom sheets (a card touching the navigation bar).

Segments: button shapes (filled pills, outlined pills) first, found by their solid top and bottom edges;
then text lines by row projection of the "ink" (pixels that differ from the local background), each line
split at wide gaps, so that two text buttons on one row ("取消      确定") become two segments. Chinese
labels have no spaces: reading each segment alone keeps 不同意 and 同意 apart.

Polarity: each crop is turned into "distance from its own background colour", inverted, so white text
on a blue pill and grey text on a white card both become dark text on white for tesseract.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from exerciser.perceive.reading import Bounds

SMALL = 4  # down-scaling factor for card detection
INK_THRESHOLD = 48  # max channel difference from the background that counts as ink
STATUS_BAR = 0.03  # share of the screen height taken by the status bar (top)
NAV_BAR = 0.055  # ... and by the navigation bar (bottom)
MAX_LINE = 0.045  # share of the screen height above which an ink row is an image, not text
PARA_WRAP = 0.6  # share of the region's width a line spans when its text wrapped onto the next line
PARA_GAP = 1.0  # the gap to the next line of one paragraph is at most this share of the line height
LINK_SATURATION = 90  # median HSV saturation of a line's ink from which it is drawn in a colour
LINK_UNDERLINE = 0.85  # share of a line's width one ink row covers when the line is underlined


@dataclass(frozen=True)
class Card:
    bounds: Bounds
    bg: tuple[int, int, int]  # BGR background colour of the card
    kind: str  # "dialog" | "sheet" | "page" (no card: a blind full-screen region)
    dimmed: bool


@dataclass
class Segment:
    bounds: Bounds  # screen coordinates
    kind: str  # "pill" | "line"
    bg: tuple[int, int, int]
    lines: int = 1  # text rows inside (a pill label may wrap)
    order: int = 0  # reading order inside the card

    @property
    def height(self) -> int:
        return self.bounds[3] - self.bounds[1]

    @property
    def width(self) -> int:
        return self.bounds[2] - self.bounds[0]


def decode(png: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("not a decodable image")
    return img


def _content_rows(h: int) -> tuple[int, int]:
    return int(h * STATUS_BAR), int(h * (1 - NAV_BAR))


def content_rows(img: np.ndarray, bounds: Bounds | None = None) -> memoryview:
    """The pixels a reading depends on (what the OCR cache keys on): those inside `bounds` (a dialog window
    the hierarchy gave: only its card is read), else all between the status and the navigation bar."""
    if bounds is not None:
        h, w = img.shape[:2]
        x1, y1, x2, y2 = max(0, bounds[0]), max(0, bounds[1]), min(w, bounds[2]), min(h, bounds[3])
        return memoryview(np.ascontiguousarray(img[y1:y2, x1:x2])).cast("B")
    top, bottom = _content_rows(img.shape[0])
    return memoryview(np.ascontiguousarray(img[top:bottom])).cast("B")


def find_card(img: np.ndarray) -> Card | None:
    """The dialog card / bottom sheet in front, or None."""
    h, w = img.shape[:2]
    small = cv2.resize(img, (w // SMALL, h // SMALL), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    sh, sw = gray.shape
    top, bottom = (v // SMALL for v in _content_rows(h))
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    flat = grad < 10
    flat[:top] = False
    flat[bottom:] = False
    hist = np.bincount((gray[flat] // 8).ravel(), minlength=32)
    peaks = [int(b) for b in np.argsort(hist)[::-1][:4] if hist[b] > 0.02 * sw * sh]
    best: tuple[float, Card] | None = None
    content = (bottom - top) * sw
    for b in peaks:
        centre = b * 8 + 4
        mask = (flat & (np.abs(gray.astype(np.int16) - centre) <= 7)).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        cands = [(tuple(int(v) for v in stats[k][:4]), [k]) for k in range(1, n)]
        cands += _stacked(stats, n, gray)
        for (x, y, cw, ch), ks in cands:
            if cw < 0.5 * sw or ch < 0.07 * sh or cw * ch > 0.9 * content:
                continue
            area = sum(int(stats[k][4]) for k in ks)
            if area < 0.25 * cw * ch:
                continue
            if y <= top + 1 and cw >= 0.95 * sw:
                continue  # from the top across the screen: the dimmed backdrop above a sheet, not a card
            comp = np.isin(labels[y : y + ch, x : x + cw], ks).astype(np.uint8)
            if len(ks) == 1:
                contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
                filled = max(cv2.contourArea(c) for c in contours)
                if filled < 0.88 * cw * ch:
                    continue
            card_val = float(np.median(gray[y : y + ch, x : x + cw][comp > 0]))
            outside = np.ones((sh, sw), bool)
            outside[:top] = False
            outside[bottom:] = False
            outside[y : y + ch, x : x + cw] = False
            rest = gray[outside]
            if rest.size < 0.05 * content:
                continue
            p95 = float(np.percentile(rest, 95))
            med = float(np.median(rest))
            dimmed = p95 <= 200 and abs(card_val - med) >= 20
            if not dimmed:
                continue
            bx = (int(x) * SMALL, int(y) * SMALL, min(w, int(x + cw) * SMALL), min(h, int(y + ch) * SMALL))
            kind = "sheet" if y + ch >= bottom - 2 and cw >= 0.95 * sw else "dialog"
            bg = _bg_colour(img, bx)
            if y + ch >= bottom - 2:
                bx = _extend_down(img, bx, bg)
            score = float(cw * ch)
            if best is None or score > best[0]:
                best = (score, Card(bx, bg, kind, True))
    return best[1] if best else None


Box = tuple[int, int, int, int]  # x, y, w, h (OpenCV component stats)


def _stacked(stats: np.ndarray, n: int, gray: np.ndarray) -> list[tuple[Box, list[int]]]:
    """Pieces of one card cut apart by full-width dividers or a highlighted row (a pressed list item):
    same-colour components with the same left and right edges, stacked with small gaps across which the
    card's edge goes on (two image placeholders on a page have the page between them)."""
    sh, sw = gray.shape
    pieces = [k for k in range(1, n) if stats[k][2] >= 0.5 * sw and stats[k][3] >= 0.02 * sh]
    pieces.sort(key=lambda k: (int(stats[k][0]), int(stats[k][1])))
    out: list[tuple[Box, list[int]]] = []
    used: set[int] = set()
    for a in pieces:
        if a in used:
            continue
        group = [a]
        for b in pieces:
            last = stats[group[-1]]
            sb = stats[b]
            same_edges = abs(int(sb[0]) - int(last[0])) <= 2 and abs(int(sb[2]) - int(last[2])) <= 3
            gap = int(sb[1]) - int(last[1] + last[3])
            if b not in group and same_edges and 0 <= gap <= 0.1 * sh:
                x, top, w = int(last[0]), int(last[1] + last[3]), int(last[2])
                if _edge_goes_on(gray, x, w, top, top + gap):
                    group.append(b)
        if len(group) >= 2:
            used.update(group)
            x = int(stats[group[0]][0])
            y1 = min(int(stats[k][1]) for k in group)
            y2 = max(int(stats[k][1] + stats[k][3]) for k in group)
            out.append(((x, y1, int(stats[group[0]][2]), y2 - y1), group))
    return out


def _edge_goes_on(gray: np.ndarray, x: int, w: int, y1: int, y2: int) -> bool:
    """Rows y1..y2 continue a card spanning columns x..x+w: just inside its edges they differ from just
    outside (a divider or a highlighted row runs edge to edge; the page between two cards does not)."""
    if y2 <= y1:
        return True
    sw = gray.shape[1]
    if x < 2 or x + w + 2 > sw:
        return y2 - y1 <= 3  # a full-width card: only a divider's rows can be told apart here
    band = gray[y1:y2].astype(np.int16)
    inside = band[:, [x + 1, x + w - 2]]
    outside = band[:, [x - 2, x + w + 1]]
    return float(np.abs(inside - outside).mean()) >= 20


def _extend_down(img: np.ndarray, b: Bounds, bg: tuple[int, int, int]) -> Bounds:
    """A card cut at the assumed navigation bar reaches further down on gesture-navigation phones (no bar):
    follow its side margins down while they keep the card's colour."""
    h = img.shape[0]
    x1, y1, x2, y2 = b
    m = max(2, (x2 - x1) // 100)
    sides = img[y2:h, [min(x1 + m, x2 - 1), max(x2 - 1 - m, x1)]].astype(np.int16)
    same = (np.abs(sides - np.array(bg, np.int16)).max(axis=2) <= 24).all(axis=1)
    stop = np.flatnonzero(~same)
    return (x1, y1, x2, y2 + (int(stop[0]) if stop.size else h - y2))


def card_from_bounds(img: np.ndarray, b: Bounds, kind: str = "dialog") -> Card:
    """A card whose bounds the hierarchy already gave (a dialog window with a blind view inside)."""
    h, w = img.shape[:2]
    b = (max(0, b[0]), max(0, b[1]), min(w, b[2]), min(h, b[3]))
    return Card(b, _bg_colour(img, b), kind, False)


def page_region(img: np.ndarray, b: Bounds | None = None) -> Card:
    """A blind full-screen region (WebView page, game surface without a card)."""
    h, w = img.shape[:2]
    top, bottom = _content_rows(h)
    if b is None:
        b = (0, top, w, bottom)
    b = (max(0, b[0]), max(top, b[1]), min(w, b[2]), min(bottom, b[3]))
    bg = _bg_colour(img, b)
    if b[3] == bottom and _crossed(img, bottom, bg):
        b = (b[0], b[1], b[2], h)  # no navigation bar there (gesture navigation): content goes on
    return Card(b, bg, "page", False)


def _crossed(img: np.ndarray, y: int, bg: tuple[int, int, int]) -> bool:
    """Something wide (a full-width button) runs across row `y`, where a navigation bar would start."""
    if y >= img.shape[0]:
        return False
    row = img[y : y + 1]
    return float((ink_mask(row, bg) > 0).mean()) > 0.5


def _bg_colour(img: np.ndarray, b: Bounds) -> tuple[int, int, int]:
    """Dominant colour of the region (quantised mode of a sparse sample)."""
    x1, y1, x2, y2 = b
    crop = img[y1:y2:7, x1:x2:7].reshape(-1, 3)
    if crop.size == 0:
        return (255, 255, 255)
    q = (crop // 16).astype(np.int32)
    keys = q[:, 0] * 256 + q[:, 1] * 16 + q[:, 2]
    mode = np.bincount(keys).argmax()
    sel = crop[keys == mode]
    return tuple(int(v) for v in np.median(sel, axis=0))  # type: ignore[return-value]


def _distance(crop: np.ndarray, bg: tuple[int, int, int]) -> np.ndarray:
    """Per pixel, the largest channel difference from the colour `bg` (uint8)."""
    b, g, r = cv2.split(cv2.absdiff(crop, (*bg, 0)))
    return cv2.max(cv2.max(b, g), r)


def _percentile(gray: np.ndarray, q: float) -> float:
    """`np.percentile(gray, q)` (linear) of a uint8 image, from its histogram: a tenth of the time."""
    cum = np.cumsum(cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel())
    pos = q / 100 * (gray.size - 1)
    lo = int(pos)
    a = int(np.searchsorted(cum, lo, side="right"))
    b = int(np.searchsorted(cum, lo + 1, side="right"))
    return a + (pos - lo) * (b - a)


def ink_mask(crop: np.ndarray, bg: tuple[int, int, int], threshold: int = INK_THRESHOLD) -> np.ndarray:
    """1 where some channel differs from `bg` by more than `threshold` (inRange: one fast pass)."""
    lo = tuple(max(0, c - threshold) for c in bg)
    hi = tuple(min(255, c + threshold) for c in bg)
    return (cv2.inRange(crop, lo, hi) == 0).astype(np.uint8)


def segment(img: np.ndarray, card: Card, screen_h: int | None = None) -> list[Segment]:
    """Buttons and text lines inside the card, in reading order (top to bottom, left to right)."""
    x1, y1, x2, y2 = card.bounds
    crop = img[y1:y2, x1:x2]
    if crop.size == 0:
        return []
    H = screen_h or img.shape[0]
    ink = ink_mask(crop, card.bg)
    ch, cw = ink.shape
    # Rounded corners and the card's anti-aliased edge are not ink. A page region has neither: it is a
    # blind view's bounds, and its text may start right at the edge (a WebView with no padding).
    if card.kind != "page":
        edge = max(4, int(0.012 * H))
        ink[:edge] = 0
        ink[-edge:] = 0
        ink[:, :edge] = 0
        ink[:, -edge:] = 0
    segs: list[Segment] = []
    for pb in _pills(ink, H):
        px1, py1, px2, py2 = pb
        inner = crop[py1:py2, px1:px2]
        fill = _pill_fill(inner, card.bg)
        segs.append(Segment((px1 + x1, py1 + y1, px2 + x1, py2 + y1), "pill", fill))
        ink[py1:py2, px1:px2] = 0
    # Thin full-width rules (dividers above text buttons) are not text.
    for ry1, ry2 in _text_rows(ink):
        band = ink[ry1:ry2]
        lh = ry2 - ry1
        if lh <= max(4, int(0.003 * H)):
            continue
        for sx1, sx2 in _split_columns(band, gap=max(int(1.4 * lh), int(0.035 * cw) + lh)):
            if sx2 - sx1 < max(6, int(0.25 * lh)) and lh > 0.012 * H:
                continue  # a vertical divider or a stray mark
            sx1 = _skip_icon(band[:, sx1:sx2], lh) + sx1
            pieces = [(sx1, a, b) for a, b in _stacked_rows(band[:, sx1:sx2])]  # a tab's icon over its label
            while pieces:
                px, a, b = pieces.pop(0)
                ty1, ty2 = ry1 + a, ry1 + b
                if ty2 - ty1 < max(8, int(0.006 * H)):
                    continue  # too small to be text at phone density (dots, underlines)
                if ty2 - ty1 > MAX_LINE * H:
                    # an image or icon; or an icon as tall as the wrapped message beside it (the system
                    # prompt of Android 6-9 and One UI): the message's own lines follow the icon
                    tx = _text_beside_icon(band[a:b, px:sx2])
                    if tx:
                        pieces[:0] = [
                            (px + tx, a + c, a + d) for c, d in _stacked_rows(band[a:b, px + tx : sx2])
                        ]
                    continue
                segs.append(Segment((px + x1, ty1 + y1, sx2 + x1, ty2 + y1), "line", card.bg))
    segs.sort(key=lambda s: (s.bounds[1] // max(1, int(0.01 * H)), s.bounds[0]))
    for k, s in enumerate(segs):
        s.order = k
    return segs


def is_link(img: np.ndarray, seg: Segment) -> bool:
    """A text line drawn as a web link: its ink in a colour (not black, grey or white) and underlined,
    as browsers draw an <a> by default. Whatever its width or place, it is something to tap."""
    if seg.kind != "line":
        return False
    x1, y1, x2, y2 = seg.bounds
    # the underline sits under the text, in the line's lower third or just below it (below a line
    # without descenders, where the segmentation may have left it out)
    below = min(img.shape[0], y2 + max(2, (y2 - y1) // 3))
    crop = img[y1:below, x1:x2]
    if crop.size == 0 or y2 <= y1:
        return False
    ink = _distance(crop, _local_bg(img, seg)) > INK_THRESHOLD
    if int(ink.sum()) < 20:
        return False
    sat = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)[:, :, 1][ink]
    if float(np.median(sat)) < LINK_SATURATION:
        return False
    rows = ink.mean(axis=1)
    low = rows[(y2 - y1) * 2 // 3 :]
    return bool(low.size) and float(low.max()) >= LINK_UNDERLINE


def paragraph_lines(segs: list[Segment], region: Card) -> set[int]:
    """Indexes of the text lines of wrapped paragraphs: a line spanning most of the region (its text went
    on) and the lines that follow it, tight below and aligned on its left. A row label, a title or a short
    line set apart belongs to none: nothing wrapped there."""
    rw = region.bounds[2] - region.bounds[0]
    lines = sorted((k for k, s in enumerate(segs) if s.kind == "line"), key=lambda k: segs[k].bounds[1])
    out: set[int] = set()
    for k in lines:
        cur = k
        while segs[cur].width >= PARA_WRAP * rw:
            nxt = next((j for j in lines if j != cur and _continues(segs[cur], segs[j])), None)
            if nxt is None or nxt in out:
                break
            out.update((cur, nxt))
            cur = nxt
    return out


def _continues(a: Segment, b: Segment) -> bool:
    """`b` is the next line of the paragraph `a` wrapped from: just below it, starting about where it starts
    (a glyph's side bearing such as 【's; `a` may be an indented first line)."""
    h = max(a.height, b.height)
    gap = b.bounds[1] - a.bounds[3]
    return -0.2 * h <= gap <= PARA_GAP * h and -2.5 * h <= b.bounds[0] - a.bounds[0] <= h


def _text_rows(mask: np.ndarray) -> list[tuple[int, int]]:
    """Row runs containing ink."""
    if mask.size == 0:
        return []
    prof = mask.any(axis=1).astype(np.int8)
    return _runs(prof)


def _runs(prof: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate(([0], prof, [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _stacked_rows(cols: np.ndarray) -> list[tuple[int, int]]:
    """The ink rows of one column group, cut where a blank gap is wider than a glyph's own gaps (over an
    eighth of the whole): an icon stacked over its label, not the strokes of 二 or 三."""
    runs = _runs(cols.any(axis=1).astype(np.int8))
    if not runs:
        return []
    total = runs[-1][1] - runs[0][0]
    out = [list(runs[0])]
    for a, b in runs[1:]:
        if a - out[-1][1] < max(4, 0.12 * total):
            out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _text_beside_icon(piece: np.ndarray) -> int:
    """Columns to drop before the text of a too-tall piece that starts with a square icon as tall as the
    piece, set apart from the text by a clear gap (0 when the piece is not an icon beside text)."""
    h = piece.shape[0]
    runs = _runs(piece.any(axis=0).astype(np.int8))
    if len(runs) < 2:
        return 0
    (a, b), (c, _) = runs[0], runs[1]
    icon_rows = _runs(piece[:, a:b].any(axis=1).astype(np.int8))
    tall = bool(icon_rows) and icon_rows[-1][1] - icon_rows[0][0] >= 0.6 * h
    if tall and 0.6 * h <= b - a <= 1.6 * h and c - b >= 0.15 * h:
        return c
    return 0


def _skip_icon(band: np.ndarray, lh: int) -> int:
    """Columns to drop before a line's text: a leading icon (a row's glyph, a radio / checkbox) is a square
    blob set apart by a wider gap than the letters of a word have. OCR reads it as an ideograph (莹钱包)."""
    runs = _runs(band.any(axis=0).astype(np.int8))
    if len(runs) < 2:
        return 0
    # letters: runs closer than a quarter of the line height are one blob
    blobs = [list(runs[0])]
    for a, b in runs[1:]:
        if a - blobs[-1][1] < 0.25 * lh:
            blobs[-1][1] = b
        else:
            blobs.append([a, b])
    if len(blobs) < 2:
        return 0
    (a, b), (c, _) = blobs[0], blobs[1]
    if 0.6 * lh <= b - a <= 1.6 * lh and c - b >= 0.45 * lh:
        return c
    return 0


def _split_columns(band: np.ndarray, gap: int) -> list[tuple[int, int]]:
    cols = band.any(axis=0).astype(np.int8)
    runs = _runs(cols)
    if not runs:
        return []
    merged = [list(runs[0])]
    for a, b in runs[1:]:
        if a - merged[-1][1] < gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _pills(ink: np.ndarray, H: int) -> list[Bounds]:
    """Button shapes: ink components whose top and bottom edges are solid (filled or outlined pills).

    Labelled at half resolution (2×2 max-pool keeps thin outlines closed): a quarter of the pixels, and
    button bounds need no more than 2 px precision.
    """
    out: list[Bounds] = []
    f = 2
    ih, iw = ink.shape
    small = cv2.dilate(ink, np.ones((f, f), np.uint8), anchor=(0, 0))[::f, ::f]  # exact f×f blocks
    min_h, max_h = 0.028 * H / f, 0.12 * H / f
    n, _, stats, _ = cv2.connectedComponentsWithStats(small, connectivity=8)
    for k in range(1, n):
        x, y, w, h, _area = stats[k]
        if not (min_h <= h <= max_h) or w < 1.6 * h:
            continue
        r = h // 2
        if w - 2 * r < h // 2:
            continue
        # the straight edges, one block in from the corner's anti-aliasing; either of the two outer block
        # rows, since a 2 px outline (a low-density phone's 1 dp) fills only one of them
        top = small[y, x + r : x + w - r] | small[y + 1, x + r : x + w - r]
        bot = small[y + h - 1, x + r : x + w - r] | small[y + h - 2, x + r : x + w - r]
        if top.mean() >= 0.85 and bot.mean() >= 0.85:
            # exact bounds at full resolution: the ink of the f×f blocks on the edge
            bx1, by1, bx2, by2 = int(x) * f, int(y) * f, min(iw, int(x + w) * f), min(ih, int(y + h) * f)
            region = ink[by1:by2, bx1:bx2]
            rows = np.flatnonzero(region.any(axis=1))
            cols = np.flatnonzero(region.any(axis=0))
            out.append(
                (bx1 + int(cols[0]), by1 + int(rows[0]), bx1 + int(cols[-1]) + 1, by1 + int(rows[-1]) + 1)
            )
    return out


def _pill_fill(inner: np.ndarray, card_bg: tuple[int, int, int]) -> tuple[int, int, int]:
    """Fill colour of a pill: the colour just inside its top edge (the card colour for outlined pills)."""
    h, w = inner.shape[:2]
    band = inner[max(0, int(h * 0.18)) : max(1, int(h * 0.26)), w // 3 : 2 * w // 3].reshape(-1, 3)
    if band.size == 0:
        return card_bg
    return tuple(int(v) for v in np.median(band, axis=0))  # type: ignore[return-value]


def ocr_crop(img: np.ndarray, seg: Segment, target_h: int = 36) -> np.ndarray:
    """Dark-on-white grey crop of one segment, scaled so a text row is about `target_h` pixels."""
    x1, y1, x2, y2 = seg.bounds
    if seg.kind == "pill":
        h = y2 - y1
        inset = max(3, int(0.12 * h))
        side = max(inset, int(0.18 * h))
        x1, y1, x2, y2 = x1 + side, y1 + inset, x2 - side, y2 - inset
    crop = img[y1:y2, x1:x2]
    diff = _distance(crop, _local_bg(img, seg) if seg.kind == "line" else seg.bg)
    # Stretch: the strongest ink becomes black, the background white.
    hi = max(40, int(_percentile(diff, 99)))
    g = cv2.LUT(diff, (255 - np.minimum(np.arange(256) * 255 // hi, 255)).astype(np.uint8))
    if seg.kind == "pill":
        g = _clear_border_ink(g)  # the rounded ends of the pill (card colour in the crop's corners)
        dark = g < 128
        rows = np.flatnonzero(dark.any(axis=1))
        cols = np.flatnonzero(dark.any(axis=0))
        if rows.size and cols.size:
            g = g[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
            runs = _runs(dark[rows[0] : rows[-1] + 1].any(axis=1).astype(np.int8))
            # rows of a wrapped label: runs separated by a real gap (not the gaps inside one glyph)
            seg.lines = max(
                1,
                1
                + sum(
                    1 for (_, e), (s2, _) in zip(runs, runs[1:], strict=False) if s2 - e > 0.12 * g.shape[0]
                ),
            )
    row_h = g.shape[0] / max(1, seg.lines)
    scale = target_h / row_h if row_h > 0 else 1.0
    if scale < 0.95 or scale > 1.6:
        g = cv2.resize(
            g, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        )
    pad = max(8, target_h // 3)
    return cv2.copyMakeBorder(g, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)


def _local_bg(img: np.ndarray, seg: Segment) -> tuple[int, int, int]:
    """The colour right around a text line: a highlighted (pressed) row or a tinted band is not the card's
    colour, and measuring ink against the card's would grey the line's own background."""
    x1, y1, x2, y2 = seg.bounds
    h, w = img.shape[:2]
    pad = max(2, (y2 - y1) // 6)
    ring = np.concatenate(
        [
            img[max(0, y1 - pad) : y1, x1:x2].reshape(-1, 3),
            img[y2 : min(h, y2 + pad), x1:x2].reshape(-1, 3),
        ]
    )
    if ring.size == 0:
        return seg.bg
    local = tuple(int(v) for v in np.median(ring, axis=0))
    return local if max(abs(a - b) for a, b in zip(local, seg.bg, strict=True)) > 12 else seg.bg


def _clear_border_ink(g: np.ndarray) -> np.ndarray:
    """White out dark blobs touching the crop's left or right edge: a label sits inside its padding."""
    dark = (g < 128).astype(np.uint8)
    n, lab = cv2.connectedComponents(dark, connectivity=8)
    if n <= 1:
        return g
    edge = set(np.unique(lab[:, 0]).tolist()) | set(np.unique(lab[:, -1]).tolist())
    edge.discard(0)
    if not edge:
        return g
    out = g.copy()
    out[np.isin(lab, list(edge))] = 255
    return out


def ink_saturation(img: np.ndarray, seg: Segment) -> float:
    """Median HSV saturation of a segment's ink (its text strokes): grey text ≈ 0, a tinted label high."""
    x1, y1, x2, y2 = seg.bounds
    crop = img[y1:y2, x1:x2]
    if crop.size == 0:
        return 0.0
    ink = ink_mask(crop, seg.bg) > 0
    if not ink.any():
        return 0.0
    sat = cv2.cvtColor(crop, cv2.COLOR_BGR2HSV)[:, :, 1]
    return float(np.median(sat[ink]))
