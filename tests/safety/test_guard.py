"""The guard's contract: no caller can get past it, it never judges a screen it has not read, keys and
typed text pass it too, and a test account lifts the deletion part for the deletion probe only."""

from __future__ import annotations

from pathlib import Path

import pytest
from safety_corpus import CASES, HARM, model_yaml

from exerciser.device.contract import Key
from exerciser.explore.selector import controls
from exerciser.perceive import Reader
from exerciser.runner.session import Session
from exerciser.safety import ActionRefused, GuardedDevice
from exerciser.safety.lexicon import id_words
from exerciser.sim import VirtualDevice
from exerciser.sim.appmodel import parse_app_model

BY_NAME = {c.name: c for c in CASES}


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def _session(name: str, tmp: Path, reader: Reader) -> tuple[Session, VirtualDevice]:
    case = BY_NAME[name]
    dev = VirtualDevice([parse_app_model(model_yaml(case))], profile="api33", locale="en-US")
    s = Session(dev, case.package, tmp, reader)
    s.start()
    return s, dev


def _control(s: Session, label: str):
    return next(c for c in controls(s.current.reading) if c.label == label)


def test_a_direct_device_tap_is_judged_too(tmp_path: Path, reader: Reader) -> None:
    s, dev = _session("del-title-only-en", tmp_path, reader)
    assert isinstance(s.device, GuardedDevice)
    x, y = _control(s, "Delete").point
    with pytest.raises(ActionRefused) as exc:
        s.device.tap(x, y)  # a probe reaching past the session
    assert exc.value.judgement.category == "account_deletion"
    with pytest.raises(ActionRefused):
        s.device.long_press(x, y)
    with pytest.raises(ActionRefused):
        s.device.swipe(x, y, x + 3, y - 5, 100)  # a drag within the touch slop is a click
    assert not dev.observe().activity.endswith(HARM)


def test_no_input_without_a_fresh_reading(tmp_path: Path, reader: Reader) -> None:
    s, dev = _session("alike-photo-delete", tmp_path, reader)
    x, y = _control(s, "Cancel").point
    s.device.tap(x, y)  # allowed, but now the screen read before is stale
    with pytest.raises(ActionRefused) as exc:
        s.device.tap(x, y)
    assert exc.value.judgement.rule == "no_fresh_screen"
    s.device.key(Key.BACK)  # back, home and recents never need a reading


def test_keys_and_text_are_judged(tmp_path: Path, reader: Reader) -> None:
    s, _ = _session("post-4", tmp_path, reader)  # a compose page with a Post button
    step = s.type_text("hello")
    assert not step.refused
    step = s.type_text("hello\n")  # the line break is the IME's send
    assert step.refused and step.refused["rule"] == "publish.enter"
    step = s.key(Key.ENTER)
    assert step.refused and step.refused["category"] == "publish"
    assert not s.key(Key.BACK).refused


def test_refusal_is_in_the_trace_and_moves_nothing(tmp_path: Path, reader: Reader) -> None:
    s, dev = _session("pay-6", tmp_path, reader)  # "Buy now"
    before = s.current.state.id
    step = s.tap(_control(s, "Buy now"))
    assert step.refused["rule"] == "payment.label"
    assert step.state.id == before and s.taps == 0
    assert s.refusals[0]["step"] == step.n and s.refusals[0]["control"]["label"] == "Buy now"
    assert not s.graph.g.has_edge(before, before)


def test_test_account_lifts_deletion_for_the_deletion_walk_only(tmp_path: Path, reader: Reader) -> None:
    s, dev = _session("del-title-only-en", tmp_path / "a", reader)
    c = _control(s, "Delete")
    with s.guard.deletion_walk(test_account=False):
        assert s.tap(c).refused
    assert s.tap(c).refused  # exploration: never
    with s.guard.deletion_walk(test_account=True):
        step = s.tap(c)
    assert not step.refused and step.obs.activity.endswith(HARM)
    # calls, payments and posts stay refused even for a test account
    s2, _ = _session("call-en-button", tmp_path / "b", reader)
    with s2.guard.deletion_walk(test_account=True):
        assert s2.tap(_control(s2, "Call us")).refused["category"] == "call"


def test_the_path_ends_only_on_a_screen_known_off_it(tmp_path: Path, reader: Reader) -> None:
    s, _ = _session("path-next-walk-en", tmp_path, reader)
    with s.guard.deletion_walk():
        s.tap(_control(s, "Delete account"))  # entry: allowed, the path begins
        assert s.guard.on_path
        s.tap(_control(s, "Next"))  # to the verification page: no word about deletion on it
        assert s.guard.on_path and not s.tap(_control(s, "Next")).refused
        assert s.tap(_control(s, "Confirm")).refused
    s.key(Key.BACK)
    s.key(Key.BACK)
    s.key(Key.BACK)  # back on the Account page, seen before the path
    assert not s.guard.on_path
    s.stop()
    assert not s.guard.on_path


def test_id_words() -> None:
    assert {"btn", "call", "hotline", "call_hotline"} <= id_words("com.x:id/btn_call_hotline")
    assert {"btn", "pay", "now"} <= id_words("com.x:id/btnPayNow")
    assert "call" not in id_words("com.x:id/btn_recall")
    assert id_words("") == frozenset()
