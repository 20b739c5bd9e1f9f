"""Processing times a deletion flow states, in any wording, as working days.

"15 个工作日", "3-5 business days", "30 天内", "30日内", "一个月内", "within 30 days", "within one month": the
rule pack's `8.deletion_processing_time` lists the patterns (each with its unit) and the calendar it
converts with (working days per week, days per month). A range counts by its upper end; a calendar
duration is converted up (30 days = 22 working days: a working-day limit is never passed by rounding).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

_ZH_DIGITS = dict(zip("零一二两三四五六七八九", (0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_EN_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "ten": 10,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "sixty": 60,
    "ninety": 90,
}


def number(text: str) -> int | None:
    """ "30", "三十", "十五", "两", "one", "thirty" -> the number (None: not a number)."""
    t = text.strip().lower()
    if t.isdigit():
        return int(t)
    if t in _EN_NUMBERS:
        return _EN_NUMBERS[t]
    if not t or any(c not in _ZH_DIGITS and c != "十" for c in t):
        return None
    if "十" in t:
        tens, _, ones = t.partition("十")
        return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)
    return _ZH_DIGITS[t] if len(t) == 1 else None


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    unit: str  # working_day | day | month


def patterns(raw_rule: dict[str, Any]) -> list[Pattern]:
    out = []
    for p in raw_rule.get("patterns") or []:
        if isinstance(p, str):
            out.append(Pattern(re.compile(p, re.I), "working_day"))
        else:
            out.append(Pattern(re.compile(p["regex"], re.I), p.get("unit", "working_day")))
    return out


def working_days(amount: int, unit: str, calendar: dict[str, Any]) -> int:
    per_week = float(calendar.get("working_days_per_week", 5))
    per_month = float(calendar.get("days_per_month", 30))
    if unit == "working_day":
        return amount
    days = amount * per_month if unit == "month" else amount
    return math.ceil(days * per_week / 7 - 1e-9)


def stated(text: str, pats: list[Pattern], calendar: dict[str, Any]) -> list[dict[str, Any]]:
    """Every processing time `text` states: {"working_days", "text", "unit", "amount"}."""
    out = []
    taken: list[tuple[int, int]] = []  # spans read by an earlier pattern: "15 个工作日" is not "15 日"
    for p in pats:
        for m in p.regex.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            amounts = [n for g in m.groups() if g and (n := number(g)) is not None]
            if not amounts:
                continue
            taken.append(m.span())
            amount = max(amounts)
            out.append(
                {
                    "working_days": working_days(amount, p.unit, calendar),
                    "text": m.group(0).strip(),
                    "unit": p.unit,
                    "amount": amount,
                }
            )
    return out
