"""Compiled recognition vocabularies from `models/lexicons/*.yaml` and `models/android/*.yaml`.

A vocabulary entry in YAML is either a list of phrases, a `{zh: [...], en: [...]}` map, or a map with
`contains`, `exact`, `unless` (each a list or a language map) and `patterns` (regular expressions on the
normalised text). Both languages are always active: an English app may run on a Chinese phone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from exerciser import knowledge
from exerciser.perceive.text import compact

_EMPTY_RX = re.compile(r"(?!x)x")
_STRUCTURED = frozenset({"contains", "exact", "unless", "patterns"})


def _flatten(node: Any) -> list[str]:
    if node is None:
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [str(x) for x in node]
    if isinstance(node, dict):
        return [str(x) for v in node.values() for x in _flatten(v)]
    raise TypeError(f"bad lexicon node: {node!r}")


def _exact_key(label: str) -> str:
    """Compact form, or for labels that are all punctuation (a close glyph "×") the stripped label."""
    return compact(label) or label.strip().lower()


def _alternation(phrases: list[str]) -> re.Pattern[str]:
    items = sorted({p for p in phrases if p}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, items))) if items else _EMPTY_RX


@dataclass(frozen=True)
class Phrases:
    """A compiled vocabulary. All matching is on `text.compact` forms unless noted."""

    name: str
    contains_rx: re.Pattern[str]
    exact: frozenset[str]
    unless_rx: re.Pattern[str]
    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def build(cls, name: str, node: Any) -> Phrases:
        if isinstance(node, dict) and (_STRUCTURED & node.keys()):
            if node.keys() - _STRUCTURED:  # e.g. zh: next to patterns: would be silently ignored
                raise ValueError(f"lexicon {name}: unexpected keys {sorted(node.keys() - _STRUCTURED)}")
            contains = [compact(p) for p in _flatten(node.get("contains"))]
            exact = frozenset(_exact_key(p) for p in _flatten(node.get("exact")))
            unless = [compact(p) for p in _flatten(node.get("unless"))]
            patterns = tuple(re.compile(p) for p in node.get("patterns") or [])
        else:
            contains, exact, unless, patterns = [compact(p) for p in _flatten(node)], frozenset(), [], ()
        return cls(name, _alternation(contains), exact, _alternation(unless), patterns)

    def find(self, c: str) -> str | None:
        """The phrase found in compact text `c` (exact or contained), or None; `unless` vetoes."""
        if not c:
            return None
        if c in self.exact:
            hit = c
        else:
            m = self.contains_rx.search(c)
            if m is None:
                return None
            hit = m.group(0)
        if self.unless_rx.search(c):
            return None
        return hit

    def find_all(self, c: str) -> list[str]:
        if not c or self.unless_rx.search(c):
            return []
        found = [m.group(0) for m in self.contains_rx.finditer(c)]
        if c in self.exact:
            found.append(c)
        return found

    def search_patterns(self, normalised: str) -> str | None:
        for rx in self.patterns:
            m = rx.search(normalised)
            if m:
                return m.group(0)
        return None


def _section(data: dict, key: str, prefix: str) -> Phrases:
    return Phrases.build(f"{prefix}.{key}", data.get(key))


@dataclass(frozen=True)
class Lexicon:
    consent_docs: Phrases
    consent_titles: Phrases
    consent_context: Phrases
    consent_refusal: Phrases
    second_strong: Phrases
    second_weak: Phrases
    rationale_context: Phrases
    settings_nag: Phrases
    rationale_titles: Phrases
    wall_markers: Phrases
    wall_exit: Phrases
    crash_texts: Phrases
    crash_packages: frozenset[str]
    crash_ids: frozenset[str]
    crash_id_roles: dict[str, str]
    launcher_packages: frozenset[str]
    launcher_ids: frozenset[str]
    entries: dict[str, Phrases]  # account, settings, security, deletion, privacy_settings, privacy_policy
    nav_weights: dict[str, float]
    page_items: Phrases
    page_titles: Phrases
    deletion_context: Phrases
    deletion_not_context: Phrases
    deletion_confirm: Phrases
    deletion_activities: Phrases
    deletion_verification: Phrases  # a text that sends the user a code: its number / address is theirs
    obstacles: dict[str, Phrases]
    buttons: dict[str, Phrases]  # button classes, see `classify_label`
    group_names: dict[str, Phrases]  # permission group -> names in app texts


def _load_buttons(*docs: dict) -> dict[str, Phrases]:
    out: dict[str, Phrases] = {}
    for doc in docs:
        for cls_name, node in (doc.get("buttons") or {}).items():
            if cls_name in out:
                raise ValueError(f"button class {cls_name} defined twice")
            out[cls_name] = Phrases.build(f"button.{cls_name}", node)
    return out


@cache
def lexicon() -> Lexicon:
    consent = knowledge.load("lexicons/consent.yaml")
    rationale = knowledge.load("lexicons/rationale.yaml")
    wall = knowledge.load("lexicons/wall.yaml")
    crash = knowledge.load("lexicons/crash.yaml")
    launcher = knowledge.load("lexicons/launcher.yaml")
    nav = knowledge.load("lexicons/navigation.yaml")
    deletion = knowledge.load("lexicons/deletion.yaml")
    obstacles = knowledge.load("lexicons/obstacles.yaml")
    rom = knowledge.load("android/rom_signatures.yaml")
    groups = knowledge.load("android/permission_groups.yaml")
    sc = consent["second_chance"]
    return Lexicon(
        consent_docs=_section(consent, "documents", "consent"),
        consent_titles=_section(consent, "titles", "consent"),
        consent_context=_section(consent, "context", "consent"),
        consent_refusal=_section(consent, "refusal_context", "consent"),
        second_strong=Phrases.build("consent.second.strong", sc["strong"]),
        second_weak=Phrases.build("consent.second.weak", sc["weak"]),
        rationale_context=_section(rationale, "context", "rationale"),
        settings_nag=_section(rationale, "settings_nag", "rationale"),
        rationale_titles=_section(rationale, "titles", "rationale"),
        wall_markers=_section(wall, "markers", "wall"),
        wall_exit=_section(wall, "exit_announcements", "wall"),
        crash_texts=_section(crash, "texts", "crash"),
        crash_packages=frozenset(crash["packages"]),
        crash_ids=frozenset(crash["ids"]),
        crash_id_roles=dict(crash["id_roles"]),
        launcher_packages=frozenset(launcher["packages"]),
        launcher_ids=frozenset(launcher["ids"]),
        entries={k: Phrases.build(f"entry.{k}", v) for k, v in nav["entries"].items()},
        nav_weights={k: float(v) for k, v in nav["nav_weights"].items()},
        page_items=_section(nav, "page_items", "nav"),
        page_titles=Phrases.build("nav.page_titles", {"exact": nav["page_titles"]}),
        deletion_context=_section(deletion, "context", "deletion"),
        deletion_not_context=_section(deletion, "not_context", "deletion"),
        deletion_confirm=_section(deletion, "confirm_markers", "deletion"),
        deletion_activities=_section(deletion, "activities", "deletion"),
        deletion_verification=_section(deletion, "verification", "deletion"),
        obstacles={k: Phrases.build(f"obstacle.{k}", v) for k, v in obstacles.items()},
        buttons=_load_buttons(consent, rationale, wall, crash, deletion, rom),
        group_names={g: Phrases.build(f"group.{g}", v) for g, v in groups["names"].items()},
    )


@cache
def classify_label(label: str) -> frozenset[str]:
    """Every button class whose vocabulary matches this label (e.g. 不同意并退出 → refuse, exit)."""
    key = _exact_key(label)
    return frozenset(name for name, ph in lexicon().buttons.items() if ph.find(key))
