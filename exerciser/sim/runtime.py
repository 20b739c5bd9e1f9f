"""The virtual Android device: runs app models on a simulated Android with a virtual clock.

`VirtualDevice` fulfils the device contract (`exerciser.device.contract.Device`). What it simulates:

- **Tasks and activities.** Each app has one task, a stack of activity records: app screens (with their
  in-app dialogs), the app-info settings page, and the system's GrantPermissionsActivity. The launcher
  is in front when no task is. Back pops; at the root, API 31+ moves a launcher-root task to the back
  (Android 12's rule) and older levels finish it (`wm_finish_activity … app-request`).
- **Processes.** Cold start (`am_proc_start`, `on_launch`), warm start (process alive, no activity:
  `on_launch` again), bring-to-front (`on_enter` of the top screen). A process killed by the system
  while in the background (revoke, one-time expiry) keeps its task; the top screen is recreated in a
  new process on return. Self-kill, crash, force-stop and `pm clear` clear the task. A crash shows
  the system crash dialog on 6.0 always, from Android 9 only when the app crashed within the minute
  before (show_first_crash_dialog off; `first_crash_dialog=True` turns it on).
- **Permissions** with groups, USER_SET / USER_FIXED / ONE_TIME flags, the per-API dialog (see
  `sysui.py`), "don't ask again" (checkbox 23–28, button 29, implicit second denial 30+).
  Back on the permission dialog does nothing on 23–29; from 30 it (or a tap outside the card) cancels
  the request: the remaining groups are denied without touching the flags (Android records no user
  choice, so it does not count toward USER_FIXED).
- **Clock.** Epoch milliseconds from 2026-01-05 09:00 local; every input costs a little time drawn
  from a seeded generator (deterministic), `wait()` / `advance_clock()` move it on, timers fire.
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from exerciser.device.contract import (
    DeviceError,
    DeviceEvent,
    DeviceInfo,
    EventKind,
    Key,
    Observation,
    PermissionState,
)
from exerciser.sim import datetime_settings as DT
from exerciser.sim import profiles as P
from exerciser.sim import screens as S
from exerciser.sim import scroll as SC
from exerciser.sim import sysui
from exerciser.sim import transform as T
from exerciser.sim.appmodel import Action, AppModel, AppModelError, Cond
from exerciser.sim.ui import Frame, Node, Window

MAX_ENTER_DEPTH = 64  # screens opened from on_enter within one another: far past any real start-up chain

EPOCH_LOCAL = datetime(2026, 1, 5, 9, 0, 0)
# Device time zone per locale in January (America/New_York, Asia/Shanghai), as persist.sys.timezone says.
TZ_OFFSET_MIN = {"en-US": -300, "zh-CN": 480}
ONE_TIME_TIMEOUT_MS = 60_000
LONG_PRESS_MS = 500  # ViewConfiguration.getLongPressTimeout(): a longer still touch is a long press
MIN_CRASH_INTERVAL_MS = 60_000  # ProcessList.MIN_CRASH_INTERVAL: a crash within it is "repeating"
FIRST_PID = 4012
FIRST_UID = 10123
SYSTEM_SERVER_PID = 1170

# Time cost of inputs in milliseconds (low, high): drawn from the device's seeded generator.
COST = {
    "tap": (300, 600),
    "key": (250, 450),
    "type_char": (40, 80),
    "cold_start": (1200, 2000),
    "warm_start": (600, 900),
    "hot_start": (300, 500),
    "stop": (200, 400),
    "pm": (100, 250),
}


# --- records -------------------------------------------------------------------------------------


@dataclass
class ScreenAct:
    token: int
    screen: str
    launch: bool = False  # created by the LAUNCHER intent as the task root
    dialogs: list[str] = field(default_factory=list)
    values: S.Values = field(default_factory=dict)
    resumed: bool = False  # has been resumed at least once (on_enter ran)


@dataclass
class SettingsAct:
    token: int
    target: str  # package whose app-info page this is


@dataclass
class RequestFlow:
    requested: tuple[str, ...]
    groups: list[tuple[str, list[str]]]  # (group, requested runtime permissions) needing a dialog
    on_granted: tuple[Action, ...]
    on_denied: tuple[Action, ...]
    index: int = 0
    checkbox: bool = False
    precise: bool = True


@dataclass
class GrantAct:
    token: int
    flow: RequestFlow


Activity = ScreenAct | SettingsAct | GrantAct | DT.DateTimeAct


@dataclass
class Task:
    id: int
    package: str  # the app the task belongs to (settings package for a stand-alone settings task)
    acts: list[Activity] = field(default_factory=list)

    @property
    def top(self) -> Activity | None:
        return self.acts[-1] if self.acts else None


@dataclass
class PermRecord:
    granted: bool = False
    flags: set[str] = field(default_factory=set)


@dataclass
class Timer:
    due_ms: int
    seq: int
    package: str
    pid: int
    actions: tuple[Action, ...]
    name: str = ""  # `after ... name:` — what `cancel` stops


@dataclass
class AppRt:
    """Everything the device keeps about one installed app."""

    model: AppModel
    uid: int
    state: dict[str, Any]
    perms: dict[str, PermRecord]  # runtime permissions at this API level
    pid: int | None = None
    memory: dict[str, Any] = field(default_factory=dict)
    bg_since_ms: int | None = None
    focus: tuple[int, str, int] | None = None  # (activity token, dialog, widget index) of the focused input
    web: tuple[int, str, int] | None = None  # the WebView whose link runs its actions now (where `load` goes)

    @property
    def package(self) -> str:
        return self.model.package


@dataclass
class Crash:
    package: str
    label: str


class _Stop(Exception):
    """Unwinds an action list when the app's process died under it."""


# --- the device ----------------------------------------------------------------------------------


class VirtualDevice:
    """A simulated Android phone fulfilling the `Device` contract. See the module docstring."""

    def __init__(
        self,
        apps: Iterable[AppModel] = (),
        profile: str = "api33",
        locale: str = "en-US",
        serial: str = "virtual-1",
        width: int = 1080,
        height: int = 2340,
        density: int = 440,
        seed: int = 0,
        first_crash_dialog: bool = False,
    ):
        if profile not in P.PROFILES:
            raise DeviceError(f"unknown profile {profile!r} (known: {', '.join(P.PROFILES)})")
        if locale not in P.LOCALES:
            raise DeviceError(f"unsupported locale {locale!r} (known: {', '.join(P.LOCALES)})")
        self.profile: P.Profile = P.PROFILES[profile]
        self.locale = locale
        self.language = locale.split("-")[0]
        self._info = DeviceInfo(
            serial=serial,
            api_level=self.profile.api_level,
            release=self.profile.release,
            rom=self.profile.rom,
            locale=locale,
            width=width,
            height=height,
            density=density,
            manufacturer=self.profile.manufacturer or "exerciser",
        )
        self._physical = (width, height, density)
        self.tz_offset_min = TZ_OFFSET_MIN[locale]
        epoch = EPOCH_LOCAL - timedelta(minutes=self.tz_offset_min)
        self._clock = int(epoch.replace(tzinfo=UTC).timestamp() * 1000)
        # Inputs cost a little virtual time. Off when an outside clock drives the device (a served device
        # runs with wall time: its inputs take real time instead).
        self.input_costs = True
        self._rng = random.Random(seed)
        self._apps: dict[str, AppRt] = {}
        self._tasks: list[Task] = []  # least recent first; the last one is in front unless _home
        self._home = True
        self._crash: Crash | None = None
        # Settings.Global.show_first_crash_dialog (0 on stock builds): from Android 9 the system only
        # shows "X keeps stopping" when the app crashed again within MIN_CRASH_INTERVAL.
        self.first_crash_dialog = first_crash_dialog
        self._crash_times: dict[str, int] = {}  # AppErrors.mProcessCrashTimesPersistent
        self._entering: list[str] = []  # screens whose on_enter is running, outermost first
        self._events: list[DeviceEvent] = []
        self._timers: list[Timer] = []
        self._next_pid = FIRST_PID
        self._next_token = 0x0A1B2C3
        self._next_task = 101
        self._timer_seq = 0
        self._version = 0  # bumps on every change of what the screen shows
        self._cache: dict[str, Any] = {}
        self._renderer: Any = None
        self.toasts: list[tuple[int, str, str]] = []  # (device ms, package, text) of every Toast shown
        # automatic time and setting the clock for the Date & time page (a served phone puts in its own)
        self.time_settings: DT.TimeSettings = DT.LocalTimeSettings(self)
        for m in apps:
            self.install(m)

    # --- contract: info, clock, events ----------------------------------------------------------

    @property
    def info(self) -> DeviceInfo:
        """The display as apps see it: the physical size and density unless `wm` overrides them."""
        return self._info

    @property
    def physical_display(self) -> tuple[int, int, int]:
        """Width, height and density of the panel (`wm size` / `wm density`: "Physical ...")."""
        return self._physical

    def override_display(self, size: tuple[int, int] | None = None, density: int | None = None) -> None:
        """`wm size WxH` / `wm density N` (0 = reset to the physical value): every window lays out again
        at the new size and density, and screenshots come at the new size, as on a phone."""
        w, h, d = self._info.width, self._info.height, self._info.density
        if size is not None:
            w, h = size if size[0] > 0 else self._physical[:2]
        if density is not None:
            d = density if density > 0 else self._physical[2]
        self._info = replace(self._info, width=w, height=h, density=d)
        self._renderer = None
        self._changed()

    def now_ms(self) -> int:
        return self._clock

    def wait(self, seconds: float) -> None:
        self.advance_clock(seconds)

    def advance_clock(self, seconds: float) -> None:
        """Move the device clock on; timers and one-time-permission expiries fire on the way."""
        if seconds < 0:
            raise DeviceError("the clock does not run backwards")
        self._advance(int(round(seconds * 1000)))

    def set_clock(self, ms: int) -> None:
        """The wall clock is set (`date`, `cmd alarm set-time`, network time). Forward it is time passing,
        as `advance_clock` (timers fire); backward, what counts from now moves with it (pending timers,
        background times, crash times), so nothing fires or expires twice."""
        delta = int(ms) - self._clock
        if delta >= 0:
            self._advance(delta)
            return
        self._clock = int(ms)
        for t in self._timers:
            t.due_ms += delta
        for app in self._apps.values():
            if app.bg_since_ms is not None:
                app.bg_since_ms += delta
        self._crash_times = {k: v + delta for k, v in self._crash_times.items()}
        self._changed()

    def screen_key(self) -> tuple[int, str]:
        """Changes exactly when what the screen shows changes (content or the status-bar clock)."""
        return (self._version, self._clock_text())

    def events(self, since_ms: int = 0) -> list[DeviceEvent]:
        return [e for e in self._events if e.time_ms >= since_ms]

    # --- contract: observe ----------------------------------------------------------------------

    def frame(self) -> Frame:
        """The current screen as windows (bounds filled by the renderer's layout)."""
        for _ in range(4):  # an on_scroll_end that changes the screen is laid out again
            key = self.screen_key()
            if self._cache.get("key") != key:
                frame = self._build_frame()
                self._render().layout(frame)
                self._cache = {"key": key, "frame": frame, "parents": _parents(frame)}
                if self._scroll_ends(frame):
                    continue
            break
        return self._cache["frame"]

    def observe(self) -> Observation:
        from exerciser.sim import uixml

        frame = self.frame()
        if "xml" not in self._cache:
            self._cache["xml"] = uixml.dump(frame)
        if "png" not in self._cache:
            self._cache["png"] = self._render().png(frame)
        pkg, act = self.foreground()
        return Observation(
            xml=self._cache["xml"], png=self._cache["png"], package=pkg, activity=act, time_ms=self._clock
        )

    def hierarchy_u2(self) -> str:
        """The screen as uiautomator2's dumper writes it: every visible window (uixml.dump_u2)."""
        from exerciser.sim import uixml

        self.frame()
        if "xml_u2" not in self._cache:
            self._cache["xml_u2"] = uixml.dump_u2(self._cache["frame"], self.profile.api_level)
        return self._cache["xml_u2"]

    def foreground(self) -> tuple[str, str]:
        """(package, activity) as `app_current()` reports them."""
        if self._crash is not None:
            return "android", "com.android.server.am.AppErrorDialog"
        task = self._front_task()
        if task is None or task.top is None:
            return self.profile.launcher_package, self.profile.launcher_activity
        top = task.top
        if isinstance(top, GrantAct):
            return self.profile.controller_package, self.profile.grant_activity
        if isinstance(top, SettingsAct):
            return self.profile.settings_package, self.profile.settings_activity
        if isinstance(top, DT.DateTimeAct):
            return self.profile.settings_package, DT.facts()["activity"]
        app = self._apps[task.package]
        return app.package, app.model.screens[top.screen].activity

    # --- contract: input ------------------------------------------------------------------------

    def tap(self, x: int, y: int) -> None:
        self._check_xy(x, y)
        frame = self.frame()
        task = self._front_task()
        if task is not None and isinstance(task.top, DT.DateTimeAct) and self._crash is None:
            self._date_time_tap(task.top, frame, x, y)
            self._changed()
            self._advance(self._cost("tap"))
            return
        node = self._render().hit_test(frame, x, y)
        handled = False
        if node is not None:
            target = self._actionable(node)
            if target is not None and target.enabled:
                self._dispatch(target.action)
                handled = True
        if not handled:
            self._tap_outside(frame, x, y)
        self._changed()
        self._advance(self._cost("tap"))

    def long_press(self, x: int, y: int, duration_ms: int = 800) -> None:
        # Long-click listeners are not modelled: a long press changes nothing but time.
        self._check_xy(x, y)
        self._advance(duration_ms + self._cost("tap"))

    def swipe(self, x1: int, y1: int, x2: int, y2: int, duration_ms: int = 300) -> None:
        """A straight drag: a tap while it stays within the touch slop; else the scroll container under
        its start takes it (see `scroll`: drag plus fling, stopped at the ends)."""
        self._check_xy(x1, y1)
        duration_ms = max(int(duration_ms), 1)
        dp = self._info.density / 160
        if SC.is_tap(x2 - x1, y2 - y1, dp) and duration_ms < LONG_PRESS_MS:
            self.tap(x1, y1)
            self._advance(duration_ms)
            return
        frame = self.frame()
        # the drag's main axis picks the container: a strip takes sideways drags, its page vertical ones
        sideways = abs(x2 - x1) > abs(y2 - y1)
        node = SC.container_at(frame.top.root, x1, y1, sideways)
        if node is not None and node.scroll is not None:
            moved = (x1 - x2) if sideways else (y1 - y2)
            new = SC.scrolled(node, SC.gesture_delta(moved, duration_ms, dp))
            self._set_scroll(node.scroll.handle, new)
        self._advance(duration_ms + self._cost("tap"))

    def multi_touch(self, frames: Sequence[dict[int, tuple[float, float]]], duration_ms: int = 0) -> None:
        """A multi-finger gesture, as injected MotionEvents (see `transform`: the fingers down at each
        event). The transformable view (`zoom`) under the first finger takes it; other views ignore
        a second finger, so it changes nothing but time."""
        first = frames[0].get(0) if frames else None
        if first is not None:
            self._check_xy(int(first[0]), int(first[1]))
            target = self._zoom_target(int(first[0]), int(first[1]))
            if target is not None:
                app, act, zoom = target
                slop = 8 * self._info.density / 160  # ViewConfiguration's touch slop, 8 dp
                store = app.memory if zoom.var in app.model.memory else app.state
                old = float(store.get(zoom.var) or 0.0)
                new = T.apply_zoom(old, T.zoom_changes(frames, slop), zoom.min, zoom.max)
                if new != old:
                    store[zoom.var] = new
                    self._changed()
        self._advance(max(int(duration_ms), 1) + self._cost("tap"))

    def _zoom_target(self, x: int, y: int):
        """(app, activity, zoom) of the innermost `zoom` widget of the top screen under (x, y)."""
        task = self._front_task()
        if task is None or self._crash is not None or not isinstance(task.top, ScreenAct):
            return None
        frame = self.frame()
        self._render().hit_test(frame, x, y)  # lays the frame out: bounds below
        app, act = self._apps[task.package], task.top
        best = None
        for node in frame.top.root.walk():
            a, b = node.action, node.bounds
            if not (isinstance(a, tuple) and a[0] == "w" and a[1] == act.token and b is not None):
                continue
            if b[0] <= x < b[2] and b[1] <= y < b[3]:
                zoom = self._widget(app, act, (a[2], a[3])).zoom
                best = (app, act, zoom) if zoom is not None else best
        return best

    def _set_scroll(self, handle: object, offset: int) -> None:
        token, name, slot = handle  # type: ignore[misc]
        act = self._act_of(token)
        key = S.scroll_key(name, slot)
        if act is not None and act.values.get(key, 0) != offset:
            act.values[key] = offset
            self._changed()

    def _act_of(self, token: int) -> ScreenAct | None:
        for task in self._tasks:
            for act in task.acts:
                if isinstance(act, ScreenAct) and act.token == token:
                    return act
        return None

    def _scroll_ends(self, frame: Frame) -> bool:
        """Run `on_scroll_end` of the page or dialog body in front whose content is scrolled to its end
        (or fits: an app checks `canScrollVertically` once laid out), once per activity. True when
        something ran."""
        task = self._front_task()
        if task is None or self._crash is not None or not isinstance(task.top, ScreenAct):
            return False
        app = self._apps[task.package]
        act = task.top
        ran = False
        for node in SC.scroll_nodes(frame.top.root):
            assert node.scroll is not None and node.scroll_extent is not None
            token, name, slot = node.scroll.handle  # type: ignore[misc]
            rng, off = node.scroll_extent
            done = S.scroll_key(name, slot, end=True)
            if node.scroll.horizontal or token != act.token or off < rng or act.values.get(done):
                continue
            act.values[done] = True
            model = app.model
            if slot is not None:  # a WebView's own page
                actions = self._widget(app, act, (name, slot)).on_scroll_end
            elif name:
                actions = model.dialogs[name].on_scroll_end
            else:
                actions = model.screens[act.screen].on_scroll_end
            if actions:
                self._run_safe(app, actions)
                self._changed()
                ran = True
        return ran

    def type_text(self, text: str) -> None:
        dt = self._date_time_act()
        if dt is not None and DT.type_text(dt, text):
            self._changed()
        target = None if dt is not None else self._focused_input()
        if target is not None:
            app, act, key = target
            widget = self._widget(app, act, key)
            current = act.values.get(key, widget.text)
            act.values[key] = current + text
            self._changed()
        self._advance(sum(self._cost("type_char") for _ in text) + 100)

    def clear_text(self) -> None:
        """Empty the focused field (an input method's deleteSurroundingText over all of it; u2 `clear_text`,
        `send_keys(clear=True)`, UiObject.setText)."""
        self.delete_text(None)

    def delete_text(self, count: int | None = 1) -> None:
        """KEYCODE_DEL `count` times on the focused field (None: everything)."""
        dt = self._date_time_act()
        if dt is not None and DT.delete_text(dt, count):
            self._changed()
        target = None if dt is not None else self._focused_input()
        if target is not None:
            app, act, key = target
            current = str(act.values.get(key, self._widget(app, act, key).text))
            act.values[key] = "" if count is None else current[: max(len(current) - count, 0)]
            self._changed()
        self._advance(self._cost("key"))

    def key(self, key: Key) -> None:
        key = Key(key)
        if key == Key.BACK:
            self._back()
        elif key == Key.HOME:
            self._crash = None
            self._go_home()
        # RECENT and ENTER: the recents screen and IME actions are not modelled.
        self._changed()
        self._advance(self._cost("key"))

    # --- contract: apps -------------------------------------------------------------------------

    def install(self, model: AppModel) -> None:
        """Install (or replace) an app: runtime permissions start denied, state at its defaults."""
        if model.package in self._apps:
            self.app_stop(model.package)
        uid = FIRST_UID + len(self._apps)
        perms = {
            p: PermRecord()
            for p in model.permissions
            if P.is_runtime(p, self.profile.api_level, model.target_sdk)
        }
        self._apps[model.package] = AppRt(model, uid, _initial_state(model), perms)
        self._changed()

    def installed_packages(self) -> list[str]:
        return list(self._apps)

    def app_start(self, package: str) -> None:
        app = self._app(package)
        self._start(app)
        self._changed()

    def task_list(self) -> list[tuple[int, str, list[tuple[str, str]]]]:
        """(task id, owner package, [(package, activity) bottom to top]) of every task, the front one
        first (the launcher's home task is not listed): what `dumpsys activity activities` shows."""
        prof = self.profile
        out = []
        for t in reversed(self._tasks):
            acts = []
            for a in t.acts:
                if isinstance(a, ScreenAct):
                    acts.append((t.package, self._component(self._apps[t.package], a)))
                elif isinstance(a, GrantAct):
                    acts.append((prof.controller_package, prof.grant_activity))
                elif isinstance(a, DT.DateTimeAct):
                    acts.append((prof.settings_package, DT.facts()["activity"]))
                else:
                    acts.append((prof.settings_package, prof.settings_activity))
            out.append((t.id, t.package, acts))
        return out

    def start_activity(self, package: str, activity: str) -> bool:
        """`am start -n package/activity` (an explicit intent, FLAG_ACTIVITY_NEW_TASK): the launcher
        activity starts as from the launcher; another screen's activity is created on top of the app's
        task, which comes to the front (a new process when there is none; `on_launch` does not run:
        that is the launcher activity's onCreate). False when the app has no such activity."""
        app = self._app(package)
        full = package + activity if activity.startswith(".") else activity
        screen = next((k for k, sc in app.model.screens.items() if sc.activity == full), None)
        if screen is None:
            return False
        if screen == app.model.launch_screen:
            self.app_start(package)
            return True
        cold = app.pid is None
        if cold:
            self._start_process(app, full)
        task = self._task(package)
        act = ScreenAct(self._token(), screen)
        if task is None:
            task = Task(self._next_task, package, [])
            self._next_task += 1
            self._tasks.append(task)
        else:
            self._bring_front(task)
        self._home = False
        _insert_below_grant(task, act)
        if task.top is act:
            self._resume(app, act)
        self._changed()
        self._advance(self._cost("cold_start" if cold else "warm_start"))
        return True

    def app_stop(self, package: str) -> None:
        app = self._app(package)
        if app.pid is not None:
            self._kill(app, reason=f"stop {package}", log_kill=True)
        self._drop_task(package)
        self._changed()
        self._advance(self._cost("stop"))

    def app_clear(self, package: str) -> None:
        app = self._app(package)
        if app.pid is not None:
            self._kill(app, reason="clear data", log_kill=True)
        self._drop_task(package)
        app.state = _initial_state(app.model)
        for rec in app.perms.values():
            rec.granted = False
            rec.flags.clear()
        if self._crash is not None and self._crash.package == package:
            self._crash = None
        self._changed()
        self._advance(self._cost("stop"))

    def is_alive(self, package: str) -> bool:
        return self._app(package).pid is not None

    # --- contract: permissions ------------------------------------------------------------------

    def permissions(self, package: str) -> dict[str, PermissionState]:
        app = self._app(package)
        return {
            name: PermissionState(name, rec.granted, frozenset(rec.flags)) for name, rec in app.perms.items()
        }

    def grant(self, package: str, permission: str) -> None:
        app = self._app(package)
        rec = self._perm_record(app, permission)
        rec.granted = True
        self._changed()
        self._advance(self._cost("pm"))

    def revoke(self, package: str, permission: str) -> None:
        app = self._app(package)
        rec = self._perm_record(app, permission)
        was = rec.granted
        rec.granted = False
        rec.flags.discard("ONE_TIME")
        if was and app.pid is not None:
            # Android kills the app when a granted runtime permission is taken away.
            self._system_kill(app, f"revoke {permission}")
        self._changed()
        self._advance(self._cost("pm"))

    def update_permission_flags(self, package: str, permission: str, flags: set[str], on: bool) -> None:
        """`pm set-permission-flags` / `clear-permission-flags`: the shell sets flags directly."""
        rec = self._perm_record(self._app(package), permission)
        if on:
            rec.flags |= flags
        else:
            rec.flags -= flags
        self._changed()

    def reset_permissions(self) -> None:
        """`pm reset-permissions`: every app's runtime permissions back to their install state
        (denied, no user flags); apps that lose a grant are killed as for `pm revoke`."""
        for app in self._apps.values():
            lost = any(rec.granted for rec in app.perms.values())
            for rec in app.perms.values():
                rec.granted = False
                rec.flags.clear()
            if lost and app.pid is not None:
                self._system_kill(app, "reset runtime permissions")
        self._changed()
        self._advance(self._cost("pm"))

    # --- sim-only extras ------------------------------------------------------------------------

    def app_state(self, package: str) -> dict[str, Any]:
        """The app's persistent state (prefs), e.g. {"policy_accepted": True, "launches": 2}."""
        return dict(self._app(package).state)

    def logcat_text(self, since_ms: int = 0, buffers: Sequence[str] = ("events", "main", "crash")) -> str:
        """The events as `adb logcat -v threadtime -b <buffers>` would print them."""
        from exerciser.sim import logcat

        return logcat.render(self, self.events(since_ms), buffers)

    def app_model(self, package: str) -> AppModel:
        return self._app(package).model

    def pidof(self, package: str) -> int | None:
        """The pid of the app's process (None when not running)."""
        return self._app(package).pid

    def uninstall(self, package: str) -> None:
        app = self._app(package)
        if app.pid is not None:
            self._kill(app, reason=f"uninstall pkg {package}", log_kill=True)
        self._drop_task(package)
        del self._apps[package]
        self._changed()

    def frame_for(
        self,
        package: str,
        screen: str | None = None,
        dialog: str | None = None,
        permission: str | None = None,
    ) -> Frame:
        """A frame showing one screen (optionally an app dialog, or the system permission dialog for
        `permission`, over it) without running anything: what `exerciser sim screenshot` draws."""
        app = self._app(package)
        model = app.model
        name = screen or model.launch_screen
        if name not in model.screens:
            raise DeviceError(f"no screen {name!r} in {package} (screens: {', '.join(model.screens)})")
        if dialog is not None and dialog not in model.dialogs:
            raise DeviceError(
                f"no dialog {dialog!r} in {package} (dialogs: {', '.join(model.dialogs) or 'none'})"
            )
        env = self._env(app)
        windows = [S.screen_window(model, model.screens[name], 0, {}, env)]
        if dialog is not None:
            windows.append(S.dialog_window(model, model.dialogs[dialog], 0, {}, env))
        if permission is not None:
            if permission not in app.perms:
                raise DeviceError(
                    f"{permission} is not a runtime permission of {package} on {self.profile.name} "
                    f"(runtime here: {', '.join(app.perms) or 'none'})"
                )
            group = P.group_of(permission, self.profile.api_level) or permission
            flow = RequestFlow((permission,), [(group, [permission])], (), ())
            windows.append(sysui.grant_window(self.profile, self.language, self.grant_view(app, flow)))
        frame = Frame(
            self._info.width,
            self._info.height,
            windows,
            clock_text=self._clock_text(),
            density=self._info.density,
        )
        self._render().layout(frame)
        return frame

    def render_png(self, frame: Frame) -> bytes:
        return self._render().png(frame)

    # --- internals: helpers ---------------------------------------------------------------------

    def _app(self, package: str) -> AppRt:
        try:
            return self._apps[package]
        except KeyError:
            raise DeviceError(f"package {package!r} is not installed") from None

    def _perm_record(self, app: AppRt, permission: str) -> PermRecord:
        if permission not in app.model.permissions:
            raise DeviceError(f"package {app.package} has not requested permission {permission}")
        rec = app.perms.get(permission)
        if rec is None:
            raise DeviceError(f"permission {permission} is not a changeable permission type")
        return rec

    def _check_xy(self, x: int, y: int) -> None:
        if not (0 <= x < self._info.width and 0 <= y < self._info.height):
            raise DeviceError(f"({x}, {y}) is outside the {self._info.width}x{self._info.height} screen")

    def _cost(self, what: str) -> int:
        lo, hi = COST[what]
        cost = self._rng.randint(lo, hi)  # drawn either way: the device's random sequence stays the same
        return cost if self.input_costs else 0

    def _changed(self) -> None:
        self._version += 1
        self._update_background()

    def _render(self) -> Any:
        if self._renderer is None:
            from exerciser.sim.render import Renderer

            self._renderer = Renderer(self._info.width, self._info.height)
        return self._renderer

    def _clock_text(self) -> str:
        local = datetime.fromtimestamp(self._clock / 1000, UTC) + timedelta(minutes=self.tz_offset_min)
        return local.strftime("%H:%M")

    def local_time(self, ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC).replace(tzinfo=None) + timedelta(
            minutes=self.tz_offset_min
        )

    def _token(self) -> int:
        self._next_token += 0x1F3D5
        return self._next_token

    def _log(self, kind: EventKind, package: str, **detail: Any) -> None:
        self._events.append(DeviceEvent(self._clock, kind, package, {k: str(v) for k, v in detail.items()}))

    # --- internals: tasks -----------------------------------------------------------------------

    def _front_task(self) -> Task | None:
        if self._home or not self._tasks:
            return None
        return self._tasks[-1]

    def _task(self, package: str) -> Task | None:
        return next((t for t in self._tasks if t.package == package), None)

    def _bring_front(self, task: Task) -> None:
        self._tasks.remove(task)
        self._tasks.append(task)
        self._home = False

    def _drop_task(self, package: str) -> None:
        task = self._task(package)
        if task is not None:
            was_front = task is self._front_task()
            self._tasks.remove(task)
            if was_front:
                self._home = True

    def _go_home(self) -> None:
        self._home = True
        self._update_background()

    def _app_in_front(self, app: AppRt) -> bool:
        """The app's own activity (or its permission dialog) is what the user sees."""
        if self._crash is not None:
            return False
        task = self._front_task()
        return task is not None and task.package == app.package and isinstance(task.top, ScreenAct | GrantAct)

    def _update_background(self) -> None:
        for app in self._apps.values():
            if self._app_in_front(app):
                app.bg_since_ms = None
            elif app.bg_since_ms is None:
                app.bg_since_ms = self._clock

    def _top_screen(self, app: AppRt) -> ScreenAct | None:
        task = self._task(app.package)
        if task is None:
            return None
        for act in reversed(task.acts):
            if isinstance(act, ScreenAct):
                return act
        return None

    def _component(self, app: AppRt, act: ScreenAct) -> str:
        return app.model.screens[act.screen].activity

    # --- internals: processes -------------------------------------------------------------------

    def _start_process(self, app: AppRt, component: str) -> None:
        app.pid = self._next_pid
        self._next_pid += 1 + self._rng.randint(0, 40)
        app.memory = dict(app.model.memory)
        self._log(
            EventKind.PROC_START,
            app.package,
            pid=app.pid,
            uid=app.uid,
            process=app.package,
            type="activity",
            component=component,
        )

    def _kill(self, app: AppRt, reason: str, log_kill: bool) -> None:
        """The process dies (the task is handled by the caller)."""
        if app.pid is None:
            return
        if log_kill:
            self._log(EventKind.KILL, app.package, pid=app.pid, process=app.package, adj=900, reason=reason)
        self._log(
            EventKind.PROC_DIED, app.package, pid=app.pid, process=app.package, oom_adj=900, proc_state=19
        )
        app.pid = None
        app.memory = {}
        app.focus = None
        self._timers = [t for t in self._timers if t.package != app.package]
        for rec in app.perms.values():  # one-time grants end with the process
            if "ONE_TIME" in rec.flags:
                rec.granted = False
                rec.flags.discard("ONE_TIME")
                rec.flags.discard("USER_SET")

    def _system_kill(self, app: AppRt, reason: str) -> None:
        """Killed by the system (revoke, one-time expiry): the task survives as saved state, except the
        activity that was resumed in front (it had no chance to save); the next one is recreated."""
        in_front = self._app_in_front(app)
        self._kill(app, reason, log_kill=True)
        task = self._task(app.package)
        if task is None:
            return
        task.acts = [a for a in task.acts if not isinstance(a, GrantAct)]
        for a in task.acts:
            if isinstance(a, ScreenAct):
                a.dialogs.clear()
        if in_front:
            if task.acts and isinstance(task.top, ScreenAct):
                task.acts.pop()
            if not task.acts:
                self._drop_task(app.package)
            elif isinstance(task.top, ScreenAct):
                self._recreate(app, task.top)

    def _recreate(self, app: AppRt, act: ScreenAct) -> None:
        """A screen comes back to the front; if its process died: new process, onCreate (the launcher
        activity's onCreate runs `on_launch` again, as a restored activity's would), then onResume."""
        if app.pid is None:
            self._start_process(app, self._component(app, act))
            act.values.clear()
            if act.launch:
                app.state["launches"] = int(app.state.get("launches", 0)) + 1
                pid = app.pid
                self._run_safe(app, app.model.on_launch)
                task = self._task(app.package)
                if app.pid != pid or task is None or task.top is not act:
                    return
        self._resume(app, act)

    def _start(self, app: AppRt) -> None:
        """Launch from the launcher (monkey -c LAUNCHER): bring the task to front or create it."""
        task = self._task(app.package)
        if task is not None and task.acts:
            self._bring_front(task)
            self._update_background()
            top = task.top
            if isinstance(top, ScreenAct):
                if app.pid is None:
                    self._recreate(app, top)
                    self._advance(self._cost("cold_start"))
                else:
                    self._resume(app, top)
                    self._advance(self._cost("hot_start"))
            else:
                self._advance(self._cost("hot_start"))
            return
        if task is not None:
            self._tasks.remove(task)
        model = app.model
        cold = app.pid is None
        act = ScreenAct(self._token(), model.launch_screen, launch=True)
        if cold:
            self._start_process(app, model.launch_activity)
        task = Task(self._next_task, app.package, [act])
        self._next_task += 1
        self._tasks.append(task)
        self._home = False
        self._update_background()
        app.state["launches"] = int(app.state.get("launches", 0)) + 1
        pid = app.pid
        self._run_safe(app, model.on_launch)
        if app.pid == pid and task.top is act and not act.resumed:
            self._resume(app, act)
        # Effects first, then the time the start took (as for taps): what a caller sees after
        # app_start() happened strictly before now_ms().
        self._advance(self._cost("cold_start" if cold else "warm_start"))

    def _log_resume(self, app: AppRt, act: ScreenAct) -> None:
        task = self._task(app.package)
        self._log(
            EventKind.RESUME_ACTIVITY,
            app.package,
            token=act.token,
            task=task.id if task else 0,
            component=self._component(app, act),
            reason="",
        )

    def _resume(self, app: AppRt, act: ScreenAct) -> None:
        """onResume of an app screen: log it and run the screen's on_enter. Callers running an action
        list notice a death under on_enter by the pid check in `_run`."""
        act.resumed = True
        self._log_resume(app, act)
        self._update_background()
        if len(self._entering) >= MAX_ENTER_DEPTH:  # a loop the load-time check cannot see (conditional)
            loop = " -> ".join(self._entering[-6:] + [act.screen])
            self._entering.clear()
            where = f"{app.model.source or app.package}: screens.{act.screen}.on_enter"
            raise AppModelError(f"{where}: entering never ends ({loop} ...)")
        self._entering.append(act.screen)
        try:
            self._run_safe(app, app.model.screens[act.screen].on_enter)
        finally:
            if self._entering:
                self._entering.pop()

    def _finish(self, app: AppRt, act: Activity, reason: str = "app-request") -> None:
        task = self._task(app.package)
        if task is None or act not in task.acts:
            return
        if isinstance(act, ScreenAct):
            self._log(
                EventKind.FINISH_ACTIVITY,
                app.package,
                token=act.token,
                task=task.id,
                component=self._component(app, act),
                reason=reason,
            )
        if app.focus and app.focus[0] == act.token:
            app.focus = None
        task.acts.remove(act)
        if not task.acts:
            self._drop_task(app.package)

    # --- internals: back ------------------------------------------------------------------------

    def _back(self) -> None:
        if self._crash is not None:
            self._crash = None  # AppErrorDialog is cancelable; cancel = close
            return
        task = self._front_task()
        if task is None:
            return
        top = task.top
        if isinstance(top, GrantAct):
            # 6-10: "We do not allow backing out" (onKeyDown swallows BACK); 11+: the request is
            # cancelled (onBackPressed -> CANCELED).
            if self.profile.api_level >= 30:
                self._perm_cancel(self._apps[task.package], top)
            return
        if isinstance(top, DT.DateTimeAct) and DT.back(top):
            return
        if isinstance(top, SettingsAct | DT.DateTimeAct):
            task.acts.pop()
            if not task.acts:
                self._drop_task(task.package)
                self._update_background()
                return
            app = self._apps.get(task.package)
            if app is not None and isinstance(task.top, ScreenAct):
                self._recreate(app, task.top)
            return
        assert isinstance(top, ScreenAct)
        app = self._apps[task.package]
        try:
            if top.dialogs:
                dlg = app.model.dialogs[top.dialogs[-1]]
                if dlg.on_back is not None:
                    self._run(app, dlg.on_back)
                elif dlg.cancelable:
                    top.dialogs.pop()
                return
            if self._web_back(top):
                self._changed()
                return
            screen = app.model.screens[top.screen]
            if screen.on_back is not None:
                self._run(app, screen.on_back)
                return
            if len(task.acts) == 1 and top.launch and self.profile.api_level >= 31:
                # Android 12+: back on a root launcher activity moves the task to the back.
                self._go_home()
                return
            self._pop(app, top)
        except _Stop:
            pass

    def _pop(self, app: AppRt, act: ScreenAct) -> None:
        """finish() of one screen; the one below (if any) resumes."""
        task = self._task(app.package)
        if task is None:
            return
        was_top = task.top is act
        self._finish(app, act)
        task = self._task(app.package)
        if task is None:
            self._update_background()
            return
        if was_top and isinstance(task.top, ScreenAct) and self._front_task() is task:
            self._recreate(app, task.top)

    def _tap_outside(self, frame: Frame, x: int, y: int) -> None:
        """A tap that hit nothing actionable: outside a cancelable app dialog it cancels the dialog;
        outside the permission dialog's card on 11+ (on grant_singleton) it cancels the request.
        A tap on the card itself (its text, its padding) does nothing."""
        top = frame.top
        if top.kind not in ("dialog", "bottom_sheet", "system_dialog") or self._crash is not None:
            return
        x1, y1, x2, y2 = top.root.bounds or (0, 0, 0, 0)
        if x1 <= x < x2 and y1 <= y < y2:
            return
        task = self._front_task()
        if top.kind == "system_dialog":
            if task is not None and isinstance(task.top, GrantAct) and self.profile.api_level >= 30:
                self._perm_cancel(self._apps[task.package], task.top)
            return
        if task is None or not isinstance(task.top, ScreenAct) or not task.top.dialogs:
            return
        app = self._apps[task.package]
        if app.model.dialogs[task.top.dialogs[-1]].cancelable:
            task.top.dialogs.pop()

    # --- internals: taps ------------------------------------------------------------------------

    def _actionable(self, node: Node) -> Node | None:
        parents = self._cache.get("parents", {})
        n: Node | None = node
        while n is not None:
            if n.action is not None:
                return n
            n = parents.get(id(n))
        return None

    def _dispatch(self, action: Any) -> None:
        kind = action[0]
        if kind == "w":
            self._tap_widget(*action[1:])
        elif kind == "launch":
            self._start(self._apps[action[1]])
        elif kind == "perm":
            task = self._front_task()
            if task is not None and isinstance(task.top, GrantAct):
                self._perm_choice(self._apps[task.package], task.top, action[1])
        elif kind == "crash":
            crash = self._crash
            self._crash = None
            if action[1] == "info" and crash is not None:
                task = Task(
                    self._next_task,
                    self.profile.settings_package,
                    [SettingsAct(self._token(), crash.package)],
                )
                self._next_task += 1
                self._tasks.append(task)
                self._home = False
        elif kind == "settings":
            self._settings_toggle(self._apps[action[1]], action[2])

    def _tap_widget(self, token: int, dialog: str, index: int, block: int | None = None) -> None:
        task = self._front_task()
        if task is None or not isinstance(task.top, ScreenAct) or task.top.token != token:
            return
        act = task.top
        app = self._apps[task.package]
        key = (dialog, index)
        widget = self._widget(app, act, key)
        if block is not None:  # a link of the WebView's page: its actions, `load` going to this WebView
            blocks = S.web_blocks(widget, dialog, index, act.values, self._env(app))
            if block < len(blocks):
                app.web = (token, dialog, index)
                try:
                    self._run_safe(app, blocks[block].on_tap)
                finally:
                    app.web = None
            return
        if widget.type in ("checkbox", "switch"):
            act.values[key] = not bool(act.values.get(key, widget.checked))
        if widget.type == "input":
            app.focus = (token, dialog, index)
        self._run_safe(app, widget.on_tap)

    def _widget(self, app: AppRt, act: ScreenAct, key: tuple[str, int]):
        dialog, index = key
        if dialog:
            return S.dialog_widgets(app.model.dialogs[dialog])[index]
        return app.model.screens[act.screen].widgets[index]

    def _focused_input(self) -> tuple[AppRt, ScreenAct, tuple[str, int]] | None:
        task = self._front_task()
        if task is None or self._crash is not None or not isinstance(task.top, ScreenAct):
            return None
        app = self._apps[task.package]
        act = task.top
        if app.focus is None or app.focus[0] != act.token:
            return None
        _, dialog, index = app.focus
        visible_dialog = act.dialogs[-1] if act.dialogs else ""
        if dialog != visible_dialog:
            return None
        return app, act, (dialog, index)

    # --- internals: actions ---------------------------------------------------------------------

    def _run_safe(self, app: AppRt, actions: Sequence[Action]) -> None:
        """Run actions at an entry point (tap, timer, result): a death under them ends them quietly."""
        with contextlib.suppress(_Stop):
            self._run(app, actions)

    def _run(self, app: AppRt, actions: Sequence[Action]) -> None:
        """Run model actions in the app's process. Raises _Stop when the process dies under them."""
        pid = app.pid
        for a in actions:
            if app.pid is None or app.pid != pid:
                raise _Stop
            self._do(app, a)
        if app.pid is None or app.pid != pid:
            raise _Stop

    def _do(self, app: AppRt, a: Action) -> None:
        v = a.verb
        task = self._task(app.package)
        top = self._top_screen(app)
        if v in ("goto", "open_url", "replace"):
            act = ScreenAct(self._token(), a.arg)
            if task is None:  # every screen finished (process alive): startActivity makes a new task
                task = Task(self._next_task, app.package, [])
                self._next_task += 1
                self._tasks.append(task)
                self._home = False
            _insert_below_grant(task, act)
            if v == "replace" and top is not None:
                self._finish(app, top)  # startActivity(S); finish(): same task
            if task.top is act:
                self._resume(app, act)
        elif v == "back":
            if top is not None:
                self._pop(app, top)
        elif v == "dialog":
            if top is not None:
                top.dialogs.append(a.arg)
        elif v == "dismiss":
            if top is not None and top.dialogs:
                top.dialogs.pop()
        elif v == "request":
            self._request(app, a)
        elif v == "quit":
            if a.arg == "kill":
                # Process.killProcess(myPid()): no am_kill line, only the death.
                self._kill(app, "", log_kill=False)
                self._drop_task(app.package)
                self._update_background()
                raise _Stop
            if task is not None:
                for act in reversed(list(task.acts)):
                    if isinstance(act, ScreenAct):
                        self._finish(app, act)
                task = self._task(app.package)
                if task is not None:  # e.g. a settings page above: finishAffinity leaves nothing
                    self._drop_task(app.package)
                self._update_background()
        elif v == "crash":
            pid = app.pid
            self._log(
                EventKind.CRASH,
                app.package,
                pid=pid,
                process=app.package,
                flags=0x38D83E46,
                exception="java.lang.RuntimeException",
                message=a.arg,
                file=_src_file(app, top),
                line=42,
            )
            self._kill(app, "crash", log_kill=False)
            self._drop_task(app.package)
            last = self._crash_times.get(app.package)
            repeating = last is not None and self._clock < last + MIN_CRASH_INTERVAL_MS
            self._crash_times[app.package] = self._clock
            if self.profile.api_level < 28 or self.first_crash_dialog or repeating:
                self._crash = Crash(app.package, app.model.label)
            self._update_background()
            raise _Stop
        elif v == "set":
            for k, val in a.arg.items():
                (app.memory if k in app.model.memory else app.state)[k] = val
        elif v in ("incr", "decr"):
            store = app.memory if a.arg in app.model.memory else app.state
            store[a.arg] = int(store.get(a.arg) or 0) + (1 if v == "incr" else -1)
        elif v == "stamp":
            # A timestamp in prefs (System.currentTimeMillis() saved by the app), in device minutes.
            (app.memory if a.arg in app.model.memory else app.state)[a.arg] = self._clock // 60_000
        elif v == "cancel":  # Handler.removeCallbacks: the named timers of this app stop
            self._timers = [t for t in self._timers if not (t.package == app.package and t.name == a.arg)]
        elif v == "if":
            self._run(app, a.then if self._cond(app, a.cond) else a.else_)
        elif v == "after":
            self._timer_seq += 1
            self._timers.append(
                Timer(
                    self._clock + int(a.arg * 1000), self._timer_seq, app.package, app.pid or 0, a.do, a.name
                )
            )
        elif v == "open_settings" and task is not None:
            task.acts.append(SettingsAct(self._token(), app.package))
        elif v == "toast":
            self.toasts.append((self._clock, app.package, str(a.arg)))
        elif v == "sum" and top is not None:
            self._sum_inputs(app, top, *a.arg)
        elif v == "load" and top is not None:
            self._load(app, top, a.arg)
        self._changed()

    def _web_slot(self, app: AppRt, act: ScreenAct) -> tuple[str, int] | None:
        """(dialog, widget index) of the WebView a `load` goes to: the one whose link was tapped, else the
        first WebView of the top dialog or, without one, of the screen."""
        if app.web is not None and app.web[0] == act.token:
            return app.web[1], app.web[2]
        for dialog in ([act.dialogs[-1]] if act.dialogs else []) + [""]:
            widgets = (
                S.dialog_widgets(app.model.dialogs[dialog])
                if dialog
                else app.model.screens[act.screen].widgets
            )
            for i, w in enumerate(widgets):
                if w.type == "webview":
                    return dialog, i
        return None

    def _load(self, app: AppRt, act: ScreenAct, page: str) -> None:
        """WebView.loadUrl: the page is pushed on the view's back/forward list and shown from its top."""
        slot = self._web_slot(app, act)
        if slot is None:
            return
        dialog, index = slot
        key = S.history_key(dialog, index)
        act.values[key] = (*act.values.get(key, ()), page)
        act.values.pop(S.scroll_key(dialog, index), None)
        act.values.pop(S.scroll_key(dialog, index, end=True), None)

    def _web_back(self, act: ScreenAct) -> bool:
        """WebView.canGoBack -> goBack, as an H5 container's onBackPressed does: True when a page of the
        screen's WebView history was left."""
        for key in [k for k in act.values if isinstance(k[1], tuple) and k[1][0] == "history" and not k[0]]:
            history = act.values[key]
            if history:
                act.values[key] = history[:-1]
                slot = key[1][1]
                act.values.pop(S.scroll_key("", slot), None)
                act.values.pop(S.scroll_key("", slot, end=True), None)
                return True
        return False

    def _sum_inputs(self, app: AppRt, act: ScreenAct, ids: tuple[str, ...], into: str) -> None:
        """Input fields of the screen (or its top dialog) read as integers, their sum written into `into`:
        Kotlin's `text.toIntOrNull() ?: 0`, so a field that is not a whole number adds 0."""
        where = [act.dialogs[-1]] if act.dialogs else []
        keys: dict[str, tuple[str, int]] = {}
        for dialog in ["", *where]:
            items = (
                S.dialog_widgets(app.model.dialogs[dialog])
                if dialog
                else app.model.screens[act.screen].widgets
            )
            keys.update({w.id: (dialog, i) for i, w in enumerate(items) if w.type == "input" and w.id})
        if into not in keys:
            return
        total = 0
        for wid in ids:
            if wid in keys:
                text = str(act.values.get(keys[wid], self._widget(app, act, keys[wid]).text))
                n = int(text) if re.fullmatch(r"[+-]?\d+", text) else 0
                total += n if -(2**31) <= n < 2**31 else 0  # toIntOrNull: null beyond Int
        act.values[keys[into]] = str((total + 2**31) % 2**32 - 2**31)  # Int addition wraps

    def _cond(self, app: AppRt, c: Cond | None) -> bool:
        if c is None:
            return False
        k = c.kind
        if k == "state":
            val = app.memory.get(c.arg) if c.arg in app.model.memory else app.state.get(c.arg)
            if c.op == "equals":
                return val == c.value
            if c.op == "gte":
                return val is not None and val >= c.value
            return val is not None and val <= c.value
        if k == "since":
            stamp = app.memory.get(c.arg) if c.arg in app.model.memory else app.state.get(c.arg)
            age = self._clock // 60_000 - int(stamp or 0)
            return age >= c.value if c.op == "gte" else age <= c.value
        if k == "granted":
            return self._granted(app, c.arg)
        if k == "denied":
            return not self._granted(app, c.arg)
        if k == "should_show_rationale":
            rec = app.perms.get(c.arg)
            return (
                rec is not None
                and not rec.granted
                and "USER_SET" in rec.flags
                and "USER_FIXED" not in rec.flags
            )
        if k == "checked":
            return self._checked(app, c.arg)
        if k == "all":
            return all(self._cond(app, x) for x in c.items)
        if k == "any":
            return any(self._cond(app, x) for x in c.items)
        if k == "not":
            return not self._cond(app, c.items[0])
        raise ValueError(k)

    def _granted(self, app: AppRt, perm: str) -> bool:
        rec = app.perms.get(perm)
        return True if rec is None else rec.granted  # install-time permissions are always granted

    def _checked(self, app: AppRt, widget_id: str) -> bool:
        act = self._top_screen(app)
        if act is None:
            return False
        model = app.model
        places: list[tuple[str, Sequence[Any]]] = [("", model.screens[act.screen].widgets)]
        places += [(d, S.dialog_widgets(model.dialogs[d])) for d in reversed(act.dialogs)]
        for dname, widgets in reversed(places):
            for i, w in enumerate(widgets):
                if w.id == widget_id and w.type in ("checkbox", "switch"):
                    return bool(act.values.get((dname, i), w.checked))
        return False

    # --- internals: clock and timers ------------------------------------------------------------

    def _advance(self, ms: int, settle: bool = True) -> None:
        target = self._clock + max(ms, 0)
        while True:
            due = self._next_due(target)
            if due is None:
                break
            self._clock = max(self._clock, due)
            self._fire_due()
        self._clock = target
        if settle:
            self._settle()

    def _next_due(self, limit: int) -> int | None:
        times = [t.due_ms for t in self._timers if t.due_ms <= limit and self._timer_ready(t)]
        for app in self._apps.values():
            if app.bg_since_ms is not None and any("ONE_TIME" in r.flags for r in app.perms.values()):
                times.append(app.bg_since_ms + ONE_TIME_TIMEOUT_MS)
        times = [t for t in times if t <= limit]
        return min(times) if times else None

    def _timer_ready(self, t: Timer) -> bool:
        app = self._apps.get(t.package)
        if app is None or app.pid != t.pid or not self._app_in_front(app):
            return False
        task = self._front_task()
        return task is not None and isinstance(task.top, ScreenAct)

    def _settle(self) -> None:
        self._fire_due()

    def _fire_due(self) -> None:
        for app in self._apps.values():
            if (
                app.bg_since_ms is not None
                and self._clock - app.bg_since_ms >= ONE_TIME_TIMEOUT_MS
                and any("ONE_TIME" in r.flags for r in app.perms.values())
            ):
                self._expire_one_time(app)
        for _ in range(1000):  # a timer may arm another that is already due
            ready = sorted(
                (t for t in self._timers if t.due_ms <= self._clock and self._timer_ready(t)),
                key=lambda t: (t.due_ms, t.seq),
            )
            if not ready:
                return
            t = ready[0]
            self._timers.remove(t)
            self._run_safe(self._apps[t.package], t.actions)
            self._changed()

    def _expire_one_time(self, app: AppRt) -> None:
        had = False
        for rec in app.perms.values():
            if "ONE_TIME" in rec.flags:
                had = had or rec.granted
                rec.granted = False
                rec.flags.discard("ONE_TIME")
                rec.flags.discard("USER_SET")
        if had and app.pid is not None:
            self._system_kill(app, "one-time permission revoked")
        self._changed()

    # --- internals: permission requests ---------------------------------------------------------

    def _request(self, app: AppRt, a: Action) -> None:
        api = self.profile.api_level
        requested: tuple[str, ...] = a.arg
        task = self._task(app.package)
        if task is not None and any(isinstance(x, GrantAct) for x in task.acts):
            # Activity.requestPermissions: "Can request only one set of permissions at a time" —
            # the second request is answered at once with empty results (the app reads it as denied).
            self._run(app, a.on_denied)
            return
        groups: list[tuple[str, list[str]]] = []
        for perm in requested:
            rec = app.perms.get(perm)
            if rec is None or rec.granted:
                continue  # install-time permission, or already granted
            if perm == "android.permission.ACCESS_BACKGROUND_LOCATION" and api >= 30:
                continue  # 11+: only from the settings page; the request is refused
            group = P.group_of(perm, api) or perm
            in_group = [p for p, r in app.perms.items() if P.group_of(p, api) == group]
            if any(app.perms[p].granted for p in in_group):
                # A granted group grants later requests of the same group without a dialog.
                one_time = any("ONE_TIME" in app.perms[p].flags for p in in_group if app.perms[p].granted)
                rec.granted = True
                if one_time:
                    rec.flags.add("ONE_TIME")
                continue
            if any("USER_FIXED" in app.perms[p].flags for p in in_group):
                continue  # the user said "don't ask again": denied, no dialog
            for g, ps in groups:
                if g == group:
                    ps.append(perm)
                    break
            else:
                groups.append((group, [perm]))
        all_groups = []
        for perm in requested:
            g = P.group_of(perm, api) or "-"
            if g not in all_groups:
                all_groups.append(g)
        self._log(
            EventKind.PERMISSION_REQUEST,
            app.package,
            permissions=",".join(requested),
            group=",".join(all_groups),
            shown="true" if groups else "false",
            uid=app.uid,
        )
        flow = RequestFlow(requested, groups, a.on_granted, a.on_denied)
        if not groups:
            self._deliver(app, flow)
            return
        if task is None:
            return
        task.acts.append(GrantAct(self._token(), flow))
        self._update_background()

    def grant_view(self, app: AppRt, flow: RequestFlow) -> sysui.GrantView:
        group, perms = flow.groups[flow.index]
        api = self.profile.api_level
        in_group = [p for p in app.perms if P.group_of(p, api) == group]
        denied_before = any("USER_SET" in app.perms[p].flags and not app.perms[p].granted for p in in_group)
        return sysui.GrantView(
            label=app.model.label,
            group=group,
            media=any(p.startswith("android.permission.READ_MEDIA_") for p in perms),
            page=flow.index + 1,
            pages=len(flow.groups),
            denied_before=denied_before,
            checkbox_checked=flow.checkbox,
            background="android.permission.ACCESS_BACKGROUND_LOCATION" in flow.requested,
            fine="android.permission.ACCESS_FINE_LOCATION" in perms,
            precise=flow.precise,
        )

    def _perm_choice(self, app: AppRt, grant: GrantAct, role: str) -> None:
        flow = grant.flow
        if role == "checkbox":
            flow.checkbox = not flow.checkbox
            return
        if role in ("fine", "coarse"):
            flow.precise = role == "fine"
            return
        view = self.grant_view(app, flow)
        if role not in sysui.grant_buttons(self.profile, view):
            return
        api = self.profile.api_level
        group, perms = flow.groups[flow.index]
        in_group = [p for p in app.perms if P.group_of(p, api) == group]
        if role.startswith("allow"):
            targets = list(perms)
            if (
                group == "location"
                and "android.permission.ACCESS_FINE_LOCATION" in targets
                and not flow.precise
            ):
                targets.remove("android.permission.ACCESS_FINE_LOCATION")
                if "android.permission.ACCESS_COARSE_LOCATION" in app.perms:
                    targets.append("android.permission.ACCESS_COARSE_LOCATION")
            if role != "allow_always":
                bg = "android.permission.ACCESS_BACKGROUND_LOCATION"
                targets = [p for p in targets if p != bg] if api >= 29 else targets
            for p in dict.fromkeys(targets):
                rec = app.perms[p]
                rec.granted = True
                rec.flags.discard("USER_FIXED")
                rec.flags.discard("ONE_TIME")
                if api >= 30:  # PermissionController 11+ records the user's grant as USER_SET
                    rec.flags.add("USER_SET")
                else:  # 6-10 AppPermissionGroup.grantRuntimePermissions clears the denial flags
                    rec.flags.discard("USER_SET")
                if role == "allow_one_time":
                    rec.flags.add("ONE_TIME")
        else:  # deny / deny_repeat
            fixed = (
                role == "deny_repeat"
                or (self.profile.layout == "checkbox" and flow.checkbox and view.denied_before)
                or (self.profile.second_denial_fixes and view.denied_before)
            )
            for p in in_group:
                rec = app.perms[p]
                if rec.granted:
                    continue
                rec.flags.add("USER_SET")
                if fixed:
                    rec.flags.add("USER_FIXED")
        flow.index += 1
        flow.checkbox = False
        flow.precise = True
        if flow.index >= len(flow.groups):
            self._end_flow(app, grant)

    def _perm_cancel(self, app: AppRt, grant: GrantAct) -> None:
        """Back on the dialog: the activity finishes, remaining groups denied, no flags recorded."""
        grant.flow.index = len(grant.flow.groups)
        self._end_flow(app, grant)

    def _end_flow(self, app: AppRt, grant: GrantAct) -> None:
        task = self._task(app.package)
        if task is not None and grant in task.acts:
            task.acts.remove(grant)
        self._update_background()
        self._deliver(app, grant.flow)
        task = self._task(app.package)
        if (
            task is not None
            and isinstance(task.top, ScreenAct)
            and not task.top.resumed
            and app.pid is not None
        ):
            self._resume(app, task.top)  # a screen started under the dialog comes to the front now

    def _deliver(self, app: AppRt, flow: RequestFlow) -> None:
        """onRequestPermissionsResult: on_granted when every requested permission is granted."""
        ok = all(self._granted(app, p) for p in flow.requested)
        self._run_safe(app, flow.on_granted if ok else flow.on_denied)

    # --- internals: settings --------------------------------------------------------------------

    def _settings_toggle(self, app: AppRt, group: str) -> None:
        api = self.profile.api_level
        in_group = [p for p in app.perms if P.group_of(p, api) == group]
        if any(app.perms[p].granted for p in in_group):
            for p in in_group:
                rec = app.perms[p]
                rec.granted = False
                rec.flags.discard("ONE_TIME")
                rec.flags.update({"USER_SET", "USER_FIXED"})
            if app.pid is not None:
                self._system_kill(app, f"revoke {group}")
        else:
            for p in in_group:
                rec = app.perms[p]
                rec.granted = True
                rec.flags.discard("USER_FIXED")
                rec.flags.discard("ONE_TIME")
                rec.flags.add("USER_SET")

    def settings_groups(self, app: AppRt) -> list[sysui.GroupStatus]:
        api = self.profile.api_level
        out: list[sysui.GroupStatus] = []
        seen: set[str] = set()
        for p in app.perms:
            g = P.group_of(p, api)
            if g is None or g in seen:
                continue
            seen.add(g)
            members = [app.perms[q] for q in app.perms if P.group_of(q, api) == g]
            granted = any(r.granted for r in members)
            one_time = granted and any("ONE_TIME" in r.flags for r in members if r.granted)
            out.append(sysui.GroupStatus(g, granted, one_time))
        return out

    # --- internals: the Date & time page --------------------------------------------------------

    def open_date_settings(self) -> None:
        """`am start -a android.settings.DATE_SETTINGS`: the Settings task comes to the front with the Date
        & time page on top (a new task when there is none)."""
        sp = self.profile.settings_package
        task = self._task(sp)
        act = DT.DateTimeAct(self._token())
        if task is None:
            task = Task(self._next_task, sp, [act])
            self._next_task += 1
            self._tasks.append(task)
        else:
            if not isinstance(task.top, DT.DateTimeAct):
                task.acts.append(act)
            self._bring_front(task)
        self._home = False
        self._changed()
        self._advance(self._cost("warm_start"))

    def _date_time_act(self) -> DT.DateTimeAct | None:
        task = self._front_task()
        if task is None or self._crash is not None or not isinstance(task.top, DT.DateTimeAct):
            return None
        return task.top

    def _date_time_tap(self, act: DT.DateTimeAct, frame: Frame, x: int, y: int) -> None:
        action = DT.tap(frame, x, y)
        if action is not None:
            if action[1] != "disabled":
                DT.dispatch(self, act, action, self._clock)
        elif frame.top.kind == "dialog" and not DT.inside_top(frame, x, y):
            DT.back(act)  # a touch outside a picker dialog cancels it (setCanceledOnTouchOutside)

    # --- internals: frame -----------------------------------------------------------------------

    def _build_frame(self) -> Frame:
        windows: list[Window] = []
        task = self._front_task()
        if task is None or not task.acts:
            windows.append(self._launcher())
        else:
            windows.extend(self._task_windows(task))
        if self._crash is not None:
            windows.append(sysui.crash_window(self.profile, self.language, self._crash.label))
        return Frame(
            self._info.width,
            self._info.height,
            windows,
            clock_text=self._clock_text(),
            density=self._info.density,
        )

    def _launcher(self) -> Window:
        return sysui.launcher_window(self.profile, [(a.package, a.model.label) for a in self._apps.values()])

    def _task_windows(self, task: Task) -> list[Window]:
        top = task.top
        below: list[Window] = []
        if isinstance(top, GrantAct):
            rest = task.acts[:-1]
            below = self._act_windows(task, rest[-1]) if rest else [self._launcher()]
            app = self._apps[task.package]
            return below + [sysui.grant_window(self.profile, self.language, self.grant_view(app, top.flow))]
        assert top is not None
        return self._act_windows(task, top)

    def _env(self, app: AppRt) -> S.Env:
        """Conditions and variables of the app, as its windows are built (enabled_if, visible_if, {key})."""

        def cond(c: Cond) -> bool:
            return self._cond(app, c)

        return S.Env(
            cond,
            {**app.state, **app.memory} if app.pid is not None else {**app.state, **app.model.memory},
            app.model.pages,
        )

    def _act_windows(self, task: Task, act: Activity) -> list[Window]:
        if isinstance(act, DT.DateTimeAct):
            return DT.windows(self, act, self.local_time(self._clock))
        if isinstance(act, SettingsAct):
            target = self._apps[act.target]
            return [
                sysui.settings_window(
                    self.profile,
                    self.language,
                    target.package,
                    target.model.label,
                    self.settings_groups(target),
                )
            ]
        if isinstance(act, GrantAct):  # not expected below another activity
            return [self._launcher()]
        app = self._apps[task.package]
        model = app.model

        env = self._env(app)
        out = [S.screen_window(model, model.screens[act.screen], act.token, act.values, env)]
        for d in act.dialogs:
            out.append(S.dialog_window(model, model.dialogs[d], act.token, act.values, env))
        if app.focus is not None and app.focus[0] == act.token:
            handle = ("w", *app.focus)
            for n in out[-1].root.walk():  # a tapped field has the focus (focused="true")
                n.focused = n.action == handle
        return out


# --- module helpers ------------------------------------------------------------------------------


def _initial_state(model: AppModel) -> dict[str, Any]:
    return {**model.state, "launches": 0}


def _insert_below_grant(task: Task, act: ScreenAct) -> None:
    """A screen started while the permission dialog is up opens under it (the dialog is on top)."""
    i = len(task.acts)
    while i > 0 and isinstance(task.acts[i - 1], GrantAct):
        i -= 1
    task.acts.insert(i, act)


def _src_file(app: AppRt, act: ScreenAct | None) -> str:
    if act is None:
        return "MainActivity.java"
    return app.model.screens[act.screen].activity.rsplit(".", 1)[-1] + ".java"


def _parents(frame: Frame) -> dict[int, Node]:
    out: dict[int, Node] = {}
    for w in frame.windows:
        for n in w.root.walk():
            for c in n.children:
                out[id(c)] = n
    return out
