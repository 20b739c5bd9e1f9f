"""uiautomator2's scroll and fling JSON-RPC methods, as the on-device server runs them (UiScrollable).

`scrollForward(selector, isVertical, steps)` swipes inside the scrollable's bounds from 10 % above its
bottom edge to 10 % below its top (UiScrollable's swipe dead zone), `steps` × 5 ms long; a fling is the
same swipe in 5 steps (`FLING_STEPS`). It returns whether the content moved. `scrollTo` is
`scrollIntoView`: found already → true; else back to the beginning, then forward one swipe at a time
until the target shows or the end is reached (at most `MAX_SEARCH_SWIPES`).
"""

from __future__ import annotations

from typing import Any

DEAD_ZONE = 0.1  # UiScrollable.DEFAULT_SWIPE_DEADZONE_PCT
FLING_STEPS = 5  # UiScrollable.FLING_STEPS
SCROLL_STEPS = 55  # UiScrollable.SCROLL_STEPS
MAX_SEARCH_SWIPES = 30  # UiScrollable.mMaxSearchSwipes
STEP_MS = 5  # each injected motion step is throttled to 5 ms


def _server():
    from exerciser.sim.adbfront import u2server

    return u2server


def _swipe(phone: Any, sel: dict, vertical: bool, forward: bool, steps: int) -> bool:
    u2 = _server()
    node = u2._find(phone, sel)
    if node is None:
        raise u2._not_found(sel)
    b = u2._bounds(node)
    before = phone.observation().xml
    if vertical:
        adj = int((b["bottom"] - b["top"]) * DEAD_ZONE)
        cx = (b["left"] + b["right"]) // 2
        low, high = b["bottom"] - adj, b["top"] + adj
        y1, y2 = (low, high) if forward else (high, low)
        phone.swipe(cx, y1, cx, y2, max(1, int(steps)) * STEP_MS)
    else:
        adj = int((b["right"] - b["left"]) * DEAD_ZONE)
        cy = (b["top"] + b["bottom"]) // 2
        right, left = b["right"] - adj, b["left"] + adj
        x1, x2 = (right, left) if forward else (left, right)
        phone.swipe(x1, cy, x2, cy, max(1, int(steps)) * STEP_MS)
    return phone.observation().xml != before


def scroll_forward(phone: Any, sel: dict, vertical: bool = True, steps: int = SCROLL_STEPS) -> bool:
    return _swipe(phone, sel, vertical, True, steps)


def scroll_backward(phone: Any, sel: dict, vertical: bool = True, steps: int = SCROLL_STEPS) -> bool:
    return _swipe(phone, sel, vertical, False, steps)


def _until_stuck(phone: Any, sel: dict, vertical: bool, forward: bool, max_swipes: int, steps: int) -> bool:
    for _ in range(max(0, int(max_swipes))):
        if not _swipe(phone, sel, vertical, forward, steps):
            break
    return True


def scroll_to_beginning(
    phone: Any, sel: dict, vertical: bool = True, max_swipes: int = 500, steps: int = SCROLL_STEPS
) -> bool:
    return _until_stuck(phone, sel, vertical, False, max_swipes, steps)


def scroll_to_end(
    phone: Any, sel: dict, vertical: bool = True, max_swipes: int = 500, steps: int = SCROLL_STEPS
) -> bool:
    return _until_stuck(phone, sel, vertical, True, max_swipes, steps)


def scroll_to(phone: Any, sel: dict, target: dict, vertical: bool = True) -> bool:
    u2 = _server()
    if u2._exist(phone, target):
        return True
    _until_stuck(phone, sel, vertical, False, MAX_SEARCH_SWIPES, SCROLL_STEPS)
    for _ in range(MAX_SEARCH_SWIPES):
        if u2._exist(phone, target):
            return True
        if not _swipe(phone, sel, vertical, True, SCROLL_STEPS):
            break
    return u2._exist(phone, target)


def fling_forward(phone: Any, sel: dict, vertical: bool = True) -> bool:
    return _swipe(phone, sel, vertical, True, FLING_STEPS)


def fling_backward(phone: Any, sel: dict, vertical: bool = True) -> bool:
    return _swipe(phone, sel, vertical, False, FLING_STEPS)


def fling_to_beginning(phone: Any, sel: dict, vertical: bool = True, max_swipes: int = 500) -> bool:
    return _until_stuck(phone, sel, vertical, False, max_swipes, FLING_STEPS)


def fling_to_end(phone: Any, sel: dict, vertical: bool = True, max_swipes: int = 500) -> bool:
    return _until_stuck(phone, sel, vertical, True, max_swipes, FLING_STEPS)


METHODS = {
    "scrollForward": scroll_forward,
    "scrollBackward": scroll_backward,
    "scrollToBeginning": scroll_to_beginning,
    "scrollToEnd": scroll_to_end,
    "scrollTo": scroll_to,
    "flingForward": fling_forward,
    "flingBackward": fling_backward,
    "flingToBeginning": fling_to_beginning,
    "flingToEnd": fling_to_end,
}
