"""Sample apps (sample_apks/<app-id>/): every model and expected file is valid, and every app shows its
characteristic behaviour on the virtual device.

The apps are driven through the Device contract only (observe / tap / key / app_start / app_stop / wait /
events / permissions / is_alive): widgets are found by parsing the observation's uiautomator XML by
resource-id or text and tapped at the centre of their bounds; the blind consent dialog is read from the
pixels. The re-request protocol below is the one sample_apks/README.md documents for the "6" figure.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytesseract
import pytest
import yaml
from PIL import Image

from exerciser import SAMPLES_DIR, SCENARIOS_DIR
from exerciser.device.contract import Device, EventKind, Key, Observation
from exerciser.sim import PROFILES as SIM_PROFILES
from exerciser.sim.appmodel import AppModel
from exerciser.sim.appmodel import load_sample as _load_sample
from exerciser.sim.expected import check_profiles_entry, expected_on, matches
from exerciser.sim.profiles import PROFILES as PROFILE_RECORDS
from exerciser.sim.runtime import VirtualDevice

SAMPLES = sorted(p.parent.name for p in Path(SAMPLES_DIR).glob("*/app.yaml"))
CATEGORIES = ("consent", "5", "6", "7", "8")
PROFILES = ("api28", "api33")
# Where the system's side differs (checkbox 23/28, two deny buttons on 29, permanent second denial from
# 30, the MIUI, ColorOS, OriginOS and One UI controllers), behaviours are checked on every profile.
ALL_PROFILES = ("api23", "api28", "api29", "api30", "api33", "api34", "miui14") + (
    "coloros12",
    "originos3",
    "oneui1",
    "oneui5",
)
LAUNCHERS = tuple({p.launcher_package for p in SIM_PROFILES.values()})
CONTROLLERS = tuple({p.controller_package for p in SIM_PROFILES.values()})
SETTINGS = "com.android.settings"
NAG_BUTTONS = ("去设置", "Go to settings")
NAG_DISMISS = ("取消", "Cancel")
DELETION = re.compile(r"注销账号|注销账户|账号注销|delete account", re.I)

# Protocol of the "6" figure (sample_apks/README.md), device seconds.
STAY_S, HOME_AWAY_S, OBSERVE_S, STEP_S = 20, 5, 10, 1.0
RELAUNCH_AT_MIN = (10, 360, 1440)  # R3: device minutes after the refusal (+10 min, +6 h, +24 h)


@cache
def load_sample(app_id: str) -> AppModel:
    return _load_sample(app_id)  # models are frozen: load (and validate) each once


# --- what the screen shows (contract only) -------------------------------------------------------


@dataclass(frozen=True)
class UiNode:
    text: str
    rid: str
    desc: str
    cls: str
    enabled: bool
    bounds: tuple[int, int, int, int]

    @property
    def centre(self) -> tuple[int, int]:
        x1, y1, x2, y2 = self.bounds
        return (x1 + x2) // 2, (y1 + y2) // 2


def ui_nodes(obs: Observation) -> list[UiNode]:
    out = []
    for n in ET.fromstring(obs.xml.encode("utf-8")).iter("node"):
        b = tuple(int(v) for v in re.findall(r"-?\d+", n.get("bounds", "")))
        out.append(
            UiNode(
                n.get("text", ""),
                n.get("resource-id", ""),
                n.get("content-desc", ""),
                n.get("class", ""),
                n.get("enabled") == "true",
                b,  # type: ignore[arg-type]
            )
        )
    return out


def texts(obs: Observation) -> list[str]:
    return [n.text for n in ui_nodes(obs) if n.text]


def find(obs: Observation, text: str | None = None, rid: str | None = None) -> UiNode | None:
    """First node with exactly this text, or whose resource-id ends with `:id/<rid>`."""
    for n in ui_nodes(obs):
        if text is not None and n.text == text:
            return n
        if rid is not None and n.rid.endswith(f":id/{rid}"):
            return n
    return None


def scrollables(obs: Observation) -> list[ET.Element]:
    return [n for n in ET.fromstring(obs.xml.encode()).iter("node") if n.get("scrollable") == "true"]


def scroll_once(d: Device, obs: Observation, k: int = 0) -> bool:
    """One slow drag (half the container, 1.5 s) in the k-th scrollable container, along its axis (a
    HorizontalScrollView sideways); False: none."""
    boxes = scrollables(obs)
    if k >= len(boxes):
        return False
    box = boxes[k]
    x1, y1, x2, y2 = (int(v) for v in re.findall(r"-?\d+", box.get("bounds", "")))
    if box.get("class", "").endswith("HorizontalScrollView"):
        cy = (y1 + y2) // 2
        d.swipe(x1 + (x2 - x1) * 3 // 4, cy, x1 + (x2 - x1) // 4, cy, 1500)
    else:
        d.swipe((x1 + x2) // 2, y1 + (y2 - y1) * 3 // 4, (x1 + x2) // 2, y1 + (y2 - y1) // 4, 1500)
    return True


def scroll_to(d: Device, text: str | None = None, rid: str | None = None) -> Observation:
    """Drag each scrollable container on (slowly, half of it at a time) until the node shows or the
    content stops moving (in the dump or the pixels: a blind WebView)."""
    obs = d.observe()
    for k in range(len(scrollables(obs))):
        for _ in range(12):
            if find(obs, text, rid) is not None:
                return obs
            if not scroll_once(d, obs, k):
                break
            before, obs = (obs.xml, obs.png), d.observe()
            if (obs.xml, obs.png) == before:
                break
    return obs


def tap(d: Device, text: str | None = None, rid: str | None = None) -> None:
    obs = scroll_to(d, text, rid)
    node = find(obs, text, rid)
    assert node is not None, f"no {text or rid!r} on screen {obs.activity}: {texts(obs)}"
    d.tap(*node.centre)


def tap_path(d: Device, labels: list[str]) -> int:
    for label in labels:
        tap(d, label)
    return len(labels)


def is_prompt(obs: Observation) -> bool:
    """The system runtime-permission dialog is in front."""
    return obs.package in CONTROLLERS and obs.activity.endswith("GrantPermissionsActivity")


def is_nag(obs: Observation) -> bool:
    """The app's own "please enable it in settings" dialog is in front."""
    return any(find(obs, t) for t in NAG_BUTTONS) and any(find(obs, t) for t in NAG_DISMISS)


def deny(d: Device) -> None:
    """Refuse the system prompt the way a user does: the plain deny button, no "don't ask again"."""
    obs = d.observe()
    assert is_prompt(obs), f"no permission prompt in front: {obs.package} {texts(obs)}"
    node = find(obs, rid="permission_deny_button") or find(
        obs, rid="permission_deny_and_dont_ask_again_button"
    )
    assert node is not None, texts(obs)
    d.tap(*node.centre)


def deny_all(d: Device, limit: int = 8) -> int:
    n = 0
    while is_prompt(d.observe()) and n < limit:
        deny(d)
        n += 1
    return n


def prompt_group_text(obs: Observation) -> str:
    node = find(obs, rid="permission_message")
    return node.text if node else ""


# --- devices ------------------------------------------------------------------------------------


def second_denial_is_final(d: Device) -> bool:
    """Android 11+: a second plain denial is permanent (USER_FIXED); 6-10 keep asking."""
    return d.info.api_level >= 30


def on_launcher(obs: Observation) -> bool:
    return obs.package in LAUNCHERS


def device(app_id: str, profile: str = "api33") -> tuple[VirtualDevice, AppModel]:
    model = load_sample(app_id)
    d = VirtualDevice([model], profile=profile, locale="zh-CN" if model.language == "zh" else "en-US")
    assert isinstance(d, Device)
    return d, model


# Per app: the privacy agree button (None: no dialog; "blind": only in pixels), labels tapped from the
# main screen to reach the first request of the group the "6" protocol refuses (None: the app asks by
# itself after agreement / before it), and the deletion path from the main screen (None: no deletion).
@dataclass(frozen=True)
class Recipe:
    agree: str | None = "btn_agree"
    trigger: tuple[str, ...] | None = None
    delete_path: tuple[str, ...] | None = None


ZH_DEL = ("我的", "设置", "账号与安全", "注销账号")
EN_DEL = ("Me", "Settings", "Account & security", "Delete account")
RECIPES: dict[str, Recipe] = {
    "compliant_zh": Recipe(trigger=("扫码记账", "打开相机"), delete_path=ZH_DEL),
    "compliant_en": Recipe(trigger=("Scan receipt", "Open camera"), delete_path=EN_DEL),
    "quit_on_location_refusal_zh": Recipe(trigger=("定位附近车辆",), delete_path=ZH_DEL),
    "quit_on_policy_refusal_zh": Recipe(trigger=("书城", "搜索书名或作者", "语音搜索"), delete_path=ZH_DEL),
    "refusal_wall_en": Recipe(trigger=("Where to?",), delete_path=EN_DEL),
    "re_ask_every_launch_en": Recipe(trigger=(), delete_path=EN_DEL),
    "re_ask_in_app_dialog_zh": Recipe(trigger=("附近", "开启定位"), delete_path=ZH_DEL),
    "re_ask_after_seconds_en": Recipe(trigger=("Start a run", "Start GPS run"), delete_path=EN_DEL),
    "startup_bundle_zh": Recipe(trigger=(), delete_path=ZH_DEL),
    "camera_on_news_list_en": Recipe(trigger=("Discover",), delete_path=EN_DEL),
    "perms_before_consent_zh": Recipe(trigger=None, delete_path=ZH_DEL),
    "perms_before_consent_en": Recipe(trigger=None, delete_path=EN_DEL),
    "no_privacy_dialog_zh": Recipe(agree=None, trigger=("拍照识菜", "拍照"), delete_path=ZH_DEL),
    "no_deletion_en": Recipe(trigger=("Scan barcode", "Open camera"), delete_path=None),
    "deletion_7_deep_en": Recipe(
        trigger=("What's on your mind?", "Take a photo"),
        delete_path=(
            "Me",
            "Settings & privacy",
            "Accounts Center",
            "Personal details",
            "Account ownership and control",
            "Manage your account",
            "Delete account",
        ),
    ),
    "deletion_hotline_zh": Recipe(trigger=("拍照理赔", "拍摄材料"), delete_path=ZH_DEL),
    "deletion_id_upload_zh": Recipe(
        trigger=("附近景点", "定位我的位置"), delete_path=("我的", "设置", "账户与安全", "注销账户")
    ),
    "blind_privacy_dialog_zh": Recipe(
        agree="blind", trigger=("扫码登录网页版", "打开相机扫码"), delete_path=ZH_DEL
    ),
    # rows below the fold are reached by `tap`, which scrolls as a user does
    "scroll_deletion_below_fold_en": Recipe(
        trigger=("Record a hike", "Start recording"), delete_path=("Me", "Settings", "Delete account")
    ),
    "scroll_feature_below_feed_en": Recipe(
        trigger=("Scan a food label", "Open camera"),
        delete_path=("Me", "Settings", "Account", "Delete account"),
    ),
    "scroll_no_deletion_long_settings_en": Recipe(trigger=None, delete_path=None),
    "scroll_policy_link_bottom_zh": Recipe(trigger=("语音输入", "按住说话"), delete_path=ZH_DEL),
    # agree is disabled until the policy is scrolled to its end / its box ticked (`agree` unlocks it)
    "scroll_agree_after_read_zh": Recipe(trigger=("扫一扫", "打开相机"), delete_path=ZH_DEL),
    "scroll_splash_login_zh": Recipe(trigger=("附近", "开启定位"), delete_path=ZH_DEL),
    "scroll_checkbox_agree_en": Recipe(
        trigger=("Edit", "Take a photo"), delete_path=("Me", "Settings", "Delete account")
    ),
    # agree waits for a WebView policy's end (Chrome's tree / blind: `unlock` sees the pixels move)
    "webview_agree_after_read_en": Recipe(
        trigger=("New entry", "Record a voice note"), delete_path=("Me", "Settings", "Delete account")
    ),
    "webview_blind_agree_zh": Recipe(trigger=("听书", "语音搜索"), delete_path=ZH_DEL),
    # 账号设置 is off-screen in a sideways tab strip: `tap` drags the strip as a user does
    "hscroll_tab_deletion_zh": Recipe(
        trigger=("拍照上传", "打开相机"), delete_path=("账号设置", "账号与安全", "注销账号")
    ),
    # the entry is a link inside an H5 help centre (Chrome's tree: a clickable android.view.View)
    "h5_help_deletion_zh": Recipe(delete_path=("我的", "帮助与客服", "账号注销")),
    "h5_hotline_deletion_zh": Recipe(delete_path=("我的", "帮助与客服", "注销账号")),
    # blind: the links and the game's rows are only in the pixels (tests/explore drives them by OCR)
    "h5_blind_deletion_en": Recipe(delete_path=None),
    "game_settings_scroll_zh": Recipe(delete_path=None),
}


def expected(app_id: str) -> dict:
    return yaml.safe_load((Path(SAMPLES_DIR) / app_id / "expected.yaml").read_text(encoding="utf-8"))


# --- the blind dialog: found in the pixels ------------------------------------------------------


def blind_buttons(obs: Observation) -> tuple[tuple[int, int], tuple[int, int]]:
    """(refuse, agree) tap points of a blind two-button consent card: the agree button is the largest
    saturated (filled accent) blob in the card; the refuse button mirrors it about the card's centre."""
    card = next(n for n in ui_nodes(obs) if n.cls == "android.widget.FrameLayout")
    x1, y1, x2, y2 = card.bounds
    img = cv2.imdecode(np.frombuffer(obs.png, np.uint8), cv2.IMREAD_COLOR)[y1:y2, x1:x2]
    sat = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)[:, :, 1]
    mask = (sat > 120).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    assert count > 1, "no filled button in the card"
    best = max(range(1, count), key=lambda i: stats[i, cv2.CC_STAT_AREA])
    bx, by, bw, bh = (int(v) for v in stats[best, :4])
    agree = (x1 + bx + bw // 2, y1 + by + bh // 2)
    refuse = (x1 + (x2 - x1) - (bx + bw // 2), agree[1])
    return refuse, agree


def agree(d: Device, recipe: Recipe) -> None:
    if recipe.agree is None:
        return
    if recipe.agree == "blind":
        d.tap(*blind_buttons(d.observe())[1])
    else:
        unlock(d, recipe.agree)
        tap(d, rid=recipe.agree)


def unlock(d: Device, rid: str) -> None:
    """An agree button disabled until the policy is read: scroll its body to the end; still disabled,
    tick the "I have read" box."""
    k = 0  # the container being read: the dialog's body, then a WebView policy in it
    for _ in range(20):
        obs = d.observe()
        node = find(obs, rid=rid)
        if node is None or node.enabled:
            return
        if scroll_once(d, obs, k):
            after = d.observe()
            if (after.xml, after.png) == (obs.xml, obs.png):
                k += 1
            continue
        box = next(n for n in ui_nodes(obs) if n.cls == "android.widget.CheckBox")
        d.tap(*box.centre)


def start_and_agree(d: Device, model: AppModel, recipe: Recipe) -> None:
    d.app_start(model.package)
    deny_all(d)  # prompts before the policy (perms_before_consent_*): refused
    agree(d, recipe)


# --- the re-request protocol --------------------------------------------------------------------


def watch(d: Device, seconds: float) -> int:
    """Let `seconds` of device time pass, looking every STEP_S; refuse every system prompt (plain deny)
    and in-app nag (取消 / Cancel) that shows, and count them."""
    count, end = 0, d.now_ms() + int(seconds * 1000)
    while d.now_ms() < end:
        obs = d.observe()
        if is_prompt(obs):
            deny(d)
            count += 1
        elif is_nag(obs):
            tap(d, next(t for t in NAG_DISMISS if find(obs, t)))
            count += 1
        else:
            d.wait(STEP_S)
    return count


def rerequests(d: Device, model: AppModel, recipe: Recipe) -> int:
    """R0 trigger the first request and refuse it; R1 stay; R2 home and back; R3 kill and relaunch at
    +10 min, +6 h, +24 h after the refusal.
    Returns the prompts + nags seen after the first refusal (each sample re-asks one group only)."""
    start_and_agree(d, model, recipe)
    if recipe.trigger:
        tap_path(d, list(recipe.trigger))
    if recipe.trigger is not None:
        assert deny_all(d) >= 1, f"{model.package}: the trigger showed no prompt"
    refused_at = d.now_ms()
    n = watch(d, STAY_S)
    d.key(Key.HOME)
    d.wait(HOME_AWAY_S)
    d.app_start(model.package)
    n += watch(d, OBSERVE_S)
    for minutes in RELAUNCH_AT_MIN:
        d.app_stop(model.package)
        d.wait(max(60.0, (refused_at + minutes * 60_000 - d.now_ms()) / 1000))
        d.app_start(model.package)
        n += watch(d, OBSERVE_S)
    return n


# === validity ====================================================================================


def test_at_least_14_samples():
    assert len(SAMPLES) >= 14
    assert set(SAMPLES) == set(RECIPES), "every sample needs a recipe here"


def check_expected(exp: dict, model: AppModel) -> None:
    """An expected.yaml's categories (verdict, figure, notes) and features (scenario format, naming the
    model's permissions and screens)."""
    for cat in CATEGORIES:
        entry = exp[cat]
        assert set(entry) == {"verdict", "figure", "notes"}, (cat, entry)
        assert entry["verdict"] in ("violation", "compliant", "inconclusive")
        assert entry["figure"] is None or isinstance(entry["figure"], int)
        assert isinstance(entry["notes"], str) and entry["notes"]
    # Values that differ by profile family, each with the Android fact behind it (exerciser/sim/expected.py),
    # and every family named by it exists among the profiles.
    for entry in exp.get("profiles") or ():
        check_profiles_entry(entry)
        assert any(matches(entry["when"], p) for p in PROFILE_RECORDS.values()), entry["when"]
    # Features are in the scenario format, so scenario authors can copy them.
    schema = yaml.safe_load((Path(SCENARIOS_DIR) / "schema.json").read_text(encoding="utf-8"))
    feature_schema = {"$defs": schema["$defs"], **schema["$defs"]["feature"]}
    for f in exp["features"]:
        jsonschema.validate(f, feature_schema)
        for p in f["permissions"]:
            assert "." not in p or p in model.permissions, f"{p} not declared in app.yaml"
        for act in f["screens"]:
            full = model.package + act if act.startswith(".") else act
            assert full in {s.activity for s in model.screens.values()}, act


@pytest.mark.parametrize("app_id", SAMPLES)
def test_model_and_expected_are_valid(app_id):
    model = load_sample(app_id)  # schema + cross-references; raises naming file:line: field
    assert model.app_id == app_id
    exp = expected(app_id)
    assert set(exp) - {"profiles"} == {*CATEGORIES, "notes", "features"}
    check_expected(exp, model)


def test_both_languages_on_both_sides_of_every_category():
    seen = {
        (cat, expected(a)[cat]["verdict"], load_sample(a).language) for a in SAMPLES for cat in CATEGORIES
    }
    for cat in CATEGORIES:
        for verdict in ("violation", "compliant"):
            for lang in ("en", "zh"):
                assert (cat, verdict, lang) in seen, (cat, verdict, lang)


def test_readme_catalogue_lists_every_sample():
    readme = (Path(SAMPLES_DIR) / "README.md").read_text(encoding="utf-8")
    for app_id in SAMPLES:
        assert f"`{app_id}`" in readme, app_id


def _tap_targets(actions) -> list[str]:
    """Screens (and H5 pages, as "page:NAME") a tap can open (both branches of an `if` are possible)."""
    out = []
    for a in actions:
        if a.verb in ("goto", "replace", "open_url"):
            out.append(a.arg)
        if a.verb == "load":
            out.append(f"page:{a.arg}")
        out += _tap_targets(a.then) + _tap_targets(a.else_)
    return out


def _tappables(model: AppModel, node: str) -> list[tuple[str, tuple]]:
    """(text, on_tap) of what can be tapped on a screen, the links of the pages its WebViews show first
    included, or on an H5 page (a page loaded in a WebView is one tap further)."""
    if node.startswith("page:"):
        return [(b.text, b.on_tap) for b in model.pages[node[5:]].blocks]
    out = []
    for w in model.screens[node].widgets:
        out.append((w.text, w.on_tap))
        if w.type == "webview":
            blocks = model.pages[w.page].blocks if w.page else w.paragraphs
            out += [(b.text, b.on_tap) for b in blocks]
    return out


def _model_deletion_depth(model: AppModel, main: str, is_entry=DELETION.search) -> int | None:
    """Shortest number of taps from `main` to a deletion entry, read from the model's navigation."""
    seen, queue = {main}, deque([(main, 0)])
    while queue:
        name, depth = queue.popleft()
        for text, on_tap in _tappables(model, name):
            targets = _tap_targets(on_tap)
            if targets and is_entry(text):
                return depth + 1
            for t in targets:
                if t not in seen:
                    seen.add(t)
                    queue.append((t, depth + 1))
    return None


@pytest.mark.parametrize("app_id", SAMPLES)
def test_expected_deletion_figure_matches_the_model(app_id):
    """The "8" figure is the shortest tap count in the model's own navigation graph."""
    model = load_sample(app_id)
    main = "shelf" if "shelf" in model.screens else "home"
    assert _model_deletion_depth(model, main) == expected(app_id)["8"]["figure"]


# === behaviour on the device, common to all ======================================================


@pytest.mark.parametrize("app_id", SAMPLES)
def test_consent_figure(app_id):
    """Prompts before the privacy dialog, on a clean install, equal the expected consent figure; the
    dialog is then in front (as text, or as a blind WebView), except for the app that has none."""
    d, model = device(app_id)
    recipe = RECIPES[app_id]
    d.app_start(model.package)
    prompts = deny_all(d)
    assert prompts == expected(app_id)["consent"]["figure"]
    obs = d.observe()
    assert obs.package == model.package
    if recipe.agree is None:
        assert not any("隐私政策" in t or "同意" in t for t in texts(obs))
    elif recipe.agree == "blind":
        assert texts(obs) == [] and any(n.cls == "android.webkit.WebView" for n in ui_nodes(obs))
    else:
        assert find(obs, rid=recipe.agree) is not None
        # The logcat agrees: a requestPermissions call that showed dialogs happened iff prompts were seen.
        shown = [
            e
            for e in d.events()
            if e.kind == EventKind.PERMISSION_REQUEST and e.detail.get("shown") == "true"
        ]
        assert bool(shown) == bool(prompts)


@pytest.mark.parametrize("app_id", SAMPLES)
def test_rerequest_figure(app_id):
    """The documented re-request protocol reproduces the expected "6" figure (profile in expected.yaml)."""
    profile = "api28" if app_id == "re_ask_every_launch_en" else "api33"
    d, model = device(app_id, profile)
    assert rerequests(d, model, RECIPES[app_id]) == expected(app_id)["6"]["figure"]


@pytest.mark.parametrize("app_id", [a for a in SAMPLES if RECIPES[a].delete_path])
def test_deletion_path(app_id):
    """From the main screen, the deletion entry is reached in exactly the expected number of taps, the
    entry is not visible earlier on the path, and the page it opens is the deletion flow."""
    d, model = device(app_id)
    recipe = RECIPES[app_id]
    start_and_agree(d, model, recipe)
    deny_all(d)  # start-up prompts (not part of the path)
    path = list(recipe.delete_path or ())
    for label in path[:-1]:
        assert not any(DELETION.search(t) for t in texts(d.observe())), f"entry visible before {label}"
        tap(d, label)
    tap(d, path[-1])
    assert len(path) == expected(app_id)["8"]["figure"]
    obs = d.observe()
    assert obs.package == model.package
    assert any(DELETION.search(t) or "注销" in t for t in texts(obs)), texts(obs)


# === characteristic behaviours ====================================================================


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("app_id", ["compliant_zh", "compliant_en"])
def test_compliant_apps(app_id, profile):
    d, model = device(app_id, profile)
    zh = model.language == "zh"
    d.app_start(model.package)
    obs = d.observe()
    assert not is_prompt(obs) and find(obs, rid="btn_agree")  # privacy dialog first
    # Refusing the policy: second chance, then browse mode; the app stays in front and alive.
    tap(d, rid="btn_disagree")
    tap(d, rid="btn_still_disagree")
    obs = d.observe()
    assert obs.package == model.package and find(obs, rid="btn_full_mode") and d.is_alive(model.package)
    # Next launch asks for the policy again; agree.
    d.app_stop(model.package)
    d.app_start(model.package)
    tap(d, rid="btn_agree")
    assert not is_prompt(d.observe())
    assert not [e for e in d.events() if e.kind == EventKind.PERMISSION_REQUEST]
    # The camera is asked on its feature screen only after the user taps the feature; refusal tolerated.
    tap(d, "扫码记账" if zh else "Scan receipt")
    assert not is_prompt(d.observe())
    tap(d, "打开相机" if zh else "Open camera")
    obs = d.observe()
    assert is_prompt(obs)
    assert obs.package == (
        "com.android.packageinstaller" if profile == "api28" else "com.android.permissioncontroller"
    )
    deny(d)
    obs = d.observe()
    assert obs.package == model.package and find(obs, "手动记一笔" if zh else "Enter manually")
    perm = d.permissions(model.package)["android.permission.CAMERA"]
    assert not perm.granted and "USER_SET" in perm.flags and not perm.user_fixed
    # Deletion: 4 taps, then a confirmation step (never confirmed here).
    d.key(Key.BACK)
    assert tap_path(d, list(ZH_DEL if zh else EN_DEL)) == 4
    tap(d, rid="btn_apply_delete")
    assert find(d.observe(), rid="btn_confirm_delete")
    tap(d, rid="btn_cancel_delete")
    # The privacy policy: Settings → 隐私政策 / Privacy Policy opens a WebView page.
    d.key(Key.BACK)
    d.key(Key.BACK)
    tap(d, "隐私政策" if zh else "Privacy Policy")
    obs = d.observe()
    assert obs.activity.endswith(".web.WebViewActivity")
    assert any(n.cls == "android.webkit.WebView" for n in ui_nodes(obs))


@pytest.mark.parametrize("profile", ("api23", "api28", "api33", "miui14"))
def test_quit_on_location_refusal(profile):
    d, model = device("quit_on_location_refusal_zh", profile)
    start_and_agree(d, model, RECIPES["quit_on_location_refusal_zh"])
    # Camera refusal is tolerated.
    tap_path(d, ["扫码用车", "打开相机扫码"])
    deny(d)
    assert find(d.observe(), "输入车辆编号") and d.is_alive(model.package)
    d.key(Key.BACK)
    since = d.now_ms()
    tap(d, "定位附近车辆")
    assert "位置信息" in prompt_group_text(d.observe()) or "location" in prompt_group_text(d.observe())
    deny(d)
    obs = d.observe()
    assert on_launcher(obs)
    assert not d.is_alive(model.package)
    assert any(e.kind == EventKind.PROC_DIED and e.package == model.package for e in d.events(since))


def test_quit_on_policy_refusal():
    d, model = device("quit_on_policy_refusal_zh")
    d.app_start(model.package)
    tap(d, "不同意")
    obs = d.observe()
    assert "不同意将无法使用我们的产品和服务，并会退出App。" in texts(obs)
    assert find(obs, "仍不同意并退出") and find(obs, "同意并继续")
    tap(d, "仍不同意并退出")
    assert on_launcher(d.observe())
    assert d.is_alive(model.package)  # finish(): the process stays
    finishes = [e for e in d.events() if e.kind == EventKind.FINISH_ACTIVITY and e.package == model.package]
    assert finishes and all(e.detail.get("reason") == "app-request" for e in finishes)
    # Next launch: the dialog again; agreeing reaches the shelf.
    d.app_start(model.package)
    tap(d, "同意")
    assert find(d.observe(), "书架")


def test_refusal_wall():
    d, model = device("refusal_wall_en")
    start_and_agree(d, model, RECIPES["refusal_wall_en"])
    tap(d, "Where to?")
    deny(d)
    obs = d.observe()
    assert "Location required" in texts(obs)
    buttons = [n.text for n in ui_nodes(obs) if n.cls == "android.widget.Button"]
    assert buttons == ["Exit", "Go to settings"]
    d.key(Key.BACK)  # not cancelable
    assert "Location required" in texts(d.observe())
    tap(d, "Go to settings")
    assert d.observe().package == SETTINGS
    d.key(Key.BACK)
    assert "Location required" in texts(d.observe())
    tap(d, "Exit")
    assert on_launcher(d.observe()) and d.is_alive(model.package)


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_re_ask_every_launch(profile):
    d, model = device("re_ask_every_launch_en", profile)
    start_and_agree(d, model, RECIPES["re_ask_every_launch_en"])
    assert is_prompt(d.observe())  # right after Agree, before any other action
    deny(d)
    d.app_stop(model.package)
    d.app_start(model.package)
    assert is_prompt(d.observe())  # relaunch 1: the system asks again on every profile
    deny(d)
    d.app_stop(model.package)
    d.app_start(model.package)
    obs = d.observe()
    fine = d.permissions(model.package)["android.permission.ACCESS_FINE_LOCATION"]
    if not second_denial_is_final(d):
        # 6-10: asked again, now with "don't ask again" on offer (the checkbox on 6-9; on 10 a button
        # below the plain Deny, which stays).
        assert is_prompt(obs) and not fine.user_fixed
        if d.info.api_level < 29:
            assert find(obs, rid="do_not_ask_checkbox") and find(obs, rid="permission_deny_button")
        else:
            assert find(obs, rid="permission_deny_and_dont_ask_again_button")
            assert find(obs, rid="permission_deny_button")
    else:
        assert not is_prompt(obs) and obs.package == model.package  # second denial was permanent
        assert fine.user_fixed
    # Counted over the whole protocol: 3 where plain denials never fix the group, else 1 (the figure
    # expected.yaml states for this profile's family).
    d2, _ = device("re_ask_every_launch_en", profile)
    expect = expected_on(expected("re_ask_every_launch_en"), PROFILE_RECORDS[profile])["6"].figure
    assert expect == (1 if second_denial_is_final(d2) else 3)
    assert rerequests(d2, model, RECIPES["re_ask_every_launch_en"]) == expect


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_re_ask_in_app_dialog(profile):
    d, model = device("re_ask_in_app_dialog_zh", profile)
    start_and_agree(d, model, RECIPES["re_ask_in_app_dialog_zh"])
    tap_path(d, ["附近", "开启定位"])
    deny(d)
    assert find(d.observe(), "未开启定位，已为您展示全城热门门店")
    seen = []
    for _ in range(3):
        d.app_stop(model.package)
        d.app_start(model.package)
        obs = d.observe()
        if is_prompt(obs):
            seen.append("system")
            deny(d)
        elif is_nag(obs):
            assert "定位权限未开启" in texts(obs) and find(obs, "去设置")
            seen.append("nag")
            tap(d, "取消")
    # Once Android stops showing the prompt (second denial, 11+), the app nags with its own dialog.
    assert seen == (["system", "nag", "nag"] if second_denial_is_final(d) else ["system"] * 3)
    # The nag's 去设置 opens the app-info page.
    if second_denial_is_final(d):
        d.app_stop(model.package)
        d.app_start(model.package)
        tap(d, "去设置")
        assert d.observe().package == SETTINGS


@pytest.mark.parametrize("profile", ("api28", "api29", "api30", "api33"))
def test_re_ask_after_seconds(profile):
    d, model = device("re_ask_after_seconds_en", profile)
    start_and_agree(d, model, RECIPES["re_ask_after_seconds_en"])
    tap_path(d, ["Start a run", "Start GPS run"])
    deny(d)
    d.wait(4)  # the refusal window: nothing yet, the app stays usable
    obs = d.observe()
    assert obs.package == model.package and not is_nag(obs) and find(obs, "Treadmill run (no GPS)")
    kinds, start = [], d.now_ms()
    while d.now_ms() - start < 16_000:
        obs = d.observe()
        if is_prompt(obs):
            kinds.append("system")
            deny(d)
        elif is_nag(obs):
            assert "Location is off" in texts(obs)
            kinds.append("nag")
            tap(d, "Cancel")
        else:
            d.wait(1)
    assert kinds == (["system", "nag"] if second_denial_is_final(d) else ["system", "system"])


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_startup_bundle(profile):
    d, model = device("startup_bundle_zh", profile)
    d.app_start(model.package)
    assert not is_prompt(d.observe())
    tap(d, "同意")
    messages, counters = [], []
    while is_prompt(obs := d.observe()):
        messages.append(prompt_group_text(obs))
        counter = find(obs, rid="current_page_text")  # "第 1 项权限（共 4 项）" on 6-9 only
        counters.append(counter.text if counter else None)
        deny(d)  # one dialog after another, never two at once
    assert len(messages) == 4
    if d.info.api_level < 29:
        assert counters == [f"第 {i} 项权限（共 4 项）" for i in range(1, 5)]
    else:
        assert counters == [None] * 4
    for word in ("通讯录", "位置信息", "电话", "拍摄照片"):
        assert sum(word in m for m in messages) == 1, (word, messages)
    assert find(d.observe(), "扫一扫") and d.is_alive(model.package)


def test_camera_on_news_list():
    d, model = device("camera_on_news_list_en")
    start_and_agree(d, model, RECIPES["camera_on_news_list_en"])
    assert not is_prompt(d.observe())
    tap(d, "Discover")
    obs = d.observe()
    assert is_prompt(obs) and "take pictures" in prompt_group_text(obs)
    deny(d)
    obs = d.observe()
    assert obs.activity.endswith(".main.TrendingActivity") and "Trending" in texts(obs)
    tap(d, "Home")
    tap(d, "Discover")
    assert not is_prompt(d.observe())  # once only


@pytest.mark.parametrize("app_id", ["perms_before_consent_zh", "perms_before_consent_en"])
def test_perms_before_consent(app_id):
    d, model = device(app_id)
    d.app_start(model.package)
    for _ in range(2):
        obs = d.observe()
        assert is_prompt(obs)
        assert find(obs, rid="btn_agree") is None
        deny(d)
    obs = d.observe()
    assert obs.package == model.package and find(obs, rid="btn_agree")
    tap(d, rid="btn_agree")
    d.app_stop(model.package)
    d.app_start(model.package)
    assert not is_prompt(d.observe())


def test_no_privacy_dialog():
    d, model = device("no_privacy_dialog_zh")
    d.app_start(model.package)
    obs = d.observe()
    assert obs.activity.endswith(".main.MainActivity")
    assert find(obs, "拍照识菜") and not any("同意" in t for t in texts(obs))


def test_no_deletion_anywhere():
    """Explore every screen reachable by taps (relaunching for each path) and find no deletion entry."""
    d, model = device("no_deletion_en")
    start_and_agree(d, model, RECIPES["no_deletion_en"])
    seen_screens, queue = set(), deque([()])
    while queue:
        path = queue.popleft()
        d.app_stop(model.package)
        d.app_start(model.package)
        for label in path:
            tap(d, label)
        obs = d.observe()
        if obs.package != model.package or (path and obs.activity in seen_screens):
            continue
        seen_screens.add(obs.activity)
        assert not any(DELETION.search(t) or re.search(r"delet|close account", t, re.I) for t in texts(obs))
        if len(path) < 4:
            for n in ui_nodes(obs):
                if (
                    n.text
                    and n.cls
                    in ("android.widget.Button", "android.widget.LinearLayout", "android.widget.TextView")
                    and n.text not in path
                    and not n.rid.endswith(("btn_logout", "row_logout_all"))
                ):
                    queue.append((*path, n.text))
    assert {".settings.AccountSecurityActivity", ".settings.SettingsActivity"} <= {
        a.removeprefix(model.package) for a in seen_screens
    }


def test_deletion_obstacles():
    d, model = device("deletion_hotline_zh")
    start_and_agree(d, model, RECIPES["deletion_hotline_zh"])
    tap_path(d, list(ZH_DEL))
    obs = d.observe()
    assert any("请致电客服热线 400-820-8820 办理注销" in t for t in texts(obs))
    assert find(obs, rid="btn_apply_delete") is None

    d, model = device("deletion_id_upload_zh")
    start_and_agree(d, model, RECIPES["deletion_id_upload_zh"])
    tap_path(d, ["我的", "设置", "账户与安全", "注销账户", "下一步"])
    obs = d.observe()
    assert any("上传身份证正反面照片" in t for t in texts(obs))
    submit = find(obs, "提交审核")
    assert submit is not None and not submit.enabled


def test_blind_privacy_dialog():
    # The app draws its own consent card: nothing of it depends on the profile (one OCR run is enough).
    d, model = device("blind_privacy_dialog_zh")
    d.app_start(model.package)
    obs = d.observe()
    # The words are only in the pixels: the dump has a WebView and no text at all.
    assert texts(obs) == []
    assert any(n.cls == "android.webkit.WebView" for n in ui_nodes(obs))
    card = next(n for n in ui_nodes(obs) if n.cls == "android.widget.FrameLayout").bounds
    words = pytesseract.image_to_string(
        Image.open(io.BytesIO(obs.png)).crop(card), lang="chi_sim", config="--psm 6"
    ).replace(" ", "")
    assert "欢迎" in words and "协议" in words and "退出" in words, words
    refuse, agree_xy = blind_buttons(obs)
    assert refuse[0] < agree_xy[0]
    d.tap(*refuse)  # 不同意并退出 App: Application.Quit
    assert on_launcher(d.observe()) and not d.is_alive(model.package)
    d.app_start(model.package)
    d.tap(*blind_buttons(d.observe())[1])
    obs = d.observe()
    assert obs.activity.endswith(".main.MainActivity") and find(obs, "扫码登录网页版")


def test_h5_links_navigate_inside_the_webview():
    """A link of an H5 page loads the next page in the same WebView (same activity, the title is the
    page's), back goes to the page before as a browser's history does, then leaves the activity."""
    d, model = device("h5_help_deletion_zh")
    start_and_agree(d, model, RECIPES["h5_help_deletion_zh"])
    tap_path(d, ["我的", "帮助与客服"])
    help_page = d.observe()
    link = find(help_page, "账号注销")
    assert link is not None and link.cls == "android.view.View"
    node = next(n for n in ET.fromstring(help_page.xml.encode()).iter("node") if n.get("text") == "账号注销")
    assert node.get("clickable") == "true" and node.get("focusable") == "true"
    tap(d, "账号注销")
    notice = d.observe()
    assert notice.activity == help_page.activity
    assert find(notice, "注销须知") is not None and find(notice, "账号注销") is None
    d.key(Key.BACK)
    assert find(d.observe(), "账号注销") is not None  # the help centre again, same activity
    d.key(Key.BACK)
    assert d.observe().activity.endswith(".main.MineActivity")
    tap_path(d, ["帮助与客服", "账号注销", "申请注销"])
    assert d.observe().activity.endswith(".settings.CancelApplyActivity")


def test_game_surface_scrolls_though_the_dump_never_says_so():
    """A game's one SurfaceView: no text, never scrollable in the dump; a drag moves its painted list."""
    d, model = device("game_settings_scroll_zh")
    start_and_agree(d, model, RECIPES["game_settings_scroll_zh"])
    from exerciser.perceive import Reader
    from exerciser.perceive.reading import center

    lobby = Reader().read(d.observe(), d.info)
    d.tap(*center(next(e.bounds for e in lobby.elements if e.source == "ocr" and e.text == "设置")))
    obs = d.observe()
    assert obs.activity.endswith(".GameSettingsActivity"), obs.activity
    assert texts(obs) == [] and scrollables(obs) == []
    assert [n.cls for n in ui_nodes(obs)].count("android.view.SurfaceView") == 1
    d.swipe(540, 1700, 540, 700, 1500)
    after = d.observe()
    assert after.xml == obs.xml and after.png != obs.png
    for _ in range(6):
        d.swipe(540, 1700, 540, 700, 300)
    end = d.observe()
    d.swipe(540, 1700, 540, 700, 300)
    assert d.observe().png == end.png  # stopped at its end
