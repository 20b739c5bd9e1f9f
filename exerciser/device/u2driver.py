"""The device contract on a real phone (or anything that speaks adb): uiautomator2 for the screen and input,
adbutils for shell, apps, permissions, logcat and files.

    dev = U2Device("R58M12345", adb_port=5037)     # or "127.0.0.1:7401" for a served virtual device
    obs = dev.observe()                            # hierarchy + screenshot + focus in one round

Rules it keeps:
- Each step's capture is one round through the on-device uiautomator server: `dumpWindowHierarchy`,
  `takeScreenshot` (made PNG while the dump is still coming) and one shell call for focus + clock run
  concurrently; once `events()` was asked, that shell call reads the log too, and the `events()` right
  after the capture answers from it (nothing sent to the phone in between; else it reads anew). Taps,
  swipes, keys and text go through the server's JSON-RPC too. No `uiautomator dump` / `input tap` on the
  hot path.
- Nothing answers a dialog by itself: no uiautomator2 watcher is started, `app_auto_grant_permissions`
  is never called, `pm install` runs without `-g`. The probes decide every answer.
- adbutils and uiautomator2 are imported lazily, after `ANDROID_ADB_SERVER_PORT` and `ADBUTILS_ADB_PATH`
  are set (their clients read them when made; a client of another adb version kills the server).
- Failures: a device offline for a moment (a loose cable, a USB hub reset, a Wi-Fi adb hiccup) is waited
  for up to `reconnect_grace` seconds, the failed call sent again, and the gap noted in `reconnects`;
  the device gone for longer (unplugged, its adb transport dead) raises `DeviceLost`; a uiautomator
  server that refuses or drops calls is restarted by uiautomator2, one that takes a call and never
  answers times out (`rpc_timeout`, applied to the socket: uiautomator2's own timeout is not) and is
  restarted once here, then `DeviceLost`; a slow phone is waited for (its server's start-up, late
  answers within the timeout); a sleeping or swipe-locked screen is woken and unlocked with key events;
  a crash/ANR dialog about another app is closed and noted in `dismissed`.
- Screenshots arrive as JPEG and become the contract's PNG through a per-device cache (a screen seen
  again costs a hash, a changed screen re-deflates only the bands that changed).
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import shlex
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from exerciser.device.clockctl import DeviceClock
from exerciser.device.contract import (
    DeviceError,
    DeviceEvent,
    DeviceInfo,
    DeviceLost,
    EventKind,
    Key,
    Observation,
    PermissionState,
)
from exerciser.device.dumpsys_parse import (
    ANR_DIALOG,
    ERROR_DIALOG,
    dialog_owner,
    parse_focus,
    parse_runtime_permissions,
)
from exerciser.device.settings_time import UiPort

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Reconnect:
    """The device was offline for a moment and came back; the run went on."""

    at: float  # wall clock (epoch seconds) when it was back
    offline_s: float
    during: str  # the call that failed


DEFAULT_ADB = "/usr/bin/adb"
MAX_SLEEP_S = 60.0  # the longest one `sleep` on the phone
_EXIT = "X4EXIT:"
_LOGS = "X4LOGCAT:"
# Tags the driver reads from logcat (events buffer, and the START lines of the main buffer).
LOGCAT_FILTER = (
    "am_proc_start:I am_proc_died:I am_kill:I am_crash:I am_anr:I wm_finish_activity:I am_finish_activity:I "
    "wm_resume_activity:I am_resume_activity:I ActivityTaskManager:I ActivityManager:I *:S"
)


# Apps whose instrumentation holds UiAutomation and blocks the uiautomator2 server from starting.
OTHER_AUTOMATION = (
    "io.appium.uiautomator2.server",
    "io.appium.uiautomator2.server.test",
    "com.github.uiautomator",
    "com.github.uiautomator.test",
)


def configure_adb(adb_port: int | None = None, adb_path: str | None = None) -> None:
    """Pin the adb server port and binary for adbutils/uiautomator2 (before they are imported)."""
    if adb_port is not None:
        os.environ["ANDROID_ADB_SERVER_PORT"] = str(adb_port)
    path = (
        adb_path
        or os.environ.get("ADBUTILS_ADB_PATH")
        or (DEFAULT_ADB if Path(DEFAULT_ADB).exists() else None)
    )
    if path:
        os.environ["ADBUTILS_ADB_PATH"] = path


def adb_client(adb_port: int | None = None, host: str = "127.0.0.1"):
    configure_adb(adb_port)
    import adbutils

    port = adb_port or int(os.environ.get("ANDROID_ADB_SERVER_PORT", "5037"))
    client = adbutils.AdbClient(host=host, port=port, socket_timeout=30)
    # adbutils asks the server's version on every transport it opens (one more connection, and a 10 ms
    # sleep in its close): ask once.
    version = client.server_version()
    client.server_version = lambda: version
    return client


class U2Device:
    """`Device` over adb: uiautomator2 for screen and input, adbutils for the rest."""

    def __init__(
        self,
        serial: str,
        *,
        adb_port: int | None = None,
        adb_host: str = "127.0.0.1",
        screenshot_quality: int = 100,
        rpc_timeout: float = 20.0,
        shell_timeout: float = 30.0,
        connect_timeout: float = 15.0,
        reconnect_grace: float = 10.0,
    ) -> None:
        self.serial = serial
        self.reconnect_grace = reconnect_grace
        self.reconnects: list[Reconnect] = []  # brief losses the device came back from
        self._offline_lock = threading.Lock()
        self._gone = False  # offline for a whole grace: the next failures do not wait again
        self.screenshot_quality = screenshot_quality
        self.rpc_timeout = rpc_timeout
        self.shell_timeout = shell_timeout
        self._client = adb_client(adb_port, adb_host)
        import adbutils

        self._adbutils = adbutils
        self._adb = self._client.device(serial)
        self._calls = threading.local()  # the running JSON-RPC call's timeout, per thread
        self._adb.create_connection = _tuned(self._adb.create_connection, self._call_timeout)
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix=f"u2:{serial}")
        self.timings: dict[str, list[float]] = {}
        from exerciser.device.png import ScreenshotPng

        self._shots = ScreenshotPng()
        self._wire = 0  # calls sent to the phone so far (shell streams and JSON-RPC calls)
        # The log is read in the capture's shell call when events() asked before: (since, text, _wire)
        # of the last capture, used by the events() call right after it if nothing was sent in between.
        self._logs_since: int | None = None
        self._logs: tuple[int, str, int] | None = None
        self._wait_online(connect_timeout)
        with self._guard("connect"):
            self._props = self._getprops()
        self.app_under_test = ""  # the last package app_start()ed
        self.dismissed: list[dict] = []  # foreign system dialogs the driver closed
        self._dialog_owner = ""
        self._uids: dict[int, str] | None = None
        self._can_record: bool | None = None
        self._restarts = 0  # uiautomator server restarts so far
        self._restart_lock = threading.Lock()
        self._info = self._read_info()
        self.clock = DeviceClock(self.sh, self.now_ms, self._info.api_level)
        self.clock_recovered = self.clock.recover()  # a run that died left the clock moved: undo it
        self._u2 = self._start_u2()
        self.ensure_awake()

    # --- plumbing -------------------------------------------------------------------------------
    def attached(self) -> bool:
        """The adb server still lists this serial as a usable device."""
        try:
            return self._adb.get_state() == "device"
        except Exception:
            return False

    def _back_online(self, what: str) -> bool:
        """After a failed call: is the device (still, or again) online? A cable that slips, a USB hub's
        reset or a Wi-Fi adb hiccup makes it `offline` for a moment, and the adb server reconnects it;
        that is waited for up to `reconnect_grace` seconds and noted in `reconnects`. False: it is gone.
        A capture's concurrent calls fail together: one waits, the others find it back (one note)."""
        if self.attached():
            return True
        with self._offline_lock:
            return self._wait_back(what)

    def _wait_back(self, what: str) -> bool:
        if self.attached():
            self._gone = False
            return True
        if self._gone:  # waited for in full already (another call of this capture, or earlier): no more
            return False
        t0 = time.monotonic()
        asked = 0.0
        while time.monotonic() < t0 + self.reconnect_grace:
            time.sleep(0.2)
            if _is_network_serial(self.serial) and time.monotonic() - asked >= 1.0:
                # a network device: connect it again now, as an operator would (`adb disconnect` +
                # `adb connect`). adb's own retry comes only ~10 s after the drop (measured with Debian's
                # adb 29), and `adb connect` alone answers "already connected" to an offline entry.
                asked = time.monotonic()
                with contextlib.suppress(Exception):
                    self._client.disconnect(self.serial)
                with contextlib.suppress(Exception):
                    self._client.connect(self.serial, timeout=1.0)
            if self.attached():
                gap = time.monotonic() - t0
                self.reconnects.append(Reconnect(time.time(), round(gap, 2), what))
                log.warning("%s: offline for %.1f s during %s; back online", self.serial, gap, what)
                return True
        self._gone = True
        return False

    def _wait_online(self, timeout: float) -> None:
        """A device just connected (or re-plugged) is `offline` until its handshake completes."""
        t0 = time.monotonic()
        state = "absent"
        while time.monotonic() < t0 + timeout:
            try:
                state = self._adb.get_state()
            except self._adbutils.AdbError as exc:
                state = str(exc)
            if state == "device":
                return
            if "unauthorized" in state:
                raise DeviceLost(f"{self.serial}: unauthorized: accept the USB-debugging prompt on the phone")
            if "not found" in state and time.monotonic() > t0 + 2:  # not even listed: not plugged in
                listed = ", ".join(f"{d.serial} ({d.state})" for d in self._client.list()) or "none"
                raise DeviceLost(f"{self.serial}: not attached (adb devices lists: {listed})")
            time.sleep(0.2)
        raise DeviceLost(f"{self.serial}: not online after {timeout:.0f} s (adb says: {state})")

    @contextmanager
    def _guard(self, what: str):
        """adb/socket failures -> DeviceLost when the device is gone, DeviceError otherwise."""
        try:
            yield
        except (DeviceError, DeviceLost):
            raise
        except (self._adbutils.AdbError, OSError, EOFError) as exc:
            if not self._back_online(what):
                raise DeviceLost(f"{self.serial}: device went away during {what}: {exc}") from exc
            raise DeviceError(f"{self.serial}: {what} failed: {exc}") from exc

    def _adb_call(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` under `_guard`; sent again, once, when the device dropped off and came back
        during it (an adb call's connection dies with the transport)."""
        blips = len(self.reconnects)
        try:
            with self._guard(what):
                return fn(*args)
        except DeviceError:
            if len(self.reconnects) == blips:
                raise
        with self._guard(what):
            return fn(*args)

    def _timed(self, name: str, t0: float) -> None:
        self.timings.setdefault(name, []).append(time.perf_counter() - t0)

    def _shell_raw(self, cmd: str, timeout: float | None = None) -> bytes:
        """Whole output of `shell:cmd` (v1). Chunks are joined once (adbutils' reader is quadratic)."""
        self._wire += 1
        c = self._adb.open_shell(cmd)
        sock = c.conn
        sock.settimeout(timeout or self.shell_timeout)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError as exc:
            raise self._adbutils.AdbTimeout(
                f"shell timeout after {timeout or self.shell_timeout}s: {cmd}"
            ) from exc
        finally:
            sock.close()
        return b"".join(chunks)

    def sh(self, cmd: str, timeout: float | None = None) -> tuple[str, int]:
        """(output, exit status) of a shell command line."""
        t0 = time.perf_counter()

        def run() -> tuple[bytes, int]:
            raw = self._shell_raw(f"{cmd}; echo {_EXIT}$?", timeout)
            i = raw.rfind(_EXIT.encode())
            if i < 0:  # the stream ended before the shell did: the transport died (judged by _guard)
                raise EOFError(f"shell output cut short: {cmd}")
            return raw, i

        raw, i = self._adb_call(f"shell {cmd.split(' ', 1)[0]}", run)
        self._timed("shell", t0)
        status = int(raw[i + len(_EXIT) :].strip() or b"255")
        return raw[:i].decode("utf-8", "replace"), status

    def rpc(self, method: str, *params: Any, timeout: float | None = None) -> Any:
        """One JSON-RPC call to the on-device uiautomator server.

        uiautomator2 itself restarts the server once when HTTP fails; a call that times out or loses its
        socket is retried once here after a restart. Still failing: the device is lost for this run.
        """
        from uiautomator2.exceptions import DeviceError as U2DeviceError
        from uiautomator2.exceptions import RPCError

        t0 = time.perf_counter()
        self._wire += 1
        for attempt in (1, 2):
            generation = self._restarts
            self._calls.timeout = timeout or self.rpc_timeout
            try:
                out = self._u2.jsonrpc_call(method, list(params), timeout or self.rpc_timeout)
                self._timed(f"rpc:{method}", t0)
                return out
            except RPCError as exc:  # the server answered with an error: a bad call, not a dead server
                raise DeviceError(f"{self.serial}: {method}: {exc}") from exc
            except (U2DeviceError, self._adbutils.AdbError, OSError, EOFError) as exc:
                blips = len(self.reconnects)
                if not self._back_online(method):
                    raise DeviceLost(f"{self.serial}: device went away during {method}: {exc}") from exc
                came_back = len(self.reconnects) > blips  # its server died with the connection: restart
                if attempt == 2 or (isinstance(exc, U2DeviceError) and not came_back):
                    raise DeviceLost(
                        f"{self.serial}: uiautomator server not responding after a restart ({method}: {exc})"
                    ) from exc
                log.warning("%s: %s failed (%s); restarting the uiautomator server", self.serial, method, exc)
                self._restart_once(generation)
        raise AssertionError("unreachable")

    def _call_timeout(self) -> float:
        return getattr(self._calls, "timeout", None) or self.rpc_timeout

    def _restart_once(self, generation: int) -> None:
        """Restart the server unless another call did since `generation` (a capture's concurrent calls
        fail together; one restart serves them all, a second would kill the fresh server)."""
        with self._restart_lock:
            if self._restarts == generation:
                self.restart_server()
                self._restarts += 1

    def restart_server(self) -> None:
        from uiautomator2.exceptions import DeviceError as U2DeviceError

        try:
            self._u2.stop_uiautomator(wait=False)
            self._u2.start_uiautomator()
        except (U2DeviceError, self._adbutils.AdbError, OSError) as exc:
            if not self._back_online("uiautomator restart"):
                raise DeviceLost(
                    f"{self.serial}: device went away while restarting uiautomator: {exc}"
                ) from exc
            raise DeviceLost(f"{self.serial}: uiautomator server does not start: {exc}") from exc

    def _start_u2(self):
        import uiautomator2
        from uiautomator2.exceptions import AccessibilityServiceAlreadyRegisteredError as Registered
        from uiautomator2.exceptions import DeviceError as U2DeviceError

        try:
            try:
                d = uiautomator2.Device(self._adb)  # pushes u2.jar if its md5 differs, starts app_process
            except Registered:
                # another UiAutomation client holds the bridge (Appium, an old uiautomator app): stop it
                log.warning("%s: UiAutomation is taken; stopping other automation servers", self.serial)
                self.sh("; ".join(f"am force-stop {p}" for p in OTHER_AUTOMATION))
                d = uiautomator2.Device(self._adb)
        except (U2DeviceError, self._adbutils.AdbError, OSError, EOFError) as exc:
            if not self._back_online("uiautomator start"):
                raise DeviceLost(
                    f"{self.serial}: device went away while starting uiautomator: {exc}"
                ) from exc
            raise DeviceLost(f"{self.serial}: uiautomator server does not start: {exc}") from exc
        # No watcher is ever started and no auto-grant is used; operation delays stay off.
        d.settings["operation_delay"] = (0, 0)
        return d

    def close(self) -> None:
        """Put the clock back, stop the uiautomator server and release threads."""
        with contextlib.suppress(Exception):
            self.clock.restore()
        with contextlib.suppress(Exception):
            self._u2.stop_uiautomator(wait=False)
        self._pool.shutdown(wait=False)

    # --- facts ----------------------------------------------------------------------------------
    def _getprops(self) -> dict[str, str]:
        raw = self._shell_raw("getprop").decode("utf-8", "replace")
        return dict(re.findall(r"^\[([^\]]+)\]: \[([^\]]*)\]", raw, re.M))

    def _read_info(self) -> DeviceInfo:
        p = self._props
        out, _ = self.sh("wm size; wm density")
        size = re.search(r"Override size: (\d+)x(\d+)", out) or re.search(r"Physical size: (\d+)x(\d+)", out)
        dens = re.search(r"Override density: (\d+)", out) or re.search(r"Physical density: (\d+)", out)
        if size is None:
            raise DeviceError(f"{self.serial}: cannot read the screen size (wm size): {out.strip()!r}")
        locale = (
            p.get("persist.sys.locale")
            or p.get("ro.product.locale")
            or "-".join(x for x in (p.get("persist.sys.language"), p.get("persist.sys.country")) if x)
            or "en-US"
        )
        return DeviceInfo(
            serial=self.serial,
            api_level=int(p.get("ro.build.version.sdk", "0") or 0),
            release=p.get("ro.build.version.release", ""),
            rom=rom_of(p),
            locale=locale,
            width=int(size.group(1)),
            height=int(size.group(2)),
            model=p.get("ro.product.model", "unknown"),
            manufacturer=p.get("ro.product.manufacturer", "unknown"),
            density=int(dens.group(1)) if dens else 0,
        )

    @property
    def info(self) -> DeviceInfo:
        return self._info

    # --- observe --------------------------------------------------------------------------------
    def observe(self) -> Observation:
        obs = self._capture()
        if is_keyguard(obs):
            self.ensure_awake()
            obs = self._capture()
        if self._foreign_error_dialog(obs):
            obs = self._capture()
        return obs

    def _foreign_error_dialog(self, obs: Observation) -> bool:
        """A crash/ANR dialog about another app than the one under test (the last one started) covers
        it: close it ("Close app"), once, and note it. Dialogs about the app under test are evidence and
        stay for the probes."""
        owner = self._dialog_owner
        if obs.package != "android" or obs.activity not in (ERROR_DIALOG, ANR_DIALOG):
            return False
        if not owner or not self.app_under_test or owner == self.app_under_test:
            return False
        m = re.search(
            r'resource-id="android:id/aerr_close"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', obs.xml
        )
        if not m:
            return False
        x1, y1, x2, y2 = map(int, m.groups())
        log.warning(
            "%s: closing the system's %s dialog about %s (covering %s)",
            self.serial,
            "crash" if obs.activity == ERROR_DIALOG else "ANR",
            owner,
            self.app_under_test,
        )
        self.dismissed.append({"time_ms": obs.time_ms, "dialog": obs.activity, "about": owner})
        self.tap((x1 + x2) // 2, (y1 + y2) // 2)
        return True

    def _capture(self) -> Observation:
        t0 = time.perf_counter()
        self._logs = None
        xml_f = self._pool.submit(self.rpc, "dumpWindowHierarchy", False, 50)
        shot_f = self._pool.submit(self._screenshot)  # converted while the dump is still on its way
        cmd = f"dumpsys window {self._focus_section()} | grep -E 'mCurrentFocus|mFocusedApp'; date +%s%3N"
        since = self._logs_since
        if since is not None:  # the log as of this capture, for the events() call that follows it
            cmd += f"; echo {_LOGS}; {self._logcat_cmd(since)}"
        focus_f = self._pool.submit(self.sh, cmd)
        xml = xml_f.result()
        png = shot_f.result()
        focus_out, _ = focus_f.result()
        self._timed("observe:round", t0)
        if since is not None:
            focus_out, marked, logs = focus_out.partition(f"{_LOGS}\n")
            if marked:
                self._logs = (since, logs, self._wire)
        if "mCurrentFocus" not in focus_out:  # no grep -E here: parse the whole dump
            full, _ = self.sh(f"dumpsys window {self._focus_section()}")
            focus_out = full + "\n" + focus_out
        package, activity = parse_focus(focus_out)
        self._dialog_owner = dialog_owner(focus_out)
        last = focus_out.strip().splitlines()[-1] if focus_out.strip() else ""
        time_ms = _parse_ms(last) or self.now_ms()
        if not xml:
            raise DeviceError(f"{self.serial}: empty hierarchy")
        self._timed("observe", t0)
        return Observation(xml=xml, png=png, package=package, activity=activity, time_ms=time_ms)

    def _screenshot(self) -> bytes:
        return self._png(self.rpc("takeScreenshot", 1, self.screenshot_quality))

    def _png(self, b64: str | None) -> bytes:
        if not b64:  # takeScreenshot may return null (secure window): fall back to screencap
            return self._adb_call("screencap", self._shell_raw, "screencap -p")
        try:
            t0 = time.perf_counter()
            png = self._shots.convert(base64.b64decode(b64))
            self._timed("observe:png", t0)
            return png
        except ValueError as exc:
            raise DeviceError(f"{self.serial}: unreadable screenshot") from exc

    def now_ms(self) -> int:
        out, _ = self.sh("date +%s%3N")
        ms = _parse_ms(out.strip())
        if ms is None:  # old toybox/toolbox date without %N
            out, _ = self.sh("date +%s")
            ms = int(out.strip()) * 1000
        return ms

    def wait(self, seconds: float) -> None:
        """The phone's own `sleep` measures the wait: device time, whatever the host does meanwhile."""
        if seconds <= 0:
            return
        if 0 < self._info.api_level < 23:  # toolbox sleep takes whole seconds only
            time.sleep(seconds)
            return
        while seconds > 0:  # a long wait in pieces: no shell call hangs on the phone for hours
            piece = min(seconds, MAX_SLEEP_S)
            self.sh(f"sleep {piece:.3f}", timeout=piece + self.shell_timeout)
            seconds -= piece

    # --- the clock, beyond the contract ---------------------------------------------------------------
    @property
    def clock_method(self) -> str | None:
        """How this phone's clock is moved (None: not found yet, or it allows none)."""
        return self.clock.method

    def advance_clock(self, seconds: float) -> None:
        """Jump the clock `seconds` on (ClockUnavailable when the phone allows no method)."""
        if seconds > 0:
            self.clock.advance(seconds)

    def restore_clock(self) -> dict:
        """Clock back to the true time and automatic time as it was (see clockctl)."""
        return self.clock.restore()

    def attach_clock_ui(self, ui: UiPort) -> None:
        """The screen and inputs, behind the run's safety guard, for setting the clock through the
        Settings app when the shell may not (clockctl's "settings-ui")."""
        self.clock.ui = ui

    def clear_text(self) -> None:
        """Empty the focused field (uiautomator2's clear_text: the server's clearInputText)."""
        self.rpc("clearInputText")

    def events(self, since_ms: int = 0) -> list[DeviceEvent]:
        from exerciser.device.logcat import parse_logcat

        self._logs_since = since_ms
        logs, self._logs = self._logs, None
        if logs is not None and logs[0] <= since_ms and logs[2] == self._wire:
            text = logs[1]  # read with the capture just before, nothing sent to the phone since
        else:
            raw = self._adb_call("logcat", self._shell_raw, self._logcat_cmd(since_ms))
            text = raw.decode("utf-8", "replace")
        events = parse_logcat(text, self._uid_table())
        if any(e.kind == EventKind.PERMISSION_REQUEST and not e.package for e in events):
            self._uids = None  # an app installed behind our back: learn its uid
            events = parse_logcat(text, self._uid_table())
        return [e for e in events if e.time_ms >= since_ms]

    @staticmethod
    def _logcat_cmd(since_ms: int) -> str:
        since = f" -T {since_ms // 1000}.{since_ms % 1000:03d}" if since_ms > 0 else ""
        return f"logcat -d -v epoch -b events -b main{since} {LOGCAT_FILTER}"

    def _uid_table(self) -> dict[int, str]:
        """uid -> package (`pm list packages -U`): the permission-request log line names only the uid."""
        if self._uids is None:
            out, _ = self.sh("pm list packages -U")
            self._uids = {int(u): p for p, u in re.findall(r"package:(\S+) uid:(\d+)", out)}
        return self._uids

    # --- input ----------------------------------------------------------------------------------
    def tap(self, x: int, y: int) -> None:
        self.rpc("click", int(x), int(y))

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        self.rpc("click", int(x), int(y), int(duration_ms))

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        self.rpc("swipe", int(x1), int(y1), int(x2), int(y2), max(2, int(duration_ms) // 5))

    def type_text(self, text: str) -> None:
        # uiautomator2's own send_keys: through the clipboard, so any script (中文) types right
        self.rpc("setClipboard", None, text)
        self.rpc("pasteClipboard")

    def key(self, key: Key) -> None:
        self.rpc("pressKey", Key(key).value)

    # --- apps -----------------------------------------------------------------------------------
    def app_start(self, package: str) -> None:
        self.ensure_awake()
        self.app_under_test = package
        out, status = self.sh(f"monkey -p {shlex.quote(package)} -c android.intent.category.LAUNCHER 1")
        if "No activities found" in out or status not in (0,):
            raise DeviceError(f"{self.serial}: cannot start {package}: not installed or no launcher activity")

    def app_stop(self, package: str) -> None:
        self.sh(f"am force-stop {shlex.quote(package)}")

    def app_clear(self, package: str) -> None:
        out, _ = self.sh(f"pm clear {shlex.quote(package)}")
        if "Success" not in out:
            raise DeviceError(f"{self.serial}: pm clear {package}: {out.strip() or 'failed'}")

    def is_alive(self, package: str) -> bool:
        out, status = self.sh(f"pidof {shlex.quote(package)}")
        if "not found" in out:  # no pidof (Android 6): scan ps
            ps, _ = self.sh("ps -A 2>/dev/null || ps")
            return any(line.split()[-1:] == [package] for line in ps.splitlines())
        return status == 0 and bool(out.strip())

    def installed_packages(self) -> list[str]:
        out, _ = self.sh("pm list packages -3")
        return sorted(re.findall(r"^package:(\S+)\s*$", out, re.M))

    # --- permissions ----------------------------------------------------------------------------
    def permissions(self, package: str) -> dict[str, PermissionState]:
        out, _ = self.sh(f"dumpsys package {shlex.quote(package)}")
        if f"Package [{package}]" not in out:
            raise DeviceError(f"{self.serial}: package {package} is not installed")
        return parse_runtime_permissions(out)

    def _pm(self, verb: str, package: str, permission: str) -> None:
        out, status = self.sh(f"pm {verb} {shlex.quote(package)} {shlex.quote(permission)}")
        if status != 0 or "Exception" in out:
            line = next((ln for ln in out.splitlines() if "Exception:" in ln), out.strip())
            raise DeviceError(f"{self.serial}: pm {verb} {package} {permission}: {line.strip()}")

    def grant(self, package: str, permission: str) -> None:
        self._pm("grant", package, permission)

    def revoke(self, package: str, permission: str) -> None:
        self._pm("revoke", package, permission)

    # --- beyond the contract: what a real rack needs ----------------------------------------------
    def install(self, apk: str | Path, grant_all: bool = False) -> None:
        """Push and `pm install -r -t` (never `-g` unless asked: permission answers belong to the probes)."""
        apk = Path(apk)
        remote = f"/data/local/tmp/exerciser-{apk.stem}.apk"
        self._adb_call("push", self._adb.sync.push, str(apk), remote)
        flags = "-r -t" + (" -g" if grant_all else "")
        out, _ = self.sh(f"pm install {flags} {remote}", timeout=max(self.shell_timeout, 120))
        self.sh(f"rm -f {remote}")
        self._uids = None
        if "Success" not in out:
            raise DeviceError(f"{self.serial}: install {apk.name}: {out.strip()}")

    def foreground(self) -> tuple[str, str]:
        """(package, activity) in front, from the window manager."""
        out, _ = self.sh(f"dumpsys window {self._focus_section()}")
        return parse_focus(out)

    def _focus_section(self) -> str:
        """Where the window manager prints its focus: `windows` up to Android 9, `displays` from 10
        (DisplayContent.dump took mCurrentFocus/mFocusedApp over from WindowManagerService)."""
        return "displays" if self._info.api_level >= 29 else "windows"

    def ensure_awake(self) -> None:
        """Wake a sleeping screen and dismiss a swipe keyguard with key events (and a swipe up)."""
        asleep, locked = self._power_state()
        if not asleep and not locked:
            return
        if asleep:
            self.sh("input keyevent WAKEUP")
        for attempt in ("input keyevent MENU", "swipe"):
            asleep, locked = self._power_state()
            if not locked:
                return
            if attempt == "swipe":
                w, h = self._info.width, self._info.height
                self.rpc("swipe", w // 2, int(h * 0.85), w // 2, int(h * 0.2), 20)
            else:
                self.sh(attempt)
        asleep, locked = self._power_state()
        if asleep or locked:
            raise DeviceError(
                f"{self.serial}: the screen stays locked (a PIN/pattern lock?); unlock the phone "
                "or set the screen lock to None/Swipe"
            )

    def _power_state(self) -> tuple[bool, bool]:
        out, _ = self.sh(
            "dumpsys power | grep -E 'mWakefulness=|Display Power'; "
            "dumpsys window | grep -E 'mDreamingLockscreen|mShowingLockscreen|isStatusBarKeyguard|"
            "mKeyguardShowing'; "
            "dumpsys activity activities | grep -E 'mKeyguardShowing'"
        )
        asleep = bool(re.search(r"mWakefulness=(Asleep|Dozing)", out))
        locked = bool(
            re.search(
                r"(mShowingLockscreen|mDreamingLockscreen|isStatusBarKeyguard|mKeyguardShowing)=true", out
            )
        )
        return asleep, locked

    def can_screenrecord(self) -> bool:
        """The phone has `screenrecord` (Android 4.4+; some vendor builds leave it out)."""
        if self._can_record is None:
            if 0 < self._info.api_level < 19:
                self._can_record = False
            else:
                out, status = self.sh("command -v screenrecord || which screenrecord")
                self._can_record = status == 0 and "screenrecord" in out
        return self._can_record

    def start_screenrecord(self, remote: str = "/sdcard/exerciser-record.mp4", time_limit: int = 180) -> None:
        """Start `screenrecord` on the phone (max 180 s per file, Android's limit); DeviceError when the
        phone has none. `exerciser.evidence.screenrecord` chains these into segments for a whole run."""
        if not self.can_screenrecord():
            raise DeviceError(f"{self.serial}: this phone has no screenrecord")
        with self._guard("screenrecord"):
            self._record = (
                self._adb.shell(
                    f"screenrecord --time-limit {int(time_limit)} {shlex.quote(remote)}", stream=True
                ),
                remote,
            )

    def stop_screenrecord(self, local: str | Path) -> Path:
        """SIGINT the recorder (it finishes the MP4), wait for it, pull the file. Only ours: `-f` matches
        its command line, which names our output file, so another tool's recording goes on."""
        conn, remote = self._record
        self.sh(f"pkill -INT -f {shlex.quote('screenrecord .*' + remote)}")
        with self._guard("screenrecord"):
            conn.conn.settimeout(60)
            while conn.conn.recv(4096):
                pass
            conn.conn.close()
            self._adb.sync.pull(remote, str(local))
        self.sh(f"rm -f {shlex.quote(remote)}")
        return Path(local)


def _is_network_serial(serial: str) -> bool:
    """`HOST:PORT`, a device that `adb connect` attached (Wi-Fi adb, an emulator or served virtual device)."""
    host, _, port = serial.rpartition(":")
    return bool(host) and port.isdigit()


def _tuned(create_connection, timeout_of):
    """The sockets uiautomator2 opens to its server (`tcp:9008` through adb):
    - TCP_NODELAY: its HTTP client sends headers and body in two writes; Nagle and delayed ACK would hold
      every JSON-RPC call ~40 ms;
    - the call's timeout: uiautomator2 sets `conn.timeout` but its adb connection ignores it, so a server
      that takes a call and never answers would hang for the adb client's 30 s socket timeout."""
    import socket

    def wrapped(*args, **kwargs):
        sock = create_connection(*args, **kwargs)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout_of())
        return sock

    return wrapped


def _parse_ms(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) >= 12 else None


def rom_of(props: dict[str, str]) -> str:
    if props.get("ro.miui.ui.version.name") or props.get("ro.mi.os.version.name"):
        return "miui"
    if props.get("ro.build.version.emui") or props.get("hw_sc.build.platform.version"):
        return "emui"
    if props.get("ro.build.version.opporom") or props.get("ro.build.version.oplusrom"):
        return "coloros"
    if props.get("ro.vivo.os.version"):
        return "originos"
    if props.get("ro.build.version.oneui"):
        return "oneui"
    return "aosp"


def is_keyguard(obs: Observation) -> bool:
    return obs.package == "com.android.systemui" and "keyguard" in obs.xml.lower()
