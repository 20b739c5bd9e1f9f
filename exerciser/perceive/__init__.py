"""Screen understanding: `read_screen(obs, info) -> ScreenReading` (types in `reading.py`).

Hierarchy first (uiautomator XML), OpenCV + resident tesseract only for blind screens. Recognition
knowledge lives in `models/lexicons/*.yaml` and `models/android/*.yaml`.
"""

from __future__ import annotations

import threading

from exerciser.device.contract import DeviceInfo, Observation
from exerciser.perceive.hints import goal_hint, nav_score
from exerciser.perceive.reader import Reader
from exerciser.perceive.reading import (
    KINDS,
    PERMISSION_GROUPS,
    ROLES,
    Element,
    KindHit,
    ScreenReading,
    Target,
)

__all__ = [
    "KINDS",
    "PERMISSION_GROUPS",
    "ROLES",
    "Element",
    "KindHit",
    "Reader",
    "ScreenReading",
    "Target",
    "goal_hint",
    "nav_score",
    "read_screen",
]

_DEFAULT: Reader | None = None
_DEFAULT_LOCK = threading.Lock()


def read_screen(obs: Observation, info: DeviceInfo | None = None) -> ScreenReading:
    """Read one observation with the process-wide default `Reader` (OCR on, shared OCR cache)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Reader()
    return _DEFAULT.read(obs, info)
