"""Moving a phone's clock only the ways a phone accepts, and putting automatic time back afterwards.

The long waits of the re-request protocol (minutes between relaunches, past the 48-hour window) are clock
jumps. A phone allows them through, in the order tried here:
- `cmd alarm set-time MILLIS` (AlarmManagerService's shell command, Android 9+), where the build lets the
  shell user hold SET_TIME;
- `date -u MMDDhhmmCCYY.ss` as root (toybox; `su 0 ...` on userdebug builds, `su -c '...'` on Magisk or
  SuperSU phones), only on a rooted phone.
Either holds only with automatic time off (`settings put global auto_time 0`), which is saved first. The
method is found at the first jump (nothing is set before one is needed). A phone that allows none raises
`ClockUnavailable`: the run then parks or waits instead.

Restoring sets the clock back by the sum of the jumps (the true time, whatever the phone's clock rate) and
automatic time as it was. A marker file on the phone (`MARKER`) holds what to undo while the clock is moved,
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

log = logging.getLogger(__name__)

MARKER = "/data/local/tmp/.exerciser-clock"
ALARM = "cmd alarm set-time"
ROOT_DATE = "su date"
SU_FORMS = ("su 0 {cmd}", "su -c {qcmd}")  # AOSP userdebug su; SuperSU / Magisk
Shell = Callable[..., tuple[str, int]]
NO_METHOD = "this phone allows no clock change: `cmd alarm set-time` refused and no root (`su`)"


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

    # --- moving ------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> str:
        """Move the clock `seconds` on; the method used. ClockUnavailable when the phone allows none."""
        if self.tried and self.method is None:
            raise ClockUnavailable(NO_METHOD)
        self._auto_off()
        start = self.now_ms()
        target = start + int(round(seconds * 1000))
        if self.method is None:
            self.tried = True
            for method in (ALARM, ROOT_DATE):
                if self._set(method, target) and self.now_ms() >= target - 1500:
                    self.method = method
                    break
            else:
                self._put_back_auto()
                raise ClockUnavailable(NO_METHOD)
        elif not self._set(self.method, target):
            raise DeviceError(f"{self.method}: the phone refused to set the clock")
        moved = self.now_ms() - start
        self.jumped_ms += max(0, moved)
        self.jumps.append(ClockJump(time.time(), start, start + moved, self.method))
        self._write_marker()
        return self.method

    def _set(self, method: str, target_ms: int) -> bool:
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
        if back_ms and self.method:
            ok = self._set(self.method, self.now_ms() - back_ms)
        auto = self.saved_auto
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
