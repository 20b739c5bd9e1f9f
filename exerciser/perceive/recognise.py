"""Recognisers: from a list of elements (hierarchy nodes or OCR segments) to screen kinds and targets.

Every decision is driven by the vocabularies in `models/` (see `lexicon.py`, `signatures.py`); this module
only says how evidence combines. The same code reads hierarchy elements and OCR segments: a `View` says
where the elements came from, whether a dialog is in front, and which element a tap on each one reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from exerciser.device.contract import DeviceInfo
from exerciser.perceive.lexicon import Lexicon, Phrases, classify_label, lexicon
from exerciser.perceive.reading import Bounds, Element, KindHit, Source, Target
from exerciser.perceive.signatures import Signatures, signatures
from exerciser.perceive.text import compact, is_prose, is_sentence, normalise, text_len

MAX_BUTTON_LEN = 12.0  # text_len of the longest label that still counts as a button / entry
SHORT_BODY = 70  # compact characters: a body this short is a "short dialog" (second-chance wording)
MAX_ITEM_LEN = 6.0  # text_len of the longest row label of an account / settings page
TITLE_BAND = 0.16  # share of the screen height: a page's title sits in the toolbar band


@dataclass
class View:
    elements: list[Element]
    owner: list[int]  # per element: the clickable element a tap on it reaches (-1 none)
    package: str  # foreground package (Observation.package)
    window_package: str  # package of the top window in the dump ("" when unknown / blind)
    activity: str
    screen: tuple[int, int]
    dialog_bounds: Bounds | None
    source: Source = "hierarchy"
    info: DeviceInfo | None = None
    title_hint: str = ""  # the page title the hierarchy shows above an OCR'd region (a WebView's toolbar)
    unread: int = 0  # text segments on screen that OCR did not read (it stopped once the reading settled)

    # --- derived views, computed once -----------------------------------------------------------
    @cached_property
    def compacts(self) -> list[str]:
        return [compact(e.text or e.content_desc) for e in self.elements]

    @cached_property
    def buttons(self) -> list[int]:
        """Indexes of elements that can be tapped and carry a short label."""
        out = []
        for i, e in enumerate(self.elements):
            if not e.enabled or _area(e.bounds) == 0:
                continue
            if not (e.clickable or e.checkable):
                continue
            if not e.label or _prose(e.label):
                continue  # a clickable sentence is text to read (a clickable TextView body), no button
            out.append(i)
        return out

    @cached_property
    def body(self) -> list[int]:
        """Indexes of read-only texts (not buttons, not inside a clickable container). Prose is body
        wherever it sits: apps put dialog text in clickable TextViews, EditTexts and nested ScrollViews."""
        bset = set(self.buttons)
        return [
            i
            for i, e in enumerate(self.elements)
            if (e.text or e.content_desc)
            and i not in bset
            and ((self.owner[i] < 0 and not e.clickable) or _prose(e.text or e.content_desc))
        ]

    @cached_property
    def body_compact(self) -> str:
        return "".join(self.compacts[i] for i in self.body)

    @cached_property
    def all_compact(self) -> str:
        return "".join(self.compacts)

    @cached_property
    def all_text(self) -> str:
        return " ".join(e.text or e.content_desc for e in self.elements if e.text or e.content_desc)

    @cached_property
    def classes(self) -> dict[int, frozenset[str]]:
        return {i: classify_label(self.elements[i].label) for i in self.buttons}

    def with_class(self, name: str) -> list[int]:
        return [i for i in self.buttons if name in self.classes[i]]

    @cached_property
    def disabled_buttons(self) -> list[int]:
        """Short-labelled controls that are shown but disabled (an agree button waiting for a tick)."""
        return [
            i
            for i, e in enumerate(self.elements)
            if not e.enabled
            and (e.clickable or e.checkable)
            and e.label
            and text_len(e.label) <= MAX_BUTTON_LEN
            and _area(e.bounds) > 0
        ]

    def agree_buttons(self) -> list[int]:
        """The agreement first: a plain agree button (enabled, else one disabled until the policy is read
        to its end or its box ticked), then an "I have read and agree" checkbox, which only unlocks it."""
        enabled = self.with_class("agree")
        disabled = [i for i in self.disabled_buttons if "agree" in classify_label(self.elements[i].label)]
        plain = [i for i in enabled + disabled if not self.elements[i].checkable]
        return plain + [i for i in enabled if self.elements[i].checkable]

    @cached_property
    def title(self) -> str:
        """The page's title: `title_hint`, else the first short read-only text in the toolbar band."""
        return self.title_hint or page_title(self.elements, self.owner, self.screen[1])

    @property
    def is_dialog(self) -> bool:
        return self.dialog_bounds is not None

    @property
    def compact_screen(self) -> bool:
        """Dialog-like: a dialog window, or few controls on the screen."""
        return self.is_dialog or (len(self.buttons) <= 4 and len(self.body) <= 12)


@dataclass
class Result:
    kinds: list[KindHit] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def add_kind(self, hit: KindHit) -> None:
        if all(k.kind != hit.kind for k in self.kinds):
            self.kinds.append(hit)

    def has(self, kind: str) -> bool:
        return any(k.kind == kind for k in self.kinds)

    def add_target(self, view: View, role: str, i: int) -> None:
        e = view.elements[i]
        o = view.owner[i] if view.owner[i] >= 0 else i
        tap = view.elements[o]
        if any(t.role == role and t.bounds == tap.bounds for t in self.targets):
            return
        self.targets.append(
            Target(
                role=role,
                bounds=tap.bounds,
                source=view.source,
                text=e.label.split("\n", 1)[0],  # a row's first line (its title, not the subtitle)
                resource_id=tap.resource_id or e.resource_id,
                cls=tap.cls,
                index_path=tap.index_path,
            )
        )

    def has_target(self, role: str) -> bool:
        return any(t.role == role for t in self.targets)


def page_title(elements: list[Element], owner: list[int], screen_h: int) -> str:
    """The first short read-only text in the toolbar band ("" when none)."""
    band = TITLE_BAND * (screen_h or 1)
    for i, e in enumerate(elements):
        label = e.text or e.content_desc
        if label and not e.clickable and owner[i] < 0 and e.bounds[3] <= band and text_len(label) <= 8:
            return label
    return ""


# An id's role that its label may narrow (ROMs reuse AOSP ids: Huawei's permission_allow_button is
# labelled 仅使用期间允许, a while-using grant).
_NARROWER = {"allow": ("allow_foreground", "allow_once"), "deny": ("deny_dont_ask_again",)}


def _refine(role: str, label: str) -> str:
    classes = classify_label(label) if label else frozenset()
    return next((r for r in _NARROWER.get(role, ()) if r in classes), role)


def _checkbox_label(label: str) -> bool:
    """Worded as a "don't ask again" checkbox (不再提示), not as a deny-and-don't-ask button."""
    c = classify_label(label)
    return "dont_ask_checkbox" in c and "deny_dont_ask_again" not in c


def _prose(label: str) -> bool:
    """Too long for a control's label, or a sentence: text to read, whatever node holds it."""
    return text_len(label) > MAX_BUTTON_LEN or (is_prose(label) and text_len(label) > 3)


def _area(b: Bounds) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _id_name(rid: str) -> str:
    return rid.rsplit(":id/", 1)[-1] if ":id/" in rid else ""


def _q(text: str) -> str:
    return f'"{text}"'


def _first_group(lx: Lexicon, texts: list[str]) -> tuple[str | None, list[str]]:
    """Permission groups named in `texts` (compact), earliest first."""
    found: list[tuple[int, int, str]] = []
    for n, c in enumerate(texts):
        for group, ph in lx.group_names.items():
            m = ph.contains_rx.search(c)
            if m:
                found.append((n, m.start(), group))
    found.sort()
    groups = list(dict.fromkeys(g for _, _, g in found))
    return (groups[0] if groups else None), groups


# --- recognisers ---------------------------------------------------------------------------------


def recognise(view: View) -> Result:
    lx, sig = lexicon(), signatures()
    res = Result()
    if _permission_prompt(view, sig, lx, res):
        return res
    if _crash(view, lx, res):
        return res
    if _launcher(view, lx, sig, res):
        return res
    _consent(view, lx, res)
    _wall(view, lx, res)
    if not res.has("privacy_consent"):
        _rationale(view, lx, sig, res)
    # A policy or agreement page: its body is the document's prose. Saying how deletion works ("如需注销账号，
    # 请致电客服热线") or naming 我的-设置-账号与安全 does not put the page on the deletion path or make it
    # an account page.
    doc = _document(view, lx)
    _deletion(view, lx, res, prose=doc)
    if not (res.kinds and view.is_dialog) and not doc:
        _account_page(view, lx, sig, res)
    _nav_targets(view, lx, res)
    return res


def _permission_prompt(view: View, sig: Signatures, lx: Lexicon, res: Result) -> bool:
    pkgs = {view.package, view.window_package} | {e.package for e in view.elements if e.package}
    by_pkg = bool(pkgs & sig.controller_packages)
    by_act = any(view.activity.endswith(a) for a in sig.activities) and view.package not in (
        lx.launcher_packages | sig.launcher_packages
    )
    id_roles: dict[int, str] = {}
    aosp_hits = 0
    message: int | None = None
    for i, e in enumerate(view.elements):
        name = _id_name(e.resource_id)
        if not name:
            continue
        if name in sig.message_ids:
            message = i
        if name in sig.id_roles:
            id_roles[i] = _refine(sig.id_roles[name], e.text or e.content_desc)
        if name in sig.signature_ids and name.startswith("permission_") or name == "do_not_ask_checkbox":
            aosp_hits += 1
    # ROM ids such as "accept"/"btn_allow" are too common to trust outside a controller package.
    if not (by_pkg or by_act) and aosp_hits < 2:
        return False
    evidence: list[str] = []
    if by_pkg:
        evidence.append("pkg:" + next(iter(pkgs & sig.controller_packages)))
    if by_act:
        evidence.append("activity:" + view.activity.rsplit(".", 1)[-1])
    roles: list[tuple[str, int]] = []
    for i, role in id_roles.items():
        roles.append((role, i))
        evidence.append(f"id:{_id_name(view.elements[i].resource_id)}")
    if not id_roles:  # unknown ROM layout: read the button texts
        order = ("deny_dont_ask_again", "allow_foreground", "allow_once", "deny", "allow")
        for i in view.buttons:
            e = view.elements[i]
            own = e.text or e.content_desc  # a prompt's buttons carry their own text, list rows do not
            if not own or e.checkable or _checkbox_label(own):
                continue
            role = next((r for r in order if r in classify_label(own)), None)
            if role:
                roles.append((role, i))
                evidence.append(f"button:{_q(own)}→{role}")
        if len({r for r, _ in roles}) < len(roles):
            return False  # the same choice twice: a list of permissions (a ROM's permission manager)
    if not any(r == "dont_ask_again_checkbox" for r, _ in roles):  # a ROM checkbox without a known id
        for i in view.buttons:
            e = view.elements[i]
            # OCR sees no checkable flag: a tappable line worded as the checkbox is the checkbox
            if (e.checkable or view.source == "ocr") and _checkbox_label(e.text or e.content_desc):
                roles.append(("dont_ask_again_checkbox", i))
                evidence.append(f"checkbox:{_q(e.label)}")
                break
    # A prompt has an allow-ish and a deny-ish choice; without them the controller shows something else
    # (e.g. the permission settings of MIUI's security app).
    role_set = {r for r, _ in roles}
    if not (role_set & {"allow", "allow_foreground", "allow_once"}) or not (
        role_set & {"deny", "deny_dont_ask_again"}
    ):
        return False
    roles.sort(key=lambda ri: (view.elements[ri[1]].bounds[1], view.elements[ri[1]].bounds[0]))
    for role, i in roles:
        res.add_target(view, role, i)
    if "deny" not in role_set and "deny_dont_ask_again" in role_set:
        # API 30+: on a repeated request the only deny button is the "don't ask again" one, labelled Deny.
        i = next(i for r, i in roles if r == "deny_dont_ask_again")
        res.add_target(view, "deny", i)
    group = None
    texts = [view.elements[message].label] if message is not None else []
    texts += [view.elements[i].label for i in view.body if i != message]
    # MIUI's sheet is one clickable panel: its title (the group description) is no body text there
    tapped = {i for _, i in roles}
    texts += [
        e.text
        for i, e in enumerate(view.elements)
        if e.text and i != message and i not in tapped and i not in view.body and view.owner[i] >= 0
    ]
    for t in texts:
        group = sig.group_of_message(t)
        if group:
            evidence.append(f"message:{_q(t)}")
            break
    joined = " ".join(texts)  # OCR reads a wrapped message as several lines
    if group is None and (group := sig.group_named_in(joined)):
        evidence.append(f"wording:{_q(joined[:40])}")
    if group is None:
        group, _ = _first_group(lx, [compact(t) for t in texts] + [compact(joined)])
        if group:
            evidence.append(f"group word in {_q(joined[:40])}")
    conf = 0.99 if (by_pkg or by_act) and id_roles else 0.9 if (by_pkg or by_act) else 0.85
    detail = {"buttons": " ".join(r for r, _ in roles)}
    if by_pkg:
        detail["controller"] = next(iter(pkgs & sig.controller_packages))
    if role_set & {"deny_dont_ask_again", "dont_ask_again_checkbox"}:
        detail["repeat"] = "true"
    res.add_kind(KindHit("permission_prompt", conf, view.source, group, tuple(evidence), detail))
    return True


def _crash(view: View, lx: Lexicon, res: Result) -> bool:
    ids = {i: _id_name(e.resource_id) for i, e in enumerate(view.elements) if e.resource_id}
    crash_ids = {i: n for i, n in ids.items() if n in lx.crash_ids}
    text_hit = lx.crash_texts.find(view.all_compact)
    by_pkg = view.window_package in lx.crash_packages or view.package in lx.crash_packages
    if not (crash_ids and (by_pkg or text_hit)) and not (text_hit and (by_pkg or view.is_dialog)):
        return False
    evidence = [f"id:{n}" for n in crash_ids.values()]
    if text_hit:
        evidence.append(f"text:{_q(text_hit)}")
    for i, n in crash_ids.items():
        role = lx.crash_id_roles.get(n)
        if role:
            res.add_target(view, role, i)
    if not res.has_target("close"):
        for i in view.with_class("crash_close"):
            res.add_target(view, "close", i)
            break
    conf = 0.98 if crash_ids else 0.85
    res.add_kind(KindHit("crash_dialog", conf, view.source, None, tuple(evidence)))
    return True


def _launcher(view: View, lx: Lexicon, sig: Signatures, res: Result) -> bool:
    launchers = lx.launcher_packages | sig.launcher_packages
    pkg = view.window_package or view.package
    ids = {_id_name(e.resource_id) for e in view.elements if e.resource_id}
    if pkg in launchers or (view.package in launchers and not view.window_package):
        res.add_kind(KindHit("launcher", 0.97, view.source, None, (f"pkg:{pkg or view.package}",)))
        return True
    if len(ids & lx.launcher_ids) >= 2:
        res.add_kind(
            KindHit("launcher", 0.85, view.source, None, tuple(f"id:{n}" for n in ids & lx.launcher_ids))
        )
        return True
    return False


def _consent(view: View, lx: Lexicon, res: Result) -> None:
    # A consent box ("我已阅读并同意《隐私政策》", "I have read and agree to the Privacy Notice") is not a
    # button: the agreement itself when the screen has no refuse button (one "Continue" / "进入App").
    # A plain agree button comes first even while it is disabled (it waits for the box or for the body
    # to be read to its end).
    boxes = [i for i, e in enumerate(view.elements) if e.checkable and lx.consent_docs.find(view.compacts[i])]
    agree = [i for i in view.agree_buttons() if i not in boxes]
    refuse = [i for i in view.with_class("refuse") if i not in boxes]
    exits = view.with_class("exit")
    cancel = view.with_class("cancel")
    doc = lx.consent_docs.find(view.all_compact)
    if not agree and doc and refuse:
        # "拒绝 / 确定" on a policy dialog: the confirm button is the agreement
        agree = [i for i in view.with_class("confirm") if i not in refuse]
    declines = refuse or exits or [i for i in cancel if i not in agree]
    if doc and not declines and not boxes and view.is_dialog:
        _one_button_consent(view, lx, res, doc)
        return
    body = view.body_compact
    if refuse and not agree:
        # A second chance whose other button leads back to the agreement (查看协议, Review policy) rather
        # than agreeing itself: that button is the way to agree. (With only an exit to decline, it is a
        # policy wall.)
        others = [
            i for i in view.buttons if i not in declines and i not in boxes and "close" not in view.classes[i]
        ]
        back = lx.second_strong.find(body) or (lx.second_weak.find(body) and len(body) <= SHORT_BODY)
        if len(others) == 1 and back and lx.consent_context.find(body):
            agree = others
    if boxes and not agree:
        rest = [i for i in view.buttons if i not in boxes and i not in declines]
        agree = rest[:1] if len(rest) == 1 else []
    if not (agree and (declines or boxes)):
        return
    strong = lx.second_strong.find(body) or next(
        (h for h in (lx.second_strong.find(view.compacts[i]) for i in agree + declines) if h), None
    )
    weak = lx.second_weak.find(body)
    # "short" needs the whole body: an OCR reading that stopped early cannot tell
    second = strong or (weak and len(body) <= SHORT_BODY and not view.unread)
    # about consent: the body says so, or a decline button refuses an agreement (不同意, Disagree)
    context = lx.consent_context.find(body) or any(
        lx.consent_refusal.find(view.compacts[i]) for i in declines
    )
    doc = doc or (lx.consent_docs.find(view.compacts[boxes[0]]) if boxes else None)
    if not (doc or (second and context)):
        return
    if not (view.compact_screen or doc):
        return
    evidence = []
    if doc:
        evidence.append(f"doc:{_q(doc)}")
    a = agree[0]
    evidence.append(f"button:{_q(view.elements[a].label)}→agree")
    if declines:
        evidence.append(f"button:{_q(view.elements[declines[0]].label)}→refuse")
    detail = {}
    if boxes:
        ticked = view.elements[boxes[0]].checked
        detail["checkbox"] = "ticked" if ticked else "unticked"
        evidence.append(f"checkbox:{_q(view.elements[boxes[0]].label)}={'ticked' if ticked else 'unticked'}")
    conf = 0.95 if view.is_dialog else 0.85
    res.add_kind(KindHit("privacy_consent", conf, view.source, None, tuple(evidence), detail))
    if second:
        sc_ev = tuple(evidence + [f"text:{_q(strong or weak)}"])
        res.add_kind(KindHit("consent_second_chance", 0.9 if strong else 0.8, view.source, None, sc_ev))
    res.add_target(view, "agree", a)
    if declines:
        res.add_target(view, "refuse", declines[0])
    for i in boxes[:1]:
        res.add_target(view, "consent_checkbox", i)
    for i in exits:
        res.add_target(view, "exit", i)
    for i in view.with_class("close"):
        res.add_target(view, "close", i)


def _one_button_consent(view: View, lx: Lexicon, res: Result, doc: str) -> None:
    """A policy dialog with one labelled button (确定 / OK / 好的 / 同意): agreeing is that button, refusing
    is its close control (an unlabelled image in the card's top corner, or ×) or the back key."""
    labelled = [i for i in view.buttons if not view.elements[i].checkable]
    if len(labelled) != 1:
        return
    a = labelled[0]
    if not view.classes[a] & {"agree", "confirm", "acknowledge"}:
        return
    closes = view.with_class("close") or _corner_controls(view)
    label = view.elements[a].label
    evidence = (f"doc:{_q(doc)}", f"button:{_q(label)}→agree", f"close controls:{len(closes)}")
    res.add_kind(KindHit("privacy_consent", 0.85, view.source, None, evidence))
    res.add_target(view, "agree", a)
    for i in closes:
        res.add_target(view, "close", i)


def _corner_controls(view: View) -> list[int]:
    """Unlabelled tappable elements in the top corner band of the dialog: its close (×) control."""
    if view.dialog_bounds is None:
        return []
    x1, y1, x2, y2 = view.dialog_bounds
    w, h = x2 - x1, y2 - y1
    out = []
    for i, e in enumerate(view.elements):
        b = e.bounds
        if not e.clickable or e.label or not _area(b):
            continue
        small = (b[2] - b[0]) <= 0.2 * w and (b[3] - b[1]) <= 0.2 * max(h, w)
        top = b[1] >= y1 - 0.1 * h and b[3] <= y1 + 0.25 * h
        side = b[0] >= x1 + 0.7 * w or b[2] <= x1 + 0.3 * w
        if small and top and side:
            out.append(i)
    return out


def _wall(view: View, lx: Lexicon, res: Result) -> None:
    if not view.compact_screen or not view.buttons:
        return
    marker = lx.wall_markers.find(view.body_compact)
    if not marker:
        return
    if not _wall_possible(view):
        return  # the user can go on (agree) or back out into the app (cancel): not a wall
    exits = view.with_class("exit")
    settings = view.with_class("go_to_settings")
    exit_text = lx.wall_exit.find(view.body_compact)
    others = [
        i for i in view.buttons if i not in exits and i not in settings and "close" not in view.classes[i]
    ]
    if not (exits or exit_text or (settings and not others)):
        return
    evidence = [f"text:{_q(marker)}"]
    evidence += [f"button:{_q(view.elements[i].label)}" for i in exits + settings]
    res.add_kind(KindHit("blocking_wall", 0.9 if view.is_dialog else 0.8, view.source, None, tuple(evidence)))
    for i in exits:
        res.add_target(view, "exit", i)
    for i in settings:
        res.add_target(view, "go_to_settings", i)
    for i in view.with_class("close"):
        res.add_target(view, "close", i)
    for i in others:
        if "confirm" in view.classes[i]:
            res.add_target(view, "confirm", i)


def _wall_possible(view: View) -> bool:
    """No button lets the user go on (agree) or back out into the app (cancel, a refusal that stays)."""
    cancel = [i for i in view.with_class("cancel") if "exit" not in view.classes[i]]
    refuse_only = [i for i in view.with_class("refuse") if "exit" not in view.classes[i]]
    return not (view.with_class("agree") or cancel or refuse_only)


def _consent_possible(view: View) -> bool:
    """The buttons make an agree / decline pair, as `_consent` pairs them once a policy is named."""
    agree = view.agree_buttons()
    refuse = view.with_class("refuse")
    if not agree and refuse:
        agree = [i for i in view.with_class("confirm") if i not in refuse]
    declines = refuse or view.with_class("exit") or [i for i in view.with_class("cancel") if i not in agree]
    return bool(agree and declines)


def rationale_settled(view: View, res: Result) -> bool:
    """A permission rationale whose group is known and whose buttons leave more text nothing else to make of
    it: no consent pair (a named policy would make it a consent dialog), no wall (a cancel is a way back),
    and the way to the settings is a button (else "…in Settings" in the body would still add the nag).
    The OCR reader stops reading its body there: further lines could only name more groups."""
    kinds = [k for k in res.kinds if k.kind == "permission_rationale"]
    if not kinds or kinds[0].permission_group is None or len(res.kinds) > 1:
        return False
    if not view.with_class("go_to_settings"):
        return False
    return not _wall_possible(view) and not _consent_possible(view)


def _rationale(view: View, lx: Lexicon, sig: Signatures, res: Result) -> None:
    pkg = view.window_package or view.package
    if pkg in sig.controller_packages or pkg in sig.settings_packages or pkg in lx.crash_packages:
        return
    if not view.compact_screen or not view.buttons:
        return
    body_texts = [view.compacts[i] for i in view.body]
    body = view.body_compact
    group, groups = _first_group(lx, body_texts)
    context = lx.rationale_context.find(body)
    nag = lx.settings_nag.find(body)
    title = lx.rationale_titles.find(body)
    if not ((group and (context or title)) or (nag and (context or title))):
        return
    gts = view.with_class("go_to_settings")
    confirm = [i for i in view.buttons if view.classes[i] & {"confirm", "allow", "agree"} and i not in gts]
    cancel = [i for i in view.buttons if view.classes[i] & {"cancel", "deny", "refuse"} and i not in gts]
    cancel = [i for i in cancel if i not in confirm]
    if not view.is_dialog and not (nag or title) and not (group and (gts or confirm) and cancel):
        # a feature page saying "开启定位，看看附近" is not a request; a page that asks for a group and can be
        # declined (Turn on location / Not now) is one, like a dialog
        return
    exits = view.with_class("exit")
    if not (gts or confirm or exits):
        return
    if nag and not gts:
        # the body sends the user to the settings: its positive action (去允许, 去开启) goes there
        gts = [i for i in confirm if "acknowledge" not in view.classes[i]]
    # what dismisses the rationale without granting: its cancel, else a lone acknowledgement (确定)
    acks = [i for i in confirm if "acknowledge" in view.classes[i]]
    dismiss = cancel or (acks if len(view.buttons) == 1 else [])
    evidence = []
    if group:
        evidence.append(f"group:{group}")
    for w in (context, nag, title):
        if w:
            evidence.append(f"text:{_q(w)}")
    evidence += [f"button:{_q(view.elements[i].label)}" for i in gts + confirm + cancel + exits]
    detail = {"groups": ",".join(groups)} if len(groups) > 1 else {}
    if nag or gts:
        detail["nag"] = "settings"
    conf = 0.92 if view.is_dialog and group else 0.8
    res.add_kind(KindHit("permission_rationale", conf, view.source, group, tuple(evidence), detail))
    for i in gts:
        res.add_target(view, "go_to_settings", i)
    for i in confirm:
        res.add_target(view, "confirm", i)
    for i in cancel:
        res.add_target(view, "cancel", i)
    for i in exits:
        res.add_target(view, "exit", i)
    for i in view.with_class("close") + dismiss:
        res.add_target(view, "close", i)
    for i in view.buttons:
        e = view.elements[i]
        if (e.checkable or view.source == "ocr") and _checkbox_label(e.label):
            res.add_target(view, "dont_ask_again_checkbox", i)


def _document(view: View, lx: Lexicon) -> bool:
    """The screen is a page whose title names a policy document (隐私政策, Terms of Service) and not a
    deletion document (注销协议 is on the deletion path)."""
    if view.is_dialog or not view.title:
        return False
    c = compact(view.title)
    return bool(lx.consent_docs.find(c)) and not lx.deletion_context.find(c)


def _deletion(view: View, lx: Lexicon, res: Result, prose: bool = False) -> None:
    entry_ph = lx.entries["deletion"]
    # The screen is *about* deletion when a read-only text (title, body) says so; an entry row in a list
    # of settings is not enough (that is a deletion_entry on a settings page). A document's prose is not.
    about = [
        view.compacts[i]
        for i in view.body
        if not prose
        and (
            lx.deletion_context.find(view.compacts[i])
            or lx.deletion_context.search_patterns(view.elements[i].text or view.elements[i].content_desc)
        )
    ]
    about = [c for c in about if not lx.deletion_not_context.find(c)]
    act = view.activity.rsplit(".", 1)[-1]
    if not prose and lx.deletion_activities.find(compact(act)):
        about.append(compact(act))
    entries = [
        i
        for i in view.buttons
        if not view.elements[i].checkable and entry_ph.find(compact(view.elements[i].label))
    ]
    marker = lx.deletion_confirm.find(view.body_compact) if about else None
    confirm_btns = [i for i in view.with_class("del_confirm") if "del_cancel" not in view.classes[i]]
    cancel_btns = [
        i
        for i in view.buttons
        if view.classes[i] & {"del_cancel", "cancel"} and view.elements[i].text and i not in confirm_btns
    ]
    confirmed = False
    if (
        about
        and marker
        and (confirm_btns or entries)
        and cancel_btns
        and (view.is_dialog or len(view.buttons) <= 4)
    ):
        confirmed = True
        c = (confirm_btns or entries)[0]
        ev = (f"text:{_q(about[0][:24])}", f"text:{_q(marker)}", f"button:{_q(view.elements[c].label)}")
        res.add_kind(KindHit("deletion_confirm", 0.9 if view.is_dialog else 0.8, view.source, None, ev))
        res.add_target(view, "confirm", c)
        res.add_target(view, "cancel", cancel_btns[0])
    if entries and not confirmed:
        e = view.elements[entries[0]]
        # a page itself about deleting the account (its title and body say so): the tap that opened it
        # may have been the entry, whatever its wording (probes/deletion.py `_opened_by_last_tap`)
        page = {"page": "deletion", "title": view.title} if about else {}
        res.add_kind(KindHit("deletion_entry", 0.9, view.source, None, (f"entry:{_q(e.label)}",), page))
        for i in entries:
            res.add_target(view, "deletion_entry", i)
    if about:
        found: dict[str, str] = {}
        for name, ph in lx.obstacles.items():
            hit = ph.find(view.all_compact) or _pattern_hit(view, ph, lx.deletion_verification)
            if hit:
                found[name] = hit
        if found:
            ev = tuple(f"{k}:{_q(v)}" for k, v in found.items())
            detail = {"obstacle": ",".join(found)}
            res.add_kind(KindHit("deletion_obstacle", 0.85, view.source, None, ev, detail))


def _pattern_hit(view: View, ph: Phrases, verification: Phrases) -> str | None:
    """A number or address an obstacle's patterns find, text by text; not in a text that sends the user a
    code (验证码发送至 138…, "we'll e-mail a code to you@…"): that one is the account's own, proof of
    ownership rather than someone to call or write to."""
    for i, e in enumerate(view.elements):
        t = e.text or e.content_desc
        if t and not verification.find(view.compacts[i]) and (hit := ph.search_patterns(t)):
            return hit
    return None


def _account_page(view: View, lx: Lexicon, sig: Signatures, res: Result) -> None:
    pkg = view.window_package or view.package
    if pkg in sig.settings_packages or pkg in sig.controller_packages:
        return
    h = view.screen[1] or 1
    items: list[str] = []
    title: str | None = None
    nav = lx.entries
    for i, e in enumerate(view.elements):
        label = e.text or e.content_desc
        if not label or text_len(label) > 8:
            continue
        c = view.compacts[i]
        top = e.bounds[3] <= 0.16 * h
        if (
            top
            and not e.clickable
            and view.owner[i] < 0
            and lx.page_titles.find(c)
            and c in lx.page_titles.exact
        ):
            title = title or label
            continue
        selected = e.selected or (view.owner[i] >= 0 and view.elements[view.owner[i]].selected)
        if selected and (nav["account"].find(c) or nav["settings"].find(c)):
            title = title or label
            continue
        if e.cls.endswith("EditText") or text_len(label) > MAX_ITEM_LEN or is_sentence(label):
            continue  # an input (请输入手机号) or a sentence (我已阅读并同意《用户协议》) is not a row
        if view.source == "ocr" and not e.clickable:
            continue  # an OCR line the reader found no row in (a line of a paragraph)
        if lx.page_items.find(c):
            items.append(label)
    items = list(dict.fromkeys(items))
    toggles = sum(1 for e in view.elements if e.checkable and e.clickable)
    # under a settings / account title, a stack of short tappable rows is that page whatever they say
    rows = {
        e.label.split("\n", 1)[0]
        for i in view.buttons
        if (e := view.elements[i]).bounds[1] > 0.16 * h and not e.checkable and text_len(e.label) <= 8
    }
    if len(items) >= 3 or (title and (items or toggles >= 2 or len(rows) >= 3)):
        ev = ([f"title:{_q(title)}"] if title else []) + [f"item:{_q(t)}" for t in items[:6]]
        conf = min(0.95, 0.6 + 0.1 * len(items) + (0.15 if title else 0))
        res.add_kind(KindHit("account_page", conf, view.source, None, tuple(ev)))


def _nav_targets(view: View, lx: Lexicon, res: Result) -> None:
    h = view.screen[1] or 1
    nav = lx.entries
    roles = (("account_entry", nav["account"]), ("settings_entry", nav["settings"]))
    for role, ph in roles:
        cands = [i for i in view.buttons if _exact(ph, view.elements[i].label)]
        # label children of a clickable tab / row
        cands += [
            i
            for i, e in enumerate(view.elements)
            if view.owner[i] >= 0
            and i not in cands
            and (e.text or e.content_desc)
            and _exact(ph, e.text or e.content_desc)
            and view.owner[i] not in cands
        ]
        if not cands and ph.patterns:
            # a tab of the bottom bar named after the app (我的淘宝): the account tab
            cands = [
                i
                for i in view.buttons
                if view.elements[i].bounds[1] >= 0.85 * h
                and ph.search_patterns(normalise(view.elements[i].label))
            ]
        if not cands:
            continue
        # a bottom-bar tab first, then top to bottom
        cands.sort(key=lambda i: (view.elements[i].bounds[1] < 0.85 * h, view.elements[i].bounds[1]))
        res.add_target(view, role, cands[0])


def _exact(ph: Phrases, label: str) -> bool:
    c = compact(label)
    return bool(c) and c in ph.exact
