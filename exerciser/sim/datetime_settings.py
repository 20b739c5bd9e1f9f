"""The Settings app's Date & time page and the framework's DatePickerDialog / TimePickerDialog.

What a user (or a driver) does to set a phone's clock without root: `am start -a
android.settings.DATE_SETTINGS`, switch automatic time off, then pick the date (calendar: month arrows,
a day cell) and the time (the clock face, or the keyboard input mode from Android 8.0). Texts, ids and
formats are data (`models/android/date_time_settings.yaml`, with the AOSP sources). The picked date keeps
the time of day; the picked time sets hour and minute with seconds 0 (Settings' DatePreferenceController
and TimePreferenceController).

Whether automatic time is on, and setting the clock, go through the device's `time_settings`
(`LocalTimeSettings` in process; a served phone puts in its own, so that the switch is the same
`settings global auto_time` the shell sees and a set clock is the one `date` reads).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from exerciser import knowledge
from exerciser.sim.sysui import settings_page
from exerciser.sim.ui import Frame, Node, Window

TEXT = "android.widget.TextView"
LINEAR = "android.widget.LinearLayout"
FRAME = "android.widget.FrameLayout"
VIEW = "android.view.View"
BUTTON = "android.widget.Button"
IMAGE_BUTTON = "android.widget.ImageButton"


def facts() -> dict[str, Any]:
    return knowledge.load("android/date_time_settings.yaml")


class TimeSettings(Protocol):
    """What the page reads and changes: automatic time and the device clock."""

    def auto_time(self) -> bool: ...
    def set_auto_time(self, on: bool) -> None: ...
    def set_time_ms(self, ms: int) -> None: ...
    def restricted(self) -> bool: ...  # an admin's DISALLOW_CONFIG_DATE_TIME


class LocalTimeSettings:
    """In process: automatic time is a flag (no network time pulls the clock back), the clock is set."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self.auto = True  # a phone's default
        self.locked = False

    def auto_time(self) -> bool:
        return self.auto

    def set_auto_time(self, on: bool) -> None:
        self.auto = on

    def set_time_ms(self, ms: int) -> None:
        if not self.auto:
            self.device.set_clock(ms)

    def restricted(self) -> bool:
        return self.locked


@dataclass
class DateTimeAct:
    """The Date & time activity and the dialog it shows."""

    token: int
    dialog: str = ""  # "" | "date" | "time" | "ampm" (the AM/PM spinner's drop-down over "time")
    view: tuple[int, int] = (0, 0)  # date picker: (year, month) shown
    sel: tuple[int, int, int] = (0, 0, 0)  # date picker: selected day
    input_mode: bool = False  # time picker: keyboard input mode
    hour: int = 0  # time picker, clock mode: 0-23
    minute: int = 0
    hour_text: str = ""  # input mode fields
    minute_text: str = ""
    pm: bool = False  # input mode AM/PM spinner
    focus: str = ""  # "hour" | "minute": the input field with the keyboard focus
    minutes_face: bool = False  # clock mode: the face shows minutes (after an hour was picked)
    error: bool = False  # "Enter a valid time" shown


def _tappable(role: str, cls: str, **kw: Any) -> Node:
    """A control a finger can press: clickable and focusable, as Android's widgets report themselves."""
    return Node(role, cls, clickable=True, focusable=True, **kw)


def _page_texts(api: int, language: str) -> dict[str, str]:
    rows = [r for r in facts()["page"] if r["from"] <= api] or facts()["page"][:1]
    return rows[-1][language]


def _h24(language: str) -> bool:
    return bool(facts()["formats"][language]["h24"])


def _fmt(dt: datetime, key: str, language: str) -> str:
    pattern = facts()["formats"][language][key]
    wd = facts()["weekday_short"][language][dt.weekday()]
    month_short = facts()["month_names"]["en"][dt.month - 1][:3]
    out = (
        pattern.replace("%a", wd)
        .replace("%b", month_short)
        .replace("%B", facts()["month_names"]["en"][dt.month - 1])
    )
    out = out.replace("%-d", str(dt.day)).replace("%-m", str(dt.month)).replace("%Y", str(dt.year))
    return out


def time_text(dt: datetime, language: str) -> str:
    """DateFormat.getTimeFormat: "9:05 AM" (12-hour) or "09:05" (24-hour)."""
    if _h24(language):
        return f"{dt.hour:02d}:{dt.minute:02d}"
    p = facts()["pickers"][language]
    h = dt.hour % 12 or 12
    return f"{h}:{dt.minute:02d} {p['pm'] if dt.hour >= 12 else p['am']}"


# --- building the windows ---------------------------------------------------------------------------


def windows(dev: Any, act: DateTimeAct, now: datetime) -> list[Window]:
    """The page, and the dialog (and drop-down) in front of it."""
    out = [page_window(dev, now)]
    if act.dialog == "date":
        out.append(date_dialog(dev, act))
    elif act.dialog in ("time", "ampm"):
        out.append(time_dialog(dev, act))
        if act.dialog == "ampm":
            out.append(ampm_dropdown(dev))
    return out


def page_window(dev: Any, now: datetime) -> Window:
    prof, lang = dev.profile, dev.language
    t = _page_texts(prof.api_level, lang)
    ts: TimeSettings = dev.time_settings
    sp = prof.settings_package
    auto, locked = ts.auto_time(), ts.restricted()
    admin = facts()["admin_summary"][lang]

    def switch_row(title: str, summary: str, on: bool, action: tuple, enabled: bool) -> Node:
        kids = [Node("text", TEXT, text=title, resource_id="android:id/title", enabled=enabled)]
        if summary:
            kids.append(
                Node(
                    "text",
                    TEXT,
                    text=summary,
                    resource_id="android:id/summary",
                    style="muted",
                    enabled=enabled,
                )
            )
        switch = Node(
            "switch",
            "android.widget.Switch",
            resource_id="android:id/switch_widget",
            checkable=True,
            checked=on,
            enabled=enabled,
        )
        kids.append(Node("container", LINEAR, resource_id="android:id/widget_frame", children=[switch]))
        return _tappable("list_item", LINEAR, action=action, children=kids)

    def row(title: str, summary: str, action: tuple, enabled: bool) -> Node:
        return _tappable(
            "list_item",
            LINEAR,
            enabled=enabled,
            action=action,
            children=[
                Node("text", TEXT, text=title, resource_id="android:id/title", enabled=enabled),
                Node(
                    "text",
                    TEXT,
                    text=summary,
                    resource_id="android:id/summary",
                    style="muted",
                    enabled=enabled,
                ),
            ],
        )

    manual = not auto and not locked
    zone = "GMT+08:00 中国标准时间" if lang == "zh" else "GMT-05:00 Eastern Standard Time"
    rows = [
        switch_row(t["auto"], admin if locked else t["auto_summary"], auto, ("dt", "auto"), not locked),
        row(t["date"], admin if locked else _fmt(now, "long_date", lang), ("dt", "date"), manual),
        row(t["time"], admin if locked else time_text(now, lang), ("dt", "time"), manual),
        switch_row(t["auto_zone"], t["auto_zone_summary"], True, ("dt", "noop"), not locked),
        row(t["zone"], zone, ("dt", "noop"), False),
        switch_row(t["h24"], "", _h24(lang), ("dt", "noop"), True),
    ]
    recycler = prof.api_level >= 28
    content = Node(
        "container",
        "androidx.recyclerview.widget.RecyclerView" if recycler else "android.widget.ListView",
        resource_id=f"{sp}:id/recycler_view" if recycler else "android:id/list",
        children=rows,
    )
    return settings_page(sp, t["title"], content)


def _buttons(lang: str) -> Node:
    p = facts()["pickers"][lang]
    return Node(
        "container",
        LINEAR,
        resource_id="android:id/buttonPanel",
        children=[
            _tappable(
                "button",
                BUTTON,
                text=p["cancel"],
                resource_id="android:id/button2",
                style="muted",
                action=("dt", "cancel"),
            ),
            _tappable(
                "button",
                BUTTON,
                text=p["ok"],
                resource_id="android:id/button1",
                style="muted",
                action=("dt", "ok"),
            ),
        ],
    )


def day_description(y: int, m: int, d: int, lang: str) -> str:
    """MonthViewTouchHelper: DateFormat "dd MMMM yyyy"."""
    return f"{d:02d} {facts()['month_names'][lang][m - 1]} {y}"


def date_dialog(dev: Any, act: DateTimeAct) -> Window:
    lang = dev.language
    p = facts()["pickers"][lang]
    y, m = act.view
    sy, sm, sd = act.sel
    selected = datetime(sy, sm, sd)
    header = Node(
        "container",
        LINEAR,
        resource_id="android:id/date_picker_header",
        children=[
            _tappable(
                "text",
                TEXT,
                text=_fmt(selected, "header_year", lang),
                resource_id="android:id/date_picker_header_year",
                action=("dt", "noop"),
            ),
            _tappable(
                "title",
                TEXT,
                text=_fmt(selected, "header_date", lang),
                resource_id="android:id/date_picker_header_date",
                action=("dt", "noop"),
            ),
        ],
    )
    first, days = calendar.monthrange(y, m)  # first: Monday = 0
    offset = (first + 1) % 7  # SimpleMonthView's week starts on Sunday (DEFAULT_WEEK_START)
    cells = [
        Node(
            "text",
            VIEW,
            text=str(d),
            content_desc=day_description(y, m, d, lang),
            checked=(y, m, d) == act.sel,
            style="emphasis" if (y, m, d) == act.sel else "",
            action=("dt", "day", d),
        )
        for d in range(1, days + 1)
    ]
    month = Node(
        "grid", VIEW, resource_id="android:id/month_view", style=f"cols7 offset{offset}", children=cells
    )
    arrows = [
        _tappable(
            "button",
            IMAGE_BUTTON,
            content_desc=p["prev"],
            resource_id="android:id/prev",
            style="muted",
            action=("dt", "prev"),
        ),
        _tappable(
            "button",
            IMAGE_BUTTON,
            content_desc=p["next"],
            resource_id="android:id/next",
            style="muted",
            action=("dt", "next"),
        ),
    ]
    pager = Node(
        "container",
        "android.support.v4.view.ViewPager"
        if dev.profile.api_level < 28
        else "com.android.internal.widget.ViewPager",
        resource_id="android:id/day_picker_view_pager",
        children=[month],
    )
    animator = Node(
        "container",
        "android.widget.ViewAnimator",
        resource_id="android:id/animator",
        children=[Node("container", "android.view.ViewGroup", children=[*arrows, pager])],
    )
    picker = Node(
        "container",
        "android.widget.DatePicker",
        resource_id="android:id/datePicker",
        children=[header, animator],
    )
    return Window(
        "dialog",
        dev.profile.settings_package,
        Node("container", FRAME, children=[picker, _buttons(lang)]),
        dim_behind=True,
    )


def time_dialog(dev: Any, act: DateTimeAct) -> Window:
    lang = dev.language
    p = facts()["pickers"][lang]
    h24 = _h24(lang)
    toggle_ok = dev.profile.api_level >= 26
    kids: list[Node] = []
    if act.input_mode:

        def field(name: str, text: str) -> Node:
            return _tappable(
                "input",
                "android.widget.EditText",
                text=text,
                resource_id=f"android:id/input_{name}",
                focused=act.focus == name,
                selected=act.focus == name,
                action=("dt", "field", name),
            )

        block = [
            field("hour", act.hour_text),
            Node("text", TEXT, text=p["hour"], resource_id="android:id/label_hour", style="muted"),
            Node("text", TEXT, text=":", resource_id="android:id/input_separator"),
            field("minute", act.minute_text),
            Node("text", TEXT, text=p["minute"], resource_id="android:id/label_minute", style="muted"),
        ]
        if act.error:
            block.append(
                Node("text", TEXT, text=p["error"], resource_id="android:id/label_error", style="danger")
            )
        mode = [
            Node("text", TEXT, text=p["prompt"], resource_id="android:id/top_label", style="muted"),
            Node(
                "container",
                "android.widget.RelativeLayout",
                resource_id="android:id/input_block",
                children=block,
            ),
        ]
        if not h24:
            mode.append(
                _tappable(
                    "list_item",
                    "android.widget.Spinner",
                    resource_id="android:id/am_pm_spinner",
                    action=("dt", "ampm_open"),
                    children=[
                        Node(
                            "text", TEXT, text=p["pm"] if act.pm else p["am"], resource_id="android:id/text1"
                        )
                    ],
                )
            )
        kids.append(
            Node(
                "container",
                "android.widget.RelativeLayout",
                resource_id="android:id/input_mode",
                children=mode,
            )
        )
    else:
        hour = act.hour if h24 else (act.hour % 12 or 12)
        head = [
            _tappable(
                "title",
                TEXT,
                text=f"{hour:02d}" if h24 else str(hour),
                resource_id="android:id/hours",
                selected=not act.minutes_face,
                action=("dt", "show", 0),
            ),
            Node("title", TEXT, text=":", resource_id="android:id/separator"),
            _tappable(
                "title",
                TEXT,
                text=f"{act.minute:02d}",
                resource_id="android:id/minutes",
                selected=act.minutes_face,
                action=("dt", "show", 1),
            ),
        ]
        if not h24:
            head.append(
                Node(
                    "container",
                    LINEAR,
                    resource_id="android:id/ampm_layout",
                    children=[
                        Node(
                            "radio",
                            "android.widget.RadioButton",
                            text=p["am"],
                            resource_id="android:id/am_label",
                            clickable=True,
                            checkable=True,
                            checked=act.hour < 12,
                            action=("dt", "half", 0),
                        ),
                        Node(
                            "radio",
                            "android.widget.RadioButton",
                            text=p["pm"],
                            resource_id="android:id/pm_label",
                            clickable=True,
                            checkable=True,
                            checked=act.hour >= 12,
                            action=("dt", "half", 1),
                        ),
                    ],
                )
            )
        # RadialTimePickerView's touch helper: a virtual node per hour, or per 5 minutes (and the current
        # minute between two), its value as content-desc, the helper's class name
        if act.minutes_face:
            values = sorted({*range(0, 60, 5), act.minute})
            kind, current = "minute", act.minute
        else:
            values, kind, current = list(range(0, 24) if h24 else range(1, 13)), "face", hour
        face = [
            Node(
                "text",
                "android.widget.RadialTimePickerView$RadialPickerTouchHelper",
                content_desc=str(v),
                selected=v == current,
                style="emphasis" if v == current else "",
                action=("dt", kind, v),
            )
            for v in values
        ]
        kids.append(Node("container", LINEAR, resource_id="android:id/time_header", children=head))
        kids.append(
            Node("grid", VIEW, resource_id="android:id/radial_picker", style="cols6 offset0", children=face)
        )
    if toggle_ok:
        kids.append(
            _tappable(
                "button",
                IMAGE_BUTTON,
                content_desc=p["to_clock"] if act.input_mode else p["to_input"],
                resource_id="android:id/toggle_mode",
                style="muted",
                action=("dt", "toggle"),
            )
        )
    picker = Node(
        "container", "android.widget.TimePicker", resource_id="android:id/timePicker", children=kids
    )
    return Window(
        "dialog",
        dev.profile.settings_package,
        Node("container", FRAME, children=[picker, _buttons(lang)]),
        dim_behind=True,
    )


def ampm_dropdown(dev: Any) -> Window:
    p = facts()["pickers"][dev.language]
    items = [
        _tappable(
            "list_item",
            "android.widget.CheckedTextView",
            text=label,
            resource_id="android:id/text1",
            action=("dt", "ampm", i),
        )
        for i, label in enumerate((p["am"], p["pm"]))
    ]
    lst = Node("container", "android.widget.ListView", children=items)
    return Window("dialog", dev.profile.settings_package, Node("container", FRAME, children=[lst]))


# --- input ------------------------------------------------------------------------------------------


def tap(frame: Frame, x: int, y: int) -> tuple | None:
    """The action under (x, y) in the top window: the deepest enabled node with one (a day cell is not
    clickable in the hierarchy, yet SimpleMonthView takes the touch); None outside every node."""
    root = frame.top.root
    hit: tuple | None = None

    def visit(n: Node, enabled: bool) -> None:
        nonlocal hit
        b = n.bounds
        if b is None or not (b[0] <= x < b[2] and b[1] <= y < b[3]):
            return
        on = enabled and n.enabled
        if n.action is not None:
            hit = n.action if on else ("dt", "disabled")
        for c in n.children:
            visit(c, on)

    visit(root, True)
    return hit


def inside_top(frame: Frame, x: int, y: int) -> bool:
    b = frame.top.root.bounds or (0, 0, 0, 0)
    return b[0] <= x < b[2] and b[1] <= y < b[3]


def dispatch(dev: Any, act: DateTimeAct, action: tuple, now_ms: int) -> None:
    """One tap's effect on the page or its dialog."""
    ts: TimeSettings = dev.time_settings
    what = action[1]
    now = dev.local_time(now_ms)
    if what == "auto" and not ts.restricted():
        ts.set_auto_time(not ts.auto_time())
    elif what == "date" and not ts.auto_time():
        act.dialog, act.view, act.sel = "date", (now.year, now.month), (now.year, now.month, now.day)
    elif what == "time" and not ts.auto_time():
        act.minutes_face = False
        act.dialog, act.input_mode, act.hour, act.minute, act.error = (
            "time",
            False,
            now.hour,
            now.minute,
            False,
        )
    elif what in ("prev", "next"):
        y, m = act.view
        m += 1 if what == "next" else -1
        act.view = (y + (m - 1) // 12, (m - 1) % 12 + 1)
    elif what == "day":
        act.sel = (*act.view, int(action[2]))
    elif what == "face":  # an hour picked: the face moves on to the minutes (auto-advance)
        h = int(action[2])
        act.hour = h if _h24(dev.language) else (h % 12) + (12 if act.hour >= 12 else 0)
        act.minutes_face = True
    elif what == "minute":
        act.minute = int(action[2])
    elif what == "show":
        act.minutes_face = bool(action[2])
    elif what == "half":
        act.hour = act.hour % 12 + 12 * int(action[2])
    elif what == "toggle":
        if act.input_mode:
            parsed = _parse_input(act, dev.language)
            if parsed is not None:
                act.hour, act.minute = parsed
            act.input_mode, act.focus = False, ""
        else:
            h24 = _h24(dev.language)
            act.input_mode, act.error, act.focus = True, False, "hour"
            act.hour_text = str(act.hour if h24 else (act.hour % 12 or 12))
            act.minute_text = f"{act.minute:02d}"
            act.pm = act.hour >= 12
    elif what == "field":
        act.focus = str(action[2])
    elif what == "ampm_open":
        act.dialog, act.focus = "ampm", ""
    elif what == "ampm":
        act.pm, act.dialog = bool(action[2]), "time"
    elif what == "cancel":
        act.dialog, act.focus = "", ""
    elif what == "ok":
        _confirm(dev, act, now_ms)


def _parse_input(act: DateTimeAct, language: str) -> tuple[int, int] | None:
    """TextInputTimePickerView.validateInput: hour 1-12 (or 0-23), minute 0-59."""
    if not (act.hour_text.isdigit() and act.minute_text.isdigit()):
        return None
    h, mi = int(act.hour_text), int(act.minute_text)
    if _h24(language):
        ok = 0 <= h <= 23
    else:
        ok = 1 <= h <= 12
        h = h % 12 + (12 if act.pm else 0)
    return (h, mi) if ok and 0 <= mi <= 59 else None


def _confirm(dev: Any, act: DateTimeAct, now_ms: int) -> None:
    ts: TimeSettings = dev.time_settings
    now = dev.local_time(now_ms)
    if act.dialog == "date":
        y, m, d = act.sel
        target = now.replace(year=y, month=m, day=d)  # DatePreferenceController keeps the time of day
    else:
        if act.input_mode:
            parsed = _parse_input(act, dev.language)
            if parsed is None:  # the dialog stays, with "Enter a valid time"
                act.error = True
                return
            act.hour, act.minute = parsed
        target = now.replace(hour=act.hour, minute=act.minute, second=0, microsecond=0)
    act.dialog, act.focus, act.error = "", "", False
    delta = target - now
    ts.set_time_ms(now_ms + int(delta / timedelta(milliseconds=1)))


def back(act: DateTimeAct) -> bool:
    """BACK closes the drop-down or dialog (True); on the page it finishes the activity (False)."""
    if act.dialog == "ampm":
        act.dialog = "time"
        return True
    if act.dialog:
        act.dialog, act.focus = "", ""
        return True
    return False


def type_text(act: DateTimeAct, text: str) -> bool:
    """Typed into the focused field of the input mode (digits only: inputType="number")."""
    if act.dialog != "time" or not act.input_mode or not act.focus:
        return False
    digits = "".join(c for c in text if c.isdigit())
    if act.focus == "hour":
        act.hour_text = (act.hour_text + digits)[:2]
    else:
        act.minute_text = (act.minute_text + digits)[:2]
    act.error = False
    return True


def delete_text(act: DateTimeAct, count: int | None) -> bool:
    if act.dialog != "time" or not act.input_mode or not act.focus:
        return False
    name = "hour_text" if act.focus == "hour" else "minute_text"
    cur = getattr(act, name)
    setattr(act, name, "" if count is None else cur[: max(len(cur) - count, 0)])
    return True
