"""The guard on screens captured on real phones by others (../shared/real_screens, read in place): what
a probe must press there (agree, allow, deny, close, exit, the settings entry) is never refused, and
what would spend money is."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from exerciser.device.contract import DeviceInfo, Observation
from exerciser.explore.selector import controls
from exerciser.explore.state import state_of
from exerciser.perceive import Reader
from exerciser.perceive.text import compact
from exerciser.safety import SafetyGuard

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_screens"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/real_screens is not beside the repo")
# the stand-in screens read by OCR that a probe must get through: consent dialogs
OCR_SCREENS = ("022_samsung_privacy_consent_zh", "033_miui_baidu_input_privacy_consent_zh")


def _screens() -> list[Path]:
    if not REAL.is_dir():
        return []
    out = []
    for j in sorted(REAL.glob("*.json")):
        lab = json.loads(j.read_text(encoding="utf-8"))
        if "stand-in" not in lab.get("hierarchy", "") or j.stem in OCR_SCREENS:
            out.append(j)
    return out


@pytest.fixture(scope="module")
def judged() -> dict[str, tuple[dict, dict[str, bool]]]:
    """Per screen: its label, and for every control on it whether the guard allows a tap."""
    reader = Reader()
    out = {}
    for j in _screens():
        lab = json.loads(j.read_text(encoding="utf-8"))
        xml = j.with_suffix(".xml").read_text(encoding="utf-8")
        png_path = j.with_suffix(".png")
        png = png_path.read_bytes() if png_path.exists() else b""
        m = re.search(r'bounds="\[0,0\]\[(\d+),(\d+)\]"', xml)
        w, h = (int(m.group(1)), int(m.group(2))) if m else (1080, 1920)
        info = DeviceInfo("real", 30, "11", "aosp", "zh-CN", w, h)
        r = reader.read(Observation(xml, png, lab.get("package", ""), "", 0), info)
        g = SafetyGuard()
        g.saw(r, state_of(r).id)
        verdicts = {compact(c.label): g.judge_point(*c.point).allowed for c in controls(r) if c.label}
        for t in r.targets:
            verdicts[f"role:{t.role}"] = g.judge_point(*t.point).allowed
        out[j.stem] = (lab, verdicts)
    return out


def test_what_probes_press_on_real_screens_is_allowed(judged) -> None:
    checked = 0
    for stem, (lab, verdicts) in judged.items():
        for role, text in (lab.get("targets") or {}).items():
            key = compact(str(text))
            ok = verdicts.get(key, verdicts.get(f"role:{role}"))
            if ok is None:
                continue  # the reader did not find it (a recognition gap, not the guard's)
            checked += 1
            assert ok, f"{stem}: the guard refuses {role} ({text!r})"
    assert checked >= 20


def test_no_real_screen_control_is_refused_but_a_top_up(judged) -> None:
    refused = {(stem, k) for stem, (_, v) in judged.items() for k, ok in v.items() if not ok}
    assert ("045_seu_herald_card_records_zh_xml_only", compact("充值")) in refused
    assert refused == {("045_seu_herald_card_records_zh_xml_only", compact("充值"))}, refused
