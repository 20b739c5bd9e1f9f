"""Display of a virtual device: panel size in pixels and density in dpi, written `WIDTHxHEIGHT@DPI`.

Android lays out in dp (1 dp = dpi / 160 px), so a 540x1170 phone at 240 dpi shows the same dialog as a
1080x2340 one at 440 dpi in fewer, larger-looking pixels. The presets are common panels of the phones
testers hold, from the cheap 540 px ones up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MIN_DENSITY = 72  # `wm density` refuses less


@dataclass(frozen=True)
class Display:
    width: int
    height: int
    density: int = 440

    def __str__(self) -> str:
        return f"{self.width}x{self.height}@{self.density}"

    @property
    def dp_width(self) -> int:
        return round(self.width * 160 / self.density)


DEFAULT = Display(1080, 2340, 440)
PRESETS = (
    Display(540, 1170, 240),
    Display(720, 1600, 320),
    DEFAULT,
    Display(1440, 3200, 560),
)

_FORM = re.compile(r"^(\d{3,5})x(\d{3,5})(?:@(\d{2,4}))?$")


def parse_display(text: str) -> Display:
    """`540x1170@240` (or `WIDTHxHEIGHT`, at 440 dpi); ValueError with the expected form otherwise."""
    m = _FORM.match(text.strip())
    if not m:
        raise ValueError(f"{text!r}: expected WIDTHxHEIGHT@DPI, e.g. 540x1170@240")
    w, h, d = int(m[1]), int(m[2]), int(m[3] or DEFAULT.density)
    if d < MIN_DENSITY:
        raise ValueError(f"{text!r}: density must be >= {MIN_DENSITY}")
    if w * 160 / d < 240 or h * 160 / d < 320:
        raise ValueError(f"{text!r}: smaller than any phone ({round(w * 160 / d)}x{round(h * 160 / d)} dp)")
    return Display(w, h, d)
