"""Parking: a job whose device cannot move its clock gives the device up for a long wait, not sleeps on it.

The re-request protocol waits minutes and hours between relaunches (with the app force-stopped). On a
phone that allows no clock change the wait is real; the job is parked: its device drives other apps of
the suite meanwhile, and when the phone's own clock says the wait is over, the job takes the same device
back before any new app starts on it, and goes on where it stopped (its session, evidence and app state
are kept; only the screen is brought back to the launcher, where the stop left it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from exerciser.device.contract import Device, Key

POLL_S = 1.0  # wall seconds between two looks at the phone's clock while parked
# A wait shorter than this (wall seconds, by the phone's measured clock rate) is waited out with the device
# kept: another app could not finish in it, and the parked one would wait for the device afterwards.
HAND_OVER_S = 20.0


class DeviceSlot:
    """Who drives one device now: one job at a time; a job coming back from parking goes first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._resuming = 0
        self._since = 0.0
        self.busy_s = 0.0  # wall seconds the device was driven
        self.started = time.monotonic()

    def take(self, resume: bool = False) -> None:
        with self._cond:
            if resume:
                self._resuming += 1
            while self._busy or (not resume and self._resuming):
                self._cond.wait(0.5)
            if resume:
                self._resuming -= 1
            self._busy = True
            self._since = time.monotonic()

    def give(self) -> None:
        with self._cond:
            if self._busy:
                self.busy_s += time.monotonic() - self._since
            self._busy = False
            self._cond.notify_all()

    def idle(self, seconds: float) -> None:
        """The holder waited `seconds` without driving the device."""
        with self._cond:
            self.busy_s -= seconds

    def busy_share(self) -> float:
        with self._cond:
            now = time.monotonic()
            busy = self.busy_s + (now - self._since if self._busy else 0.0)
            return busy / max(1e-9, now - self.started)


def clock_rate(device: Device, sample_s: float = 0.2) -> float:
    """Device seconds per wall second (1 on a phone), measured on the phone's own clock."""
    t0, d0 = time.monotonic(), device.now_ms()
    time.sleep(sample_s)
    return max(1e-3, (device.now_ms() - d0) / 1000 / (time.monotonic() - t0))


def wait_device_time(device: Device, seconds: float, poll_s: float = POLL_S, rate: float = 1.0) -> float:
    """Until the device's clock has moved `seconds` on (its own time, whatever its pace); wall seconds.
    `rate`: the phone's measured pace (`clock_rate`), so that the last look comes when the wait should be
    over, not up to `poll_s` after it (the clock is read again before going on either way)."""
    t0 = time.monotonic()
    end = device.now_ms() + int(seconds * 1000)
    while (left := end - device.now_ms()) > 0:
        time.sleep(min(left / 1000 / max(rate, 1e-3), poll_s))
    return time.monotonic() - t0


def make_park(
    device: Device,
    slot: DeviceSlot,
    on_park: Callable[[float, bool], None],
    on_resume: Callable[[float, float], None],
    hand_over_s: float = HAND_OVER_S,
) -> Callable[[float], None]:
    """The `park(seconds)` a job's session calls: give the slot up (`on_park(seconds, handed_over)`: a wait
    long enough lets another job start on the device), wait the device time out, take the slot back first
    in line (`on_resume(waited, then_for_the_device)`: wall seconds)."""

    def park(seconds: float) -> None:
        rate = clock_rate(device)
        handed = seconds / rate >= hand_over_s
        on_park(seconds, handed)
        if not handed:  # kept, but not driven: the wait does not count as the device's work
            waited = wait_device_time(device, seconds, rate=rate)
            slot.idle(waited)
            on_resume(waited, 0.0)
            return
        slot.give()
        waited = 0.0
        t0 = time.monotonic()
        try:
            waited = wait_device_time(device, seconds, rate=rate)
        finally:
            slot.take(resume=True)
        device.key(Key.HOME)  # another app may have run meanwhile: the launcher again, as the stop left it
        on_resume(waited, time.monotonic() - t0 - waited)

    return park
