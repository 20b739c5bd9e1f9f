"""The screen and inputs a driver's clock control uses to set the time through the Settings app, with the
run's safety guard in front: each screen is read (and so judged against) before the next input, and each
tap, key and typed text is judged like any other (`GuardedDevice`). A refused input raises
`ActionRefused`, and the clock control gives that way up."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from exerciser.device.contract import Key

if TYPE_CHECKING:
    from exerciser.safety.device import GuardedDevice


class GuardedClockUi:
    def __init__(self, device: GuardedDevice) -> None:
        self.device = device

    def dump(self) -> str:
        from exerciser.perceive import read_screen

        obs = self.device.inner.observe()
        reading = read_screen(obs, self.device.info)
        # a state id of its own: a Settings page is never a screen of the app under test
        self.device.guard.saw(reading, "settings:" + hashlib.sha1(obs.xml.encode()).hexdigest()[:16])
        return obs.xml

    def tap(self, x: int, y: int) -> None:
        self.device.tap(x, y)

    def type_text(self, text: str) -> None:
        self.device.type_text(text)

    def clear_text(self) -> None:
        clear = getattr(self.device.inner, "clear_text", None)
        if callable(clear):
            clear()

    def home(self) -> None:
        self.device.key(Key.HOME)
