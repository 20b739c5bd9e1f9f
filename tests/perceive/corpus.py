"""The labelled screen corpus of the perceive tests and `bench/bench_perceive.py`.

Five sources, all with hand labels:
- `sim`: every screen and dialog of the sample apps (sample_apks/*) and of the corpus apps
  (tests/perceive/apps/*.yaml, real-world wordings), rendered by the virtual device; labels in
  labels_sim.yaml. The one blind dialog of the sample apps comes with its PNG (it needs OCR).
- `prompt`: the system permission dialog of every profile × locale × permission group, first request and
  repeated request (labels follow from what is requested: group, button roles of that profile).
- `system`: launcher, crash dialog, app-info settings page of every profile × locale.
- `xml`: hand-written `uiautomator dump` files (tests/perceive/corpus/*.xml): ROM dialogs, real-world
  wordings the sim does not draw, negative cases; labels in corpus/labels.yaml.
- `blind`: consent / rationale / wall / deletion dialogs re-drawn blind (a WebView, no text nodes), also
  dark and as bottom sheets, and account / deletion pages drawn as full-screen WebViews: OCR alone must
  recover the kind and every button.
- `web`: the app pages that show a WebView under a titled toolbar (privacy policy, terms, articles), with
  their PNG at two screen widths: OCR reads the WebView, and its prose must not become controls.
Screens are generated at test time (nothing large is committed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from exerciser import SAMPLES_DIR
from exerciser.device.contract import DeviceInfo, Observation
from exerciser.perceive.reading import Bounds
from exerciser.sim import PROFILES, VirtualDevice, load_app_model, sysui, uixml
from exerciser.sim import profiles as P
from exerciser.sim.appmodel import AppModel
from exerciser.sim.ui import Frame

HERE = Path(__file__).parent
APPS_DIR = HERE / "apps"
XML_DIR = HERE / "corpus"
AOSP_PROFILES = ("api23", "api28", "api29", "api30", "api33", "api34")
ROM_PROFILES = ("miui14", "hyperos", "harmony3", "coloros12", "originos3", "oneui1", "oneui5")
ALL_PROFILES = AOSP_PROFILES + ROM_PROFILES
LOCALES = ("en-US", "zh-CN")

# sysui button role -> reader target role; written out, not imported from exerciser.perceive.signatures:
# the corpus is the recogniser's independent oracle
GRANT_ROLES = {
    "allow": "allow",
    "allow_always": "allow",
    "allow_foreground": "allow_foreground",
    "allow_one_time": "allow_once",
    "deny": "deny",
    "deny_repeat": "deny_dont_ask_again",
}
GROUP_PERMISSION = {
    "location": ("android.permission.ACCESS_FINE_LOCATION", 23),
    "camera": ("android.permission.CAMERA", 23),
    "microphone": ("android.permission.RECORD_AUDIO", 23),
    "contacts": ("android.permission.READ_CONTACTS", 23),
    "phone": ("android.permission.READ_PHONE_STATE", 23),
    "call_log": ("android.permission.READ_CALL_LOG", 28),
    "sms": ("android.permission.READ_SMS", 23),
    "storage": ("android.permission.READ_EXTERNAL_STORAGE", 23),
    "calendar": ("android.permission.READ_CALENDAR", 23),
    "sensors": ("android.permission.BODY_SENSORS", 23),
    "activity_recognition": ("android.permission.ACTIVITY_RECOGNITION", 29),
    "notifications": ("android.permission.POST_NOTIFICATIONS", 33),
    "nearby_devices": ("android.permission.BLUETOOTH_SCAN", 31),
}


@dataclass
class Sample:
    name: str
    source: str  # sim | prompt | system | xml | blind
    obs: Observation
    info: DeviceInfo
    kinds: frozenset[str]
    group: str | None = None
    targets: dict[str, str | None] = field(default_factory=dict)  # role -> expected label (None: any)
    truth: dict[str, Bounds] = field(default_factory=dict)  # role -> bounds of the real control
    obstacles: tuple[str, ...] = ()
    blind: bool = False
    painted: str = ""  # the text a blind view of the screen paints (what OCR should read there)
    before: Observation | None = None  # what the same app showed just before (read first)


# --- sim apps ------------------------------------------------------------------------------------


@cache
def labels() -> dict:
    with open(HERE / "labels_sim.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def app_models() -> dict[str, AppModel]:
    out = {}
    for d in sorted(Path(SAMPLES_DIR).iterdir()):
        if (d / "app.yaml").is_file():
            out[d.name] = load_app_model(d / "app.yaml")
    for f in sorted(APPS_DIR.glob("*.yaml")):
        out[f.stem] = load_app_model(f)
    return out


def unlabelled() -> list[str]:
    """Screens / dialogs of the corpus apps that labels_sim.yaml does not cover (must be empty)."""
    lab = labels()
    missing = []
    for app_id, m in app_models().items():
        entry = lab.get(app_id) or {}
        known = set(entry.get("plain") or []) | set((entry.get("kinds") or {}).keys())
        for name in [*m.screens, *m.dialogs]:
            if name not in known:
                missing.append(f"{app_id}/{name}")
    return missing


def _obs(dev: VirtualDevice, frame: Frame, package: str, activity: str, png: bool) -> Observation:
    return Observation(
        xml=uixml.dump(frame),
        png=dev.render_png(frame) if png else b"",
        package=package,
        activity=activity,
        time_ms=dev.now_ms(),
    )


def _button_bounds(frame: Frame) -> dict[str, Bounds]:
    """Label -> bounds of every clickable node of the top window (blind ones included)."""
    out: dict[str, Bounds] = {}
    for n in frame.top.root.walk():
        if n.clickable and n.bounds and n.text:
            out.setdefault(n.text, n.bounds)
    return out


def sim_samples(
    profile: str = "api33", locale: str | None = None, png: bool = False, apps: list[str] | None = None
) -> Iterator[Sample]:
    """Every screen and dialog of every corpus app, with its labels. PNGs for blind ones, or all (`png`)."""
    lab = labels()
    for app_id, m in app_models().items():
        if apps is not None and app_id not in apps:
            continue
        loc = locale or ("zh-CN" if m.language == "zh" else "en-US")
        dev = VirtualDevice([m], profile=profile, locale=loc)
        entry = lab.get(app_id) or {}
        kinds = entry.get("kinds") or {}
        base = m.launch_screen
        for kind_of, names in (("screen", list(m.screens)), ("dialog", list(m.dialogs))):
            for name in names:
                if kind_of == "screen":
                    frame = dev.frame_for(m.package, screen=name)
                    activity = m.screens[name].activity
                else:
                    frame = dev.frame_for(m.package, screen=base, dialog=name)
                    activity = m.screens[base].activity
                blind = m.screens[name].blind if kind_of == "screen" else m.dialogs[name].blind
                # an H5 page of links in a blind WebView: its controls are in the pixels only
                blind = blind or (
                    kind_of == "screen" and any(_blind_links(w) for w in m.screens[name].widgets)
                )
                yield Sample(
                    name=f"sim:{app_id}/{name}@{profile}/{loc}",
                    source="sim",
                    obs=_obs(dev, frame, m.package, activity, png or blind),
                    info=dev.info,
                    kinds=frozenset(kinds.get(name) or ()),
                    group=(entry.get("groups") or {}).get(name),
                    targets=dict((entry.get("targets") or {}).get(name) or {}),
                    truth=_button_bounds(frame),
                    obstacles=tuple((entry.get("obstacles") or {}).get(name) or ()),
                    blind=blind,
                )


# Screen sizes a WebView page is drawn at: the wrapping of its text differs (a replay at another width).
WEB_SIZES = ((1080, 2340), (720, 1560))


def _blind_links(w) -> bool:
    return w.type == "webview" and w.blind and bool(w.page or any(b.link for b in w.paragraphs))


def webview_samples(
    sizes: tuple[tuple[int, int], ...] = WEB_SIZES, every_size: bool = True
) -> Iterator[Sample]:
    """Every screen of the corpus apps that holds a WebView next to its text nodes (policy, terms, article
    pages), with its PNG, at every size of `sizes` (or, not `every_size`, each app at one size in turn):
    the reader OCRs the blind WebView as it would in a run. Its painted text is body text; whatever it
    says, it is not a control of the app."""
    lab = labels()
    turn = 0
    for app_id, m in app_models().items():
        web = {
            n: next(w.text for w in sc.widgets if w.type == "webview")
            for n, sc in m.screens.items()
            # a page of text (policy, terms, article); an H5 page of links (a help centre) is no prose
            if not sc.blind
            and any(w.type == "webview" for w in sc.widgets)
            and not any(w.page or any(b.link for b in w.paragraphs) for w in sc.widgets)
        }
        if not web:
            continue
        loc = "zh-CN" if m.language == "zh" else "en-US"
        entry = lab.get(app_id) or {}
        turn += 1
        for w, h in sizes if every_size else (sizes[turn % len(sizes)],):
            dev = VirtualDevice([m], profile="api33", locale=loc, width=w, height=h)
            for name, painted in web.items():
                frame = dev.frame_for(m.package, screen=name)
                yield Sample(
                    name=f"web:{app_id}/{name}@{w}x{h}",
                    source="web",
                    obs=_obs(dev, frame, m.package, m.screens[name].activity, True),
                    info=dev.info,
                    kinds=frozenset((entry.get("kinds") or {}).get(name) or ()),
                    targets=dict((entry.get("targets") or {}).get(name) or {}),
                    obstacles=tuple((entry.get("obstacles") or {}).get(name) or ()),
                    blind=True,
                    painted=painted,
                )


# --- system permission prompts, launcher, crash, settings ----------------------------------------

_PROMPT_APP = {"en": "Good Notes", "zh": "好笔记"}


def _host(lang: str) -> AppModel:
    """The app the system dialogs are drawn over."""
    return load_app_model(APPS_DIR / ("realworld_zh.yaml" if lang == "zh" else "realworld_en.yaml"))


def prompt_frame(
    dev: VirtualDevice, base: Frame, prof_name: str, lang: str, group: str, repeat: bool
) -> tuple[Frame, dict[str, str | None]] | None:
    """The system prompt of `prof_name` for `group` over `base`, laid out, and the roles a reader must find
    (None: this profile has no message for the group in this language)."""
    prof = PROFILES[prof_name]
    view = sysui.GrantView(
        label=_PROMPT_APP[lang],
        group=group,
        media=False,
        page=1,
        pages=1,
        denied_before=repeat,
        checkbox_checked=False,
        background=False,
        fine=group == "location",
        precise=True,
    )
    try:
        win = sysui.grant_window(prof, lang, view)
    except (KeyError, TypeError):
        return None
    frame = Frame(base.width, base.height, [base.windows[0], win], density=base.density)
    dev._render().layout(frame)
    roles = [_grant_role(prof, lang, r) for r in sysui.grant_buttons(prof, view)]
    targets: dict[str, str | None] = {r: None for r in roles}
    if repeat and prof.layout == "checkbox":
        targets["dont_ask_again_checkbox"] = None
    if "deny_dont_ask_again" in targets:
        targets["deny"] = None
    return frame, targets


def prompt_samples(
    profiles: tuple[str, ...] = ALL_PROFILES, locales: tuple[str, ...] = LOCALES, png: bool = False
) -> Iterator[Sample]:
    for prof_name in profiles:
        prof = PROFILES[prof_name]
        for loc in locales:
            lang = loc.split("-")[0]
            host = _host(lang)
            dev = VirtualDevice([host], profile=prof_name, locale=loc)
            base = dev.frame_for(host.package, screen=host.launch_screen)
            for group, (perm, since) in GROUP_PERMISSION.items():
                if prof.api_level < since:
                    continue
                g = P.group_of(perm, prof.api_level) or group
                for repeat in (False, True):
                    made = prompt_frame(dev, base, prof_name, lang, g, repeat)
                    if made is None:
                        continue
                    frame, targets = made
                    yield Sample(
                        name=f"prompt:{g}{'+repeat' if repeat else ''}@{prof_name}/{loc}",
                        source="prompt",
                        obs=_obs(dev, frame, prof.controller_package, prof.grant_activity, png),
                        info=dev.info,
                        kinds=frozenset({"permission_prompt"}),
                        group=g,
                        targets=targets,
                    )


def _grant_role(prof, lang: str, role: str) -> str:
    """The role a reader can tell: a deny-and-don't-ask button without an id (MIUI's sheet) labelled
    like the plain deny is, on screen, a deny button."""
    texts = prof.texts(lang)
    if role == "deny_repeat" and prof.tree == "miui" and texts.get("deny_repeat") == texts.get("deny"):
        return "deny"
    return GRANT_ROLES[role]


def system_samples(
    profiles: tuple[str, ...] = ALL_PROFILES, locales: tuple[str, ...] = LOCALES
) -> Iterator[Sample]:
    for prof_name in profiles:
        prof = PROFILES[prof_name]
        for loc in locales:
            lang = loc.split("-")[0]
            host = _host(lang)
            dev = VirtualDevice([host], profile=prof_name, locale=loc)
            base = dev.frame_for(host.package, screen=host.launch_screen)
            W, H = base.width, base.height
            apps = [(host.package, host.label), ("com.example.notes", "Notes"), ("com.example.maps", "地图")]
            frames = [
                (
                    "launcher",
                    Frame(W, H, [sysui.launcher_window(prof, apps)]),
                    prof.launcher_package,
                    prof.launcher_activity,
                    {"launcher"},
                    {},
                ),
                (
                    "crash",
                    Frame(W, H, [base.windows[0], sysui.crash_window(prof, lang, host.label)]),
                    "android",
                    "com.android.server.am.AppErrorDialog",
                    {"crash_dialog"},
                    {"close": None},
                ),
                (
                    "app_info",
                    Frame(
                        W,
                        H,
                        [
                            sysui.settings_window(
                                prof,
                                lang,
                                host.package,
                                host.label,
                                [sysui.GroupStatus("camera", False), sysui.GroupStatus("location", True)],
                            )
                        ],
                    ),
                    prof.settings_package,
                    prof.settings_activity,
                    set(),
                    {},
                ),
            ]
            for name, frame, pkg, act, kinds, targets in frames:
                dev._render().layout(frame)
                yield Sample(
                    name=f"system:{name}@{prof_name}/{loc}",
                    source="system",
                    obs=_obs(dev, frame, pkg, act, False),
                    info=dev.info,
                    kinds=frozenset(kinds),
                    targets=dict(targets),
                )


# --- hand-written XML ------------------------------------------------------------------------------


def xml_samples() -> Iterator[Sample]:
    with open(XML_DIR / "labels.yaml", encoding="utf-8") as fh:
        lab = yaml.safe_load(fh)
    for name, entry in lab.items():
        xml = (XML_DIR / f"{name}.xml").read_text(encoding="utf-8")
        loc = entry.get("locale", "zh-CN")
        info = DeviceInfo(
            serial="fixture",
            api_level=int(entry.get("api", 33)),
            release="",
            rom=entry.get("rom", "aosp"),
            locale=loc,
            width=int(entry.get("width", 1080)),
            height=int(entry.get("height", 2340)),
        )
        yield Sample(
            name=f"xml:{name}",
            source="xml",
            obs=Observation(
                xml=xml, png=b"", package=entry["package"], activity=entry.get("activity", ""), time_ms=0
            ),
            info=info,
            kinds=frozenset(entry.get("kinds") or ()),
            group=entry.get("group"),
            targets=dict(entry.get("targets") or {}),
            obstacles=tuple(entry.get("obstacles") or ()),
        )


# --- blind variants ----------------------------------------------------------------------------------

# (app, dialog) pairs redrawn blind; variants: plain light dialog, dark, bottom sheet.
BLIND_DIALOGS = (
    ("blind_privacy_dialog_zh", "privacy"),
    ("compliant_zh", "privacy"),
    ("compliant_zh", "privacy_again"),
    ("compliant_en", "privacy"),
    ("compliant_en", "privacy_again"),
    ("quit_on_policy_refusal_zh", "privacy_again"),
    ("re_ask_in_app_dialog_zh", "location_nag"),
    ("re_ask_after_seconds_en", "location_nag"),
    ("refusal_wall_en", "location_wall"),
    ("compliant_zh", "delete_confirm"),
    ("camera_on_news_list_en", "delete_confirm"),
    ("realworld_zh", "consent_sheet"),
    ("realworld_zh", "consent_textbuttons"),
    ("realworld_zh", "consent_summary"),
    ("realworld_zh", "delete_review"),
    ("realworld_zh", "second_chance_exit"),
    ("realworld_zh", "camera_nag"),
    ("realworld_zh", "storage_wall"),
    ("realworld_en", "terms"),
    ("realworld_en", "notifications_nag"),
)
VARIANTS = ("light", "dark", "sheet")
# (app, screen) pairs drawn as a full-screen WebView (H5 deletion pages, a Flutter "me" tab); light and dark.
BLIND_PAGES = (
    ("realworld_zh", "delete_hotline"),
    ("realworld_zh", "delete_face"),
    ("realworld_en", "delete_support"),
    ("deletion_hotline_zh", "delete_account"),
    ("deletion_id_upload_zh", "delete_verify"),
    ("compliant_zh", "me"),
    ("realworld_en", "account"),
)
PAGE_VARIANTS = ("light", "dark")


def _blind_sample(
    m: AppModel, app_id: str, name: str, variant: str, frame: Frame, dev: VirtualDevice, activity: str
) -> Sample:
    entry = labels().get(app_id) or {}
    return Sample(
        name=f"blind:{app_id}/{name}/{variant}",
        source="blind",
        obs=_obs(dev, frame, m.package, activity, True),
        info=dev.info,
        kinds=frozenset((entry.get("kinds") or {}).get(name) or ()),
        group=(entry.get("groups") or {}).get(name),
        targets=dict((entry.get("targets") or {}).get(name) or {}),
        truth=_button_bounds(frame),
        obstacles=tuple((entry.get("obstacles") or {}).get(name) or ()),
        blind=True,
    )


def blind_samples(
    variants: tuple[str, ...] = VARIANTS,
    pairs: tuple[tuple[str, str], ...] = BLIND_DIALOGS,
    pages: tuple[tuple[str, str], ...] = BLIND_PAGES,
    page_variants: tuple[str, ...] = PAGE_VARIANTS,
) -> Iterator[Sample]:
    """Blind dialogs and pages, each variant drawn once (a sheet already drawn as a sheet is not redrawn)."""
    models = app_models()
    for app_id, dname in pairs:
        m = models[app_id]
        loc = "zh-CN" if m.language == "zh" else "en-US"
        seen: set[tuple[bool, str]] = set()
        for variant in variants:
            d = m.dialogs[dname]
            d = dataclasses.replace(
                d,
                blind=True,
                dark=variant == "dark" or d.dark,
                style="bottom_sheet" if variant == "sheet" else d.style,
            )
            if (d.dark, d.style) in seen:
                continue
            seen.add((d.dark, d.style))
            mm = dataclasses.replace(m, dialogs={**m.dialogs, dname: d})
            dev = VirtualDevice([mm], profile="api33", locale=loc)
            frame = dev.frame_for(mm.package, screen=mm.launch_screen, dialog=dname)
            yield _blind_sample(mm, app_id, dname, variant, frame, dev, mm.screens[mm.launch_screen].activity)
    for app_id, sname in pages:
        m = models[app_id]
        loc = "zh-CN" if m.language == "zh" else "en-US"
        for variant in page_variants:
            sc = dataclasses.replace(m.screens[sname], blind=True, dark=variant == "dark")
            mm = dataclasses.replace(m, screens={**m.screens, sname: sc})
            dev = VirtualDevice([mm], profile="api33", locale=loc)
            frame = dev.frame_for(mm.package, screen=sname)
            yield _blind_sample(mm, app_id, sname, variant, frame, dev, sc.activity)


def blind_dialog_later(app_id: str, dname: str, seconds: float) -> tuple[Sample, Sample]:
    """The same blind dialog drawn now and `seconds` later: only the status-bar clock differs."""
    m = app_models()[app_id]
    dev = VirtualDevice([m], profile="api33", locale="zh-CN" if m.language == "zh" else "en-US")
    activity = m.screens[m.launch_screen].activity
    out = []
    for wait in (0.0, seconds):
        dev.advance_clock(wait)
        frame = dev.frame_for(m.package, screen=m.launch_screen, dialog=dname)
        out.append(_blind_sample(m, app_id, dname, f"+{wait:.0f}s", frame, dev, activity))
    return out[0], out[1]
