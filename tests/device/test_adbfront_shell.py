"""The served device's shell and parsers, without adb: command lines as clients send them, the dumps a
driver parses, and logcat text back to the simulator's events."""

from __future__ import annotations

import shutil
import time

import pytest
from device_fakes import CAMERA, PKG, FakeDevice

from exerciser.device.contract import EventKind, Key
from exerciser.device.dumpsys_parse import dialog_owner, parse_focus, parse_runtime_permissions
from exerciser.device.logcat import parse_logcat
from exerciser.sim.adbfront.commands import make_commands
from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Shell, parse


@pytest.fixture()
def sh():
    phone = Phone(FakeDevice(), "127.0.0.1:7401", 7401)
    return Shell(phone.fs, make_commands(phone)), phone


def run(shell: Shell, line: str) -> tuple[str, str, int]:
    out, err, status = shell.run(line)
    return out.decode(), err.decode(), status


def test_quoting_operators_and_exit_status(sh):
    shell, _ = sh
    assert run(shell, 'echo \'a  b\' "c\\"d" e\\ f')[0] == 'a  b c"d e f\n'
    # adbutils' v1 exit-code trick and uiautomator2's fallback chain
    assert run(shell, "nosuchcmd x; echo X4EXIT:$?") == (
        "X4EXIT:127\n",
        "/system/bin/sh: nosuchcmd: not found\n",
        0,
    )
    assert run(shell, "false && echo no || echo yes")[0] == "yes\n"
    assert run(shell, "true && echo a; echo b")[0] == "a\nb\n"
    out, err, status = run(shell, "ls /nope 2>/dev/null; echo $?")
    assert (out, err) == ("1\n", "")
    assert run(shell, "echo hi > /data/local/tmp/f && cat /data/local/tmp/f")[0] == "hi\n"
    assert run(shell, "echo more >> /data/local/tmp/f; cat < /data/local/tmp/f")[0] == "hi\nmore\n"
    assert run(shell, "cat /data/local/tmp/nope 2>&1")[0].startswith("cat: /data/local/tmp/nope")
    pipeline = parse("CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008")
    simple = pipeline[0][1][0]
    assert simple.assigns[0][0] == "CLASSPATH" and simple.words[0].literal == "app_process"


def test_getprop_wm_pm_and_grep(sh):
    shell, phone = sh
    assert run(shell, "getprop ro.build.version.sdk")[0] == "33\n"
    assert "[ro.product.model]: [Fake Phone]" in run(shell, "getprop")[0]
    assert run(shell, "getprop no.such.prop dflt")[0] == "dflt\n"
    assert run(shell, "wm size")[0] == "Physical size: 1080x2340\n"
    assert run(shell, "wm density")[0] == "Physical density: 440\n"
    assert run(shell, "pm list packages -3")[0] == f"package:{PKG}\n"
    assert f"package:{PKG}" in run(shell, "pm list packages")[0]
    assert "package:com.android.permissioncontroller" in run(shell, "pm list packages -s")[0]
    assert run(shell, f"pm path {PKG}")[0].endswith("/base.apk\n")
    assert run(shell, "pm path com.nope")[2] == 1
    assert run(shell, "pm list packages | grep -c package")[0].strip() == str(
        len(phone.system_packages()) + 1
    )
    out = run(shell, f"dumpsys package {PKG} | grep -A1 'runtime permissions:'")[0]
    # Android 10+ marks an app's runtime permissions user-sensitive; flags print lowest bit first
    sensitive = "USER_SENSITIVE_WHEN_GRANTED|USER_SENSITIVE_WHEN_DENIED"
    assert out == f"      runtime permissions:\n        {CAMERA}: granted=false, flags=[ {sensitive}]\n"


def test_pm_grant_revoke_errors_like_android(sh):
    shell, phone = sh
    assert run(shell, f"pm grant {PKG} {CAMERA}")[2] == 0
    assert phone.device.granted[CAMERA].granted
    out, err, status = run(shell, f"pm grant {PKG} android.permission.READ_SMS")
    assert status == 255
    assert err.startswith("Exception occurred while executing 'grant':\njava.lang.SecurityException")
    out, err, status = run(shell, f"pm revoke com.nope {CAMERA}")
    assert status == 255 and "Unknown package: com.nope" in err
    assert run(shell, "pm clear com.nope") == ("Failed\n", "", 1)
    assert run(shell, f"pm clear {PKG}")[0] == "Success\n"


def test_apps_input_and_focus(sh):
    shell, phone = sh
    out = run(shell, f"monkey -p {PKG} -c android.intent.category.LAUNCHER 1")[0]
    assert "Events injected: 1" in out
    assert "No activities found" in run(shell, "monkey -p com.nope -c android.intent.category.LAUNCHER 1")[0]
    focus = run(shell, "dumpsys window displays")[0]
    assert parse_focus(focus) == (PKG, f"{PKG}.MainActivity")
    assert "mCurrentFocus=Window{" in focus and f" u0 {PKG}/{PKG}.MainActivity}}" in focus
    assert run(shell, f"pidof {PKG}")[0].strip().isdigit()
    assert PKG in run(shell, "ps -A")[0].splitlines()[-1] or PKG in run(shell, "ps -A")[0]
    run(shell, "input tap 500 1075")
    assert parse_focus(run(shell, "dumpsys window displays")[0])[0] == "com.android.permissioncontroller"
    run(shell, "input keyevent KEYCODE_BACK")
    assert phone.device.calls[-1] == "key back"
    run(shell, "input text hello")
    assert phone.device.typed == "hello"
    run(shell, f"am force-stop {PKG}")
    assert run(shell, f"pidof {PKG}")[2] == 1


def test_screen_power_and_keyguard(sh):
    shell, phone = sh
    run(shell, "input keyevent POWER")
    assert "mWakefulness=Asleep" in run(shell, "dumpsys power")[0]
    run(shell, "input tap 200 400")  # ignored: the screen is off
    assert "tap 200 400" not in phone.device.calls
    run(shell, "input keyevent 224")
    assert "mWakefulness=Awake" in run(shell, "dumpsys power")[0]
    assert parse_focus(run(shell, "dumpsys window displays")[0]) == ("com.android.systemui", "")
    assert "mShowingLockscreen=true" in run(shell, "dumpsys window")[0]
    run(shell, "input keyevent 82")  # MENU dismisses the swipe keyguard
    assert "mShowingLockscreen=false" in run(shell, "dumpsys window")[0]
    assert parse_focus(run(shell, "dumpsys window displays")[0])[0] == "com.android.launcher3"


def test_screencap_uiautomator_dump_date(sh):
    shell, phone = sh
    png = shell.run("screencap -p")[0]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out, _, status = run(shell, "uiautomator dump /sdcard/d.xml")
    assert status == 0 and out == "UI hierchary dumped to: /sdcard/d.xml\n"
    assert phone.fs.get("/storage/emulated/0/d.xml").data.startswith(b"<?xml")
    assert run(shell, "date +%s%3N")[0] == f"{phone.device.clock}\n"
    assert run(shell, "toybox md5sum /data/local/tmp/none")[2] == 1
    phone.device.clock += 5000
    assert int(run(shell, "date +%s")[0]) == phone.device.clock // 1000


def test_runtime_permission_parser_reads_android_layout():
    text = """
    User 0: ceDataInode=1 installed=true hidden=false
      gids=[3003]
      runtime permissions:
        android.permission.ACCESS_FINE_LOCATION: granted=false, flags=[ USER_SET|USER_FIXED|SENSITIVE]
        android.permission.CAMERA: granted=true, flags=[ USER_SET]
        android.permission.READ_CONTACTS: granted=false
      disabledComponents:
    User 10: ceDataInode=2 installed=true
      runtime permissions:
        android.permission.CAMERA: granted=false, flags=[ ]
"""
    perms = parse_runtime_permissions(text)
    assert set(perms) == {
        "android.permission.ACCESS_FINE_LOCATION",
        "android.permission.CAMERA",
        "android.permission.READ_CONTACTS",
    }
    loc = perms["android.permission.ACCESS_FINE_LOCATION"]
    assert not loc.granted and loc.user_fixed and "SENSITIVE" in loc.flags
    assert perms["android.permission.CAMERA"].granted  # user 0, not user 10
    assert perms["android.permission.READ_CONTACTS"].flags == frozenset()


def test_focus_parser_non_activity_windows():
    crash = "  mCurrentFocus=Window{1a2b u0 Application Error: com.x}"
    assert parse_focus(crash) == ("android", "com.android.server.am.AppErrorDialog")
    assert dialog_owner(crash) == "com.x"
    anr = "mCurrentFocus=Window{1a u0 Application Not Responding: com.y}"
    assert parse_focus(anr) == ("android", "com.android.server.am.AppNotRespondingDialog")
    assert parse_focus("  mCurrentFocus=Window{1a2b u0 NotificationShade}") == ("com.android.systemui", "")
    assert parse_focus("mCurrentFocus=Window{1a u0 com.a/.Main}") == ("com.a", "com.a.Main")
    fallback = "mCurrentFocus=null\n  mFocusedApp=ActivityRecord{5e6f u0 com.b/.ui.Home t7}"
    assert parse_focus(fallback) == ("com.b", "com.b.ui.Home")


def test_logcat_of_the_simulator_parses_back_to_its_events():
    """The simulator's own logcat lines (threadtime) -> the driver's parser -> the same events, with the
    fields a phone prints (which permissions were asked is not among them)."""
    from exerciser.sim import VirtualDevice, load_sample

    dev = VirtualDevice([load_sample("compliant_en")], profile="api33")
    pkg = "com.pocketledger.app"
    dev.app_start(pkg)
    dev.key(Key.BACK)
    dev.app_stop(pkg)
    events = dev.events(0)
    assert {EventKind.PROC_START, EventKind.RESUME_ACTIVITY, EventKind.KILL} <= {e.kind for e in events}
    text = dev.logcat_text()
    parsed = parse_logcat(text, {10123: pkg}, year=2026, tz_offset_min=dev.tz_offset_min)
    assert [(e.time_ms, e.kind, e.package) for e in parsed] == [
        (e.time_ms, e.kind, e.package) for e in events
    ]
    for mine, theirs in zip(parsed, events, strict=True):
        for key in ("pid", "uid", "process", "component", "token", "task"):
            if key in theirs.detail:
                assert mine.detail[key] == theirs.detail[key], (key, mine, theirs)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_background_job_pid_and_wait(sh):
    """`screenrecord F & echo $!; wait` as recorder scripts send it: the job runs while the line goes on,
    `$!` is its pid, `kill -INT $!` ends the recording, `wait` waits for the file."""
    shell, phone = sh
    out, err, status = run(shell, "screenrecord /sdcard/r.mp4 </dev/null >/dev/null 2>&1 & echo $!")
    pid = out.strip()
    assert status == 0 and pid.isdigit() and not err
    deadline = time.monotonic() + 5
    while not phone.recorders and time.monotonic() < deadline:  # the job starts on its own thread
        time.sleep(0.01)
    assert [r.pid for r in phone.recorders] == [int(pid)]
    assert phone.fs.get("/sdcard/r.mp4") is None  # still recording
    assert run(shell, f"kill -INT {pid}; wait; echo done")[0] == "done\n"
    assert phone.recorders == [] and phone.fs.get("/sdcard/r.mp4").data[4:8] == b"ftyp"
    assert run(shell, "kill -INT 99999")[2] == 1
    assert run(shell, "cat < /dev/null; echo $?")[0] == "0\n"
    assert run(shell, "& echo x")[2] == 1  # a syntax error, as sh says


def test_screenshot_png_converter_caches_and_keeps_pixels():
    """JPEG of the on-device server -> PNG: same pixels as a plain decode, a repeat from the cache, a
    screen that changed in one band still exact."""
    import cv2
    import numpy as np

    from exerciser.device.png import ScreenshotPng, decode_jpeg

    rng = np.random.default_rng(1)
    img = np.full((2340, 1080, 3), 240, np.uint8)
    img[300:420] = rng.integers(0, 255, (120, 1080, 3), dtype=np.uint8)
    jpegs = [cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()]
    img[2000:2100, 100:600] = (10, 120, 200)  # one band changes
    jpegs.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    conv = ScreenshotPng()
    for j in (*jpegs, jpegs[0]):
        png = conv.convert(j)
        back = cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and np.array_equal(back, decode_jpeg(j))
    assert (conv.misses, conv.hits) == (2, 1)
    with pytest.raises(ValueError):
        conv.convert(b"not a jpeg")
