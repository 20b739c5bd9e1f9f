"""Processing times in every wording, read with the rule pack's own patterns and calendar."""

from __future__ import annotations

import pytest

from exerciser.probes import durations
from exerciser.score.rulepack import load_rulepack

RULE = load_rulepack().rule("8.deletion_processing_time").raw
PATTERNS, CALENDAR = durations.patterns(RULE), RULE["calendar"]


@pytest.mark.parametrize(
    ("text", "working_days"),
    [
        ("冷静期结束后，我们将在 15 个工作日内完成注销", [15]),
        ("审核时间为3-5个工作日", [5]),
        ("Your request will be processed within 15 business days.", [15]),
        ("within 3–5 working days", [5]),
        ("我们将进行人工审核，并在30天内完成账户注销。", [22]),  # 30 calendar days ≈ 22 working days
        ("注销申请将在一个月内处理完毕", [22]),
        ("三十日内完成", [22]),
        ("your request will be processed within 30 days and we will email you", [22]),
        ("We aim to respond within one month.", [22]),
        ("提交后 7 天内完成注销，期间登录可撤销。", [5]),
        ("提交申请后有 7 天冷静期", []),  # a cooling-off period is not a processing time
        ("a 14-day cooling-off period applies", []),
        ("注销后，您的订单将被删除且无法恢复。", []),
    ],
)
def test_stated_processing_time_in_working_days(text, working_days):
    assert [t["working_days"] for t in durations.stated(text, PATTERNS, CALENDAR)] == working_days


def test_numbers_in_words():
    assert [durations.number(w) for w in ("30", "三十", "十五", "两", "十", "thirty", "a", "七")] == [
        30,
        30,
        15,
        2,
        10,
        30,
        1,
        7,
    ]
    assert durations.number("几") is None


def test_calendar_conversion_rounds_up():
    assert durations.working_days(15, "working_day", CALENDAR) == 15
    assert durations.working_days(21, "day", CALENDAR) == 15  # three weeks: exactly the limit
    assert durations.working_days(22, "day", CALENDAR) == 16
    assert durations.working_days(1, "month", CALENDAR) == 22
