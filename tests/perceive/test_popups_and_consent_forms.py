"""Screens of the second corpus (sample_apks/corpus2/) read on the virtual device: the pop-ups real apps
put in the way are recognised with the button that dismisses them (and nothing else is), consent boxes
are read ticked or unticked, and a second chance whose other button only leads back to the agreement
(查看协议, 再想想, Review policy) is still a consent dialog with its refusing button.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from exerciser import SAMPLES_DIR
from exerciser.perceive import read_screen
from exerciser.perceive.popups import popup
from exerciser.sim.appmodel import load_app_model
from exerciser.sim.runtime import VirtualDevice

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "samples"))
from test_samples import deny_all, tap  # noqa: E402

CORPUS = Path(SAMPLES_DIR) / "corpus2"


def screen_after(app: str, *steps: str, relaunch_after_agree: bool = False):
    """The reading after starting `app` and tapping `steps` (labels; "rid:X" a resource-id; "DENY" the
    plain deny of every prompt in front; "RELAUNCH" force-stop and start)."""
    m = load_app_model(CORPUS / app / "app.yaml")
    d = VirtualDevice([m], profile="api33", locale="zh-CN" if m.language == "zh" else "en-US")
    d.app_start(m.package)
    for s in steps:
        if s == "DENY":
            deny_all(d)
        elif s == "RELAUNCH":
            d.app_stop(m.package)
            d.app_start(m.package)
        elif s.startswith("rid:"):
            tap(d, rid=s[4:])
        else:
            tap(d, s)
    return read_screen(d.observe(), d.info)


@pytest.mark.parametrize(
    ("app", "steps", "kind", "dismiss"),
    [
        ("game_teen_mode_zh", ("rid:btn_agree",), "teen_mode", "我知道了"),
        ("game_teen_mode_zh", ("rid:btn_agree", "我知道了"), "update", "以后再说"),
        ("shop_coupon_redpacket_zh", ("rid:btn_agree",), "coupon", "关闭"),
        ("shop_coupon_redpacket_zh", ("rid:btn_agree", "rid:iv_close", "个人中心"), "coupon", "关闭"),
        ("game_rating_prompt_en", ("rid:btn_accept", "RELAUNCH"), "coupon", "Close"),
        ("game_rating_prompt_en", ("rid:btn_accept", "RELAUNCH", "Claim"), "rating", "Not now"),
        ("food_login_wall_en", ("rid:btn_accept", "Orders"), "login_wall", "Not now"),
        ("video_splash_ad_en", ("rid:btn_agree", "RELAUNCH"), "splash_ad", "Skip 3"),
    ],
)
def test_popups_are_recognised_with_their_dismiss_button(app, steps, kind, dismiss):
    r = screen_after(app, *steps)
    p = popup(r)
    assert p is not None and p.kind == kind, (r.activity, p)
    assert p.dismiss.label == dismiss


@pytest.mark.parametrize(
    ("app", "steps"),
    [
        ("game_teen_mode_zh", ()),  # the privacy dialog: consent, not a pop-up
        ("game_teen_mode_zh", ("rid:btn_agree", "我知道了", "以后再说")),  # the lobby itself
        ("maps_reask_after_hours_zh", ("rid:btn_agree", "我的位置")),  # the system prompt
        (
            "news_in_app_page_every_launch_en",
            ("rid:btn_accept", "Local", "Use my location", "DENY", "RELAUNCH"),
        ),
        ("video_splash_ad_en", ("rid:btn_agree", "RELAUNCH", "Skip 3")),  # the feed after the advert
    ],
)
def test_requests_consent_and_app_screens_are_no_popups(app, steps):
    assert popup(screen_after(app, *steps)) is None


def test_an_in_app_page_asking_for_a_group_is_a_request():
    """Localline's full-screen 'Get news for where you are — Turn on location / Not now' page."""
    r = screen_after(
        "news_in_app_page_every_launch_en", "rid:btn_accept", "Local", "Use my location", "DENY", "RELAUNCH"
    )
    k = r.kind("permission_rationale")
    assert k is not None and k.permission_group == "location"
    assert r.target("cancel").text == "Not now"


@pytest.mark.parametrize(
    ("app", "box", "agree", "refuse"),
    [
        ("shop_checkbox_consent_zh", "unticked", "同意", "不同意"),
        ("finance_checkbox_consent_en", "unticked", "Agree and continue", "Not now"),
        ("shop_preticked_consent_en", "ticked", "Continue", None),  # one button: the box is the agreement
        ("news_preticked_consent_zh", "ticked", "进入App", None),
    ],
)
def test_consent_boxes_are_read(app, box, agree, refuse):
    r = screen_after(app)
    k = r.kind("privacy_consent")
    assert k is not None and k.detail["checkbox"] == box
    assert r.target("agree").text == agree  # never the box itself
    assert r.target("consent_checkbox") is not None
    assert (r.target("refuse").text if r.target("refuse") else None) == refuse


@pytest.mark.parametrize(
    ("app", "steps", "agree", "refuse"),
    [
        ("food_second_chance_exit_zh", ("不同意",), "查看协议", "仍不同意"),
        ("food_second_chance_browse_en", ("Disagree",), "Review policy", "Still disagree"),
    ],
)
def test_second_chance_without_an_agree_button(app, steps, agree, refuse):
    r = screen_after(app, *steps)
    assert r.has("consent_second_chance")
    assert (r.target("agree").text, r.target("refuse").text) == (agree, refuse)


def test_the_last_chance_with_only_exit_is_a_policy_wall():
    """确定不同意吗？ 不同意将退出饱了么App。 退出应用 / 再想想: declining means leaving."""
    r = screen_after("food_second_chance_exit_zh", "不同意", "仍不同意")
    assert r.has("blocking_wall") and not r.has("privacy_consent")
    assert r.target("exit").text == "退出应用"
