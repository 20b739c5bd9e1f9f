"""The pictures a report embeds: JPEG data URIs of the step screenshots, made once per distinct screen.

Kept apart from `html` (no jinja2, no networkx) so that the live video worker, which makes the small
pictures from the screenshots it decodes anyway, starts fast.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

THUMB_W = 108  # step table
SHOT_W = 360  # finding screenshots


def reduce_to(bgr: np.ndarray, width: int) -> np.ndarray:
    """`bgr` at `width` (never enlarged): halved by INTER_AREA while it is twice as wide or more (OpenCV's
    fast path; other ratios of INTER_AREA cost ~7x as much), then bilinear for the last step (< 2x)."""
    h, w = bgr.shape[:2]
    while w >= 2 * width:
        h, w = h // 2, w // 2
        bgr = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)
    if w > width:
        bgr = cv2.resize(bgr, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_LINEAR)
    return bgr


def jpeg_uri(bgr: np.ndarray, width: int, quality: int = 80) -> str:
    """A BGR picture (OpenCV's order) reduced to `width` as a JPEG data URI."""
    bgr = reduce_to(bgr, width)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover
        return ""
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode()


def read_bgr(path: Path) -> np.ndarray | None:
    return cv2.imread(str(path), cv2.IMREAD_REDUCED_COLOR_2) if path.exists() else None


@dataclass
class Thumbs:
    """Embedded pictures per step number: small for the step table, larger for findings.

    Pictures are made once per distinct screen (`by_sha`: (screenshot SHA-256, width) -> data URI).
    `every_screen` makes the large picture of every distinct screen as well: the live video's worker
    does so, since it decodes each screen anyway and cannot know which steps the verdicts will cite.
    """

    small: dict[int, str] = field(default_factory=dict)
    large: dict[int, str] = field(default_factory=dict)
    wanted_large: set[int] = field(default_factory=set)
    wanted_small: bool = True
    every_screen: bool = False
    by_sha: dict[tuple[str, int], str] = field(default_factory=dict)

    def _jpeg(self, rec: dict[str, Any], bgr: np.ndarray, width: int, quality: int) -> str:
        sha = rec.get("screenshot_sha256")
        if not sha:
            return jpeg_uri(bgr, width, quality)
        key = (sha, width)
        if key not in self.by_sha:
            self.by_sha[key] = jpeg_uri(bgr, width, quality)
        return self.by_sha[key]

    def add(self, rec: dict[str, Any], bgr: np.ndarray) -> None:
        """Pictures of step `rec` from its decoded screenshot (BGR, any reduction)."""
        n = rec.get("n")
        if not isinstance(n, int):
            return
        if self.every_screen:
            self._jpeg(rec, bgr, THUMB_W, 70)
            self._jpeg(rec, bgr, SHOT_W, 82)
        if self.wanted_small and n not in self.small:
            self.small[n] = self._jpeg(rec, bgr, THUMB_W, 70)
        if n in self.wanted_large and n not in self.large:
            self.large[n] = self._jpeg(rec, bgr, SHOT_W, 82)

    def from_cache(self, rec: dict[str, Any]) -> None:
        """Fill step `rec`'s pictures from those of the same screen made before (no decoding)."""
        n, sha = rec.get("n"), rec.get("screenshot_sha256")
        if not isinstance(n, int) or not sha:
            return
        if self.wanted_small and n not in self.small and (sha, THUMB_W) in self.by_sha:
            self.small[n] = self.by_sha[(sha, THUMB_W)]
        if n in self.wanted_large and n not in self.large and (sha, SHOT_W) in self.by_sha:
            self.large[n] = self.by_sha[(sha, SHOT_W)]

    def missing(self, n: Any) -> bool:
        return (self.wanted_small and n not in self.small) or (n in self.wanted_large and n not in self.large)

    def merge(self, other: Thumbs) -> None:
        """Take the pictures another pass already made (the live video's)."""
        for key, uri in other.by_sha.items():
            self.by_sha.setdefault(key, uri)
        if self.wanted_small:
            for n, uri in other.small.items():
                self.small.setdefault(n, uri)
        for n, uri in other.large.items():
            self.large.setdefault(n, uri)
