"""The guard sees links inside WebView pages exactly as it sees native controls: a deletion flow that is
links of an H5 help centre (sample_apks/safety/safety_h5_delete_zh) is walked up to its last page and
never confirmed, with Chrome's accessibility tree and blind (the links only in the pixels); a test
account lets the deletion probe, and only it, press the final link."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from safety_runs import harm_steps, run_safety, scenario

from exerciser import SCENARIOS_DIR
from exerciser.explore.selector import controls
from exerciser.perceive import Reader
from exerciser.runner.session import Session
from exerciser.safety import ActionRefused
from exerciser.sim import VirtualDevice
from exerciser.sim.appmodel import parse_app_model

SCENARIO = SCENARIOS_DIR / "safety" / "safety_h5_delete_zh.yaml"
MODEL = Path(scenario(SCENARIO).app.value)


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def _blind_model(tmp: Path) -> Path:
    """The same app with a blind WebView: the dump shows the WebView alone, its links only painted."""
    text = MODEL.read_text(encoding="utf-8")
    assert "type: webview, blind: false" in text
    out = tmp / "app.yaml"
    out.write_text(
        text.replace("type: webview, blind: false", "type: webview, blind: true"), encoding="utf-8"
    )
    return out


def _walk_to_confirm(model_text: str, tmp: Path, reader: Reader) -> Session:
    dev = VirtualDevice([parse_app_model(model_text)], profile="api33", locale="zh-CN")
    s = Session(dev, "com.yunfan.pan", tmp, reader)
    s.start()
    for label in ("同意", "我的", "帮助与客服", "账号注销", "下一步"):
        c = next((c for c in controls(s.current.reading) if c.label == label), None)
        assert c is not None, (label, [c.label for c in controls(s.current.reading)])
        s.guard.purpose = "deletion"  # a plain Next on an information page: the deletion probe's
        step = s.tap(c)
        assert not step.refused, (label, step.action)
    return s


@pytest.mark.parametrize("blind", [False, True], ids=["chrome-tree", "blind"])
def test_the_final_link_inside_h5_is_refused(blind: bool, tmp_path: Path, reader: Reader) -> None:
    text = _blind_model(tmp_path).read_text(encoding="utf-8") if blind else MODEL.read_text(encoding="utf-8")
    s = _walk_to_confirm(text, tmp_path, reader)
    r = s.current.reading
    assert r.blind == blind
    assert s.guard.on_path  # the page a deletion link loaded, same activity as the help centre
    confirm = next(c for c in controls(r) if c.label == "确认注销")
    judged = s.guard.judge_point(*confirm.point)
    assert not judged.allowed and judged.category == "account_deletion", judged
    with pytest.raises(ActionRefused):
        s.device.tap(*confirm.point)  # past the session, straight at the device: judged all the same
    cancel = next(c for c in controls(r) if c.label == "取消")
    assert s.guard.judge_point(*cancel.point).allowed
    assert ".irreversible." not in s.device.observe().activity


def test_a_blind_h5_deletion_flow_is_never_confirmed(tmp_path: Path, reader: Reader) -> None:
    sc = scenario(SCENARIO)
    sc = replace(sc, app=replace(sc.app, value=str(_blind_model(tmp_path))))
    res, trace = run_safety(sc, tmp_path / "run", reader)
    assert harm_steps(trace) == []
    cat8 = res.categories["8"]
    assert (cat8.verdict, cat8.figure) == ("compliant", 3), cat8.reason
    # the probe followed the painted links to the confirmation page and was stopped there, on the deletion
    # path, by the guard (the page's words are OCR's: a refusal, not a tap, ended the walk)
    steps = [t for t in trace if t["probe"] == "8" and t["action"].get("type") == "tap"]
    labels = [t["action"].get("label") for t in steps]
    assert "账号注销" in labels and "下一步" in labels, labels
    after = steps[labels.index("下一步") + 1 :]
    refused = [t["action"]["refused"] for t in after if t["action"].get("refused")]
    assert refused and refused[0]["category"] == "account_deletion", [t["action"] for t in after]


def test_a_test_account_lets_only_the_deletion_probe_press_the_link(tmp_path: Path, reader: Reader) -> None:
    sc = replace(scenario(SCENARIO), test_account=True)
    _, trace = run_safety(sc, tmp_path, reader)
    harm = harm_steps(trace)
    assert harm and {probe for _, probe, _ in harm} == {"8"}, harm
    assert all(act.endswith(".irreversible.AccountDeletedActivity") for _, _, act in harm)
