"""The served device keeps time like a phone: its clock runs with wall time, by itself.

Network time is the host's monotonic clock since serving, times `scale` (1 on a real-time phone; tests
run the whole phone faster), from the device's own start time. With automatic time on
(`settings global auto_time` = 1, a phone's default) the device clock is network time, and a clock set by
hand is pulled back at the next sync, as NITZ/NTP do; with it off the clock runs on from the time last
set. A ticker thread moves the device on, so app timers fire with nobody asking; every call into the device
is synced first, so what a client reads is exact.

`PhoneSpeed` holds a phone's per-call latencies in device seconds (a real phone's pace: hierarchy dump
about 1 s, screenshot 0.3 s, tap 50 ms, app start 1.5 s); on the wall they last `latency / scale`.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from exerciser.sim.adbfront.phone import Phone

TICK_S = 0.1  # wall seconds between the ticker's syncs


@dataclass(frozen=True)
class PhoneSpeed:
    """Latency of each kind of call, in device seconds. `PhoneSpeed.off()`: answers as fast as it can."""

    dump: float = 1.0  # uiautomator hierarchy dump
    screenshot: float = 0.3
    tap: float = 0.05  # any input: tap, swipe, key, text
    app_start: float = 1.5  # monkey / am start until the first frame

    @classmethod
    def off(cls) -> PhoneSpeed:
        return cls(0.0, 0.0, 0.0, 0.0)

    @classmethod
    def parse(cls, text: str) -> PhoneSpeed:
        """ "phone" (the defaults), "off", or "dump=1,screenshot=0.3,tap=0.05,app_start=1.5" (any subset)."""
        text = text.strip()
        if text in ("phone", "on", ""):
            return cls()
        if text in ("off", "none", "0"):
            return cls.off()
        known = {f.name for f in fields(cls)}
        vals: dict[str, float] = {}
        for part in text.split(","):
            key, sep, val = part.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in known:
                names = ", ".join(sorted(known))
                raise ValueError(f"phone speed: '{part}' (known: {names}, as name=seconds)")
            try:
                vals[key] = float(val)
            except ValueError:
                raise ValueError(f"phone speed: '{part}': seconds expected") from None
            if vals[key] < 0:
                raise ValueError(f"phone speed: '{part}': negative")
        return cls(**vals)

    def to_json(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class PhoneClock:
    """The device's wall clock; see the module docstring."""

    def __init__(self, phone: Phone, scale: float = 1.0, speed: PhoneSpeed | None = None) -> None:
        if scale <= 0:
            raise ValueError("clock scale must be positive")
        self.scale = float(scale)
        self.speed = speed or PhoneSpeed.off()
        self._phone = weakref.ref(phone)
        self._mono0 = time.monotonic()
        self._net0 = phone.device.now_ms()
        self.offset_ms = 0  # device clock minus network time, while automatic time is off
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- time ---------------------------------------------------------------------------------------
    def network_ms(self) -> int:
        return self._net0 + int((time.monotonic() - self._mono0) * 1000 * self.scale)

    def auto_time(self) -> bool:
        phone = self._phone()
        return phone is None or phone.state.settings.get("global", {}).get("auto_time", "1") != "0"

    def target_ms(self) -> int:
        if self.auto_time():
            self.offset_ms = 0
        return self.network_ms() + self.offset_ms

    def sync(self) -> None:
        """Bring the device clock to where wall time says it is (caller holds the phone's lock or not)."""
        phone = self._phone()
        if phone is None:
            return
        with phone.lock:
            dev = phone.device
            now, target = dev.now_ms(), self.target_ms()
            if target == now:
                return
            before = _screen_key(dev)
            setter = getattr(dev, "set_clock", None)
            if setter is not None:
                setter(target)
            elif target > now:  # a device that only knows time passing
                dev.wait((target - now) / 1000)
            if before is None or _screen_key(dev) != before:
                phone._obs = None

    def set_ms(self, ms: int) -> None:
        """The clock set by hand (`date`, `cmd alarm set-time`): it holds while automatic time is off."""
        phone = self._phone()
        if phone is None:
            return
        with phone.lock:
            self.offset_ms = int(ms) - self.network_ms()
            if self.auto_time():  # set, and at once pulled back by network time
                self._set_raw(int(ms))
            self.sync()

    def _set_raw(self, ms: int) -> None:
        phone = self._phone()
        setter = getattr(phone.device, "set_clock", None) if phone is not None else None
        if phone is not None and setter is not None:
            setter(ms)
            phone._obs = None

    def sleep(self, device_seconds: float) -> None:
        """Block for `device_seconds` of device time (wall: divided by the scale)."""
        if device_seconds > 0:
            self._stop.wait(device_seconds / self.scale)

    def latency(self, kind: str) -> None:
        """A call of this kind takes its phone-speed time (outside the phone's lock: calls overlap)."""
        s = getattr(self.speed, kind, 0.0)
        if s > 0:
            time.sleep(s / self.scale)

    # --- ticker -------------------------------------------------------------------------------------
    def start(self) -> PhoneClock:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            ref = weakref.ref(self)
            self._thread = threading.Thread(target=_tick, args=(ref,), daemon=True, name="clock")
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()


class PhoneTimeSettings:
    """The Settings app's Date & time page on a served phone: its switch is `settings global auto_time`
    (what `settings get` reads), a picked date or time sets the clock as `date` does, and with no clock
    method at all the page is locked by an admin (DISALLOW_CONFIG_DATE_TIME: a managed phone)."""

    def __init__(self, phone: Phone) -> None:
        self._phone = weakref.ref(phone)

    def auto_time(self) -> bool:
        phone = self._phone()
        return phone is None or phone.clock.auto_time()

    def set_auto_time(self, on: bool) -> None:
        phone = self._phone()
        if phone is not None:
            phone.state.settings.setdefault("global", {})["auto_time"] = "1" if on else "0"
            phone.clock.sync()  # switched on: network time pulls a hand-set clock back at once

    def set_time_ms(self, ms: int) -> None:
        phone = self._phone()
        if phone is not None:
            phone.clock.set_ms(ms)

    def restricted(self) -> bool:
        phone = self._phone()
        return phone is not None and not phone.clock_methods


def _tick(ref: weakref.ref) -> None:
    while True:
        clock = ref()
        if clock is None or clock._stop.is_set():
            return
        stop = clock._stop
        # an app model error surfaces on the next client call, not in this thread
        with contextlib.suppress(Exception):
            clock.sync()
        del clock
        if stop.wait(TICK_S):
            return


def _screen_key(dev) -> object:
    fn = getattr(dev, "screen_key", None)
    return fn() if callable(fn) else None
