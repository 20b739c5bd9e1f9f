"""System permission-prompt signatures, built from `models/android/permission_dialogs.yaml` and
`models/android/rom_signatures.yaml`: controller packages, resource-id → role, message → permission group.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from exerciser import knowledge
from exerciser.perceive.text import compact

# permission_dialogs.yaml `ids` key → target role (ids that are not buttons map to nothing).
_AOSP_ID_ROLES = {
    "allow": "allow",
    "allow_always": "allow",
    "allow_foreground": "allow_foreground",
    "allow_one_time": "allow_once",
    "deny": "deny",
    "deny_repeat": "deny_dont_ask_again",
    "checkbox": "dont_ask_again_checkbox",
}
# Ids that only the grant dialog has (any one identifies it, whatever the package prefix).
_AOSP_SIGNATURE_KEYS = (
    "allow",
    "deny",
    "deny_repeat",
    "allow_foreground",
    "allow_one_time",
    "message",
    "checkbox",
)


@dataclass(frozen=True)
class Template:
    group: str
    prefix: str  # compact text before the app label
    suffix: str  # compact text after it


@dataclass(frozen=True)
class Signatures:
    controller_packages: frozenset[str]
    launcher_packages: frozenset[str]
    settings_packages: frozenset[str]
    activities: tuple[str, ...]
    id_roles: dict[str, str]  # id name (after ":id/") → role
    signature_ids: frozenset[str]
    message_ids: frozenset[str]
    templates: tuple[Template, ...]
    group_phrases: tuple[tuple[str, str], ...] = ()  # (compact wording, group), see group_named_in

    def group_of_message(self, text: str) -> str | None:
        """Permission group named by a system prompt message, from the AOSP templates."""
        c = compact(text)
        best: tuple[int, str] | None = None
        for t in self.templates:
            if c.startswith(t.prefix) and c.endswith(t.suffix) and len(c) >= len(t.prefix) + len(t.suffix):
                score = len(t.prefix) + len(t.suffix)
                if best is None or score > best[0]:
                    best = (score, t.group)
        return best[1] if best else None

    def group_named_in(self, text: str) -> str | None:
        """Permission group whose AOSP wording (a template's text after the app label, or the framework
        group description) appears anywhere in `text`: prompts whose message OCR split over lines or
        glued to an icon glyph, and ROM prompts whose title is the group description (MIUI)."""
        c = compact(text)
        best: tuple[int, str] | None = None
        for phrase, group in self.group_phrases:
            if phrase in c and (best is None or len(phrase) > best[0]):
                best = (len(phrase), group)
        return best[1] if best else None


def _split(template: str, fill2: str | None = None) -> tuple[str, str]:
    t = template.replace("%2$s", fill2) if fill2 is not None else template
    pre, _, post = t.partition("%1$s")
    return compact(pre), compact(post)


@cache
def signatures() -> Signatures:
    dialogs = knowledge.load("android/permission_dialogs.yaml")
    rom = knowledge.load("android/rom_signatures.yaml")
    ids = dialogs["ids"]
    id_roles: dict[str, str] = {ids[k]: role for k, role in _AOSP_ID_ROLES.items() if k in ids}
    for prof in dialogs["profiles"].values():
        for key, name in (prof.get("button_ids") or {}).items():
            # a ROM that gives an AOSP id another role (Huawei's permission_allow_button says 仅使用期间允许)
            # does not redefine it: the recogniser refines an id's role by its label
            if key in _AOSP_ID_ROLES and name not in id_roles:
                id_roles[name] = _AOSP_ID_ROLES[key]
    id_roles.update(rom.get("rom_ids") or {})
    signature_ids = frozenset({ids[k] for k in _AOSP_SIGNATURE_KEYS if k in ids} | set(id_roles))
    controllers = set(rom["controller_packages"])
    controllers.update(p["controller_package"] for p in dialogs["profiles"].values())
    launchers = {p["launcher_package"] for p in dialogs["profiles"].values()}
    settings = {p["settings_package"] for p in dialogs["profiles"].values()}

    templates: list[Template] = []
    for msgs in dialogs["request_messages"].values():
        for key, tmpl in msgs.items():
            group = "storage" if key.startswith("storage") else key
            templates.append(Template(group, *_split(tmpl)))
    # API 23–28: "Allow %1$s to %2$s?" with the framework group description.
    for text_set in dialogs["texts"].values():
        tmpl = text_set.get("message")
        if not tmpl:
            continue
        lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in tmpl) else "en"
        for group, desc in dialogs["group_descriptions"][lang].items():
            templates.append(Template(group, *_split(tmpl, desc)))
    phrases = {(compact(d), g) for descs in dialogs["group_descriptions"].values() for g, d in descs.items()}
    # a suffix this short ("吗") names nothing
    phrases |= {(t.suffix, t.group) for t in templates if len(t.suffix) >= 4 and "%" not in t.suffix}
    return Signatures(
        group_phrases=tuple(sorted(phrases)),
        controller_packages=frozenset(controllers),
        launcher_packages=frozenset(launchers),
        settings_packages=frozenset(settings),
        activities=tuple(rom.get("activities") or ()),
        id_roles=id_roles,
        signature_ids=signature_ids,
        message_ids=frozenset({ids["message"]}),
        templates=tuple(dict.fromkeys(templates)),
    )
