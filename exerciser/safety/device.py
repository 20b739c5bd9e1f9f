"""`GuardedDevice`: the device a run talks to, with the safety guard in front of every input.

It is the first stage of the action pipeline (guard → device → settle and timing → trace, in
`exerciser.runner.session`), and it sits on the device itself, so an explorer, a probe or a replay that
reaches for `session.device` directly goes through it as well.
"""

from __future__ import annotations

from typing import Any

from exerciser.device.contract import Device, DeviceInfo, Key, Observation
from exerciser.safety.guard import Judgement, SafetyGuard

# A drag shorter than this in both axes may be a click (ViewConfiguration's touch slop is 8 dp: 32 px at
# 4x density): the guard judges it as a tap at its start.
SWIPE_TAP_PX = 32
CLOCK_CALLS = ("advance_clock", "restore_clock")


class ActionRefused(Exception):
    """The guard refused an input: it was not sent to the device."""

    def __init__(self, judgement: Judgement):
        super().__init__(judgement.reason)
        self.judgement = judgement


class GuardedDevice:
    """Delegates everything to `inner`; tap, long-press, key and typed text only when the guard allows."""

    def __init__(self, inner: Device, guard: SafetyGuard | None = None):
        self.inner = inner
        self.guard = guard or SafetyGuard()
        self._lend_clock_ui()

    def __getattr__(self, name: str) -> Any:  # everything the guard has no say in
        if name in CLOCK_CALLS:  # a device shared by several runs: the clock is set through this one's guard
            self._lend_clock_ui()
        return getattr(self.inner, name)

    def _lend_clock_ui(self) -> None:
        """A clock set through the Settings app (the driver's last way) is set through this guard."""
        attach = getattr(self.inner, "attach_clock_ui", None)
        if callable(attach):
            from exerciser.safety.clock_ui import GuardedClockUi

            attach(GuardedClockUi(self))

    @property
    def info(self) -> DeviceInfo:
        return self.inner.info

    def observe(self) -> Observation:
        return self.inner.observe()

    def _check(self, j: Judgement) -> Judgement:
        if not j.allowed:
            raise ActionRefused(j)
        return j

    # --- inputs: judged first ----------------------------------------------------------------------
    def tap(self, x: int, y: int) -> None:
        j = self._check(self.guard.judge_point(x, y, "tap"))
        self.inner.tap(x, y)
        self.guard.performed(j)

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        j = self._check(self.guard.judge_point(x, y, "long press"))
        self.inner.long_press(x, y, duration_ms)
        self.guard.performed(j)

    def key(self, key: Key) -> None:
        j = self._check(self.guard.judge_key(key))
        self.inner.key(key)
        self.guard.performed(j)

    def type_text(self, text: str) -> None:
        j = self._check(self.guard.judge_text(text))
        self.inner.type_text(text)
        self.guard.performed(j)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        # a swipe scrolls: it presses nothing, but what was read before it is no longer on screen;
        # one that stays within the touch slop is a click where it started, and is judged as one
        if abs(x2 - x1) <= SWIPE_TAP_PX and abs(y2 - y1) <= SWIPE_TAP_PX:
            j = self._check(self.guard.judge_point(x1, y1, "tap"))
            self.inner.swipe(x1, y1, x2, y2, duration_ms)
            self.guard.performed(j)
            return
        self.inner.swipe(x1, y1, x2, y2, duration_ms)
        self.guard.performed()

    # --- app lifecycle: the deletion path ends with the app's screens --------------------------------
    def app_start(self, package: str) -> None:
        # a warm start brings back the screen that was in front (it may be on the deletion path)
        cold = not self.inner.is_alive(package)
        self.inner.app_start(package)
        if cold:
            self.guard.restarted()
        else:
            self.guard.performed()

    def app_stop(self, package: str) -> None:
        self.inner.app_stop(package)
        self.guard.restarted()

    def app_clear(self, package: str) -> None:
        self.inner.app_clear(package)
        self.guard.restarted()
