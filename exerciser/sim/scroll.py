"""Scrolling in the virtual device: gesture physics, the container under a finger, and painting clips.

Distances follow Android's own numbers in dp, converted at the device's density (`dp` px per dp, 2.75 at
440 dpi): the touch slop (8 dp) is eaten
before the content moves (ScrollView/RecyclerView subtract it when a drag starts), the content follows
the finger for the rest of the drag, and a release faster than the minimum fling velocity (50 dp/s)
flings on by SplineOverScroller's distance for that velocity (capped at 8000 dp/s). Injected swipes
(`input swipe`, uiautomator's `swipe(steps)`) move linearly, so the release velocity is the distance
over the duration: a fast swipe travels much further than a slow drag of the same length. Scrolling
stops at both ends.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from PIL import Image

from exerciser.sim.ui import Node

DENSITY = 2.75
TOUCH_SLOP = round(8 * DENSITY)  # ViewConfiguration.TOUCH_SLOP
MIN_FLING = 50 * DENSITY  # px/s, ViewConfiguration.MINIMUM_FLING_VELOCITY
MAX_FLING = 8000 * DENSITY  # px/s, ViewConfiguration.MAXIMUM_FLING_VELOCITY
# SplineOverScroller constants
_DECELERATION_RATE = math.log(0.78) / math.log(0.9)
_INFLEXION = 0.35
_FRICTION = 0.015  # ViewConfiguration.getScrollFriction()


def fling_distance(velocity: float, dp: float = DENSITY) -> int:
    """How far a fling released at `velocity` px/s travels (SplineOverScroller.getSplineFlingDistance)."""
    v = min(abs(velocity), 8000 * dp)
    if v < 50 * dp:
        return 0
    physical = 9.80665 * 39.37 * (160 * dp) * 0.84  # gravity * inch/m * ppi * 0.84
    coeff = _FRICTION * physical
    l = math.log(_INFLEXION * v / coeff)  # noqa: E741 - the name AOSP uses
    return int(round(coeff * math.exp(_DECELERATION_RATE / (_DECELERATION_RATE - 1.0) * l)))


def gesture_delta(dy: int, duration_ms: int, dp: float = DENSITY) -> int:
    """Content movement (px, positive = towards the end) of a drag of `dy` px along the container's axis
    (finger moving up, or left, is positive) lasting `duration_ms`: the drag beyond the touch slop plus
    the fling it releases."""
    dist = abs(dy)
    slop = round(8 * dp)
    if dist <= slop:
        return 0
    velocity = dist / max(duration_ms, 1) * 1000.0
    moved = dist - slop + fling_distance(velocity, dp)
    return moved if dy > 0 else -moved


def is_tap(dx: int, dy: int, dp: float = DENSITY) -> bool:
    """A gesture that never left the touch slop is a click, as a View sees it."""
    slop = round(8 * dp)
    return abs(dx) <= slop and abs(dy) <= slop


def container_at(root: Node, x: int, y: int, horizontal: bool = False) -> Node | None:
    """The innermost scroll container of the drag's axis that can move and holds (x, y): the one that
    takes the drag (a vertical drag on a sideways strip moves the page around it)."""
    best: Node | None = None
    for n in root.walk():
        b = n.bounds
        ext = n.scroll_extent
        if n.scroll is None or ext is None or ext[0] <= 0 or b is None or n.scroll.horizontal != horizontal:
            continue
        if b[0] <= x < b[2] and b[1] <= y < b[3]:
            best = n  # walk order: a later hit is nested deeper
    return best


def scrolled(node: Node, delta: int) -> int:
    """The container's new offset after moving its content by `delta` px: clamped to its ends."""
    rng, off = node.scroll_extent or (0, 0)
    return min(max(off + delta, 0), rng)


def scroll_nodes(root: Node) -> Iterator[Node]:
    for n in root.walk():
        if n.scroll is not None and n.scroll_extent is not None:
            yield n


Rect = tuple[int, int, int, int]


@dataclass
class _Clip:
    end: int  # walk index after the container's subtree
    view: Rect  # the viewport
    outside: list[Rect]  # where the subtree may paint beyond the viewport
    saved: list[tuple[tuple[int, int], Image.Image]] = field(default_factory=list)  # (corner, pixels)


class ScrollClips:
    """Paints a scrolled container's subtree clipped to its viewport: what lies beyond it (a title,
    buttons, the toolbar above and below a page; the margins beside a strip) is saved before the subtree
    is drawn and put back after."""

    def __init__(self, pending: dict[int, _Clip]):
        self.pending = pending
        self.active: list[_Clip] = []

    def enter(self, img: Image.Image, i: int) -> None:
        clip = self.pending.get(i)
        if clip is None:
            return
        clip.saved = []
        for x1, y1, x2, y2 in clip.outside:
            x2, y2 = min(x2, img.width), min(y2, img.height)
            if x2 > x1 and y2 > y1:
                clip.saved.append(((x1, y1), img.crop((x1, y1, x2, y2))))
        self.active.append(clip)

    def hidden(self, rect: Rect) -> bool:
        """A box wholly outside the viewport of a container it is in: painting it is wasted (the rows of a
        long page, the blocks of a WebView scrolled out of view)."""
        return any(
            rect[2] <= c.view[0] or rect[0] >= c.view[2] or rect[3] <= c.view[1] or rect[1] >= c.view[3]
            for c in self.active
        )

    def leave(self, img: Image.Image, i: int) -> None:
        while self.active and self.active[-1].end == i + 1:
            clip = self.active.pop()
            for corner, pixels in clip.saved:
                img.paste(pixels, corner)


def scroll_clips(root: Node, plan: object) -> ScrollClips:
    """Clips for the containers of `plan` (a layout WindowPlan) that are scrolled or overflow."""
    extents: dict[int, tuple[int, int]] = getattr(plan, "extents", {})
    if not any(rng > 0 for rng, _ in extents.values()):
        return ScrollClips({})
    nodes = list(root.walk())
    boxes = plan.boxes  # type: ignore[attr-defined]
    bounds = plan.bounds  # type: ignore[attr-defined]
    width = 1 << 20  # to the image's right edge (enter() clamps)
    pending: dict[int, _Clip] = {}
    for i, (rng, _off) in extents.items():
        if rng <= 0:
            continue
        size = sum(1 for _ in nodes[i].walk())
        view = bounds[i]
        if not (view[2] > view[0] and view[3] > view[1]):
            continue
        rows = [boxes[j].rect for j in range(i, i + size)]
        scroll = nodes[i].scroll
        if scroll is not None and scroll.horizontal:  # the columns left and right of the viewport
            outside = [(0, view[1], view[0], view[3]), (view[2], view[1], width, view[3])]
        else:  # the rows above and below it
            y1 = max(0, min([view[1]] + [r[1] for r in rows]))
            y2 = max([view[3]] + [r[3] for r in rows])
            outside = [(0, y1, width, view[1]), (0, view[3], width, max(y2, y1 + 1))]
        pending[i] = _Clip(i + size, view, outside)
    return ScrollClips(pending)
