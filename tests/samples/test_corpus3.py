"""The third sample corpus (sample_apks/corpus3/): every model and expected file is valid, the corpus has
both languages on both sides of every category and a sourced real pattern per app, and the figures its
expected.yaml states are what the models really do on the virtual device — found here through the Device
contract, independently of the probes (the rationale's 取消 as a refusal, a banner that is not a request,
cold start vs return from the background).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from corpus_models import Corpus, refuse_what_asks
from test_samples import (
    CATEGORIES,
    DELETION,
    RELAUNCH_AT_MIN,
    check_expected,
    deny,
    deny_all,
    find,
    is_prompt,
    tap,
    texts,
)

from exerciser import SAMPLES_DIR
from exerciser.device.contract import Key

C3 = Corpus("corpus3")
CORPUS, APPS, model, expected, device = C3.dir, C3.apps, C3.model, C3.expected, C3.device


def is_entry(text: str) -> bool:
    """This corpus' deletion entries: 注销账号 / 注销账户 / Delete account, "Close account" and "Delete my
    data" (the rows whose page deletes the account); a question is a help article, no entry."""
    t = text.lower()
    return not t.endswith("?") and (bool(DELETION.search(t)) or t in ("close account", "delete my data"))


# === validity and coverage ========================================================================


def test_twelve_to_sixteen_apps_none_shared_with_earlier_corpora():
    assert 12 <= len(APPS) <= 16
    paths = [*Path(SAMPLES_DIR).glob("*/app.yaml"), *(Path(SAMPLES_DIR) / "corpus2").glob("*/app.yaml")]
    # the package line only (loading and validating every earlier model would cost seconds)
    earlier = {re.search(r"^package: (\S+)", p.read_text(encoding="utf-8"), re.M)[1] for p in paths}
    mine = [model(a).package for a in APPS]
    assert len(set(mine)) == len(mine) and not earlier & set(mine)


@pytest.mark.parametrize("app_id", APPS)
def test_model_and_expected_are_valid(app_id):
    exp = expected(app_id)
    assert set(exp) - {"profiles"} == {*CATEGORIES, "notes", "pattern", "features"}
    # the real flow it copies, with where it is described
    assert "Sources:" in exp["pattern"] and len(exp["pattern"]) > 80
    assert "Real pattern" in (CORPUS / app_id / "app.yaml").read_text(encoding="utf-8")
    assert all(exp[c]["verdict"] != "inconclusive" for c in CATEGORIES)
    check_expected(exp, model(app_id))


def test_both_languages_on_both_sides_of_every_category():
    C3.check_both_sides()


def test_suite_and_readme_list_every_app():
    C3.check_suite_and_readme()


# === the figures, as the models behave on the device ===============================================


@pytest.mark.parametrize("app_id", APPS)
def test_deletion_figure_matches_the_model(app_id):
    C3.check_deletion_figure(app_id, is_entry)


@pytest.mark.parametrize("app_id", APPS)
def test_consent_figure(app_id):
    """Prompts before the consent UI (a dialog, a bottom sheet or a full-screen page) equal the figure."""
    d, m = device(app_id)
    d.app_start(m.package)
    assert deny_all(d) == expected(app_id)["consent"]["figure"]
    obs = d.observe()
    assert obs.package == m.package
    assert any(("同意" in t or "agree" in t.lower()) for t in texts(obs)), texts(obs)


def test_notification_prompt_only_from_android_13():
    """萌宠消消's pre-consent prompt is POST_NOTIFICATIONS: none below API 33 (the `profiles` entry)."""
    for profile, prompts in (("api33", 1), ("api30", 0), ("api28", 0)):
        d, m = device("game_notification_before_consent_zh", profile)
        d.app_start(m.package)
        assert deny_all(d) == prompts, profile


# Refusing the group (labels tapped after agreement; a label that is on the app's own explanation refuses
# it there: 取消 / Not now), then the documented schedule: R2 home and back, R3 cold starts at +10 min,
# +6 h, +24 h. Nags: (label in front, label that dismisses it without granting).
NAGS = (("去开启", "暂不开启"), ("Turn on", "Not now"), ("Turn on location", "Not now"))
RERQ: dict[str, tuple[str, ...]] = {
    "news_reask_cold_start_only_zh": ("本地", "获取当前位置"),
    "tools_rationale_then_dialog_each_launch_en": ("Record a memo", "Not now"),
    "food_reask_on_resume_en": ("Use current location",),
    "maps_location_banner_zh": ("去开启",),
}


@pytest.mark.parametrize("app_id", sorted(RERQ))
def test_rerequest_figure_on_the_schedule(app_id):
    d, m = device(app_id)
    d.app_start(m.package)
    tap(d, rid="btn_agree")
    for label in RERQ[app_id]:
        tap(d, label)
    if is_prompt(d.observe()):
        deny(d)
    refused_at = d.now_ms()
    d.wait(20)
    count = refuse_what_asks(d, NAGS)  # R1: staying asks nothing
    d.key(Key.HOME)
    d.wait(5)
    d.app_start(m.package)  # R2: the task comes back (no cold start)
    count += refuse_what_asks(d, NAGS)
    for minutes in RELAUNCH_AT_MIN:
        d.app_stop(m.package)
        d.wait((refused_at + minutes * 60_000 - d.now_ms()) / 1000)
        d.app_start(m.package)
        count += refuse_what_asks(d, NAGS)
    assert count == expected(app_id)["6"]["figure"], texts(d.observe())


def test_the_banner_stays_on_the_page_at_every_launch():
    """附近好店's 开启定位 strip comes back at each launch after a refusal, as part of the home page: no
    dialog window in front, the tabs under it still there."""
    d, m = device("maps_location_banner_zh")
    d.app_start(m.package)
    tap(d, rid="btn_agree")
    tap(d, "去开启")
    deny(d)
    d.app_stop(m.package)
    d.wait(600)
    d.app_start(m.package)
    obs = d.observe()
    assert find(obs, "开启定位，为您推荐附近好店") and find(obs, "去开启") and find(obs, "我的")
    root = ET.fromstring(obs.xml.encode("utf-8"))
    assert not any(n.get("resource-id") == "android:id/alertTitle" for n in root.iter("node"))
