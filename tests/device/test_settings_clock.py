"""Setting the clock through the Settings app's Date & time page, on a served phone that allows nothing
else (`--clock-methods settings-ui`: no root, the shell may not `cmd alarm set-time`), through the real
adb server and the uiautomator2 driver behind the run's safety guard: the method is found at the first
jump, the jump is real, every input was judged, automatic time and the true time are back at the end."""

from __future__ import annotations

import json

import pytest
from adb_helpers import serve

from exerciser.device.clockctl import SETTINGS_UI, ClockUnavailable
from exerciser.safety import GuardedDevice
from exerciser.sim import VirtualDevice, load_sample

SCALE = 20.0
HOUR_MS = 3_600_000


def _served(adb_server, methods, profile="api33", locale="en-US", dump="aosp"):
    from exerciser.device.u2driver import U2Device

    (front,) = serve(
        [VirtualDevice([load_sample("compliant_en")], profile=profile, locale=locale, seed=3)],
        adb_server,
        clock_methods=frozenset(methods),
        clock_scale=SCALE,
    )
    front.phone.dump_form = dump
    return front, U2Device(front.serial, adb_port=adb_server.port)


class _Counting:
    """Counts the guard's judgements (each tap / text judged before it is sent)."""

    def __init__(self, guard):
        self.guard, self.judged = guard, []
        for name in ("judge_point", "judge_text", "judge_key"):
            setattr(self, name, self._wrap(getattr(guard, name)))

    def _wrap(self, fn):
        def judged(*a, **kw):
            j = fn(*a, **kw)
            self.judged.append(j)
            return j

        return judged

    def __getattr__(self, name):
        return getattr(self.guard, name)


@pytest.mark.parametrize(
    ("profile", "locale", "dump", "hours"),
    [("api33", "en-US", "aosp", 30), ("api29", "zh-CN", "u2", 40 * 24)],  # the second one crosses a month
)
def test_jump_through_the_date_and_time_pickers(adb_server, profile, locale, dump, hours):
    front, drv = _served(adb_server, {"settings-ui"}, profile, locale, dump)
    try:
        dev = GuardedDevice(drv)
        counting = _Counting(dev.guard)
        dev.guard = counting  # the port reads through dev.guard at each call
        phone = front.phone
        t0 = drv.now_ms()
        dev.advance_clock(hours * HOUR_MS / 1000)
        moved = drv.now_ms() - t0
        assert drv.clock_method == SETTINGS_UI
        assert hours * HOUR_MS <= moved <= hours * HOUR_MS + 10 * 60_000  # up to the minute, plus UI time
        assert phone.state.settings["global"]["auto_time"] == "0"
        assert counting.judged and all(j.allowed for j in counting.judged)
        assert drv.foreground()[0] == phone.launcher_package  # HOME at the end: as before the jump
        hist = "\n".join(phone.history)
        assert "cmd alarm set-time" in hist and "am start -a android.settings.DATE_SETTINGS" in hist
        dev.advance_clock(2 * HOUR_MS / 1000)  # the method is known now: straight to the pickers
        assert drv.now_ms() - t0 >= (hours + 2) * HOUR_MS
        done = drv.restore_clock()
        assert done["method"] == SETTINGS_UI and done["auto_time"] == "1"
        assert phone.state.settings["global"]["auto_time"] == "1"
        assert abs(phone.device.now_ms() - phone.clock.network_ms()) < 60_000  # the true time again
        info = drv.clock.to_json()
        assert info["method"] == SETTINGS_UI and info["jumps"] == 2
        assert json.dumps(info)  # what run.json records
    finally:
        drv.close()
        front.close()


def test_a_locked_page_is_no_method(adb_server):
    """No clock method at all: a managed phone whose admin locks Date & time. The driver gives up (the run
    parks or waits) and leaves automatic time on."""
    front, drv = _served(adb_server, set())
    try:
        dev = GuardedDevice(drv)
        with pytest.raises(ClockUnavailable, match="Date & time: .*disabled"):
            dev.advance_clock(3600)
        assert drv.clock_method is None
        assert front.phone.state.settings["global"]["auto_time"] == "1"
    finally:
        drv.close()
        front.close()


def test_without_the_guard_s_ui_the_settings_way_is_not_tried(adb_server):
    front, drv = _served(adb_server, {"settings-ui"})
    try:
        with pytest.raises(ClockUnavailable, match="no UI"):
            drv.advance_clock(3600)  # the bare driver: no guard lent its screen
        assert "DATE_SETTINGS" not in "\n".join(front.phone.history)
    finally:
        drv.close()
        front.close()
