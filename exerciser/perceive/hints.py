"""Navigation hints for explorers: where a label probably leads (lexicon `navigation.yaml` `entries`)."""

from __future__ import annotations

from exerciser.perceive.lexicon import lexicon
from exerciser.perceive.reading import Element
from exerciser.perceive.text import compact, text_len

# Checked most specific first: 账号与安全 is "security" before it is "account", 注销账号 "deletion".
_ORDER = ("deletion", "security", "privacy_policy", "privacy_settings", "settings", "account")
# privacy_settings is reported as "settings" (a settings sub-page), the public hint vocabulary stays small.
_PUBLIC = {"privacy_settings": "settings"}


def _hint(text: str) -> str | None:
    if not text or text_len(text) > 12:
        return None  # a sentence, not a navigation label
    c = compact(text)
    if not c:
        return None
    entries = lexicon().entries
    for name in _ORDER:
        if entries[name].find(c):
            return name
    return None


def goal_hint(text: str) -> str | None:
    """Where a label leads: "deletion", "security", "settings", "account", "privacy_policy", or None."""
    h = _hint(text)
    return _PUBLIC.get(h, h) if h else None


def nav_score(element: Element) -> float:
    """How promising tapping this element is on the way to the account-deletion entry (0..1)."""
    h = _hint(element.label)
    if h is None:
        return 0.0
    return lexicon().nav_weights.get(h, 0.0)
