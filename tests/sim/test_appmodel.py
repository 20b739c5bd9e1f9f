"""App model loading: schema and cross-reference errors name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_helpers import (
    FIXTURES,
    sim_model,
)

from exerciser import SAMPLES_DIR
from exerciser.sim import AppModelError, load_app_model, load_sample
from exerciser.sim.appmodel import parse_app_model

GOOD = (FIXTURES / "testapp.yaml").read_text(encoding="utf-8")


def error_of(text: str) -> str:
    with pytest.raises(AppModelError) as info:
        parse_app_model(text, "sample_apks/x/app.yaml")
    msg = info.value.message
    assert "\n" not in msg
    return msg


def line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if needle in ln)


def test_fixture_loads_into_dataclasses():
    m = sim_model()
    assert m.package == "com.example.simtest" and m.label == "Sim Test" and m.target_sdk == 34
    assert m.launch_screen == "home" and m.launch_activity == "com.example.simtest.MainActivity"
    assert m.screens["more"].activity == "com.example.simtest.MoreActivity"
    assert m.screens["policy"].blind
    camera = m.screens["home"].widgets[0]
    assert camera.type == "button" and camera.on_tap[0].verb == "request"
    assert camera.on_tap[0].arg == ("android.permission.CAMERA",)
    assert camera.on_tap[0].on_granted[0].verb == "goto"
    assert camera.on_tap[0].where.endswith(
        f"testapp.yaml:{line_of(GOOD, 'on_tap: [{request: android.permission.CAMERA,')}"
    )
    assert m.dialogs["privacy"].cancelable is False
    assert m.state == {"policy_accepted": False} and m.memory == {"asked": 0}


def test_bad_enum_names_file_line_and_field():
    bad = GOOD.replace("{id: btn_more, type: button", "{id: btn_more, type: buton")
    msg = error_of(bad)
    line = line_of(bad, "type: buton")
    assert msg.startswith(f"sample_apks/x/app.yaml:{line}: screens.home.widgets[")
    assert msg.split(": ", 2)[1].endswith("].type")
    assert "'buton' is not one of" in msg


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "words"),
    [
        (
            "{goto: more}",
            "{goto: mroe}",
            "goto: mroe",
            "screens.home.widgets[5].on_tap[0].goto",
            "unknown screen 'mroe'",
        ),
        (
            "{dialog: need_camera}",
            "{dialog: need_cam}",
            "dialog: need_cam",
            ".on_denied[0].dialog",
            "unknown dialog",
        ),
        (
            "{set: {policy_accepted: true}}",
            "{set: {policy_accepted: 1}}",
            "policy_accepted: 1",
            "dialogs.privacy.buttons[1].on_tap[0].set.policy_accepted",
            "an integer",
        ),
        (
            "{quit: kill}]}\n      - {id: btn_finish",
            "{quit: kill, goto: home}]}\n      - {id: btn_finish",
            "quit: kill, goto",
            "screens.more.widgets[3].on_tap[0]",
            "several verbs",
        ),
        (
            "on_tap: [{request: android.permission.POST_NOTIFICATIONS",
            "on_tap: [{request: android.permission.READ_SMS",
            "READ_SMS",
            ".request",
            "not declared",
        ),
        (
            "{if: {checked: agree}",
            "{if: {checked: agreed}",
            "checked: agreed",
            ".if.checked",
            "unknown checkbox",
        ),
        (
            "cancelable: false",
            "cancelable: nope",
            "cancelable: nope",
            "dialogs.privacy.cancelable",
            "'nope' is not of type 'boolean'",
        ),
        (
            "  need_camera:\n",
            "  need_camera:\n    colour: red\n",
            "colour: red",
            "dialogs.need_camera",
            "colour",
        ),
        (  # an unknown field is reported at its own line, not at the start of its mapping
            "target_sdk: 34\n",
            "target_sdk: 34\ntraget_sdk: 33\n",
            "traget_sdk: 33",
            "(top)",
            "unknown field(s) 'traget_sdk'",
        ),
        (
            "target_sdk: 34",
            'target_sdk: "34"',
            'target_sdk: "34"',
            "target_sdk",
            "'34' is not of type 'integer'",
        ),
        (
            "on_tap: [{replace: me}]",
            "on_tap: [{replace: you}]",
            "replace: you",
            "screens.home.widgets[7].on_tap[0].replace",
            "unknown screen 'you'",
        ),
    ],
)
def test_errors(old, new, needle, field, words):
    assert old in GOOD
    bad = GOOD.replace(old, new, 1)
    msg = error_of(bad)
    prefix, path, rest = msg.split(": ", 2)
    assert prefix == f"sample_apks/x/app.yaml:{line_of(bad, needle)}", msg
    assert path.endswith(field), msg
    assert words in rest, msg


def test_missing_required_duplicate_key_and_syntax():
    msg = error_of(GOOD.replace("label: Sim Test\n", ""))
    assert "'label' is a required property" in msg
    dup = GOOD.replace("label: Sim Test\n", "label: Sim Test\nlabel: Again\n")
    assert error_of(dup) == f"sample_apks/x/app.yaml:{line_of(dup, 'label: Again')}: duplicate key 'label'"
    broken = GOOD.replace("{goto: camera}]", "{goto: camera}", 1)
    msg = error_of(broken)
    assert msg.startswith(f"sample_apks/x/app.yaml:{line_of(broken, '{goto: camera},')}: YAML syntax: "), msg
    tabbed = GOOD.replace("  more:\n", "  more:\n\t\n", 1)
    assert error_of(tabbed).startswith(f"sample_apks/x/app.yaml:{line_of(tabbed, 'more:') + 1}: YAML")
    control = GOOD.replace("label: Sim Test", "label: Sim \x07Test")
    assert (
        error_of(control)
        == f"sample_apks/x/app.yaml:{line_of(control, 'label:')}: YAML: character #x0007 is not allowed"
    )
    assert error_of("- a\n- b\n").endswith("an app model is a mapping (package, label, screens, ...)")


def test_load_from_file_and_samples(tmp_path: Path, monkeypatch):
    bad = tmp_path / "app.yaml"
    bad.write_text(GOOD.replace("type: button, text: Camera", "type: knob, text: Camera"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AppModelError) as info:
        load_app_model(bad)
    assert info.value.message.startswith(f"app.yaml:{line_of(bad.read_text(), 'type: knob')}: ")
    with pytest.raises(AppModelError):
        load_sample("no_such_sample_app")
    for path in sorted(Path(SAMPLES_DIR).glob("*/app.yaml")):
        model = load_sample(path.parent.name)
        assert model.app_id == path.parent.name and model.screens
