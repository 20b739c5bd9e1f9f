"""Model features real apps use every day: a countdown text from a variable, a named timer a tap cancels,
a widget shown only in one state, a masked password field, and a condition on the device clock."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sim_helpers import FIXTURES

from exerciser.device.contract import EventKind
from exerciser.sim import AppModelError, VirtualDevice, load_app_model, uixml
from exerciser.sim.appmodel import parse_app_model

PKG = "com.example.features"
LOCATION = "android.permission.ACCESS_FINE_LOCATION"


def device() -> VirtualDevice:
    dev = VirtualDevice([load_app_model(FIXTURES / "featureapp.yaml")], profile="api28")
    dev.app_start(PKG)
    return dev


def nodes(dev: VirtualDevice) -> dict[str, dict[str, str]]:
    root = ET.fromstring(uixml.dump(dev.frame()))
    return {
        n.get("resource-id", "").split(":id/")[-1]: n.attrib
        for n in root.iter("node")
        if n.get("resource-id")
    }


def tap(dev: VirtualDevice, rid: str) -> None:
    x1, y1, x2, y2 = _rect(nodes(dev)[rid])
    dev.tap((x1 + x2) // 2, (y1 + y2) // 2)


def prompts(dev: VirtualDevice) -> int:
    return sum(
        1 for e in dev.events() if e.kind == EventKind.PERMISSION_REQUEST and e.detail["shown"] == "true"
    )


def _rect(n: dict[str, str]) -> tuple[int, ...]:
    return tuple(int(v) for v in n["bounds"].replace("][", ",")[1:-1].split(","))


def test_a_full_bleed_advert_with_a_skip_button_in_its_corner() -> None:
    dev = device()
    ad, skip = _rect(nodes(dev)["iv_ad"]), _rect(nodes(dev)["btn_skip"])
    w, h = dev.info.width, dev.info.height
    assert ad[0] == 0 and ad[2] == w and ad[3] - ad[1] > 0.85 * h  # the whole screen
    assert skip[2] > 0.9 * w and skip[1] < 0.1 * h and skip[2] - skip[0] < w // 3  # a pill, top right
    assert ad[0] <= skip[0] and skip[3] <= ad[3]  # on the advert, and tappable there (drawn above it)


def test_a_countdown_runs_out_and_a_tap_cancels_it() -> None:
    dev = device()
    left = int(nodes(dev)["btn_skip"]["text"].split()[-1])  # the cold start itself took a second or two
    assert 1 < left <= 3
    dev.wait(1)
    assert nodes(dev)["btn_skip"]["text"] == f"Skip {left - 1}"
    dev.wait(3)
    tap(dev, "permission_deny_button")  # home asks for location once it is in front
    assert dev.foreground()[1].endswith("HomeActivity")  # the advert ran out
    dev.app_stop(PKG)
    dev.app_start(PKG)
    tap(dev, "btn_skip")
    assert dev.foreground()[1].endswith("HomeActivity")
    resumes = len([e for e in dev.events() if e.kind == EventKind.RESUME_ACTIVITY])
    dev.wait(5)  # the cancelled timers do not replace home again
    assert len([e for e in dev.events() if e.kind == EventKind.RESUME_ACTIVITY]) == resumes


def test_widgets_shown_by_state_and_a_masked_password() -> None:
    dev = device()
    tap(dev, "btn_skip")
    if "permission_deny_button" in nodes(dev):
        tap(dev, "permission_deny_button")
    assert "btn_login" in nodes(dev) and "tv_hello" not in nodes(dev)
    tap(dev, "btn_login")
    tap(dev, "et_password")
    field = nodes(dev)["et_password"]
    assert field["password"] == "true" and field["text"] == "Password" and field["focused"] == "true"
    dev.type_text("hunter2")
    assert nodes(dev)["et_password"]["text"] == "\u2022" * 7  # as accessibility reports a password
    tap(dev, "btn_go")
    assert dev.toasts[-1][2] == "Welcome back"
    assert "tv_hello" in nodes(dev) and "btn_login" not in nodes(dev)


def test_a_condition_on_the_device_clock() -> None:
    dev = device()
    tap(dev, "btn_skip")  # never refused: asked at once
    assert prompts(dev) == 1
    tap(dev, "permission_deny_button")  # refused: the time is stamped
    for hours in (1, 4):
        dev.advance_clock(hours * 3600)
        dev.app_stop(PKG)
        dev.app_start(PKG)
        tap(dev, "btn_skip")
    assert prompts(dev) == 1  # 6 h had not passed
    dev.advance_clock(2 * 3600)
    dev.app_stop(PKG)
    dev.app_start(PKG)
    tap(dev, "btn_skip")
    assert prompts(dev) == 2  # more than 6 hours after the refusal: asked again


def test_two_screens_of_one_activity() -> None:
    text = (FIXTURES / "featureapp.yaml").read_text(encoding="utf-8")
    two = text.replace(
        "  login:\n    title: Log in\n", "  login:\n    title: Log in\n    activity: .HomeActivity\n"
    )
    with pytest.raises(AppModelError) as info:
        parse_app_model(two, "x/app.yaml")
    assert "also the activity of screen 'home'" in info.value.message and info.value.message.startswith(
        "x/app.yaml:"
    )
    model = parse_app_model(
        two.replace("activity: .HomeActivity\n", "activity: .HomeActivity\n    fragment: true\n")
    )
    assert model.screens["login"].activity == model.screens["home"].activity == f"{PKG}.HomeActivity"
