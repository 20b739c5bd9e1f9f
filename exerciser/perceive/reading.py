"""Typed result of reading one screen: what `exerciser.perceive.read_screen` returns.

The JSON form (`ScreenReading.to_json`) is a public contract (`exerciser classify --json`): keep the names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

Bounds = tuple[int, int, int, int]  # x1, y1, x2, y2 in device pixels
Source = Literal["hierarchy", "ocr"]

# Public vocabularies (issue 3). Recognisers and probes use these exact strings.
KINDS = (
    "permission_prompt",
    "permission_rationale",
    "privacy_consent",
    "consent_second_chance",
    "blocking_wall",
    "crash_dialog",
    "launcher",
    "account_page",
    "deletion_entry",
    "deletion_confirm",
    "deletion_obstacle",
)
PERMISSION_GROUPS = (
    "location",
    "camera",
    "microphone",
    "contacts",
    "phone",
    "call_log",
    "sms",
    "storage",
    "calendar",
    "sensors",
    "activity_recognition",
    "notifications",
    "nearby_devices",
)
ROLES = (
    "agree",
    "refuse",
    "allow",
    "allow_foreground",
    "allow_once",
    "deny",
    "deny_dont_ask_again",
    "dont_ask_again_checkbox",
    "consent_checkbox",
    "go_to_settings",
    "exit",
    "close",
    "account_entry",
    "settings_entry",
    "deletion_entry",
    "confirm",
    "cancel",
)


def center(b: Bounds) -> tuple[int, int]:
    return (b[0] + b[2]) // 2, (b[1] + b[3]) // 2


@dataclass(frozen=True)
class Element:
    """One on-screen element, from a hierarchy node or an OCR word/line."""

    text: str
    bounds: Bounds
    source: Source = "hierarchy"
    resource_id: str = ""
    cls: str = ""
    content_desc: str = ""
    package: str = ""
    clickable: bool = False
    checkable: bool = False
    checked: bool = False
    enabled: bool = True
    scrollable: bool = False
    index_path: str = ""  # e.g. "0/2/1": child indexes from the root, a class-path selector fallback
    selected: bool = False  # e.g. the current tab of a bottom navigation bar
    # Texts of the non-clickable descendants of a clickable container (a settings row, a tab): what the
    # user reads on it. Empty for leaves.
    inner_text: str = ""

    @property
    def label(self) -> str:
        return self.text or self.content_desc or self.inner_text


@dataclass(frozen=True)
class KindHit:
    kind: str  # one of KINDS
    confidence: float  # 0..1
    source: Source
    permission_group: str | None = None  # for permission_prompt / permission_rationale
    evidence: tuple[str, ...] = ()  # words / ids / boxes that decided it, human readable
    detail: dict[str, str] = field(default_factory=dict)  # e.g. {"obstacle": "hotline"}


@dataclass(frozen=True)
class Target:
    """Something to tap for a role, with the selector that finds it again on another device."""

    role: str  # one of ROLES
    bounds: Bounds
    source: Source
    text: str = ""
    resource_id: str = ""
    cls: str = ""
    index_path: str = ""

    @property
    def point(self) -> tuple[int, int]:
        return center(self.bounds)


@dataclass
class ScreenReading:
    package: str
    activity: str
    elements: list[Element]
    kinds: list[KindHit]
    targets: list[Target]
    blind: bool = False  # hierarchy had no usable text; OCR supplied the words
    ocr_ms: float = 0.0
    dialog_bounds: Bounds | None = None  # the dialog / bottom sheet in front, if any
    screen: tuple[int, int] = (0, 0)  # width, height in device pixels

    @property
    def clickables(self) -> list[Element]:
        """Elements a tap acts on (clickable/checkable nodes, OCR button segments), labelled first."""
        hits = [e for e in self.elements if (e.clickable or e.checkable) and e.enabled]
        return sorted(hits, key=lambda e: not e.label)

    def targets_for(self, role: str) -> list[Target]:
        return [t for t in self.targets if t.role == role]

    def kind(self, name: str) -> KindHit | None:
        return next((k for k in self.kinds if k.kind == name), None)

    def has(self, name: str) -> bool:
        return self.kind(name) is not None

    def target(self, role: str) -> Target | None:
        return next((t for t in self.targets if t.role == role), None)

    def to_json(self) -> dict:
        return {
            "package": self.package,
            "activity": self.activity,
            "screen": list(self.screen),
            "blind": self.blind,
            "ocr_ms": round(self.ocr_ms, 1),
            "dialog_bounds": list(self.dialog_bounds) if self.dialog_bounds else None,
            "kinds": [_kind_json(h) for h in self.kinds],
            "targets": [asdict(t) | {"bounds": list(t.bounds), "point": list(t.point)} for t in self.targets],
            "elements": [asdict(e) | {"bounds": list(e.bounds)} for e in self.elements if e.label],
        }


# Kinds whose hit names a permission group (`permission_group` is in their JSON even when unknown).
GROUP_KINDS = ("permission_prompt", "permission_rationale")


def _kind_json(h: KindHit) -> dict:
    out: dict = {"kind": h.kind, "confidence": h.confidence, "source": h.source}
    if h.kind in GROUP_KINDS or h.permission_group is not None:
        out["permission_group"] = h.permission_group
    out["evidence"] = list(h.evidence)
    if h.detail:
        out["detail"] = dict(h.detail)
    return out
