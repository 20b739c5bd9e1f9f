"""The device contract: the one interface every backend (virtual device, uiautomator2/adbutils) fulfils.

Everything above `exerciser.device` talks to a phone only through `Device`. Each method maps 1:1 onto
something uiautomator2 or adbutils can do on a real phone (noted per method), so that a backend never has
to invent behaviour the real driver could not reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class DeviceError(Exception):
    """A device could not do what was asked (bad package, bad permission name, ...)."""


class DeviceLost(DeviceError):
    """The device vanished (unplugged, adb offline, server gone). Recorded evidence must be kept."""


class Key(StrEnum):
    """Hardware/navigation keys. Values are the uiautomator2 `press()` names."""

    BACK = "back"
    HOME = "home"
    ENTER = "enter"
    RECENT = "recent"


@dataclass(frozen=True)
class DeviceInfo:
    """What `getprop` / u2 `device_info` tell about the phone."""

    serial: str
    api_level: int  # ro.build.version.sdk
    release: str  # ro.build.version.release, e.g. "13"
    rom: str  # "aosp", "miui", ... (ro.miui.ui.version.name etc.)
    locale: str  # BCP-47, "en-US" or "zh-CN" (persist.sys.locale)
    width: int  # display size in pixels (wm size)
    height: int
    model: str = "virtual"  # ro.product.model
    manufacturer: str = "exerciser"  # ro.product.manufacturer
    density: int = 440  # wm density

    @property
    def language(self) -> str:
        """ "en" or "zh": the language part of the locale."""
        return self.locale.split("-")[0].lower()


@dataclass(frozen=True)
class Observation:
    """One capture of the screen, taken in one round (u2: dump_hierarchy + screenshot + app_current)."""

    xml: str  # exactly the format of `uiautomator dump`
    png: bytes  # PNG screenshot at device resolution
    package: str  # foreground package (u2 app_current()["package"])
    activity: str  # foreground activity, fully qualified
    time_ms: int  # device clock, epoch milliseconds, at capture


@dataclass(frozen=True)
class PermissionState:
    """One runtime permission as `dumpsys package PKG` shows it under `runtime permissions:`."""

    name: str  # android.permission.CAMERA
    granted: bool
    flags: frozenset[str] = frozenset()  # USER_SET, USER_FIXED, ONE_TIME, ...

    @property
    def user_fixed(self) -> bool:
        return "USER_FIXED" in self.flags


class EventKind(StrEnum):
    """Logcat signals a real phone gives (`logcat -b events` tags and the ActivityTaskManager START line)."""

    PROC_START = "am_proc_start"
    PROC_DIED = "am_proc_died"
    KILL = "am_kill"
    CRASH = "am_crash"
    ANR = "am_anr"
    FINISH_ACTIVITY = "wm_finish_activity"
    RESUME_ACTIVITY = "wm_resume_activity"
    # "START u0 {act=android.content.pm.action.REQUEST_PERMISSIONS pkg=<controller> ...}" from uid of PKG
    PERMISSION_REQUEST = "permission_request"


@dataclass(frozen=True)
class DeviceEvent:
    """One logcat line, parsed. `detail` holds tag-specific fields (pid, reason, component, permissions)."""

    time_ms: int
    kind: EventKind
    package: str
    detail: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class Device(Protocol):
    """The device contract. Coordinates are device pixels; times are the device's epoch milliseconds."""

    @property
    def info(self) -> DeviceInfo:
        """Static facts about the device (u2 device_info / getprop)."""
        ...

    # --- observe -----------------------------------------------------------------------------------
    def observe(self) -> Observation:
        """Hierarchy + screenshot + focus in one round (u2 dump_hierarchy, screenshot, app_current)."""
        ...

    def now_ms(self) -> int:
        """Device clock (adb shell date +%s%3N)."""
        ...

    def wait(self, seconds: float) -> None:
        """Let the device run for `seconds` (virtual: advance the clock; real: sleep)."""
        ...

    def events(self, since_ms: int = 0) -> list[DeviceEvent]:
        """Logcat events at or after `since_ms` (adb logcat -b events,main -d -T)."""
        ...

    # --- input -------------------------------------------------------------------------------------
    def tap(self, x: int, y: int) -> None:
        """u2 click(x, y)."""
        ...

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        """u2 long_click(x, y, duration)."""
        ...

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        """u2 swipe(...)."""
        ...

    def type_text(self, text: str) -> None:
        """u2 send_keys(text) into the focused field."""
        ...

    def key(self, key: Key) -> None:
        """u2 press(name)."""
        ...

    # --- apps --------------------------------------------------------------------------------------
    def app_start(self, package: str) -> None:
        """Launch the launcher activity (monkey -p PKG -c android.intent.category.LAUNCHER 1)."""
        ...

    def app_stop(self, package: str) -> None:
        """am force-stop PKG."""
        ...

    def app_clear(self, package: str) -> None:
        """pm clear PKG: data wiped, permissions reset, process killed."""
        ...

    def is_alive(self, package: str) -> bool:
        """pidof PKG: the process exists (an app that only finish()ed is still alive)."""
        ...

    def installed_packages(self) -> list[str]:
        """pm list packages -3 (third-party apps)."""
        ...

    # --- permissions -------------------------------------------------------------------------------
    def permissions(self, package: str) -> dict[str, PermissionState]:
        """Runtime permissions of PKG, parsed from dumpsys package."""
        ...

    def grant(self, package: str, permission: str) -> None:
        """pm grant PKG PERM."""
        ...

    def revoke(self, package: str, permission: str) -> None:
        """pm revoke PKG PERM (kills the app's process, as Android does)."""
        ...
