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


def _served(adb_server, methods, profile="api33", locale="en-US", dump="aosp", scale=SCALE):
    from exerciser.device.u2driver import U2Device

    (front,) = serve(
        [VirtualDevice([load_sample("compliant_en")], profile=profile, locale=locale, seed=3)],
        adb_server,
        clock_methods=frozenset(methods),
        clock_scale=scale,
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
    # the second one crosses a month; Android 6.0 has only the clock face (minutes in steps of 5)
    [("api33", "en-US", "aosp", 30), ("api29", "zh-CN", "u2", 40 * 24), ("api23", "en-US", "aosp", 7)],
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
        assert hours * HOUR_MS <= moved <= hours * HOUR_MS + 12 * 60_000  # up to the minute, plus UI time
        assert phone.state.settings["global"]["auto_time"] == "0"
        assert counting.judged and all(j.allowed for j in counting.judged)
        assert drv.foreground()[0] == phone.launcher_package  # HOME at the end: as before the jump
        hist = "\n".join(phone.history)
        assert "am start -a android.settings.DATE_SETTINGS" in hist
        assert ("cmd alarm set-time" in hist) == (drv.info.api_level >= 28)  # tried first where it exists
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


def test_manual_time_before_is_set_back_through_the_pickers_and_a_dead_run_is_undone(adb_server):
    """Automatic time was off before the run: the true time comes back through the pickers, not the network.
    A run that died with the clock moved (its marker on the phone) is undone when the next driver connects."""
    from exerciser.device.u2driver import U2Device

    front, drv = _served(adb_server, {"settings-ui"})
    phone = front.phone
    try:
        phone.state.settings["global"]["auto_time"] = "0"  # the user sets the time by hand
        dev = GuardedDevice(drv)
        t0 = drv.now_ms()
        dev.advance_clock(5 * HOUR_MS / 1000)
        assert drv.now_ms() - t0 >= 5 * HOUR_MS
        done = drv.restore_clock()
        # set back by what the clock was ahead (the jump less the device time the pickers took)
        assert done["auto_time"] == "0" and 4.5 * HOUR_MS < done["set_back_ms"] <= 5 * HOUR_MS + 60_000
        assert abs(phone.device.now_ms() - phone.clock.network_ms()) < 3 * 60_000  # the minute it was set to
        phone.state.settings["global"]["auto_time"] = "1"
        dev.advance_clock(3 * HOUR_MS / 1000)  # ... and this run dies here: its marker stays
        assert phone.state.settings["global"]["auto_time"] == "0"
        again = U2Device(front.serial, adb_port=adb_server.port)
        try:
            assert again.clock_recovered["method"] == SETTINGS_UI
            assert phone.state.settings["global"]["auto_time"] == "1"
            assert abs(phone.device.now_ms() - phone.clock.network_ms()) < 60_000
        finally:
            again.close()
    finally:
        drv.close()
        front.close()


def test_network_time_brings_a_short_jump_back_on_a_fast_phone(adb_server):
    """A short jump on a phone whose clock runs 150 times faster: the pickers take minutes of device time
    themselves, and automatic time alone must still count as bringing the clock back (no picker taps)."""
    front, drv = _served(adb_server, {"settings-ui"}, scale=150.0)
    try:
        dev = GuardedDevice(drv)
        counting = _Counting(dev.guard)
        dev.guard = counting
        dev.advance_clock(1800)
        taps = len(counting.judged)
        done = drv.restore_clock()
        assert len(counting.judged) == taps  # set back by the network, not through the pickers again
        # what the clock was ahead: the jump less the pickers' own device time (at x150, minutes of it)
        assert done["auto_time"] == "1" and 0 <= done["set_back_ms"] <= 1800_000 + 60_000
        assert abs(front.phone.device.now_ms() - front.phone.clock.network_ms()) < 60_000
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


# The protocol's windows shortened as in test_phone_pace (settable conventions), so that the run is short;
# a tap's adb round trip lasts SCALE times longer in device time, so the request-to-tap window grows too.
RULES = {
    "reprompt_window_hours": 1,
    "relaunch_gap_minutes": 2,
    "relaunch_2_hours": 0.25,
    "relaunch_3_hours": 0.5,
    "request_tap_window_ms": 300 * 20,
}
APP = "re_ask_in_app_dialog_zh"


def test_re_request_probe_relaunches_through_the_settings_app(adb_server, tmp_path):
    """A sample app's whole run on a phone that allows only the Settings way: its relaunch schedule is
    clock jumps made through the pickers, the verdicts are those of the in-process device, and the phone
    has automatic time and the true time back at the end."""
    from dataclasses import replace

    from exerciser import SCENARIOS_DIR
    from exerciser.device.u2driver import U2Device
    from exerciser.runner.app_run import run_app
    from exerciser.scenario import load_scenario
    from exerciser.sim import load_app_model

    # the re-request probe (and the request map it needs): the probe that moves the clock
    sc = replace(load_scenario(SCENARIOS_DIR / f"{APP}.yaml"), rules=dict(RULES), probes=("6",))
    model = load_app_model(sc.app.model_path)

    def outcome(res) -> dict:
        return {c: (v.verdict, v.figure) for c, v in res.categories.items()}

    ref = outcome(
        run_app(sc, VirtualDevice([model], profile="api33", locale="zh-CN"), tmp_path / "in", finalize=False)
    )
    (front,) = serve(
        [VirtualDevice([model], profile="api33", locale="zh-CN", seed=5)],
        adb_server,
        clock_methods=frozenset({"settings-ui"}),
        clock_scale=SCALE,
    )
    drv = U2Device(front.serial, adb_port=adb_server.port)
    try:
        res = run_app(sc, drv, tmp_path / "served", finalize=False)
    finally:
        drv.close()
        front.close()
    assert not res.error, res.error
    assert outcome(res) == ref
    lines = (tmp_path / "served" / APP / "trace.jsonl").read_text().splitlines()
    moves = [a for a in (json.loads(x)["action"] for x in lines) if a["type"] == "advance_clock"]
    assert len(moves) >= 4 and {a["method"] for a in moves} == {SETTINGS_UI}
    run = json.loads((tmp_path / "served" / APP / "run.json").read_text())
    assert run["clock"]["methods"] == [SETTINGS_UI]
    assert run["clock"]["restored"]["auto_time"] == "1"
    phone = front.phone
    assert phone.state.settings["global"]["auto_time"] == "1"
    assert abs(phone.device.now_ms() - phone.clock.network_ms()) < 60_000
    assert not [r for r in run.get("safety", {}).get("refused", []) if r["probe"] == "6"]  # nothing refused
