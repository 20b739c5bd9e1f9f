"""Device-side state of one served virtual device: the Device plus what adbd, the shell and the OS hold.

`Phone` serialises every call into the wrapped device (the virtual device is not thread-safe and adb
streams run on their own threads), caches one observation per device state (the hierarchy, screenshot and
focus a client fetches in one round all come from one capture, as on a phone), keeps the file system,
properties, settings, clipboard, screen power / keyguard state and the uiautomator server's liveness, and
counts the time spent inside the device per method (for the benchmark).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from exerciser.device.contract import Device, DeviceError, Key, Observation, PermissionState
from exerciser.sim.adbfront import syspkgs
from exerciser.sim.adbfront.clock import PhoneClock, PhoneSpeed, PhoneTimeSettings
from exerciser.sim.adbfront.fs import VirtualFS

# keyevent name -> code (android.view.KeyEvent), the ones input/uiautomator clients send
KEYCODES = {
    "HOME": 3,
    "BACK": 4,
    "CALL": 5,
    "ENDCALL": 6,
    "DPAD_UP": 19,
    "DPAD_DOWN": 20,
    "DPAD_LEFT": 21,
    "DPAD_RIGHT": 22,
    "DPAD_CENTER": 23,
    "VOLUME_UP": 24,
    "VOLUME_DOWN": 25,
    "POWER": 26,
    "CAMERA": 27,
    "TAB": 61,
    "SPACE": 62,
    "ENTER": 66,
    "DEL": 67,
    "MENU": 82,
    "NOTIFICATION": 83,
    "SEARCH": 84,
    "ESCAPE": 111,
    "FORWARD_DEL": 112,
    "VOLUME_MUTE": 164,
    "APP_SWITCH": 187,
    "SLEEP": 223,
    "WAKEUP": 224,
}
CODE_TO_KEY = {3: Key.HOME, 4: Key.BACK, 66: Key.ENTER, 187: Key.RECENT}

SYSTEMUI = "com.android.systemui"


@dataclass
class Stat:
    calls: int = 0
    seconds: float = 0.0


@dataclass
class PhoneState:
    """What the OS around the app holds; survives adb reconnects, lost when the server stops."""

    screen_on: bool = True
    locked: bool = False
    shade: str = ""  # "" | "notifications" | "quick_settings": the notification shade pulled down
    clipboard: str = ""
    # package of another UiAutomation client holding the accessibility bridge (e.g. Appium's server)
    uiautomation_holder: str = ""
    settings: dict[str, dict[str, str]] = field(
        default_factory=lambda: {
            "system": {
                "screen_off_timeout": "600000",
                "screen_brightness": "128",
                "screen_brightness_mode": "0",
                "pointer_location": "0",
                "show_touches": "0",
                "accelerometer_rotation": "0",
            },
            "secure": {
                "default_input_method": "com.android.inputmethod.latin/.LatinIME",
                "enabled_input_methods": "com.android.inputmethod.latin/.LatinIME",
                "android_id": "",
            },
            "global": {
                "airplane_mode_on": "0",
                "adb_enabled": "1",
                "stay_on_while_plugged_in": "0",
                "window_animation_scale": "1.0",
                "transition_animation_scale": "1.0",
                "animator_duration_scale": "1.0",
                "device_provisioned": "1",
                "auto_time": "1",  # "Use network-provided time": a phone's default
                "auto_time_zone": "1",
            },
        }
    )


SYSTEM_SERVER_PID = 612
# Which ways of setting the clock the phone allows: "root" (`su` exists: toybox `date` and `cmd alarm
# set-time` as root), "alarm" (the shell user may `cmd alarm set-time`, API 28+), "settings-ui" (only the
# Settings app's Date & time page: a production phone). Any of them leaves that page usable; none at all is
# a managed phone whose admin locks it (DISALLOW_CONFIG_DATE_TIME).
CLOCK_METHODS = frozenset({"root", "alarm", "settings-ui"})

# Inputs whose phone-speed latency the phone adds (device method -> PhoneSpeed field).
_LATENCY = {"tap": "tap", "long_press": "tap", "swipe": "tap", "key": "tap", "type_text": "tap"}
_LATENCY |= {"app_start": "app_start"}


class Phone:
    def __init__(
        self,
        device: Device,
        serial: str,
        port: int,
        *,
        clock_scale: float = 1.0,
        speed: PhoneSpeed | None = None,
        clock_methods: frozenset[str] = frozenset(),
    ) -> None:
        unknown = set(clock_methods) - CLOCK_METHODS
        if unknown:
            raise ValueError(f"unknown clock method(s): {', '.join(sorted(unknown))}")
        self.clock_methods = frozenset(clock_methods)
        self.device = device
        self.serial = serial
        self.port = port
        self.lock = threading.RLock()
        self.state = PhoneState()
        if hasattr(device, "input_costs"):  # inputs take real time here, not virtual time
            device.input_costs = False
        self.clock = PhoneClock(self, clock_scale, speed)  # before anything reads the time
        if hasattr(device, "time_settings"):  # the Date & time page reads and sets what the shell does
            device.time_settings = PhoneTimeSettings(self)
        self.stats: dict[str, Stat] = defaultdict(Stat)
        self.fs = VirtualFS(clock=lambda: self.now_ms() / 1000)  # file times follow the device clock
        self.u2_processes = 0  # live `app_process ... com.wetest.uia2.Main` shell streams
        self.disabled: set[str] = set()  # packages `pm disable-user` turned off
        self.helpers: dict = {}  # package -> helpers.Helper: installed automation helper APKs
        self.last_installed = ""  # package of the last successful install (for `install -g`)
        self.procs: dict = {}  # pid -> sysinfo.Proc: processes shell commands started (app_process)
        self.logs: deque = deque(maxlen=5000)  # (ms, buffer, pid, level, tag, message) from `log`
        self.u2_launches = 0
        # Failure modes of real phones, for the driver's tests and benchmark:
        self.u2_wedged = False  # the running server takes JSON-RPC calls and never answers them
        self.u2_wedge_always = False  # ... and so does every server launched from now on
        self.u2_boot_s = 0.0  # a launched server answers /ping only after this long (a slow phone)
        self.u2_ready_at = 0.0  # monotonic time the running server starts answering
        self.rpc_delay_s = 0.0  # added to every JSON-RPC call (a slow phone)
        self.shell_delay_s = 0.0  # added to every shell command
        # What dumpWindowHierarchy answers: "aosp" (the top window as `uiautomator dump` writes it, byte
        # for byte what the in-process device observes) or "u2" (uiautomator2's own dumper: every window,
        # indented, visible-to-user / drawing-order / hint / display-id; uixml.dump_u2)
        self.dump_form = "aosp"
        self.history: deque[str] = deque(maxlen=5000)  # shell command lines, newest last
        self.logcat_cleared_ms = 0
        self._obs: Observation | None = None
        self._jpegs: dict[tuple[bytes, int], bytes] = {}  # (png, quality) -> jpeg, oldest first
        self._pids: dict[str, int] = {}
        self._next_pid = 5100 + (port % 97) * 7
        self._installed_ms: dict[str, int] = {}
        self.recorders: list = []
        self.props = self._props()
        self.boot_ms = device.now_ms() - 3_600_000  # "booted" an hour before serving

    # --- identity --------------------------------------------------------------------------------
    @property
    def info(self):  # -> DeviceInfo; read anew: `wm size` / `wm density` change it
        return self.device.info

    @property
    def physical_display(self) -> tuple[int, int, int]:
        """The panel's width, height and density, whatever `wm` overrides."""
        i = self.device.info
        return getattr(self.device, "physical_display", (i.width, i.height, i.density))

    def _props(self) -> dict[str, str]:
        i = self.info
        name = "".join(c if c.isalnum() else "_" for c in i.model.lower()) or "virtual"
        p = {
            "ro.build.version.sdk": str(i.api_level),
            "ro.build.version.release": i.release,
            "ro.build.version.release_or_codename": i.release,
            "ro.build.version.security_patch": "2024-01-05",
            "ro.build.version.codename": "REL",  # a released build (a preview names its letter)
            "ro.build.version.incremental": "11370589",
            "ro.build.version.all_codenames": "REL",
            "ro.build.version.preview_sdk": "0",
            "ro.product.first_api_level": str(i.api_level),
            "ro.build.user": "android-build",
            "ro.build.host": "abfarm-release",
            "ro.build.date.utc": "1704412800",
            "ro.build.date": "Fri Jan  5 00:00:00 UTC 2024",
            "ro.build.product": name,
            "ro.hardware": "virtual",
            "ro.boot.hardware": "virtual",
            "ro.product.locale.language": i.locale.split("-")[0],
            "ro.product.locale.region": i.locale.split("-")[-1],
            "sys.usb.state": "adb",
            "sys.usb.config": "adb",
            "persist.sys.usb.config": "adb",
            "ro.boot.serialno": f"EXR{self.port:05d}",
            "ro.build.type": "user",
            "ro.build.tags": "release-keys",
            "ro.build.id": f"EXR{i.api_level}.240105.001",
            "ro.build.display.id": f"EXR{i.api_level}.240105.001 release-keys",
            "ro.build.fingerprint": (
                f"exerciser/{name}/{name}:{i.release}/EXR{i.api_level}.240105.001/11370589:user/release-keys"
            ),
            "ro.product.model": i.model,
            "ro.product.manufacturer": i.manufacturer,
            "ro.product.brand": i.manufacturer.lower(),
            "ro.product.name": name,
            "ro.product.device": name,
            "ro.product.board": "virtual",
            "ro.product.cpu.abi": "x86_64",
            "ro.product.cpu.abilist": "x86_64,arm64-v8a",
            "ro.product.locale": i.locale,
            "persist.sys.locale": i.locale,
            "persist.sys.timezone": "Asia/Shanghai" if i.language == "zh" else "America/New_York",
            "ro.serialno": f"EXR{self.port:05d}",
            "ro.sf.lcd_density": str(i.density),
            "ro.secure": "1",
            "ro.debuggable": "0",
            "ro.adb.secure": "1",  # user build: hosts authenticate with their adb key
            "sys.boot_completed": "1",
            "dev.bootcomplete": "1",
            "init.svc.adbd": "running",
            "service.adb.tcp.port": str(self.port),
        }
        if i.rom == "miui":
            p.update(
                {
                    "ro.miui.ui.version.name": "V140",
                    "ro.miui.ui.version.code": "14",
                    "ro.product.brand": "Xiaomi",
                    "ro.product.manufacturer": "Xiaomi",
                }
            )
        elif i.rom == "emui":
            p.update({"ro.build.version.emui": "EmotionUI_9.1.0", "ro.product.brand": "HUAWEI"})
        elif i.rom == "coloros":
            p.update({"ro.build.version.opporom": "V13", "ro.product.brand": "OPPO"})
        elif i.rom == "originos":  # the properties u2driver.rom_of reads (value formats C)
            p.update({"ro.vivo.os.version": i.release, "ro.product.brand": "vivo"})
        elif i.rom == "oneui":
            p.update({"ro.build.version.oneui": "50000" if i.api_level >= 33 else "10000"})
        return p

    def banner(self) -> str:
        p = self.props
        return (
            f"device::ro.product.name={p['ro.product.name']};ro.product.model={p['ro.product.model']};"
            f"ro.product.device={p['ro.product.device']};features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir"
        )

    @property
    def profile(self):
        return getattr(self.device, "profile", None)

    def _system_package(self, attr: str, default: str) -> str:
        prof = self.profile
        return getattr(prof, attr, None) or default

    @property
    def launcher_package(self) -> str:
        return self._system_package("launcher_package", "com.android.launcher3")

    @property
    def controller_package(self) -> str:
        return self._system_package("controller_package", "com.android.permissioncontroller")

    @property
    def settings_package(self) -> str:
        return self._system_package("settings_package", "com.android.settings")

    @property
    def roles(self) -> dict[str, str]:
        return {
            "launcher": self.launcher_package,
            "controller": self.controller_package,
            "settings": self.settings_package,
        }

    def system_packages(self) -> list[str]:
        return syspkgs.system_packages(self.roles)

    def system_package(self, package: str) -> syspkgs.SysPkg | None:
        return syspkgs.system_package(package, self.roles)

    # --- timed, serialised access to the device --------------------------------------------------
    def call(self, name: str, *args, mutate: bool = True):
        """Run device.<name>(*args) under the lock; mutations invalidate the cached observation."""
        with self.lock:
            self.clock.sync()
            t0 = time.perf_counter()
            try:
                out = getattr(self.device, name)(*args)
            finally:
                st = self.stats[name]
                st.calls += 1
                st.seconds += time.perf_counter() - t0
                if mutate:
                    self._obs = None
        if name in _LATENCY:
            self.clock.latency(_LATENCY[name])
        return out

    def observation(self) -> Observation:
        """One capture per device state. With the screen off or locked: the keyguard instead."""
        with self.lock:
            if self._obs is None:
                obs = self.call("observe", mutate=False)
                for rec in self.recorders:
                    rec.frame(obs)
                self._obs = obs
            if not self.state.screen_on or self.state.locked:
                return self._keyguard(self._obs)
            if self.state.shade:
                from exerciser.sim.adbfront.shade import shade_observation

                return shade_observation(self.info, self._obs, self.state.shade)
            return self._obs

    def hierarchy(self) -> str:
        """dumpWindowHierarchy's answer, in `dump_form`."""
        with self.lock:
            obs = self.observation()
            if self.dump_form != "u2" or obs is not self._obs:  # the keyguard or the shade in front
                return obs.xml
            if not hasattr(self.device, "hierarchy_u2"):
                return obs.xml  # a test double without the virtual device's windows
            return self.call("hierarchy_u2", mutate=False)

    def jpeg(self, quality: int) -> bytes:
        """takeScreenshot's JPEG of the current screen (cached per PNG content and quality)."""
        import cv2
        import numpy as np

        obs = self.observation()
        key = (obs.png, max(1, min(100, int(quality))))
        with self.lock:
            hit = self._jpegs.get(key)
        if hit is not None:
            return hit
        t0 = time.perf_counter()
        bgr = cv2.imdecode(np.frombuffer(obs.png, np.uint8), cv2.IMREAD_COLOR)
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, key[1]])
        data = buf.tobytes()
        with self.lock:
            self.stats["jpeg_encode"].calls += 1
            self.stats["jpeg_encode"].seconds += time.perf_counter() - t0
            self._jpegs[key] = data
            while len(self._jpegs) > 16:
                self._jpegs.pop(next(iter(self._jpegs)))
        return data

    def invalidate(self) -> None:
        with self.lock:
            self._obs = None

    def focus(self) -> tuple[str, str]:
        obs = self.observation()
        return obs.package, obs.activity

    def now_ms(self) -> int:
        return self.call("now_ms", mutate=False)

    def add_log(self, buffer: str, pid: int, level: str, tag: str, message: str) -> None:
        """A line a process on the device logged (liblog), stamped with the device clock."""
        with self.lock:
            self.logs.append((self.now_ms(), buffer, pid, level, tag, message))

    # --- processes ---------------------------------------------------------------------------------
    def pid_of(self, package: str) -> int | None:
        """A stable pid per process lifetime (a restarted process gets a new one)."""
        sys_pkg = self.system_package(package)
        if sys_pkg is not None:  # persistent or always-running system processes
            if sys_pkg.process == "system_server":
                return SYSTEM_SERVER_PID
            return 1234 if package == SYSTEMUI else 2000 + sum(map(ord, package)) % 900
        dev_pid = getattr(self.device, "pid", None) or getattr(self.device, "pidof", None)
        if callable(dev_pid):
            with self.lock:
                pid = dev_pid(package)
            return int(pid) if pid else None
        alive = self.call("is_alive", package, mutate=False)
        with self.lock:
            if not alive:
                self._pids.pop(package, None)
                return None
            if package not in self._pids:
                self._next_pid += 13
                self._pids[package] = self._next_pid
            return self._pids[package]

    def crash_owner(self) -> str:
        """The app the system crash dialog in front is about (the simulator's record of it)."""
        crash = getattr(self.device, "crash_owner", None)
        if callable(crash):
            return crash() or ""
        crash = getattr(self.device, "_crash", None)
        return getattr(crash, "package", "") or ""

    def uid_of(self, package: str) -> int:
        """The app's uid as the device knows it (the permission-request log line names only the uid)."""
        sys_pkg = self.system_package(package)
        if sys_pkg is not None:
            return sys_pkg.uid
        fn = getattr(self.device, "uid_of", None) or getattr(self.device, "uid", None)
        if callable(fn):
            with self.lock:
                try:
                    uid = fn(package)
                except Exception:
                    uid = None
            if uid:
                return int(uid)
        apps = getattr(self.device, "_apps", None)  # the simulator's table, until it offers uid_of()
        if isinstance(apps, dict) and package in apps and getattr(apps[package], "uid", None):
            return int(apps[package].uid)
        for e in reversed(self.device.events(0) if hasattr(self.device, "events") else []):
            if e.package == package and e.detail.get("uid", "").isdigit():
                return int(e.detail["uid"])
        return 10100 + sum(map(ord, package)) % 400

    def apk_path(self, package: str) -> str:
        """base.apk of an installed app, the APK under /system of a system package."""
        sys_pkg = self.system_package(package)
        if sys_pkg is not None:
            return sys_pkg.path
        from exerciser.sim.adbfront.dumpsys import code_dir

        return code_dir(package) + "/base.apk"

    def installed(self) -> list[str]:
        return list(self.call("installed_packages", mutate=False))

    def installed_ms(self, package: str) -> int:
        if package not in self._installed_ms:
            self._installed_ms[package] = self.now_ms() - 86_400_000
        return self._installed_ms[package]

    # --- app metadata for dumpsys package --------------------------------------------------------
    def app_meta(self, package: str) -> dict:
        """versionName, targetSdk, requested permissions, launcher activity: from the app model if the
        device exposes one, else from what the contract tells."""
        meta = {
            "version_name": "1.0",
            "version_code": 1,
            "target_sdk": self.info.api_level,
            "min_sdk": 23,
            "launcher_activity": f"{package}.MainActivity",
            "requested": None,
            "label": package,
        }
        model = self.app_model(package)
        if model is not None:
            for key, attrs in {
                "version_name": ("version_name", "version"),
                "target_sdk": ("target_sdk",),
                "requested": ("permissions", "requested"),
                "label": ("label",),
                "launcher_activity": ("launch_activity", "launcher_activity", "main_activity"),
            }.items():
                for a in attrs:
                    v = model.get(a) if isinstance(model, dict) else getattr(model, a, None)
                    if v:
                        meta[key] = v
                        break
        return meta

    def app_model(self, package: str):
        """The app model the virtual device runs for `package` (None when it does not expose one)."""
        with self.lock:
            for name in ("app_model", "model_of", "app_info"):
                fn = getattr(self.device, name, None)
                if callable(fn):
                    try:
                        return fn(package)
                    except Exception:
                        return None
            for name in ("apps", "models"):
                table = getattr(self.device, name, None)
                if isinstance(table, dict) and package in table:
                    return table[package]
        return None

    def permissions(self, package: str) -> dict[str, PermissionState]:
        return dict(self.call("permissions", package, mutate=False))

    # --- screen power and keyguard ------------------------------------------------------------------
    def press_keycode(self, code: int) -> bool:
        """One key press as the input system sees it. Returns False for keys the device ignores."""
        with self.lock:
            st = self.state
            if code in (KEYCODES["POWER"], KEYCODES["SLEEP"], KEYCODES["WAKEUP"]):
                if code == KEYCODES["WAKEUP"] or (code == KEYCODES["POWER"] and not st.screen_on):
                    st.screen_on = True
                else:
                    st.screen_on = False
                    st.locked = True  # a swipe keyguard comes back with the screen
                self.invalidate()
                return True
            if not st.screen_on:
                return False  # keys other than power do not wake a sleeping phone
            if st.locked:
                if code == KEYCODES["MENU"]:  # MENU dismisses an insecure keyguard
                    st.locked = False
                    self.invalidate()
                return True
            if st.shade:  # the shade has the keys: back and home collapse it
                if code in (KEYCODES["BACK"], KEYCODES["HOME"]):
                    self.collapse_shade()
                if code != KEYCODES["HOME"]:
                    return True
            if code == KEYCODES["DEL"] and hasattr(self.device, "delete_text"):
                self.call("delete_text", 1)
                return True
            key = CODE_TO_KEY.get(code)
            if key is None:
                return True
            self.call("key", key)
            return True

    # --- the notification shade --------------------------------------------------------------------
    def open_shade(self, kind: str = "notifications") -> bool:
        with self.lock:
            if not self.state.screen_on or self.state.locked:
                return False
            self.state.shade = kind
            self.invalidate()
            return True

    def collapse_shade(self) -> None:
        with self.lock:
            if self.state.shade:
                self.state.shade = ""
                self.invalidate()

    def tap(self, x: int, y: int, duration_ms: int = 0) -> None:
        with self.lock:
            if not self.state.screen_on or self.state.locked:
                return
            if self.state.shade:  # a tap below the panel collapses it; the panel takes its own
                from exerciser.sim.adbfront.shade import panel_height

                if y > panel_height(self.info, self.state.shade):
                    self.collapse_shade()
                return
            if duration_ms >= 500:
                self.call("long_press", x, y, duration_ms)
            else:
                self.call("tap", x, y)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int) -> None:
        with self.lock:
            if not self.state.screen_on:
                return
            if self.state.locked:
                if y1 - y2 > self.info.height // 4:  # swipe up unlocks a swipe keyguard
                    self.state.locked = False
                    self.invalidate()
                return
            h = self.info.height
            if self.state.shade:  # up collapses it, down again expands quick settings
                if y1 - y2 > h // 10:
                    self.collapse_shade()
                elif y2 - y1 > h // 10:
                    self.open_shade("quick_settings")
                return
            if y1 <= h // 40 and y2 - y1 > h // 8:  # from the status bar down: the shade
                self.open_shade("notifications")
                return
            self.call("swipe", x1, y1, x2, y2, duration_ms)

    def multi_touch(self, frames: list[dict[int, tuple[float, float]]], duration_ms: int) -> None:
        """A multi-finger gesture (sim.transform's touch frames), for the app in front."""
        with self.lock:
            if self.state.screen_on and not self.state.locked and not self.state.shade:
                self.call("multi_touch", frames, duration_ms)

    def type_text(self, text: str) -> None:
        with self.lock:
            if self.state.screen_on and not self.state.locked:
                self.call("type_text", text)

    def _keyguard(self, under: Observation) -> Observation:
        from exerciser.sim.adbfront.keyguard import keyguard_observation

        return keyguard_observation(self.info, under.time_ms, screen_on=self.state.screen_on)

    # --- errors as Android prints them ---------------------------------------------------------------
    @staticmethod
    def exception_text(command: str, exc: Exception) -> str:
        msg = str(exc) or exc.__class__.__name__
        if "Unknown package" in msg or "not installed" in msg.lower():
            java = "java.lang.IllegalArgumentException"
        else:
            java = (
                "java.lang.SecurityException"
                if "permission" in msg.lower()
                else "java.lang.IllegalArgumentException"
            )
        return f"Exception occurred while executing '{command}':\n{java}: {msg}\n"


__all__ = ["Phone", "KEYCODES", "DeviceError"]
