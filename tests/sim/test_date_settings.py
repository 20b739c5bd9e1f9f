"""The Settings app's Date & time page and the date and time pickers of the virtual device: AOSP's titles per
API level, ids and day cells as uiautomator dumps them, what a tap does, what the screenshot shows (real
tesseract), and the page as a served phone's shell reaches it (`am start -a android.settings.DATE_SETTINGS`,
the switch being `settings global auto_time`)."""

from __future__ import annotations

import io
import os
import re
from datetime import datetime

import pytest
from PIL import Image

from exerciser.device.settings_time import parse
from exerciser.sim import VirtualDevice
from exerciser.sim.adbfront.commands import make_commands
from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Shell


def device(profile="api33", locale="en-US") -> VirtualDevice:
    d = VirtualDevice([], profile=profile, locale=locale)
    d.open_date_settings()
    return d


def nodes(d: VirtualDevice):
    return parse(d.observe().xml)


def by_id(d: VirtualDevice, rid: str):
    return next(n for n in nodes(d) if n.rid == rid)


def row(d: VirtualDevice, title: str):
    return next(n for n in nodes(d) if any(k.rid == "android:id/title" and k.text == title for k in n.kids))


def tap(d: VirtualDevice, node) -> None:
    d.tap(*node.centre)


def local(d: VirtualDevice) -> datetime:
    return d.local_time(d.now_ms())


@pytest.mark.parametrize(
    ("profile", "locale", "auto", "date", "time"),
    [
        ("api23", "en-US", "Automatic date & time", "Set date", "Set time"),
        ("api28", "en-US", "Automatic date & time", "Date", "Time"),
        ("api29", "en-US", "Use network-provided time", "Date", "Time"),
        ("api33", "en-US", "Set time automatically", "Date", "Time"),
        ("api23", "zh-CN", "自动确定日期和时间", "设置日期", "设置时间"),
        ("api34", "zh-CN", "自动设置时间", "日期", "时间"),
    ],
)
def test_page_titles_per_api_level_and_entries_disabled_while_automatic(profile, locale, auto, date, time):
    d = device(profile, locale)
    assert d.foreground() == (
        "com.android.settings",
        "com.android.settings.Settings$DateTimeSettingsActivity",
    )
    ns = nodes(d)
    assert any(n.text == ("日期和时间" if locale == "zh-CN" else "Date & time") for n in ns)
    list_id = "com.android.settings:id/recycler_view" if d.profile.api_level >= 28 else "android:id/list"
    assert any(n.rid == list_id for n in ns)
    switch = next(k for k in row(d, auto).walk() if k.rid == "android:id/switch_widget")
    assert switch.checked and switch.cls == "android.widget.Switch"
    assert not row(d, date).enabled and not row(d, time).enabled
    before = d.now_ms()
    tap(d, row(d, date))  # disabled: nothing opens
    assert not any(n.rid == "android:id/datePicker" for n in nodes(d))
    tap(d, row(d, auto))
    assert d.time_settings.auto_time() is False
    assert row(d, date).enabled and row(d, time).enabled
    assert d.now_ms() >= before


def test_date_picker_calendar_as_uiautomator_sees_it_and_ok_keeps_the_time_of_day():
    d = device()
    tap(d, row(d, "Set time automatically"))
    tap(d, row(d, "Date"))
    assert by_id(d, "android:id/date_picker_header_year").text == "2026"
    assert by_id(d, "android:id/date_picker_header_date").text == "Mon, Jan 5"
    assert by_id(d, "android:id/prev").desc == "Previous month"
    assert by_id(d, "android:id/next").desc == "Next month"
    month = by_id(d, "android:id/month_view")
    days = [k for k in month.kids]
    assert [k.text for k in days] == [str(i) for i in range(1, 32)]
    assert days[4].desc == "05 January 2026" and days[4].checked  # the selected day
    assert all(k.cls == "android.view.View" and not k.checked for k in days if k.text != "5")
    assert (
        'clickable="false"'
        in re.search(r'<node[^>]*content-desc="08 January 2026"[^>]*>', d.observe().xml)[0]
    )
    # Jan 1 2026 is a Thursday: the first cell sits in the fifth column (weeks start on Sunday)
    cw = days[1].bounds[0] - days[0].bounds[0]
    assert days[0].bounds[0] - days[3].bounds[0] == 4 * cw
    assert days[3].bounds[1] > days[2].bounds[1]  # the 4th (Sunday) opens the second row
    tap(d, by_id(d, "android:id/next"))
    tap(d, by_id(d, "android:id/next"))
    feb = [k for k in by_id(d, "android:id/month_view").kids]
    assert len(feb) == 31 and feb[0].desc == "01 March 2026"
    before = local(d)
    tap(d, next(k for k in feb if k.text == "9"))
    assert by_id(d, "android:id/date_picker_header_date").text == "Mon, Mar 9"
    tap(d, by_id(d, "android:id/button1"))
    after = local(d)
    assert (after.month, after.day) == (3, 9)
    assert after.hour == before.hour and after.minute == before.minute  # the time of day kept
    assert not any(n.rid == "android:id/datePicker" for n in nodes(d))
    assert row(d, "Date").kids[1].text == "March 9, 2026"


def test_date_picker_cancel_and_back_change_nothing():
    d = device()
    tap(d, row(d, "Set time automatically"))
    tap(d, row(d, "Date"))
    tap(d, by_id(d, "android:id/next"))
    tap(d, next(k for k in by_id(d, "android:id/month_view").kids if k.text == "3"))
    tap(d, by_id(d, "android:id/button2"))
    assert local(d).month == 1
    tap(d, row(d, "Date"))
    from exerciser.device.contract import Key

    d.key(Key.BACK)
    assert local(d).month == 1 and d.foreground()[0] == "com.android.settings"
    d.key(Key.BACK)  # the page itself: finished, the launcher is back
    assert d.foreground()[0] == d.profile.launcher_package


def test_time_picker_keyboard_mode_12_hour_sets_minutes_with_seconds_zero():
    d = device()
    tap(d, row(d, "Set time automatically"))
    tap(d, row(d, "Time"))
    assert by_id(d, "android:id/hours").text == "9" and by_id(d, "android:id/minutes").text == "00"
    assert by_id(d, "android:id/am_label").checked
    toggle = by_id(d, "android:id/toggle_mode")
    assert toggle.desc == "Switch to text input mode for the time input."
    tap(d, toggle)
    assert by_id(d, "android:id/top_label").text == "Type in time"
    assert by_id(d, "android:id/input_hour").text == "9" and by_id(d, "android:id/input_minute").text == "00"
    assert by_id(d, "android:id/toggle_mode").desc == "Switch to clock mode for the time input."
    tap(d, by_id(d, "android:id/input_hour"))
    d.clear_text()
    d.type_text("13")  # not an hour of a 12-hour clock
    tap(d, by_id(d, "android:id/button1"))
    assert by_id(d, "android:id/label_error").text == "Enter a valid time"  # the dialog stays
    tap(d, by_id(d, "android:id/input_hour"))
    d.clear_text()
    d.type_text("4")
    tap(d, by_id(d, "android:id/input_minute"))
    d.delete_text(2)
    d.type_text("27")
    tap(d, by_id(d, "android:id/am_pm_spinner"))
    items = [n for n in nodes(d) if n.rid == "android:id/text1"]
    assert [n.text for n in items] == ["AM", "PM"]
    tap(d, items[1])
    assert by_id(d, "android:id/am_pm_spinner").kids[0].text == "PM"
    tap(d, by_id(d, "android:id/button1"))
    after = local(d)
    assert (after.hour, after.minute, after.second) == (16, 27, 0)  # seconds 0, the tap's moment after
    assert row(d, "Time").kids[1].text == "4:27 PM"


def test_time_picker_zh_is_24_hour_and_android_7_has_no_keyboard_mode():
    d = device("api33", "zh-CN")
    tap(d, row(d, "自动设置时间"))
    tap(d, row(d, "时间"))
    assert by_id(d, "android:id/hours").text == "09"
    assert not any(n.rid == "android:id/ampm_layout" for n in nodes(d))
    tap(d, by_id(d, "android:id/toggle_mode"))
    assert not any(n.rid == "android:id/am_pm_spinner" for n in nodes(d))
    assert by_id(d, "android:id/label_hour").text == "小时"
    tap(d, by_id(d, "android:id/input_hour"))
    d.clear_text()
    d.type_text("21")
    tap(d, by_id(d, "android:id/button1"))
    assert local(d).hour == 21 and row(d, "时间").kids[1].text == "21:00"
    old = device("api23")  # Android 6.0: the clock face only
    tap(old, row(old, "Automatic date & time"))
    tap(old, row(old, "Set time"))
    assert not any(n.rid == "android:id/toggle_mode" for n in nodes(old))
    face = by_id(old, "android:id/radial_picker")
    assert [k.desc for k in face.kids] == [str(h) for h in range(1, 13)]
    assert {k.cls for k in face.kids} == {"android.widget.RadialTimePickerView$RadialPickerTouchHelper"}
    tap(old, next(k for k in face.kids if k.desc == "11"))
    minutes = [k.desc for k in by_id(old, "android:id/radial_picker").kids]  # moved on to the minutes
    assert minutes == [str(m) for m in range(0, 60, 5)]
    tap(old, next(k for k in by_id(old, "android:id/radial_picker").kids if k.desc == "35"))
    tap(old, by_id(old, "android:id/pm_label"))
    assert by_id(old, "android:id/hours").text == "11" and by_id(old, "android:id/minutes").text == "35"
    tap(old, by_id(old, "android:id/button1"))
    assert (local(old).hour, local(old).minute) == (23, 35)


def _ocr(img: Image.Image, config: str = "--psm 6") -> str:
    pytesseract = pytest.importorskip("pytesseract")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    return pytesseract.image_to_string(img, lang="eng", config=config)


def test_screenshots_show_the_page_and_the_calendar():
    d = device()
    page = Image.open(io.BytesIO(d.observe().png))
    text = _ocr(page.crop((0, 60, 1080, 900)))
    assert "Date & time" in text and "Set time automatically" in text
    tap(d, row(d, "Set time automatically"))
    tap(d, row(d, "Date"))
    shot = Image.open(io.BytesIO(d.observe().png))
    for cell in by_id(d, "android:id/month_view").kids[::7]:  # each day cell shows its number
        x1, y1, x2, y2 = cell.bounds
        digits = _ocr(shot.crop((x1 - 10, y1, x2 + 10, y2)), "--psm 7 -c tessedit_char_whitelist=0123456789")
        assert digits.strip() == cell.text
    x1, y1, x2, y2 = by_id(d, "android:id/button1").bounds
    assert "OK" in _ocr(shot.crop((x1, y1, x2, y2)))
    assert shot.getpixel((20, 2000)) < page.getpixel((20, 2000))  # the page dims behind the dialog


# --- the served phone ----------------------------------------------------------------------------------


def served(methods=("settings-ui",)) -> tuple[Phone, Shell]:
    phone = Phone(
        VirtualDevice([], profile="api33"), "127.0.0.1:7401", 7401, clock_methods=frozenset(methods)
    )
    return phone, Shell(phone.fs, make_commands(phone))


def run(shell: Shell, line: str) -> str:
    out, err, _ = shell.run(line)
    return (out + err).decode()


def test_am_start_date_settings_and_the_switch_is_the_shell_setting():
    phone, shell = served()
    out = run(shell, "am start -a android.settings.DATE_SETTINGS")
    assert out.strip() == "Starting: Intent { act=android.settings.DATE_SETTINGS }"
    assert phone.focus() == ("com.android.settings", "com.android.settings.Settings$DateTimeSettingsActivity")
    assert "DateTimeSettingsActivity" in run(shell, "dumpsys activity activities")
    d = phone.device
    sw = next(k for k in row(d, "Set time automatically").walk() if k.rid == "android:id/switch_widget")
    assert sw.checked
    phone.call("tap", *row(d, "Set time automatically").centre)
    assert run(shell, "settings get global auto_time").strip() == "0"
    run(shell, "settings put global auto_time 1")
    phone.invalidate()
    sw = next(k for k in row(d, "Set time automatically").walk() if k.rid == "android:id/switch_widget")
    assert sw.checked and not row(d, "Date").enabled
    assert "unable to resolve" in run(shell, "am start -a android.settings.NO_SUCH_PAGE")


def test_served_pickers_set_the_clock_the_shell_reads_and_automatic_time_pulls_it_back():
    phone, shell = served()
    run(shell, "am start -a android.settings.DATE_SETTINGS")
    d = phone.device
    phone.call("tap", *row(d, "Set time automatically").centre)
    phone.call("tap", *row(d, "Date").centre)
    phone.call("tap", *by_id(d, "android:id/next").centre)
    phone.call("tap", *next(k for k in by_id(d, "android:id/month_view").kids if k.text == "20").centre)
    phone.call("tap", *by_id(d, "android:id/button1").centre)
    assert run(shell, "date +%m-%d").strip() == "02-20"
    run(shell, "settings put global auto_time 1")  # network time takes the clock back
    assert run(shell, "date +%m-%d").strip() == "01-05"


def test_a_phone_with_no_clock_method_has_its_page_locked_by_the_admin():
    phone, shell = served(methods=())
    run(shell, "am start -a android.settings.DATE_SETTINGS")
    d = phone.device
    auto = row(d, "Set time automatically")
    # RestrictedPreferenceHelper: the row stays, its title greyed and the admin's summary under it
    assert any(k.text == "Controlled by admin" for k in auto.kids)
    greyed = [k for k in auto.walk() if k.rid in ("android:id/title", "android:id/switch_widget")]
    assert len(greyed) == 2 and not any(k.enabled for k in greyed)
    phone.call("tap", *auto.centre)
    assert run(shell, "settings get global auto_time").strip() == "1"  # nothing changed
    run(shell, "settings put global auto_time 0")  # the shell still may; the entries stay locked
    phone.invalidate()
    assert not row(d, "Date").enabled
