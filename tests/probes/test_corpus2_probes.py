"""The probe classes issue 16 fixed, each on the second corpus app that copies the real pattern
(sample_apks/corpus2/): the facts behind the verdict, not only the verdict."""

from __future__ import annotations

import json
from dataclasses import replace

from exerciser import SCENARIOS_DIR
from exerciser.runner.app_run import run_app
from exerciser.runner.parallel import virtual_device
from exerciser.scenario import load_scenario


def run(tmp_path, app: str, probes: tuple[str, ...]):
    sc = replace(load_scenario(SCENARIOS_DIR / "corpus2" / f"{app}.yaml"), probes=probes)
    res = run_app(sc, virtual_device(sc, "probe-test"), tmp_path, finalize=False)
    d = tmp_path / sc.id
    run_json = json.loads((d / "run.json").read_text(encoding="utf-8"))
    trace = [json.loads(x) for x in (d / "trace.jsonl").read_text(encoding="utf-8").splitlines() if x]
    return res, run_json, trace


def test_consent_box_ticked_once_then_agreed(tmp_path):
    """淘好货's 同意 works only with 我已阅读并同意 ticked: the box is ticked exactly once per clean install,
    then agreed; the deletion search then gets past the dialog."""
    res, run_json, trace = run(tmp_path, "shop_checkbox_consent_zh", ("8",))
    ticks = [t for t in trace if "tick the consent box" in t["note"]]
    agrees = [t for t in trace if "agree to the policy" in t["note"]]
    assert len(ticks) == 1 and len(agrees) == 1  # one clean install: never toggled on and off
    assert ticks[0]["n"] + 1 == agrees[0]["n"]
    assert run_json["probes"]["8"]["facts"]["entry_found"] and res.categories["8"].verdict == "compliant"


def test_preticked_consent_box_is_reported(tmp_path):
    res, run_json, _ = run(tmp_path, "shop_preticked_consent_en", ("consent",))
    f = run_json["probes"]["consent"]["facts"]
    assert f["consent_box"] == "ticked" and f["preticked_consent"] and f["figure"] == 0
    c = res.categories["consent"]
    assert c.verdict == "violation" and [r["id"] for r in c.rules] == ["consent.preticked"]
    assert "ticked before the user touched it" in c.reason


def test_policy_refusal_is_followed_through_second_chances(tmp_path):
    """饱了么: 不同意 → 温馨提示 (仍不同意 / 查看协议) → 确定不同意吗？ (退出应用 / 再想想): the refusing
    user is refused again, and ends at a wall whose only way to decline is leaving the app."""
    res, run_json, _ = run(tmp_path, "food_second_chance_exit_zh", ("consent", "5"))
    pol = run_json["probes"]["consent"]["facts"]["policy_refusal"]
    assert pol["outcome"] == "wall" and len(pol["second_chance"]) == 1 and pol["blocked"]
    assert (res.categories["5"].verdict, res.categories["5"].figure) == ("violation", 1)


def test_settings_page_opened_at_every_launch_counts(tmp_path):
    """快抖: after refusing location on 同城, each cold start opens the app-info page instead of a prompt;
    the three relaunches inside the window come at +10 min, +6 h, +24 h of device time."""
    res, run_json, _ = run(tmp_path, "video_settings_every_launch_zh", ("6",))
    g = next(x for x in run_json["probes"]["6"]["facts"]["groups"] if x["group"] == "location")
    assert (g["count"], g["settings_page"], g["system"]) == (3, 3, 0)
    assert [r["phase"] for r in g["re_requests"]] == ["R3.1", "R3.2", "R3.3"]
    hours = [r["hours_after_refusal"] for r in g["re_requests"]]
    assert [round(h) for h in hours] == [0, 6, 24] and 0.16 < hours[0] < 0.2
    late = [r for r in g["not_counted"] if r["phase"] == "after_window"]
    assert late and late[0]["hours_after_refusal"] > 48
    assert g["every_relaunch"] and res.categories["6"].verdict == "violation"


def test_a_request_hours_later_is_caught(tmp_path):
    """路路通: its own 开启定位服务 dialog returns at the first launch 4 h after a refusal."""
    res, run_json, _ = run(tmp_path, "maps_reask_after_hours_zh", ("6",))
    g = next(x for x in run_json["probes"]["6"]["facts"]["groups"] if x["group"] == "location")
    assert [r["phase"] for r in g["re_requests"]] == ["R3.2", "R3.3"]
    assert (res.categories["6"].verdict, res.categories["6"].figure) == ("violation", 2)


def test_non_feature_screens_first_and_timer_attribution(tmp_path):
    """全能扫描宝 asks the camera on its 文档 list only while 拍照扫描 was never used: the tour of the app's
    other screens before any feature finds it."""
    res, run_json, _ = run(tmp_path, "tools_unrelated_screen_once_zh", ("7",))
    f = run_json["probes"]["7"]["facts"]
    cam = next(g for g in f["groups"] if g["group"] == "camera")
    assert cam["asked_after"] == "文档" and cam["feature"] is None
    assert f["tour"]["actions"] > 0
    assert (res.categories["7"].verdict, res.categories["7"].figure) == ("violation", 1)


def test_a_timer_prompt_is_not_put_down_to_the_last_tap(tmp_path):
    """TrailMate asks for location 3 s after its map appears, whatever the user tapped meanwhile: the event
    log shows the request came well after the last tap."""
    res, run_json, _ = run(tmp_path, "maps_timer_prompt_en", ("7",))
    loc = next(g for g in run_json["probes"]["7"]["facts"]["groups"] if g["group"] == "location")
    assert loc["before_user_action"] and any("asked by the app itself" in r for r in loc["reasons"])
    prompt = next(p for p in run_json["probes"]["7"]["facts"]["prompts"] if p["group"] == "location")
    assert prompt["user_tap"] is None and prompt["after_tap"] is not None
    assert res.categories["7"].verdict == "violation"


def test_face_recognition_and_calendar_processing_times(tmp_path):
    res, run_json, _ = run(tmp_path, "finance_face_recognition_zh", ("8",))
    f = run_json["probes"]["8"]["facts"]
    assert {o["obstacle"] for o in f["obstacles"]} == {"face_recognition", "conditions"}
    assert res.categories["8"].verdict == "violation"
    res, run_json, _ = run(tmp_path, "food_deletion_one_month_zh", ("8",))
    f = run_json["probes"]["8"]["facts"]
    assert f["processing_working_days"] == 22 and f["processing_time"][0]["unit"] == "month"
    assert [r["id"] for r in res.categories["8"].rules] == ["8.deletion_processing_time"]


def test_deletion_depth_skips_popups_and_starts_after_login(tmp_path):
    """拼多多多's 领券中心 sheet opens with 个人中心 (dismissed, not a tap of the path); 易贷钱包's login
    steps end on 我的, but the count starts at the main screen the logged-in app opens on."""
    res, run_json, _ = run(tmp_path, "shop_coupon_redpacket_zh", ("8",))
    f = run_json["probes"]["8"]["facts"]
    assert f["path"] == ["个人中心", "设置", "账号与安全", "注销账号"] and res.categories["8"].figure == 4
    res, run_json, trace = run(tmp_path, "finance_login_deletion_zh", ("8",))
    f = run_json["probes"]["8"]["facts"]
    assert any(t["note"].startswith("login:") for t in trace)
    assert f["path"] == ["我的", "设置", "账户与安全", "注销账户"]
    assert (res.categories["8"].verdict, res.categories["8"].figure) == ("compliant", 4)
