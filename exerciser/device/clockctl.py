"""Moving a phone's clock only the ways a phone accepts, and putting automatic time back afterwards.

The long waits of the re-request protocol (minutes between relaunches, past the 48-hour window) are clock
jumps. A phone allows them through, in the order tried here:
- `cmd alarm set-time MILLIS` (AlarmManagerService's shell command, Android 9+), where the build lets the
  shell user hold SET_TIME;
- `date -u MMDDhhmmCCYY.ss` as root (toybox; `su 0 ...` on userdebug builds, `su -c '...'` on Magisk or
  SuperSU phones), only on a rooted phone;
- the Settings app's Date & time page driven through the UI (`settings_time`: automatic time switched
  off, the date and time pickers; minute precision), on any phone whose admin does not lock it, when the
  run's guard has lent its UI (`ui`: every input judged by the safety guard). It costs a dozen screen
  reads per jump, so it is tried only when the shell ways are refused.
Each holds only with automatic time off (`settings put global auto_time 0`), which is saved first. The
method is found at the first jump (nothing is set before one is needed). A phone that allows none raises
`ClockUnavailable`: the run then parks or waits instead.

Restoring sets the clock back by the sum of the jumps (the true time, whatever the phone's clock rate) and
automatic time as it was; after the Settings way with automatic time on before, switching it on again
brings the network's true time (set through the pickers only if the clock does not come back). A marker
file on the phone (`MARKER`) holds what to undo while the clock is moved,
so a run that died (host crash, kill) is undone the next time a driver connects (`recover`).
"""

from __future__ import annotations

import json
import logging
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from exerciser.device.contract import DeviceError
from exerciser.device.settings_time import SettingsClock, SettingsUiError, UiPort, close_to

log = logging.getLogger(__name__)

MARKER = "/data/local/tmp/.exerciser-clock"
ALARM = "cmd alarm set-time"
ROOT_DATE = "su date"
SETTINGS_UI = "settings-ui"
METHODS = (ALARM, ROOT_DATE, SETTINGS_UI)  # cheapest first
SU_FORMS = ("su 0 {cmd}", "su -c {qcmd}")  # AOSP userdebug su; SuperSU / Magisk
Shell = Callable[..., tuple[str, int]]
NO_METHOD = "this phone allows no clock change: `cmd alarm set-time` refused, no root (`su`)"
AUTO_BACK_S = 10.0  # wall seconds to wait for network time after automatic time is back on


class ClockUnavailable(DeviceError):
    """The phone lets no method move its clock (no root, the shell may not set the time)."""


@dataclass
class ClockJump:
    wall: float  # host epoch seconds
    from_ms: int
    to_ms: int
    method: str


@dataclass
class DeviceClock:
    """One phone's clock control; `sh(cmd) -> (output, status)` and `now_ms()` are the driver's."""

    sh: Shell
    now_ms: Callable[[], int]
    api_level: int
    method: str | None = None
    su: str = ""  # the su form that works ("su 0 {cmd}" ...), when root
    tried: bool = False
    saved_auto: str | None = None  # auto_time before the first jump; None: nothing to restore
    jumped_ms: int = 0
    jumps: list[ClockJump] = field(default_factory=list)
    restored: dict | None = None
    ui: UiPort | None = None  # the run's screen and inputs behind its safety guard (the Settings way)
    ui_refused: str = ""  # why the Settings way failed, when it did

    # --- moving ------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> str:
        """Move the clock `seconds` on; the method used. ClockUnavailable when the phone allows none."""
        if self.tried and self.method is None:
            raise ClockUnavailable(NO_METHOD)
        self._auto_off()
        # the Settings way takes device time itself: the uptime (a phone's monotonic clock) tells it apart
        up0 = self._uptime_ms() if self.method in (None, SETTINGS_UI) else None
        start = self.now_ms()
        target = start + int(round(seconds * 1000))
        if self.method is None:
            self.tried = True
            for method in METHODS:
                if self._set(method, target) and self.now_ms() >= target - 1500:
                    self.method = method
                    break
            else:
                self._put_back_auto()
                why = f"; the Settings app's Date & time: {self.ui_refused}" if self.ui_refused else ""
                raise ClockUnavailable(NO_METHOD + (why or ", no UI to set it through Settings"))
        elif not self._set(self.method, target):
            raise DeviceError(f"{self.method}: the phone refused to set the clock")
        moved = self.now_ms() - start
        up1 = self._uptime_ms() if up0 is not None else None
        passed = up1 - up0 if up0 is not None and up1 is not None and up1 >= up0 else 0
        if self.method != SETTINGS_UI:  # a shell way sets the clock at once: all of the move is the jump
            passed = 0
        self.jumped_ms += max(0, moved - passed)  # what the clock is ahead of the true time by
        self.jumps.append(ClockJump(time.time(), start, start + moved, self.method))
        self._write_marker()
        return self.method

    def _set(self, method: str, target_ms: int) -> bool:
        if method == SETTINGS_UI:
            return self._set_ui(target_ms)
        if method == ALARM:
            if self.api_level and self.api_level < 28:
                return False
            out, status = self.sh(f"{ALARM} {int(target_ms)}")
            return status == 0 and "Exception" not in out and "No shell command" not in out
        if not self.su:
            self.su = self._find_su()
        if self.su == "-":
            return False
        # toybox sets whole seconds: round up so the jump is never short
        secs = -(-int(target_ms) // 1000)
        stamp = datetime.fromtimestamp(secs, UTC).strftime("%m%d%H%M%Y.%S")
        out, status = self.sh(_su(self.su, f"date -u {stamp}"))
        return status == 0 and "not permitted" not in out

    def _set_ui(self, target_ms: int) -> bool:
        if self.ui is None:
            return False
        try:
            # before Android 8.0 only the clock face sets the time: minutes in steps of 5
            step = 5 if 0 < self.api_level < 26 else 1
            want = SettingsClock(self.sh, self.ui, self.now_ms, step).set_clock(target_ms)
            if not close_to(self.now_ms(), want):  # e.g. midnight passed between the date and the time
                want = SettingsClock(self.sh, self.ui, self.now_ms, step).set_clock(target_ms)
        except SettingsUiError as exc:
            self.ui_refused = str(exc)
            return False
        except Exception as exc:  # the guard refused an input (ActionRefused), the phone went away...
            self.ui_refused = f"{type(exc).__name__}: {exc}"
            log.warning("setting the clock through Settings failed: %s", self.ui_refused)
            return False
        return close_to(self.now_ms(), want)

    def _uptime_ms(self) -> int | None:
        """Milliseconds since boot (/proc/uptime): runs on whatever the wall clock is set to."""
        out, status = self.sh("cat /proc/uptime")
        try:
            return int(float(out.split()[0]) * 1000) if status == 0 else None
        except (ValueError, IndexError):
            return None

    def _find_su(self) -> str:
        for form in SU_FORMS:
            out, status = self.sh(_su(form, "true"))
            if status == 0 and "not found" not in out and "denied" not in out.lower():
                return form
        return "-"  # none: do not ask again

    # --- automatic time ------------------------------------------------------------------------------
    def _auto_off(self) -> None:
        if self.saved_auto is None:
            out, _ = self.sh("settings get global auto_time")
            self.saved_auto = out.strip() if out.strip() in ("0", "1") else "1"
            self._write_marker()
        self.sh("settings put global auto_time 0")

    def _put_back_auto(self) -> None:
        if self.saved_auto is not None:
            self.sh(f"settings put global auto_time {self.saved_auto}")
            self.sh(f"rm -f {MARKER}")
            self.saved_auto = None

    def _write_marker(self) -> None:
        state = {"auto": self.saved_auto, "jumped_ms": self.jumped_ms, "method": self.method, "su": self.su}
        self.sh(f"echo {shlex.quote(json.dumps(state))} > {MARKER}")

    # --- undoing -------------------------------------------------------------------------------------
    def restore(self) -> dict:
        """Clock back by the jumps, automatic time as it was; what was done (empty: nothing to do)."""
        if self.saved_auto is None:
            return self.restored or {}
        back_ms = self.jumped_ms
        ok = True
        auto = self.saved_auto
        if back_ms and self.method == SETTINGS_UI and auto == "1":
            ok = self._auto_back_ui(back_ms)
        elif back_ms and self.method:
            ok = self._set(self.method, self.now_ms() - back_ms)
        self._put_back_auto()
        out, _ = self.sh("settings get global auto_time")
        self.restored = {
            "method": self.method,
            "set_back_ms": back_ms if ok else 0,
            "auto_time": out.strip(),
            "auto_time_before": auto,
        }
        self.jumped_ms = 0
        return self.restored

    def _auto_back_ui(self, back_ms: int) -> bool:
        """Automatic time on again (the shell's `settings put`, else its switch): network time comes back.
        A phone that gets none (offline) is set back through the pickers and then switched on."""
        up0, before = self._uptime_ms(), self.now_ms()
        self.sh("settings put global auto_time 1")
        out, _ = self.sh("settings get global auto_time")
        if out.strip() != "1" and self.ui is not None:
            try:
                SettingsClock(self.sh, self.ui, self.now_ms).set_auto(True)
            except Exception as exc:
                log.warning("automatic time could not be switched back on: %s", exc)
        t0 = time.monotonic()
        while True:
            now, up = self.now_ms(), self._uptime_ms()
            passed = up - up0 if up is not None and up0 is not None else 0  # device time that went by
            if now - before - passed < -back_ms // 2:  # the clock came back (at least half the way)
                return True
            if time.monotonic() - t0 > AUTO_BACK_S:
                break
            time.sleep(0.5)
        self.sh("settings put global auto_time 0")
        return self._set_ui(self.now_ms() - back_ms)

    def recover(self) -> dict:
        """Undo what a run that died left on the phone (its marker): {} when nothing was left."""
        out, status = self.sh(f"cat {MARKER} 2>/dev/null")
        try:
            left = json.loads(out) if status == 0 else None
        except ValueError:
            left = None
        if not isinstance(left, dict):
            return {}
        self.saved_auto = left.get("auto") if left.get("auto") in ("0", "1") else "1"
        self.method = left.get("method") or None
        self.su = left.get("su") or ""
        self.jumped_ms = int(left.get("jumped_ms") or 0)
        done = self.restore()
        log.warning("clock left moved by an earlier run: restored (%s)", done)
        self.method, self.tried, self.su = None, False, ""
        return done

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "tried": self.tried,
            "jumps": len(self.jumps),
            "jumped_s": round(sum(j.to_ms - j.from_ms for j in self.jumps) / 1000, 1),
            "restored": self.restored,
        }


def _su(form: str, cmd: str) -> str:
    return form.format(cmd=cmd, qcmd=shlex.quote(cmd))
