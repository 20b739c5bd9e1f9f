"""The uiautomator2/adbutils driver against virtual devices served over adb, step for step against the
same virtual device in process."""

from __future__ import annotations

import re
import threading
import time

import pytest
from adb_helpers import has_ffmpeg, serve
from device_fakes import PKG as FAKE_PKG
from device_fakes import FakeDevice

from exerciser.device.contract import Device, DeviceError, DeviceLost, EventKind, Key
from exerciser.sim import VirtualDevice, load_sample

APP = "com.pocketledger.app"
CAMERA = "android.permission.CAMERA"


def _twin() -> VirtualDevice:
    return VirtualDevice([load_sample("compliant_en")], profile="api33", locale="en-US", seed=7)


@pytest.fixture(scope="module")
def twins(adb_server):
    """(in-process device, driver on the same device served over adb, its front). The served one keeps
    wall time and lets the shell set its clock (`cmd alarm set-time`); the twin follows its clock."""
    from exerciser.device.u2driver import U2Device

    local = _twin()
    local.input_costs = False  # its time is the served device's, set before each comparison
    (front,) = serve([_twin()], adb_server, clock_methods=frozenset({"alarm"}))
    drv = U2Device(front.serial, adb_port=adb_server.port)
    yield local, drv, front
    drv.close()
    front.close()


def _center(xml: str, text: str) -> tuple[int, int]:
    m = re.search(r'text="' + re.escape(text) + r'"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', xml)
    assert m, f"{text!r} not on screen"
    x1, y1, x2, y2 = map(int, m.groups())
    return (x1 + x2) // 2, (y1 + y2) // 2


def _same(local: VirtualDevice, drv: Device) -> str:
    b = drv.observe()
    local.set_clock(b.time_ms)  # the same moment: the status bar shows the same time
    a = local.observe()
    assert (b.package, b.activity) == (a.package, a.activity)
    assert b.xml == a.xml
    return b.xml


def test_driver_is_a_device_with_the_same_facts(twins):
    local, drv, _ = twins
    assert isinstance(drv, Device)
    a, b = local.info, drv.info
    assert (b.api_level, b.release, b.rom, b.locale, b.width, b.height) == (
        a.api_level,
        a.release,
        a.rom,
        a.locale,
        a.width,
        a.height,
    )
    assert drv.installed_packages() == local.installed_packages() == [APP]


def test_walk_step_for_step(twins):
    """observe / tap / key / app_start / permissions / events / clock: the served device over adb and
    the in-process one stay identical."""
    import io

    from PIL import Image

    local, drv, _ = twins
    for dev in (local, drv):
        dev.app_start(APP)
    xml = _same(local, drv)
    shot = Image.open(io.BytesIO(drv.observe().png))
    assert shot.size == (1080, 2340)
    for label in ("Agree", "Scan receipt", "Open camera"):
        x, y = _center(xml, label)
        local.tap(x, y)
        drv.tap(x, y)
        xml = _same(local, drv)
    assert drv.observe().package == "com.android.permissioncontroller"
    # nothing answers the dialog by itself: it is still there, nothing is granted
    assert drv.observe().package == "com.android.permissioncontroller"
    assert not drv.permissions(APP)[CAMERA].granted
    x, y = _center(xml, "Don’t allow")
    local.tap(x, y)
    drv.tap(x, y)
    _same(local, drv)
    assert drv.permissions(APP) == local.permissions(APP)
    for dev in (local, drv):
        dev.key(Key.BACK)
    before = drv.now_ms()
    drv.advance_clock(3600)  # an hour on, the way this phone allows
    assert drv.clock_method == "cmd alarm set-time"
    assert drv.now_ms() - before >= 3600_000
    _same(local, drv)
    assert drv.is_alive(APP) and local.is_alive(APP)
    got = drv.events(0)
    want = local.events(0)
    assert [(e.kind, e.package) for e in got] == [(e.kind, e.package) for e in want]
    since = got[3].time_ms
    assert [e.time_ms for e in drv.events(since)] == [e.time_ms for e in got[3:]]
    assert any(e.kind == EventKind.PERMISSION_REQUEST and e.package == APP for e in got)
    done = drv.restore_clock()  # the hour taken back, automatic time on again
    assert done["set_back_ms"] >= 3600_000 and done["auto_time"] == "1"
    assert drv.now_ms() < before + 60_000


def test_permissions_and_app_lifecycle(twins):
    local, drv, _ = twins
    for dev in (local, drv):
        dev.grant(APP, CAMERA)
    assert drv.permissions(APP)[CAMERA].granted
    for dev in (local, drv):
        dev.revoke(APP, CAMERA)  # kills the process, as Android does
    assert drv.permissions(APP) == local.permissions(APP)
    assert drv.is_alive(APP) == local.is_alive(APP)
    with pytest.raises(DeviceError):
        drv.grant(APP, "android.permission.READ_SMS")
    with pytest.raises(DeviceError):
        drv.permissions("com.not.installed")
    with pytest.raises(DeviceError):
        drv.app_start("com.not.installed")
    for dev in (local, drv):
        dev.app_start(APP)
        dev.app_stop(APP)
    assert not drv.is_alive(APP)
    for dev in (local, drv):
        dev.app_clear(APP)
    assert drv.permissions(APP) == local.permissions(APP)
    _same(local, drv)


def test_screen_off_and_keyguard_are_handled(twins, adb_server):
    local, drv, front = twins
    for dev in (local, drv):
        dev.app_start(APP)
    adb_server.run("-s", front.serial, "shell", "input", "keyevent", "POWER")
    assert not front.phone.state.screen_on
    obs = drv.observe()  # wakes (WAKEUP), dismisses the swipe keyguard (MENU), observes the app
    assert front.phone.state.screen_on and not front.phone.state.locked
    assert obs.package == local.observe().package == APP


def test_uiautomator_server_death_restarts_it(twins):
    local, drv, front = twins
    launches = front.phone.u2_launches
    front.phone.u2_processes = 0  # the on-device server died: tcp:9008 refuses
    assert drv.observe().xml == local.observe().xml
    assert front.phone.u2_launches == launches + 1


def test_no_watcher_or_auto_grant_runs(twins):
    """uiautomator2 answers dialogs by itself only through watchers (threads running Watcher /
    WatchContext methods) or app_auto_grant_permissions (pm grant): neither has run."""
    from uiautomator2.watcher import WatchContext, Watcher

    local, drv, front = twins
    assert "watcher" not in vars(drv._u2)
    for t in threading.enumerate():
        owner = getattr(getattr(t, "_target", None), "__self__", None)
        assert not isinstance(owner, (Watcher, WatchContext)), t
    grants = [c for c in front.phone.history if "pm grant" in c]
    # every `pm grant` the device saw is one the tests asked for (test_permissions_and_app_lifecycle)
    wanted = (f"pm grant {APP} {CAMERA};", f"pm grant {APP} android.permission.READ_SMS;")
    assert all(c.startswith(wanted) for c in grants), grants
    assert not any("pm install" in c and " -g" in c for c in front.phone.history)


def test_hot_path_goes_through_the_server_not_the_shell(twins):
    """Captures and input of the walks above went through the on-device server's JSON-RPC: no
    `uiautomator dump`, `screencap`, `input tap/swipe/text` over the shell (seconds per call on phones),
    and one shell round per capture (focus + clock)."""
    local, drv, front = twins
    slow = ("uiautomator dump", "screencap", "input tap", "input swipe", "input text")
    assert not [c for c in front.phone.history if c.startswith(slow)]
    before = len(front.phone.history)
    drv.observe()
    assert len(front.phone.history) - before == 1


def test_a_step_reads_the_log_in_the_capture_round(twins):
    """A run asks for events after every capture: the log is read in the capture's shell round (no
    logcat of its own), with the same events a logcat of that moment gives; anything sent to the phone
    between the capture and events() makes events() read the log anew."""
    local, drv, front = twins
    for dev in (local, drv):
        dev.app_start(APP)
    since = drv.now_ms() - 3_600_000
    drv.events(since)  # a run's first events(): read on its own, and the next capture reads the log
    before = len(front.phone.history)
    drv.observe()
    got = drv.events(since + 1)  # a later horizon: the capture's read covers it
    assert len(front.phone.history) - before == 1
    assert "logcat" in front.phone.history[-1]
    fresh = drv.events(since + 1)  # nothing captured since: a logcat of its own
    assert len(front.phone.history) - before == 2 and front.phone.history[-1].startswith("logcat")
    assert got and [(e.time_ms, e.kind, e.package) for e in got] == [
        (e.time_ms, e.kind, e.package) for e in fresh
    ]
    drv.observe()
    drv.is_alive(APP)  # sent in between: the capture's read may be stale
    n = len(front.phone.history)
    drv.events(since)
    assert front.phone.history[n].startswith("logcat")


@pytest.fixture()
def fake(adb_server):
    from exerciser.device.u2driver import U2Device

    dev = FakeDevice()
    (front,) = serve([dev], adb_server)
    drv = U2Device(front.serial, adb_port=adb_server.port, reconnect_grace=3.0)
    yield dev, drv, front
    drv.close()
    front.stop()


def test_type_text_any_script_and_swipe(fake):
    dev, drv, _ = fake
    drv.app_start(FAKE_PKG)
    drv.type_text("你好 abc")
    assert dev.typed == "你好 abc"
    drv.swipe(500, 1800, 500, 600, 300)
    drv.long_press(300, 300, 900)
    assert "swipe 500 1800 500 600 300" in dev.calls and "long_press 300 300 900" in dev.calls


def test_foreign_crash_dialog_is_closed_own_crash_is_kept(fake):
    dev, drv, front = fake
    drv.app_start(FAKE_PKG)
    dev.foreign_crash("com.other.app")  # another app's "keeps stopping" covers the app under test
    front.phone.invalidate()
    obs = drv.observe()
    assert (obs.package, obs.activity) == (FAKE_PKG, f"{FAKE_PKG}.MainActivity")
    assert drv.dismissed[-1]["about"] == "com.other.app"
    dev.foreign_crash(FAKE_PKG)  # the app under test crashing is evidence: it stays for the probes
    front.phone.invalidate()  # changed behind the front's back: drop its cached screen
    obs = drv.observe()
    assert (obs.package, obs.activity) == ("android", "com.android.server.am.AppErrorDialog")
    assert len(drv.dismissed) == 1


def test_uiautomation_held_by_another_server(adb_server):
    """Appium's server holds UiAutomation: uiautomator2 cannot start until it is stopped."""
    from exerciser.device.u2driver import U2Device

    (front,) = serve([FakeDevice()], adb_server)
    front.phone.state.uiautomation_holder = "io.appium.uiautomator2.server"
    drv = U2Device(front.serial, adb_port=adb_server.port)
    try:
        assert front.phone.state.uiautomation_holder == ""
        assert any(c.startswith("am force-stop io.appium.uiautomator2.server") for c in front.phone.history)
        assert drv.observe().package == "com.android.launcher3"
    finally:
        drv.close()
        front.stop()


def test_server_that_stays_dead_is_device_lost(fake):
    _, drv, front = fake
    front._commands["app_process"] = lambda ctx: 1  # the server cannot start any more
    front.phone.u2_processes = 0
    with pytest.raises(DeviceLost, match="uiautomator"):
        drv.observe()


def test_slow_phone_is_waited_for_not_restarted(adb_server):
    """A phone whose server takes 1.5 s to come up and answers every call late: the driver waits (no
    restart, no error) and sees what the device shows."""
    from exerciser.device.u2driver import U2Device

    dev = FakeDevice()
    (front,) = serve([dev], adb_server)
    front.phone.u2_boot_s, front.phone.rpc_delay_s, front.phone.shell_delay_s = 1.5, 0.3, 0.05
    try:
        drv = U2Device(front.serial, adb_port=adb_server.port, rpc_timeout=3)
        drv.app_start(FAKE_PKG)
        assert drv.observe().xml == dev.observe().xml
        drv.tap(500, 1075)  # the Camera button: the system permission dialog
        assert drv.observe().package == "com.android.permissioncontroller"
        assert front.phone.u2_launches == 1 and min(drv.timings["rpc:click"]) >= 0.3
        drv.close()
    finally:
        front.stop()


def test_wedged_server_is_restarted_once_then_lost(fake):
    """A server that takes calls and never answers: the call times out, the server is restarted once
    (one restart for the capture's concurrent calls) and the step goes on; wedged for good: DeviceLost."""
    dev, drv, front = fake
    drv.rpc_timeout = 1.0
    drv.app_start(FAKE_PKG)
    launches = front.phone.u2_launches
    front.phone.u2_wedged = True
    assert drv.observe().xml == dev.observe().xml
    assert front.phone.u2_launches == launches + 1
    front.phone.u2_wedged = front.phone.u2_wedge_always = True
    with pytest.raises(DeviceLost, match="not responding"):
        drv.observe()
    assert drv.attached()  # lost for this run although adb still lists it: the server is the problem


def test_serial_not_attached_fails_fast(adb_server):
    from exerciser.device.u2driver import U2Device

    with pytest.raises(DeviceLost, match=r"127\.0\.0\.1:1: not attached \(adb devices lists: "):
        U2Device("127.0.0.1:1", adb_port=adb_server.port, connect_timeout=30)


def test_no_screenrecord_on_the_phone(fake):
    _, drv, front = fake
    del front._commands["screenrecord"]  # some vendor builds leave it out
    with pytest.raises(DeviceError, match="no screenrecord"):
        drv.start_screenrecord()


def test_device_offline_for_a_moment_is_waited_for(fake):
    """The device drops off adb and is plugged back within the grace: the call that failed is sent again
    (the uiautomator server, which died with the connection, restarted), the gap is noted, the run goes on."""
    dev, drv, front = fake
    drv.app_start(FAKE_PKG)
    before = drv.observe()
    front.stop()
    threading.Timer(0.8, front.plug_back).start()
    after = drv.observe()
    assert (after.package, after.xml) == (before.package, before.xml)
    assert len(drv.reconnects) == 1 and 0 < drv.reconnects[0].offline_s < 3.0
    assert drv.is_alive(FAKE_PKG) and len(drv.reconnects) == 1
    front.stop()
    threading.Timer(0.8, front.plug_back).start()
    out, status = drv.sh("echo again")  # a shell call in the gap: sent again once it is back
    assert (out, status) == ("again\n", 0) and len(drv.reconnects) == 2


def test_unplugged_device_is_device_lost(fake):
    _, drv, front = fake
    drv.observe()
    front.stop()
    with pytest.raises(DeviceLost, match=front.serial):
        drv.observe()
    with pytest.raises(DeviceLost):
        drv.is_alive(FAKE_PKG)


@pytest.mark.skipif(not has_ffmpeg(), reason="ffmpeg not installed")
def test_screenrecord_helper(fake, tmp_path):
    """The driver records, stops its own recording and pulls it; another tool's recording goes on."""
    dev, drv, front = fake
    theirs = drv._adb.shell("screenrecord /sdcard/theirs.mp4", stream=True)  # another tool's, kept open
    deadline = time.monotonic() + 5
    while not front.phone.recorders and time.monotonic() < deadline:  # it starts on its own thread
        time.sleep(0.01)
    drv.start_screenrecord()
    drv.app_start(FAKE_PKG)
    drv.observe()
    drv.tap(500, 1075)
    drv.observe()
    mp4 = drv.stop_screenrecord(tmp_path / "rec.mp4")
    data = mp4.read_bytes()
    assert data[4:8] == b"ftyp" and len(data) > 1000
    assert [r.path for r in front.phone.recorders] == ["/sdcard/theirs.mp4"]
    theirs.close()


CRASHY = """
package: com.example.crashy
label: Crashy
language: en
permissions: []
screens:
  home:
    title: Crashy
    widgets:
      - {id: btn_boom, type: button, text: Boom, on_tap: [{crash: "boom"}]}
"""


def test_crash_dialog_of_the_app_under_test_matches_in_process(adb_server):
    from exerciser.device.u2driver import U2Device
    from exerciser.sim.appmodel import parse_app_model

    # first_crash_dialog: Android 9+ shows the dialog on a first crash only with that setting on.
    local = VirtualDevice([parse_app_model(CRASHY, "crashy.yaml")], seed=3, first_crash_dialog=True)
    (front,) = serve(
        [VirtualDevice([parse_app_model(CRASHY, "crashy.yaml")], seed=3, first_crash_dialog=True)], adb_server
    )
    drv = U2Device(front.serial, adb_port=adb_server.port)
    try:
        for dev in (local, drv):
            dev.app_start("com.example.crashy")
        x, y = _center(local.observe().xml, "Boom")
        for dev in (local, drv):
            dev.tap(x, y)
        xml = _same(local, drv)
        assert drv.observe().activity == "com.android.server.am.AppErrorDialog" and "aerr_close" in xml
        assert not drv.dismissed
        assert [e.kind for e in drv.events(0)] == [e.kind for e in local.events(0)]
        assert EventKind.CRASH in {e.kind for e in drv.events(0)}
    finally:
        drv.close()
        front.stop()
