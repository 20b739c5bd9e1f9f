"""Setting a phone's clock through the Settings app's Date & time page, as a user does: the way left on a
production phone (no root, and the shell may not `cmd alarm set-time`).

`am start -a android.settings.DATE_SETTINGS`, automatic time off (its switch), then the Date entry's
DatePickerDialog (calendar mode: month arrows `android:id/prev` / `next`, the day cell the dump shows for
the day) and the Time entry's TimePickerDialog in its keyboard input mode (`android:id/toggle_mode`,
`input_hour`, `input_minute`, the AM/PM spinner) — before Android 8.0, its clock face (the hour's and then
the minute's node of RadialTimePickerView, which offers minutes in steps of 5, and AM/PM) — each confirmed
with `android:id/button1`; HOME at the end. The phone keeps minute precision (a picked time has seconds
0), so the target is rounded up to the next minute (5 minutes on the clock face): the jump is never short,
and the caller reads the clock back for the real one.

Every tap, typed text and key goes through `UiPort`, which the safety guard stands behind
(`exerciser.safety.clock_ui`): the page is read before each input and nothing else of Settings is touched.
Titles and ids are data (`models/android/date_time_settings.yaml`).
"""

from __future__ import annotations

import logging
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from exerciser import knowledge

log = logging.getLogger(__name__)

Shell = Callable[..., tuple[str, int]]
MAX_MONTHS = 24  # month arrows tapped at most (a jump of two years is no protocol's wait)
SLACK_MS = 5 * 60_000  # the clock read back may lie this far past the minute asked for (UI time)


class UiPort(Protocol):
    """Screen and inputs of the phone, behind the safety guard."""

    def dump(self) -> str: ...  # hierarchy XML of the screen now (the guard has read it)
    def tap(self, x: int, y: int) -> None: ...  # raises when the guard refuses
    def type_text(self, text: str) -> None: ...
    def clear_text(self) -> None: ...  # empty the focused field
    def home(self) -> None: ...


class SettingsUiError(Exception):
    """The page or a picker was not as expected (or the guard refused an input): the clock is not set."""


@dataclass
class UiNode:
    text: str
    rid: str
    cls: str
    desc: str
    checked: bool
    enabled: bool
    bounds: tuple[int, int, int, int]
    kids: list[UiNode]

    @property
    def centre(self) -> tuple[int, int]:
        x1, y1, x2, y2 = self.bounds
        return (x1 + x2) // 2, (y1 + y2) // 2

    def walk(self):
        yield self
        for k in self.kids:
            yield from k.walk()


def parse(xml: str) -> list[UiNode]:
    """Every node of a dump, document order (windows bottom to top in a dump of all windows)."""
    root = ET.fromstring(xml)

    def conv(e: ET.Element) -> UiNode:
        nums = [int(n) for n in re.findall(r"-?\d+", e.get("bounds", ""))] + [0, 0, 0, 0]
        return UiNode(
            e.get("text", ""),
            e.get("resource-id", ""),
            e.get("class", ""),
            e.get("content-desc", ""),
            e.get("checked") == "true",
            e.get("enabled", "true") == "true",
            (nums[0], nums[1], nums[2], nums[3]),
            [conv(c) for c in e if c.tag == "node"],
        )

    tops = [conv(c) for c in root if c.tag == "node"]
    return [n for t in tops for n in t.walk()]


def _facts() -> dict:
    return knowledge.load("android/date_time_settings.yaml")


def _titles(key: str) -> set[str]:
    return {row[lang][key] for row in _facts()["page"] for lang in ("en", "zh")}


def _by_id(nodes: list[UiNode], rid: str) -> UiNode | None:
    return next((n for n in nodes if n.rid == rid), None)


def _row(nodes: list[UiNode], key: str) -> UiNode | None:
    """The preference row whose title is one of the page's titles for `key` (any version, any language)."""
    titles = _titles(key)
    rows = [n for n in nodes if any(k.rid == "android:id/title" and k.text in titles for k in n.kids)]
    return rows[-1] if rows else None


def local_offset_ms(sh: Shell) -> int:
    """The phone's UTC offset now (`date +%z`: +0800)."""
    out, _ = sh("date +%z")
    m = re.search(r"([+-])(\d{2}):?(\d{2})", out)
    if m is None:
        return 0
    sign = -1 if m.group(1) == "-" else 1
    return sign * (int(m.group(2)) * 60 + int(m.group(3))) * 60_000


class SettingsClock:
    """One phone's Date & time page, driven through `ui`; `sh` and `now_ms` are the driver's."""

    def __init__(self, sh: Shell, ui: UiPort, now_ms: Callable[[], int], step_min: int = 1) -> None:
        self.sh, self.ui, self.now_ms = sh, ui, now_ms
        self.step_ms = max(1, step_min) * 60_000  # 5 where only the clock face sets the time
        self.taps = 0

    # --- the page ----------------------------------------------------------------------------------
    def open(self) -> list[UiNode]:
        out, status = self.sh(f"am start -a {_facts()['intent_action']}")
        if status != 0 or "Error" in out:
            raise SettingsUiError(f"the Date & time page does not open: {out.strip()[:120]}")
        nodes = self._look()
        if _row(nodes, "auto") is None:
            raise SettingsUiError("no automatic time switch on the Date & time page")
        return nodes

    def set_auto(self, on: bool) -> None:
        """Automatic time on or off through its switch (already so: nothing is tapped)."""
        nodes = self.open()
        try:
            self._switch_auto(nodes, on)
        finally:
            self.ui.home()

    def set_clock(self, target_ms: int) -> int:
        """Set the clock to `target_ms` rounded up to the minute (local time of the phone): the ms asked."""
        offset = local_offset_ms(self.sh)
        want = math.ceil(target_ms / self.step_ms) * self.step_ms
        local = datetime.fromtimestamp((want + offset) / 1000, UTC).replace(tzinfo=None)
        nodes = self.open()
        try:
            nodes = self._switch_auto(nodes, False)
            self._pick_date(nodes, local, offset)
            self._pick_time(self._look(), local)
        finally:
            self.ui.home()
        return want

    def _switch_auto(self, nodes: list[UiNode], on: bool) -> list[UiNode]:
        row = _row(nodes, "auto")
        assert row is not None
        sw = next((k for k in row.walk() if k.rid == "android:id/switch_widget"), None)
        if sw is not None and sw.checked == on:
            return nodes
        if not row.enabled or (sw is not None and not sw.enabled):
            raise SettingsUiError("automatic time cannot be switched: the page is locked (by an admin)")
        nodes = self._tap(row)
        row = _row(nodes, "auto")
        sw = next((k for k in row.walk() if k.rid == "android:id/switch_widget"), None) if row else None
        if sw is None or sw.checked != on:
            raise SettingsUiError("the automatic time switch did not change")
        return nodes

    # --- the pickers -------------------------------------------------------------------------------
    def _entry(self, nodes: list[UiNode], key: str) -> list[UiNode]:
        row = _row(nodes, key)
        if row is None:
            raise SettingsUiError(f"no {key} entry on the Date & time page")
        if not row.enabled:
            raise SettingsUiError(f"the {key} entry is disabled (automatic time still on, or locked)")
        return self._tap(row)

    def _pick_date(self, nodes: list[UiNode], local: datetime, offset: int) -> None:
        nodes = self._entry(nodes, "date")
        if _by_id(nodes, "android:id/next") is None:
            self._cancel(nodes)
            raise SettingsUiError("the date picker has no month arrows (not the calendar mode)")
        now = datetime.fromtimestamp((self.now_ms() + offset) / 1000, UTC)
        months = (local.year * 12 + local.month) - (now.year * 12 + now.month)
        if abs(months) > MAX_MONTHS:
            self._cancel(nodes)
            raise SettingsUiError(f"{months} months away: too far for the month arrows")
        arrow = "android:id/next" if months > 0 else "android:id/prev"
        for _ in range(abs(months)):
            nodes = self._tap(self._need(nodes, arrow))
        cell = _day_cell(nodes, local.day, local.year)
        if cell is None:
            self._cancel(nodes)
            raise SettingsUiError(f"no cell for day {local.day} in the month shown")
        nodes = self._tap(cell)
        self._tap(self._need(nodes, "android:id/button1"))

    def _pick_time(self, nodes: list[UiNode], local: datetime) -> None:
        nodes = self._entry(nodes, "time")
        if _by_id(nodes, "android:id/input_hour") is None:
            toggle = _by_id(nodes, "android:id/toggle_mode")
            if toggle is None:  # before Android 8.0: only the clock face
                self._pick_on_face(nodes, local)
                return
            nodes = self._tap(toggle)
        twelve = _by_id(nodes, "android:id/am_pm_spinner") is not None
        hour = (local.hour % 12 or 12) if twelve else local.hour
        nodes = self._type(nodes, "android:id/input_hour", str(hour))
        nodes = self._type(nodes, "android:id/input_minute", f"{local.minute:02d}")
        if twelve:
            nodes = self._tap(self._need(nodes, "android:id/am_pm_spinner"))
            items = [n for n in nodes if n.rid == "android:id/text1"][-2:]  # the drop-down: AM, PM
            if len(items) != 2:
                raise SettingsUiError("the AM/PM drop-down did not open")
            nodes = self._tap(items[1 if local.hour >= 12 else 0])
        nodes = self._tap(self._need(nodes, "android:id/button1"))
        if _by_id(nodes, "android:id/label_error") is not None or _by_id(nodes, "android:id/timePicker"):
            self._cancel(nodes)
            raise SettingsUiError("the time picker did not take the time")

    def _pick_on_face(self, nodes: list[UiNode], local: datetime) -> None:
        twelve = _by_id(nodes, "android:id/am_label") is not None
        hour = (local.hour % 12 or 12) if twelve else local.hour
        nodes = self._tap(self._face_node(nodes, hour))  # the face moves on to the minutes
        if local.minute % 5 and not any(n.desc == str(local.minute) for n in nodes if _on_face(n)):
            self._cancel(nodes)
            raise SettingsUiError(f"minute {local.minute} is not on the clock face")
        nodes = self._tap(self._face_node(nodes, local.minute))
        if twelve:
            half = self._need(nodes, "android:id/pm_label" if local.hour >= 12 else "android:id/am_label")
            if not half.checked:
                nodes = self._tap(half)
        nodes = self._tap(self._need(nodes, "android:id/button1"))
        if _by_id(nodes, "android:id/timePicker") is not None:
            self._cancel(nodes)
            raise SettingsUiError("the time picker did not take the time")

    def _face_node(self, nodes: list[UiNode], value: int) -> UiNode:
        node = next((n for n in nodes if _on_face(n) and n.desc == str(value)), None)
        if node is None:
            raise SettingsUiError(f"no {value} on the clock face")
        return node

    # --- inputs --------------------------------------------------------------------------------------
    def _look(self) -> list[UiNode]:
        return parse(self.ui.dump())

    def _tap(self, node: UiNode) -> list[UiNode]:
        self.ui.tap(*node.centre)
        self.taps += 1
        return self._look()

    def _type(self, nodes: list[UiNode], rid: str, text: str) -> list[UiNode]:
        self._tap(self._need(nodes, rid))
        self.ui.clear_text()
        self.ui.type_text(text)
        nodes = self._look()
        field = self._need(nodes, rid)
        if field.text != text:
            raise SettingsUiError(f"{rid} reads '{field.text}' after typing '{text}'")
        return nodes

    def _need(self, nodes: list[UiNode], rid: str) -> UiNode:
        node = _by_id(nodes, rid)
        if node is None:
            raise SettingsUiError(f"{rid} is not on the screen")
        return node

    def _cancel(self, nodes: list[UiNode]) -> None:
        cancel = _by_id(nodes, "android:id/button2")
        if cancel is not None:
            self._tap(cancel)


def _day_cell(nodes: list[UiNode], day: int, year: int) -> UiNode | None:
    """The day's cell in the month view: its text is the day number; its description ("05 January 2026")
    names the day and the year shown."""
    for n in nodes:
        if n.cls != "android.view.View" or n.text != str(day):
            continue
        if n.desc and not (n.desc.startswith(f"{day:02d}") and str(year) in n.desc):
            continue
        return n
    return None


def _on_face(n: UiNode) -> bool:
    """A value node of RadialTimePickerView (its touch helper's virtual view)."""
    return n.cls.endswith("RadialPickerTouchHelper")


def close_to(now_ms: int, want_ms: int) -> bool:
    """The clock read back is where a set to `want_ms` leaves it (UI time past it, never before)."""
    return want_ms - 1500 <= now_ms <= want_ms + SLACK_MS


__all__ = ["SettingsClock", "SettingsUiError", "UiPort", "close_to", "parse"]
