"""A minimal in-process Device (contract only) for protocol tests that must not depend on the simulator:
one app with a home screen, a Camera button that raises a permission dialog, grant/deny, a clock, events.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

from exerciser.device.contract import (
    DeviceError,
    DeviceEvent,
    DeviceInfo,
    EventKind,
    Key,
    Observation,
    PermissionState,
)

PKG = "com.example.fake"
CTRL = "com.android.permissioncontroller"
CAMERA = "android.permission.CAMERA"
LAUNCHER = "com.android.launcher3"

_ATTRS = (
    'checkable="false" checked="false" clickable="{c}" enabled="true" focusable="{c}" focused="false" '
    'scrollable="false" long-clickable="false" password="false" selected="false"'
)


def _node(i, cls, pkg, text="", rid="", bounds=(0, 0, 1080, 2340), inner="", clickable=False):
    b = f"[{bounds[0]},{bounds[1]}][{bounds[2]},{bounds[3]}]"
    a = _ATTRS.format(c=str(clickable).lower())
    body = f">{inner}</node>" if inner else " />"
    return (
        f'<node index="{i}" text="{text}" resource-id="{rid}" class="{cls}" package="{pkg}" '
        f'content-desc="" {a} bounds="{b}"{body}'
    )


@dataclass
class FakeDevice:
    serial: str = "fake"
    clock: int = 1_767_000_000_000
    screen: str = "launcher"  # launcher | home | dialog
    alive: bool = False
    granted: dict[str, PermissionState] = field(
        default_factory=lambda: {CAMERA: PermissionState(CAMERA, False, frozenset())}
    )
    log: list[DeviceEvent] = field(default_factory=list)
    typed: str = ""
    calls: list[str] = field(default_factory=list)
    crash_of: str = ""  # a system crash dialog about this (other) app is in front
    before_crash: str = "home"

    def crash_owner(self) -> str:
        return self.crash_of

    def foreign_crash(self, package: str) -> None:
        """Another app crashes: the system's dialog covers whatever was in front."""
        self.before_crash, self.screen, self.crash_of = self.screen, "crash", package

    @property
    def info(self) -> DeviceInfo:
        return DeviceInfo(
            self.serial,
            33,
            "13",
            "aosp",
            "en-US",
            1080,
            2340,
            model="Fake Phone",
            manufacturer="Exerciser",
            density=440,
        )

    def _tick(self, ms: int = 100) -> None:
        self.clock += ms

    def _ev(self, kind: EventKind, **detail: str) -> None:
        self.log.append(DeviceEvent(self.clock, kind, PKG, dict(detail)))

    # observe
    def observe(self) -> Observation:
        self.calls.append("observe")
        if self.screen == "crash":
            pkg, act = "android", "com.android.server.am.AppErrorDialog"
            title = _node(
                0,
                "android.widget.TextView",
                pkg,
                f"{self.crash_of} keeps stopping",
                "android:id/alertTitle",
                (100, 900, 980, 1000),
            )
            close = _node(
                1,
                "android.widget.Button",
                pkg,
                "Close app",
                "android:id/aerr_close",
                (100, 1100, 980, 1200),
                clickable=True,
            )
            inner = title + close
        elif self.screen == "launcher":
            pkg, act = LAUNCHER, "com.android.launcher3.Launcher"
            inner = _node(
                0,
                "android.widget.TextView",
                pkg,
                "Fake",
                f"{pkg}:id/icon",
                (100, 300, 300, 500),
                clickable=True,
            )
        elif self.screen == "home":
            pkg, act = PKG, f"{PKG}.MainActivity"
            inner = _node(
                0,
                "android.widget.TextView",
                PKG,
                f"Home {self.typed}",
                f"{PKG}:id/title",
                (0, 100, 1080, 300),
            ) + _node(
                1,
                "android.widget.Button",
                PKG,
                "Camera",
                f"{PKG}:id/btn_camera",
                (100, 1000, 980, 1150),
                clickable=True,
            )
        else:
            pkg, act = CTRL, f"{CTRL}.permission.ui.GrantPermissionsActivity"
            inner = (
                _node(
                    0,
                    "android.widget.TextView",
                    CTRL,
                    "Allow Fake to take pictures and record video?",
                    f"{CTRL}:id/permission_message",
                    (100, 900, 980, 1000),
                )
                + _node(
                    1,
                    "android.widget.Button",
                    CTRL,
                    "While using the app",
                    f"{CTRL}:id/permission_allow_foreground_only_button",
                    (100, 1100, 980, 1200),
                    clickable=True,
                )
                + _node(
                    2,
                    "android.widget.Button",
                    CTRL,
                    "Don’t allow",
                    f"{CTRL}:id/permission_deny_button",
                    (100, 1300, 980, 1400),
                    clickable=True,
                )
            )
        xml = (
            "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>"
            f'<hierarchy rotation="0">{_node(0, "android.widget.FrameLayout", pkg, inner=inner)}</hierarchy>'
        )
        img = Image.new(
            "RGB",
            (1080, 2340),
            {
                "launcher": (30, 60, 90),
                "home": (250, 250, 250),
                "dialog": (120, 120, 120),
                "crash": (90, 90, 90),
            }[self.screen],
        )
        ImageDraw.Draw(img).rectangle((100, 1000, 980, 1150), fill=(0, 120, 200))
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=1)
        return Observation(xml, buf.getvalue(), pkg, act, self.clock)

    def now_ms(self) -> int:
        return self.clock

    def wait(self, seconds: float) -> None:
        self._tick(int(seconds * 1000))

    def events(self, since_ms: int = 0) -> list[DeviceEvent]:
        return [e for e in self.log if e.time_ms >= since_ms]

    # input
    def tap(self, x: int, y: int) -> None:
        self.calls.append(f"tap {x} {y}")
        self._tick()
        if self.screen == "crash":
            if 1100 <= y <= 1200:
                self.screen, self.crash_of = self.before_crash, ""
        elif self.screen == "launcher" and 100 <= x <= 300 and 300 <= y <= 500:
            self.app_start(PKG)
        elif self.screen == "home" and 100 <= x <= 980 and 1000 <= y <= 1150:
            if not self.granted[CAMERA].granted:
                self.screen = "dialog"
                self._ev(EventKind.PERMISSION_REQUEST, permissions=CAMERA)
        elif self.screen == "dialog" and 1100 <= y <= 1200:
            self.granted[CAMERA] = PermissionState(CAMERA, True, frozenset({"USER_SET"}))
            self.screen = "home"
        elif self.screen == "dialog" and 1300 <= y <= 1400:
            self.granted[CAMERA] = PermissionState(CAMERA, False, frozenset({"USER_SET"}))
            self.screen = "home"

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        self.calls.append(f"long_press {x} {y} {duration_ms}")
        self._tick(duration_ms)

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        self.calls.append(f"swipe {x1} {y1} {x2} {y2} {duration_ms}")
        self._tick(duration_ms)

    def type_text(self, text: str) -> None:
        self.calls.append(f"type {text}")
        self.typed += text

    def key(self, key: Key) -> None:
        self.calls.append(f"key {key.value}")
        self._tick()
        if key in (Key.BACK, Key.HOME) and self.screen != "launcher":
            self.screen = "launcher"
            if key == Key.BACK:
                self._ev(EventKind.FINISH_ACTIVITY, component=f"{PKG}/.MainActivity", reason="app-request")

    # apps
    def app_start(self, package: str) -> None:
        self.calls.append(f"app_start {package}")
        if package != PKG:
            raise DeviceError(f"Unknown package: {package}")
        self._tick(500)
        if not self.alive:
            self.alive = True
            self._ev(EventKind.PROC_START, pid="4242", component=f"{PKG}/.MainActivity")
        self.screen = "home"

    def app_stop(self, package: str) -> None:
        self.calls.append(f"app_stop {package}")
        if package == PKG and self.alive:
            self.alive = False
            self._ev(EventKind.KILL, pid="4242", reason="stop " + PKG)
            self.screen = "launcher"

    def app_clear(self, package: str) -> None:
        self.app_stop(package)
        self.granted[CAMERA] = PermissionState(CAMERA, False, frozenset())

    def is_alive(self, package: str) -> bool:
        return package == PKG and self.alive

    def installed_packages(self) -> list[str]:
        return [PKG]

    # permissions
    def permissions(self, package: str) -> dict[str, PermissionState]:
        if package != PKG:
            raise DeviceError(f"Unknown package: {package}")
        return dict(self.granted)

    def grant(self, package: str, permission: str) -> None:
        if permission not in self.granted:
            raise DeviceError(f"Package {package} has not requested permission {permission}")
        old = self.granted[permission]
        self.granted[permission] = PermissionState(permission, True, old.flags)

    def revoke(self, package: str, permission: str) -> None:
        if permission not in self.granted:
            raise DeviceError(f"Package {package} has not requested permission {permission}")
        old = self.granted[permission]
        self.granted[permission] = PermissionState(permission, False, old.flags)
        self.app_stop(package)
