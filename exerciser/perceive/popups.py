"""Pop-ups that are in the way but ask for nothing the probes measure: splash adverts (跳过 / Skip with a
countdown), teen-mode notices, update prompts, coupon / red-packet / reward pop-ups, rating prompts, login
walls. `popup(reading)` says which one is in front and which button dismisses it; the words are data
(`models/lexicons/popups.yaml`). A screen the recognisers gave a kind (a prompt, consent, a wall, a
deletion page, ...) is never a pop-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from exerciser import knowledge
from exerciser.perceive.reading import Element, ScreenReading
from exerciser.perceive.text import compact, normalise


@dataclass(frozen=True)
class Popup:
    kind: str  # splash_ad | teen_mode | update | coupon | rating | login_wall
    dismiss: Element  # the button to press
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class _Words:
    markers: tuple[str, ...]
    dismiss: tuple[str, ...]


@cache
def _lexicon() -> tuple[re.Pattern[str], dict[str, _Words]]:
    raw = knowledge.load("lexicons/popups.yaml")

    def words(d: dict) -> tuple[str, ...]:
        return tuple(compact(w) for lang in ("zh", "en") for w in (d or {}).get(lang, []))

    kinds = {k: _Words(words(v.get("markers")), words(v.get("dismiss"))) for k, v in raw["kinds"].items()}
    return re.compile(raw["splash_ad"]["skip_pattern"], re.I), kinds


def _inside(e: Element, bounds: tuple[int, int, int, int] | None) -> bool:
    if bounds is None:
        return True
    x, y = (e.bounds[0] + e.bounds[2]) // 2, (e.bounds[1] + e.bounds[3]) // 2
    return bounds[0] <= x <= bounds[2] and bounds[1] <= y <= bounds[3]


def popup(reading: ScreenReading) -> Popup | None:
    if reading.kinds:
        return None
    skip, kinds = _lexicon()
    taps = [e for e in reading.clickables if e.label and e.enabled and _inside(e, reading.dialog_bounds)]
    if reading.dialog_bounds is None:
        # a launch advert: a full screen with a skip button (it also closes by itself)
        for e in taps:
            if skip.match(normalise(e.label)):
                return Popup("splash_ad", e, (f"button:{e.label}",))
        return None
    texts = [compact(e.label) for e in reading.elements if e.label and _inside(e, reading.dialog_bounds)]
    for kind, w in kinds.items():
        marker = next((m for m in w.markers if any(m in t for t in texts)), None)
        if marker is None:
            continue
        for e in taps:
            c = compact(e.label)
            if c in w.dismiss:
                return Popup(kind, e, (f"text:{marker}", f"button:{e.label}"))
    return None
