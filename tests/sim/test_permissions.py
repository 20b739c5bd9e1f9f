"""The system permission dialog and permission semantics per profile and locale, via the Device contract."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from sim_helpers import PKG, centre, find, has, ids, make_device, nodes, start_accepted, tap, texts

from exerciser.device.contract import EventKind, Key

CAMERA = "android.permission.CAMERA"
CONTACTS = "android.permission.READ_CONTACTS"
WRITE_CONTACTS = "android.permission.WRITE_CONTACTS"
FINE = "android.permission.ACCESS_FINE_LOCATION"
COARSE = "android.permission.ACCESS_COARSE_LOCATION"
NOTIFY = "android.permission.POST_NOTIFICATIONS"


def deny(dev) -> None:
    for rid in ("permission_deny_and_dont_ask_again_button", "permission_deny_button"):
        if has(dev, rid=rid):
            tap(dev, rid=rid)
            return
    raise AssertionError(f"no deny button: {texts(dev)}")


def dismiss_app_dialog(dev) -> None:
    if has(dev, rid="btn_cancel"):
        tap(dev, rid="btn_cancel")


@pytest.mark.parametrize(
    ("profile", "locale", "package", "deny_text", "allow_text", "checkbox_text", "message"),
    [
        (
            "api23",
            "en-US",
            "com.android.packageinstaller",
            "DENY",
            "ALLOW",
            "Never ask again",
            "Allow Sim Test to take pictures and record video?",
        ),
        (
            "api28",
            "en-US",
            "com.android.packageinstaller",
            "DENY",
            "ALLOW",
            "Don't ask again",
            "Allow Sim Test to take pictures and record video?",
        ),
        (
            "api28",
            "zh-CN",
            "com.android.packageinstaller",
            "拒绝",
            "允许",
            "不再询问",
            "要允许Sim Test拍摄照片和录制视频吗？",
        ),
    ],
)
def test_checkbox_dialog_api23_28(profile, locale, package, deny_text, allow_text, checkbox_text, message):
    dev = make_device(profile, locale)
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    obs = dev.observe()
    assert obs.package == package
    assert obs.activity == "com.android.packageinstaller.permission.ui.GrantPermissionsActivity"
    assert find(dev, rid=f"{package}:id/permission_message")["text"] == message
    assert find(dev, rid="permission_deny_button")["text"] == deny_text
    assert find(dev, rid="permission_allow_button")["text"] == allow_text
    assert has(dev, rid=f"{package}:id/button_group")
    assert not has(dev, rid="do_not_ask_checkbox"), "first request: no checkbox"
    assert not has(dev, rid="current_page_text"), "one group: no page counter"
    tap(dev, rid="permission_deny_button")
    assert dev.permissions(PKG)[CAMERA].flags == {"USER_SET"}
    dismiss_app_dialog(dev)

    tap(dev, rid="btn_camera")  # second request: the checkbox appears
    box = find(dev, rid="do_not_ask_checkbox")
    assert box["text"] == checkbox_text and box["checked"] == "false"
    tap(dev, rid="permission_deny_button")  # denied again without the box: still asks
    assert not dev.permissions(PKG)[CAMERA].user_fixed
    dismiss_app_dialog(dev)

    tap(dev, rid="btn_camera")
    tap(dev, rid="do_not_ask_checkbox")
    assert find(dev, rid="do_not_ask_checkbox")["checked"] == "true"
    tap(dev, rid="permission_deny_button")
    state = dev.permissions(PKG)[CAMERA]
    assert not state.granted and state.flags == {"USER_SET", "USER_FIXED"}
    dismiss_app_dialog(dev)

    since = dev.now_ms()
    tap(dev, rid="btn_camera")  # fixed: denied at once, the app's own dialog shows
    assert dev.observe().package == PKG
    assert has(dev, text="Camera needed")
    req = [e for e in dev.events(since) if e.kind == EventKind.PERMISSION_REQUEST]
    assert len(req) == 1 and req[0].detail["shown"] == "false" and req[0].detail["permissions"] == CAMERA


def _path_to(dev, rid_suffix: str) -> list[str]:
    """Resource-ids (or classes) of the ancestors of the node with this id, from the window root down."""
    root = ET.fromstring(dev.observe().xml)

    def walk(node, trail):
        here = trail + [node.get("resource-id").rsplit("/", 1)[-1] or node.get("class").rsplit(".", 1)[-1]]
        if node.get("resource-id", "").endswith(":id/" + rid_suffix):
            return here
        for c in node.findall("node"):
            found = walk(c, here)
            if found:
                return found
        return None

    return walk(root[0], []) or []


DECOR = ["FrameLayout", "LinearLayout", "content", "FrameLayout"]  # DecorView … the dialog's own root


@pytest.mark.parametrize(
    ("profile", "path"),
    [
        # 6-9 grant_permissions.xml: the buttons sit in a row inside the ButtonBarLayout.
        ("api28", ["dialog_container", "button_group", "LinearLayout", "permission_deny_button"]),
        # 10: content_container, then the button list beside it.
        ("api29", ["LinearLayout", "LinearLayout", "permission_deny_button"]),
        # 11+: ScrollView > grant_singleton > grant_dialog > the button list.
        (
            "api33",
            ["ScrollView", "grant_singleton", "grant_dialog", "LinearLayout", "permission_deny_button"],
        ),
    ],
)
def test_dialog_hierarchy_follows_the_aosp_layout(profile, path):
    dev = make_device(profile)
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    assert _path_to(dev, "permission_deny_button") == DECOR + path
    message = _path_to(dev, "permission_message")
    if profile == "api28":
        assert message[-3:] == ["desc_container", "perm_desc_root", "permission_message"]
    else:
        assert "content_container" in message


def test_api28_zh_multi_group_page_counter():
    dev = make_device("api28", "zh-CN")
    start_accepted(dev)
    tap(dev, rid="btn_multi")
    assert find(dev, rid="current_page_text")["text"] == "第 1 项权限（共 2 项）"
    assert "通讯录" in find(dev, rid="permission_message")["text"]
    tap(dev, rid="permission_allow_button")
    assert find(dev, rid="current_page_text")["text"] == "第 2 项权限（共 2 项）"
    assert "拍摄照片" in find(dev, rid="permission_message")["text"]
    tap(dev, rid="permission_deny_button")
    perms = dev.permissions(PKG)
    assert perms[CONTACTS].granted and not perms[CAMERA].granted
    assert dev.observe().package == PKG


def test_api23_en_multi_group_one_of_two():
    dev = make_device("api23")
    start_accepted(dev)
    tap(dev, rid="btn_multi")
    assert find(dev, rid="current_page_text")["text"] == "1 of 2"
    tap(dev, rid="permission_allow_button")
    assert find(dev, rid="current_page_text")["text"] == "2 of 2"


def test_api29_location_and_deny_and_dont_ask_again():
    dev = make_device("api29")
    start_accepted(dev)
    tap(dev, rid="btn_location")
    obs = dev.observe()
    assert obs.package == "com.android.permissioncontroller"
    assert obs.activity == "com.android.permissioncontroller.permission.ui.GrantPermissionsActivity"
    # Only foreground location requested: no "Allow all the time" on Android 10.
    assert texts(dev) == [
        "Allow Sim Test to access this device’s location?",
        "Allow only while using the app",
        "Deny",
    ]
    assert not has(dev, rid="do_not_ask_checkbox")
    tap(dev, rid="permission_deny_button")
    assert dev.permissions(PKG)[FINE].flags == {"USER_SET"}

    # Second request: Android 10 keeps Deny and adds "Deny & don't ask again" below it.
    tap(dev, rid="btn_location")
    assert texts(dev)[1:] == ["Allow only while using the app", "Deny", "Deny & don’t ask again"]
    button = find(dev, rid="com.android.permissioncontroller:id/permission_deny_and_dont_ask_again_button")
    assert button["text"] == "Deny & don’t ask again"
    tap(dev, rid="permission_deny_button")  # a plain Deny, even twice, is not permanent on 10
    assert not dev.permissions(PKG)[FINE].user_fixed
    tap(dev, rid="btn_location")
    tap(dev, rid="permission_deny_and_dont_ask_again_button")
    assert dev.permissions(PKG)[FINE].user_fixed and dev.permissions(PKG)[COARSE].user_fixed
    tap(dev, rid="btn_location")
    assert dev.observe().package == PKG


def test_api29_zh_texts():
    dev = make_device("api29", "zh-CN")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    assert texts(dev) == ["允许Sim Test拍摄照片和录制视频吗？", "允许", "拒绝"]


@pytest.mark.parametrize(
    ("profile", "locale", "expect"),
    [
        ("api30", "en-US", ["While using the app", "Only this time", "Deny"]),
        ("api33", "en-US", ["While using the app", "Only this time", "Don’t allow"]),
        ("api34", "zh-CN", ["仅在使用该应用时允许", "仅限这一次", "不允许"]),
    ],
)
def test_api30_plus_second_denial_fixes(profile, locale, expect):
    dev = make_device(profile, locale)
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    assert texts(dev)[1:] == expect
    assert ids(dev)[-3:] == [
        "com.android.permissioncontroller:id/permission_allow_foreground_only_button",
        "com.android.permissioncontroller:id/permission_allow_one_time_button",
        "com.android.permissioncontroller:id/permission_deny_button",
    ]
    tap(dev, rid="permission_deny_button")
    assert dev.permissions(PKG)[CAMERA].flags == {"USER_SET"}
    dismiss_app_dialog(dev)

    tap(dev, rid="btn_camera")
    # The repeat deny button has the "don't ask again" id but the plain deny label.
    repeat = find(dev, rid="permission_deny_and_dont_ask_again_button")
    assert repeat["text"] == expect[-1]
    tap(dev, rid="permission_deny_and_dont_ask_again_button")
    assert dev.permissions(PKG)[CAMERA].flags == {"USER_SET", "USER_FIXED"}
    dismiss_app_dialog(dev)

    since = dev.now_ms()
    tap(dev, rid="btn_camera")  # third request: no dialog at all
    assert dev.observe().package == PKG and has(dev, text="Camera needed")
    req = [e for e in dev.events(since) if e.kind == EventKind.PERMISSION_REQUEST]
    assert [e.detail["shown"] for e in req] == ["false"]


def test_back_on_dialog_denies_without_counting():
    dev = make_device("api33")
    start_accepted(dev)
    for _ in range(3):
        tap(dev, rid="btn_camera")
        assert dev.observe().package == "com.android.permissioncontroller"
        dev.key(Key.BACK)
        assert dev.permissions(PKG)[CAMERA].flags == frozenset()
        assert has(dev, text="Camera needed")  # on_denied ran
        dismiss_app_dialog(dev)
    tap(dev, rid="btn_camera")
    assert has(dev, rid="permission_deny_button"), "cancelled dialogs are not denials"


@pytest.mark.parametrize("profile", ["api23", "api28", "api29"])
def test_back_on_dialog_is_ignored_before_api30(profile):
    dev = make_device(profile)
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    before = dev.observe().xml
    dev.key(Key.BACK)  # GrantPermissionsActivity 6-10: "We do not allow backing out"
    dev.tap(540, 2200)  # nor does a tap outside the dialog do anything
    assert dev.observe().xml == before and dev.permissions(PKG)[CAMERA].flags == frozenset()
    tap(dev, rid="permission_deny_button")
    assert dev.permissions(PKG)[CAMERA].flags == {"USER_SET"}


def test_tap_outside_the_card_cancels_on_api30_plus():
    dev = make_device("api30")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    dev.tap(*centre(find(dev, rid="permission_message")))  # on the card: nothing happens
    assert dev.observe().package == "com.android.permissioncontroller"
    bottom = int(re.findall(r"\d+", find(dev, rid="grant_dialog")["bounds"])[3])
    dev.tap(540, bottom + 100)  # below the card: on grant_singleton
    assert dev.observe().package == PKG and has(dev, text="Camera needed")  # on_denied ran
    assert dev.permissions(PKG)[CAMERA].flags == frozenset()  # cancelled, not a user denial


def test_group_granted_grants_same_group_without_dialog():
    dev = make_device("api33")
    start_accepted(dev)
    tap(dev, rid="btn_multi")
    tap(dev, rid="permission_allow_button")  # contacts
    tap(dev, rid="permission_allow_foreground_only_button")  # camera
    assert dev.permissions(PKG)[CONTACTS].granted
    assert not dev.permissions(PKG)[WRITE_CONTACTS].granted, "only the requested permission is granted"
    since = dev.now_ms()
    tap(dev, rid="btn_write")  # same group as READ_CONTACTS: granted without a dialog
    assert has(dev, text="Thanks for agreeing.")
    assert dev.permissions(PKG)[WRITE_CONTACTS].granted
    req = [e for e in dev.events(since) if e.kind == EventKind.PERMISSION_REQUEST]
    assert [(e.detail["group"], e.detail["shown"]) for e in req] == [("contacts", "false")]


def test_one_time_grant_revoked_when_process_dies():
    dev = make_device("api33")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    tap(dev, rid="permission_allow_one_time_button")
    state = dev.permissions(PKG)[CAMERA]
    assert state.granted and "ONE_TIME" in state.flags
    assert dev.observe().activity == f"{PKG}.CameraActivity"
    dev.app_stop(PKG)
    state = dev.permissions(PKG)[CAMERA]
    assert not state.granted and "ONE_TIME" not in state.flags


def test_one_time_grant_revoked_after_a_minute_in_background():
    dev = make_device("api30")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    tap(dev, rid="permission_allow_one_time_button")
    dev.key(Key.HOME)
    dev.wait(30)
    assert dev.permissions(PKG)[CAMERA].granted, "30 s in the background: still granted"
    dev.wait(31)
    assert not dev.permissions(PKG)[CAMERA].granted
    assert not dev.is_alive(PKG)
    kills = [e for e in dev.events() if e.kind == EventKind.KILL]
    assert kills and kills[-1].package == PKG


def test_one_time_survives_while_in_front():
    dev = make_device("api34")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    tap(dev, rid="permission_allow_one_time_button")
    dev.wait(300)
    assert dev.permissions(PKG)[CAMERA].granted


def test_notifications_group_only_from_33():
    old = make_device("api30")
    start_accepted(old)
    assert NOTIFY not in old.permissions(PKG)
    tap(old, rid="btn_notify")
    assert has(old, text="Notifications on.")  # granted at install: no dialog

    new = make_device("api33", "zh-CN")
    start_accepted(new)
    assert NOTIFY in new.permissions(PKG)
    tap(new, rid="btn_notify")
    assert find(new, rid="permission_message")["text"] == "要允许“Sim Test”向您发送通知吗？"
    assert texts(new)[1:] == ["允许", "不允许"]


def test_location_accuracy_coarse_on_33():
    dev = make_device("api33")
    start_accepted(dev)
    tap(dev, rid="btn_location")
    assert find(dev, rid="permission_location_accuracy_radio_fine")["checked"] == "true"
    tap(dev, rid="permission_location_accuracy_radio_coarse")
    assert find(dev, rid="permission_location_accuracy_radio_coarse")["checked"] == "true"
    tap(dev, rid="permission_allow_foreground_only_button")
    perms = dev.permissions(PKG)
    assert perms[COARSE].granted and not perms[FINE].granted
    assert dev.observe().activity == f"{PKG}.MainActivity", "not all granted: on_granted did not run"


def test_miui_dialog():
    dev = make_device("miui14", "zh-CN")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    obs = dev.observe()
    assert obs.package == "com.lbe.security.miui"
    assert obs.activity == "com.android.packageinstaller.permission.ui.GrantPermissionsActivity"
    assert find(dev, rid="com.lbe.security.miui:id/permission_allow_onetime_button")["text"] == "本次运行允许"
    assert find(dev, rid="permission_allow_foreground_only_button")["text"] == "仅在使用中允许"
    assert all(n["package"] == "com.lbe.security.miui" for n in nodes(dev))
    tap(dev, rid="permission_deny_button")
    dismiss_app_dialog(dev)
    tap(dev, rid="btn_location")  # a Chinese dialog through and through, accuracy choice included
    assert texts(dev)[1:3] == ["确切位置", "大致位置"]
    assert find(dev, rid="permission_deny_button")["text"] == "拒绝"


def test_one_ui_dialogs_are_bottom_cards_in_samsung_packages():
    """One UI 1: AOSP 9's checkbox dialog in Samsung's wording, anchored above the navigation bar; One UI 5:
    AOSP's ids under com.samsung.android.permissioncontroller (permission_dialogs.yaml oneui1 / oneui5)."""
    dev = make_device("oneui1", "zh-CN")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    obs = dev.observe()
    assert obs.package == "com.samsung.android.packageinstaller"
    assert "是否允许Sim Test拍摄照片和录制视频？" in texts(dev)
    assert (
        find(dev, rid="com.samsung.android.packageinstaller:id/permission_allow_button")["text"] == "总是允许"
    )
    tap(dev, rid="permission_deny_button")
    dismiss_app_dialog(dev)
    tap(dev, rid="btn_camera")  # denied before: the checkbox in Samsung's words
    assert find(dev, rid="do_not_ask_checkbox")["text"] == "点击【拒绝】后不再提示"
    y2 = int(re.findall(r"\d+", find(dev, rid="dialog_container")["bounds"])[3])
    info = dev.info
    assert info.height - 300 < y2 < info.height, "the card sits at the bottom, above the navigation bar"

    dev = make_device("oneui5", "en-US")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    assert dev.observe().package == "com.samsung.android.permissioncontroller"
    rid = "com.samsung.android.permissioncontroller:id/permission_allow_foreground_only_button"
    assert find(dev, rid=rid)["text"] == "While using the app"
    assert dev.info.manufacturer == "samsung"


@pytest.mark.parametrize(
    ("profile", "while_using", "container"),
    [
        ("coloros12", "使用时允许", "com.android.permissioncontroller:id/grant_singleton"),
        ("originos3", "使用应用时允许", "com.android.permissioncontroller:id/grant_scroll"),
    ],
)
def test_coloros_and_originos_keep_aosps_controller_with_their_own_words(profile, while_using, container):
    dev = make_device(profile, "zh-CN")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    obs = dev.observe()
    assert obs.package == "com.android.permissioncontroller"
    assert obs.activity == "com.android.permissioncontroller.permission.ui.GrantPermissionsActivity"
    assert has(dev, rid=container)
    assert find(dev, rid="permission_allow_foreground_only_button")["text"] == while_using
    tap(dev, rid="permission_allow_foreground_only_button")
    assert dev.permissions(PKG)[CAMERA].granted


def test_revoke_kills_and_pm_clear_resets():
    dev = make_device("api33")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    tap(dev, rid="permission_allow_foreground_only_button")
    assert dev.permissions(PKG)[CAMERA].granted
    assert dev.observe().activity == f"{PKG}.CameraActivity"
    pid = dev.pidof(PKG)
    since = dev.now_ms()
    dev.revoke(PKG, CAMERA)
    assert not dev.permissions(PKG)[CAMERA].granted
    kinds = [e.kind for e in dev.events(since) if e.package == PKG]
    # As ActivityManager does: the resumed activity dies with the process, the one below is restarted.
    assert kinds[:3] == [EventKind.KILL, EventKind.PROC_DIED, EventKind.PROC_START]
    assert dev.pidof(PKG) != pid
    assert dev.observe().activity == f"{PKG}.MainActivity"
    dev.key(Key.HOME)
    dev.grant(PKG, CAMERA)
    dev.revoke(PKG, CAMERA)  # in the background: the process just dies
    assert not dev.is_alive(PKG)

    dev.app_start(PKG)
    tap(dev, rid="btn_camera")
    # The user had set this permission (granted it), so Android 13 treats the next deny as the last.
    tap(dev, rid="permission_deny_and_dont_ask_again_button")
    assert dev.permissions(PKG)[CAMERA].user_fixed
    assert dev.app_state(PKG)["policy_accepted"] is True
    dev.app_clear(PKG)
    assert not dev.is_alive(PKG)
    assert all(not s.granted and not s.flags for s in dev.permissions(PKG).values())
    dev.app_start(PKG)
    assert has(dev, rid="btn_agree"), "pm clear wiped the accepted policy"
    assert dev.app_state(PKG)["launches"] == 1


def test_pm_grant_and_errors():
    from exerciser.device.contract import DeviceError

    dev = make_device("api33")
    dev.grant(PKG, CAMERA)
    assert dev.permissions(PKG)[CAMERA].granted
    with pytest.raises(DeviceError):
        dev.grant(PKG, "android.permission.READ_SMS")  # not requested by the app
    with pytest.raises(DeviceError):
        dev.grant(PKG, "android.permission.INTERNET")  # not a runtime permission
    with pytest.raises(DeviceError):
        dev.permissions("com.example.missing")
    start_accepted(dev)
    tap(dev, rid="btn_camera")
    assert dev.observe().activity == f"{PKG}.CameraActivity", "granted: no dialog"
