"""Processes, activities, launcher, crash dialog, settings, clock, timers and blind screens."""

from __future__ import annotations

import pytest
from sim_helpers import PKG, find, has, make_device, nodes, sim_model, start_accepted, tap, texts

from exerciser.device.contract import Device, DeviceError, EventKind, Key
from exerciser.errors import UserError
from exerciser.sim import VirtualDevice
from exerciser.sim.appmodel import parse_app_model


def kinds(dev, since: int = 0) -> list[EventKind]:
    return [e.kind for e in dev.events(since) if e.package == PKG]


def test_is_a_device():
    dev = make_device()
    assert isinstance(dev, Device)
    info = dev.info
    assert (info.api_level, info.release, info.rom, info.locale) == (33, "13", "aosp", "en-US")
    assert (info.width, info.height) == (1080, 2340)
    assert dev.installed_packages() == [PKG]
    assert make_device("miui14", "zh-CN").info.rom == "miui"


def test_bad_profile_and_locale():
    with pytest.raises(DeviceError):
        VirtualDevice([sim_model()], profile="api99")
    with pytest.raises(DeviceError):
        VirtualDevice([sim_model()], locale="fr-FR")


def test_launcher_when_nothing_runs_and_icon_starts_app():
    dev = make_device("miui14")
    obs = dev.observe()
    assert obs.package == "com.miui.home"
    icon = find(dev, text="Sim Test")
    assert icon["content-desc"] == "Sim Test" and icon["clickable"] == "true"
    tap(dev, text="Sim Test")
    obs = dev.observe()
    assert (obs.package, obs.activity) == (PKG, f"{PKG}.MainActivity")
    assert has(dev, rid="btn_agree")
    assert make_device("api30").observe().package == "com.android.launcher3"


def test_cold_start_privacy_dialog_and_persistent_state():
    dev = make_device()
    dev.app_start(PKG)
    assert kinds(dev)[:2] == [EventKind.PROC_START, EventKind.RESUME_ACTIVITY]
    assert texts(dev)[:2] == [
        "Privacy Policy",
        "Please read our Terms and Privacy Policy before using Sim Test.",
    ]
    dev.key(Key.BACK)  # not cancelable
    assert has(dev, rid="btn_agree")
    tap(dev, rid="btn_agree")
    assert has(dev, rid="btn_camera")
    dev.app_stop(PKG)
    assert not dev.is_alive(PKG)
    dev.app_start(PKG)
    assert has(dev, rid="btn_camera"), "accepted policy survives a restart"
    assert dev.app_state(PKG) == {"policy_accepted": True, "launches": 2}


def test_refusing_policy_kills_process():
    dev = make_device()
    dev.app_start(PKG)
    since = dev.now_ms()
    tap(dev, rid="btn_refuse")
    assert not dev.is_alive(PKG)
    assert dev.observe().package == "com.android.launcher3"
    assert kinds(dev, since) == [EventKind.PROC_DIED]


def test_finish_keeps_process_alive_then_warm_start():
    dev = make_device("api30")
    start_accepted(dev)
    tap(dev, rid="btn_more")
    since = dev.now_ms()
    tap(dev, rid="btn_finish")
    assert dev.is_alive(PKG)
    assert dev.observe().package == "com.android.launcher3"
    finishes = [e for e in dev.events(since) if e.kind == EventKind.FINISH_ACTIVITY]
    assert [e.detail["reason"] for e in finishes] == ["app-request", "app-request"]
    assert [e.detail["component"] for e in finishes] == [f"{PKG}.MoreActivity", f"{PKG}.MainActivity"]
    since = dev.now_ms()
    dev.app_start(PKG)  # warm start: no new process, on_launch runs again
    assert EventKind.PROC_START not in kinds(dev, since)
    assert dev.app_state(PKG)["launches"] == 2
    assert dev.observe().activity == f"{PKG}.MainActivity"


def test_kill_from_deeper_screen():
    dev = make_device()
    start_accepted(dev)
    tap(dev, rid="btn_more")
    tap(dev, rid="btn_kill")
    assert not dev.is_alive(PKG)
    assert dev.observe().package == "com.android.launcher3"
    since = dev.now_ms()
    dev.app_start(PKG)
    assert kinds(dev, since)[0] == EventKind.PROC_START
    assert dev.observe().activity == f"{PKG}.MainActivity"


def test_back_navigation_and_root_behaviour_per_api():
    old = make_device("api28")
    start_accepted(old)
    tap(old, rid="btn_more")
    assert old.observe().activity == f"{PKG}.MoreActivity"
    old.key(Key.BACK)
    assert old.observe().activity == f"{PKG}.MainActivity"
    since = old.now_ms()
    old.key(Key.BACK)  # Android 9: back finishes the root activity
    assert old.observe().package == "com.android.launcher3" and old.is_alive(PKG)
    assert kinds(old, since) == [EventKind.FINISH_ACTIVITY]
    assert "am_finish_activity: [0," in old.logcat_text(since)

    new = make_device("api33")
    start_accepted(new)
    since = new.now_ms()
    new.key(Key.BACK)  # Android 12+: the root launcher activity moves to the back instead
    assert new.observe().package == "com.android.launcher3" and new.is_alive(PKG)
    assert EventKind.FINISH_ACTIVITY not in kinds(new, since)
    new.app_start(PKG)
    assert new.app_state(PKG)["launches"] == 1, "brought back to front, not relaunched"


def test_home_and_bring_back_keeps_stack():
    dev = make_device()
    start_accepted(dev)
    tap(dev, rid="btn_more")
    dev.key(Key.HOME)
    assert dev.observe().package == "com.android.launcher3"
    dev.app_start(PKG)
    assert dev.observe().activity == f"{PKG}.MoreActivity"


def test_permission_dialog_survives_home():
    dev = make_device()
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    dev.key(Key.HOME)
    dev.app_start(PKG)
    assert dev.observe().package == "com.android.permissioncontroller"


def crash_again(dev) -> None:
    dev.app_start(PKG)
    tap(dev, rid="btn_more")
    tap(dev, rid="btn_crash")


def test_crash_dialog_api33_en_and_zh_and_api23():
    dev = make_device("api33")
    start_accepted(dev)
    tap(dev, rid="btn_more")
    since = dev.now_ms()
    tap(dev, rid="btn_crash")
    assert kinds(dev, since) == [EventKind.CRASH, EventKind.PROC_DIED]
    assert not dev.is_alive(PKG)
    # Android 9+: a first crash shows no dialog (show_first_crash_dialog is off), the app just goes.
    assert dev.observe().package == "com.android.launcher3"
    dev.wait(61)  # a crash more than a minute later is not "repeating" either
    crash_again(dev)
    assert dev.observe().package == "com.android.launcher3"
    crash_again(dev)  # again within the minute: "keeps stopping"
    obs = dev.observe()
    assert obs.package == "android"
    assert find(dev, rid="android:id/alertTitle")["text"] == "Sim Test keeps stopping"
    assert find(dev, rid="android:id/aerr_app_info")["text"] == "App info"
    assert find(dev, rid="android:id/aerr_close")["text"] == "Close app"
    assert all(n["package"] == "android" for n in nodes(dev))
    log = dev.logcat_text(since)
    assert (
        "am_crash: [" in log and ",com.example.simtest," in log and "java.lang.RuntimeException,boom" in log
    )
    tap(dev, rid="aerr_close")
    assert dev.observe().package == "com.android.launcher3"

    zh = VirtualDevice([sim_model()], profile="api34", locale="zh-CN", first_crash_dialog=True)
    start_accepted(zh)
    tap(zh, rid="btn_more")
    tap(zh, rid="btn_crash")  # the developer setting shows the dialog on the first crash
    assert texts(zh) == ["“Sim Test”屡次停止运行", "应用信息", "关闭应用"]
    tap(zh, rid="aerr_app_info")
    obs = zh.observe()
    assert (obs.package, obs.activity) == (
        "com.android.settings",
        "com.android.settings.applications.InstalledAppDetailsTop",
    )

    old = make_device("api23")
    start_accepted(old)
    tap(old, rid="btn_more")
    tap(old, rid="btn_crash")  # Android 6: the dialog on every crash
    assert texts(old) == ["Unfortunately, Sim Test has stopped.", "OK"]
    assert find(old, rid="android:id/button1")["text"] == "OK"


def test_settings_page_lists_permissions_and_back_returns():
    dev = make_device("api33")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    tap(dev, rid="permission_allow_foreground_only_button")
    dev.key(Key.BACK)  # leave the camera screen
    tap(dev, rid="btn_more")
    tap(dev, rid="btn_settings")
    obs = dev.observe()
    assert obs.package == "com.android.settings"
    shown = texts(dev)
    assert shown[:2] == ["App info", "Sim Test"]
    assert shown[shown.index("Camera") + 1] == "Allowed"
    assert shown[shown.index("Location") + 1] == "Not allowed"
    assert "Notifications" in shown
    tap(dev, text="Location")  # the user switches it on in settings
    assert dev.permissions(PKG)["android.permission.ACCESS_FINE_LOCATION"].granted
    assert dev.is_alive(PKG), "granting does not kill"
    tap(dev, text="Camera")  # switching off kills the app in the background
    assert not dev.is_alive(PKG)
    assert dev.permissions(PKG)["android.permission.CAMERA"].user_fixed
    since = dev.now_ms()
    dev.key(Key.BACK)  # the app's screen is recreated in a new process
    assert dev.observe().activity == f"{PKG}.MoreActivity"
    assert kinds(dev, since)[:2] == [EventKind.PROC_START, EventKind.RESUME_ACTIVITY]


def test_clock_advances_with_actions_and_timers_fire():
    dev = make_device("api33")
    t0 = dev.now_ms()
    assert dev.observe().time_ms == t0
    assert dev.observe().time_ms == t0, "observing takes no device time"
    start_accepted(dev)
    assert 1500 <= dev.now_ms() - t0 <= 3000
    tap(dev, rid="btn_more")
    t1 = dev.now_ms()
    tap(dev, rid="btn_timer")
    assert 300 <= dev.now_ms() - t1 <= 600
    dev.wait(10)
    assert not has(dev, text="Reminder")
    dev.wait(25)
    assert has(dev, text="Reminder")
    dev.advance_clock(48 * 3600)
    assert dev.now_ms() - t0 > 48 * 3600 * 1000


def test_timer_waits_while_app_in_background_and_dies_with_process():
    dev = make_device()
    start_accepted(dev)
    tap(dev, rid="btn_more")
    tap(dev, rid="btn_timer")
    dev.key(Key.HOME)
    dev.wait(60)
    assert dev.observe().package == "com.android.launcher3"
    dev.app_start(PKG)
    assert has(dev, text="Reminder"), "the due timer fires once the app is in front"

    tap(dev, rid="btn_ok")
    tap(dev, rid="btn_timer")
    dev.app_stop(PKG)
    dev.app_start(PKG)
    tap(dev, rid="btn_more")
    dev.wait(60)
    assert not has(dev, text="Reminder")


def test_status_bar_clock_and_time_zone():
    en = make_device("api33", "en-US")
    zh = make_device("api33", "zh-CN")
    assert en.frame().clock_text == "09:00" == zh.frame().clock_text
    assert zh.now_ms() - en.now_ms() == -13 * 3600 * 1000  # 09:00 Shanghai is 13 h before 09:00 New York
    en.wait(3600 + 5 * 60)
    assert en.frame().clock_text == "10:05"


def test_deterministic():
    def run() -> tuple[int, str, list]:
        dev = VirtualDevice([sim_model()], profile="api30")
        start_accepted(dev)
        tap(dev, rid="btn_camera")
        tap(dev, rid="permission_deny_button")
        tap(dev, rid="btn_cancel")
        tap(dev, rid="btn_more")
        return dev.now_ms(), dev.observe().xml, [(e.time_ms, e.kind, e.detail) for e in dev.events()]

    assert run() == run()


def test_input_checkbox_and_condition():
    dev = make_device()
    start_accepted(dev)
    tap(dev, rid="btn_more")
    assert find(dev, rid="name")["text"] == "Your name"  # the hint while empty
    tap(dev, rid="name")
    dev.type_text("Ada")
    assert find(dev, rid="name")["text"] == "Ada"
    assert find(dev, rid="name")["class"] == "android.widget.EditText"
    tap(dev, rid="btn_check")
    assert has(dev, text="Please tick the box.")
    tap(dev, rid="btn_ok")
    tap(dev, rid="agree")
    assert find(dev, rid="agree")["checked"] == "true"
    tap(dev, rid="btn_check")
    assert has(dev, text="Thanks for agreeing.")


def test_blind_screen_has_no_text_in_dump():
    dev = make_device()
    start_accepted(dev)
    tap(dev, rid="btn_more")
    png_before = dev.observe().png
    tap(dev, rid="btn_policy")
    obs = dev.observe()
    assert obs.activity == f"{PKG}.PolicyActivity"
    assert texts(dev) == []
    web = [n for n in nodes(dev) if n["class"] == "android.webkit.WebView"]
    assert len(web) == 1 and web[0]["text"] == "" and web[0]["content-desc"] == ""
    assert "collect your location" not in obs.xml
    assert obs.png != png_before
    # The painted "Got it" button still works: tap where it is drawn (below the painted text).
    x1, y1, x2, y2 = next(n for n in dev.frame().top.root.walk() if n.text == "Got it").bounds
    dev.tap((x1 + x2) // 2, (y1 + y2) // 2)
    assert dev.observe().activity == f"{PKG}.MoreActivity"


def test_blind_dialog_dump_and_pixels():
    from exerciser.sim import uixml

    dev = make_device("api33", "zh-CN")
    frame = dev.frame_for(PKG, "home", "blind_consent")
    dump = uixml.dump(frame)
    assert "个人信息保护指引" not in dump and "同意" not in dump
    # Decor, LinearLayout, android:id/content, design_bottom_sheet, the sheet's root, one empty WebView.
    assert dump.count("<node") == 6 and 'resource-id="com.example.simtest:id/design_bottom_sheet"' in dump
    assert 'class="android.webkit.WebView" package="com.example.simtest" content-desc=""' in dump
    painted = [n.text for n in frame.top.root.walk() if n.text]
    assert painted == ["个人信息保护指引", "请您务必审慎阅读《隐私政策》", "不同意", "同意"]


def test_tap_outside_a_cancelable_dialog_dismisses_it_a_tap_on_it_does_not():
    dev = make_device("api33")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    tap(dev, rid="permission_deny_button")
    tap(dev, rid="android:id/message")  # the dialog's own text: not a button, not outside
    assert has(dev, text="Camera needed")
    dev.tap(540, 150)  # on the dimmed screen above the card
    assert not has(dev, text="Camera needed") and dev.observe().activity == f"{PKG}.MainActivity"


def test_tabs_replace_screens():
    dev = make_device()
    start_accepted(dev)
    tab = find(dev, rid="tab_me")
    assert tab["class"] == "android.widget.FrameLayout" and tab["content-desc"] == "Me"
    tap(dev, rid="tab_me")
    assert dev.observe().activity == f"{PKG}.MeActivity"
    row = find(dev, rid="row_settings")
    assert row["class"] == "android.widget.LinearLayout" and row["clickable"] == "true"
    tap(dev, rid="tab_home")
    assert dev.observe().activity == f"{PKG}.MainActivity"


def test_logcat_lines():
    dev = make_device("api33")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    log = dev.logcat_text()
    lines = log.splitlines()
    assert any(" I am_proc_start: [0," in ln and "com.example.simtest/.MainActivity}]" in ln for ln in lines)
    assert any("wm_resume_activity: [0," in ln for ln in lines)
    req = [ln for ln in lines if "REQUEST_PERMISSIONS" in ln]
    assert len(req) == 1 and "ActivityTaskManager: START u0" in req[0]
    assert lines[0][:14] == "01-05 09:00:01" or lines[0].startswith("01-05 09:00:0")
    assert dev.logcat_text(buffers=("events",)).count("REQUEST_PERMISSIONS") == 0


def test_stamp_and_since_read_the_device_clock():
    """`stamp` saves the device time (minutes) in prefs; `since` compares it with the clock on a later
    launch, however long the process was gone — an app that re-asks hours after a refusal."""
    m = parse_app_model(
        """
package: com.example.stamp
label: Stamp
state: {seen_at: 0, marked: false}
on_launch:
  - if: {all: [{state: marked, equals: true}, {since: seen_at, gte: 240}]}
    then: [{replace: late}]
    else: [{replace: early}]
screens:
  early:
    widgets: [{id: btn_mark, type: button, text: Mark, on_tap: [{stamp: seen_at}, {set: {marked: true}}]}]
  late:
    widgets: [{type: text, text: Four hours later}]
""",
        "stamp.yaml",
    )
    dev = VirtualDevice([m])
    dev.app_start(m.package)
    tap(dev, text="Mark")
    assert dev.app_state(m.package)["seen_at"] == dev.now_ms() // 60_000
    for minutes, screen in ((239, "Early"), (1, "Late")):
        dev.app_stop(m.package)
        dev.wait(minutes * 60)
        dev.app_start(m.package)
        assert dev.observe().activity == f"com.example.stamp.{screen}Activity"
    bad = "package: a.b\nlabel: x\nstate: {k: true}\non_launch: [{if: {since: k, gte: 1}, then: []}]\n"
    with pytest.raises(UserError, match="not an integer state key"):
        parse_app_model(bad + "screens: {s: {}}\n", "bad.yaml")
