"""The irreversible-action lexicon (`models/lexicons/irreversible.yaml`), compiled once per process."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from exerciser import knowledge
from exerciser.perceive.text import normalise

_NEVER = re.compile(r"(?!x)x")
_ID_SPLIT = re.compile(r"[_\-.]+|(?<=[a-z])(?=[A-Z])")
_EDGE_PUNCT = re.compile(r"^[\s\W_]+|[\s\W_]+$")
# the always-refused categories, in the order a label is tested against them
ALWAYS = ("payment", "call", "sms", "publish", "sign_out", "uninstall", "clear_data", "factory_reset")


def _rx(patterns: list[str] | None) -> re.Pattern[str]:
    items = [p for p in patterns or [] if p]
    return re.compile("|".join(f"(?:{p})" for p in items), re.I) if items else _NEVER


@lru_cache(maxsize=16384)
def display(text: str) -> str:
    """The form patterns are matched on: NFKC, lower case, whitespace collapsed, ideographs unspaced."""
    return normalise(text).lower()


@lru_cache(maxsize=16384)
def whole(text: str) -> str:
    """A label reduced for whole-label matching: edge punctuation dropped ("取消 >" → "取消")."""
    t = display(text)
    stripped = _EDGE_PUNCT.sub("", t)
    return stripped or unicodedata.normalize("NFKC", t).strip()


def id_words(resource_id: str) -> frozenset[str]:
    """Words of a resource-id's name: com.x:id/btnCallHotline → {btn, call, hotline, btncallhotline}."""
    name = resource_id.split(":id/", 1)[-1].split("/")[-1]
    if not name:
        return frozenset()
    parts = [p.lower() for p in _ID_SPLIT.split(name) if p]
    joined = {"_".join(parts[i : j + 1]) for i in range(len(parts)) for j in range(i + 1, len(parts))}
    return frozenset(parts) | joined | {name.lower()}


@dataclass(frozen=True)
class Category:
    name: str
    labels: re.Pattern[str]
    unless: re.Pattern[str]
    context: re.Pattern[str]
    ids: frozenset[str]

    def label_hit(self, text: str) -> str | None:
        """The phrase of this category in `text` (display form), unless a look-alike vetoes it."""
        m = self.labels.search(text)
        if m is None or self.unless.search(text):
            return None
        return m.group(0)

    def context_hit(self, text: str) -> str | None:
        m = self.context.search(text)
        return m.group(0) if m and not self.unless.search(text) else None


@dataclass(frozen=True)
class IrreversibleLexicon:
    categories: dict[str, Category]
    deletion_entry: re.Pattern[str]
    deletion_final: re.Pattern[str]
    deletion_context: re.Pattern[str]
    deletion_ids: frozenset[str]
    deletion_verbs: re.Pattern[str]
    account_words: re.Pattern[str]
    backward: frozenset[str]
    forward: frozenset[str]
    phone: re.Pattern[str]
    schemes: dict[str, str]


@cache
def irreversible_lexicon() -> IrreversibleLexicon:
    data = knowledge.load("lexicons/irreversible.yaml")
    cats = {
        name: Category(
            name,
            _rx(node.get("labels")),
            _rx(node.get("unless")),
            _rx(node.get("context")),
            frozenset(str(i).lower() for i in node.get("ids") or []),
        )
        for name, node in data["categories"].items()
    }
    missing = set(ALWAYS) - cats.keys()
    if missing:
        raise ValueError(f"irreversible.yaml: categories missing: {sorted(missing)}")
    d = data["account_deletion"]
    return IrreversibleLexicon(
        categories=cats,
        deletion_entry=_rx(d["entry"]),
        deletion_final=_rx(d["final"]),
        deletion_context=_rx(d["context"]),
        deletion_ids=frozenset(str(i).lower() for i in d.get("ids") or []),
        deletion_verbs=_rx(d["verbs"]),
        account_words=_rx(d["account_words"]),
        backward=frozenset(whole(str(w)) for w in data["backward"]),
        forward=frozenset(whole(str(w)) for w in data["forward"]),
        phone=_rx(data["phone_numbers"]),
        schemes={str(k).lower(): str(v) for k, v in data["schemes"].items()},
    )
