"""Multi-finger gestures as a transformable view reads them (Compose's `detectTransformGestures`).

A gesture is a list of touch frames: the positions of the fingers down at each injected MotionEvent,
first the ACTION_DOWN, then one frame per ACTION_POINTER_DOWN, the ACTION_MOVEs, one per
ACTION_POINTER_UP, and the ACTION_UP. Only pointers down both before and after an event count
(`pressed && previousPressed`), so a finger going down or up changes nothing by itself. The zoom of an
event is the centroid size after over before (1 when either is 0); until the gesture has passed the
touch slop (zoom or pan motion larger than it) the changes only accumulate, afterwards each event's
change reaches the view (androidx.compose.foundation.gestures.TransformGestureDetector).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Point = tuple[float, float]
# one touch frame: pointer id -> position, for the pointers down at that event
TouchFrame = dict[int, Point]


def _centroid(points: Sequence[Point]) -> Point | None:
    if not points:
        return None
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _size(points: Sequence[Point]) -> float:
    """calculateCentroidSize: the mean distance of the pointers from their centroid."""
    c = _centroid(points)
    if c is None:
        return 0.0
    return sum(math.dist(p, c) for p in points) / len(points)


def zoom_changes(frames: Sequence[TouchFrame], touch_slop: float) -> list[float]:
    """The zoom changes the view receives (onGesture's zoomChange), one per event past the slop."""
    out: list[float] = []
    zoom, pan_x, pan_y, past = 1.0, 0.0, 0.0, False
    for before, after in zip(frames, frames[1:], strict=False):
        ids = [i for i in after if i in before]  # pressed now and before
        prev = [before[i] for i in ids]
        cur = [after[i] for i in ids]
        s_prev, s_cur = _size(prev), _size(cur)
        change = s_cur / s_prev if s_prev and s_cur else 1.0
        c_prev, c_cur = _centroid(prev), _centroid(cur)
        pan = (c_cur[0] - c_prev[0], c_cur[1] - c_prev[1]) if c_prev and c_cur else (0.0, 0.0)
        if not past:
            zoom *= change
            pan_x, pan_y = pan_x + pan[0], pan_y + pan[1]
            if abs(1 - zoom) * s_prev > touch_slop or math.hypot(pan_x, pan_y) > touch_slop:
                past = True
        if past and change != 1.0:
            out.append(change)
    return out


def two_pointer_frames(track1: Sequence[Point], track2: Sequence[Point]) -> list[TouchFrame]:
    """The touch frames of UiAutomator's performMultiPointerGesture for two pointer tracks: down of
    pointer 0 then 1 at their first points, moves through the points between first and last, pointer 1
    up and pointer 0 up with both at their last points (the last point is never a move)."""
    n = max(len(track1), len(track2))

    def at(track: Sequence[Point], i: int) -> Point:
        return track[min(i, len(track) - 1)]

    frames: list[TouchFrame] = [{0: at(track1, 0)}, {0: at(track1, 0), 1: at(track2, 0)}]
    frames += [{0: at(track1, i), 1: at(track2, i)} for i in range(1, n - 1)]
    frames += [{0: at(track1, n - 1)}, {}]
    return frames


def apply_zoom(value: float, changes: Sequence[float], lo: float, hi: float) -> float:
    """The app's `scale = (scale * zoomChange).coerceIn(lo, hi)` after each change."""
    for c in changes:
        value = min(max(value * c, lo), hi)
    return value


__all__ = ["zoom_changes", "two_pointer_frames", "apply_zoom", "TouchFrame"]
