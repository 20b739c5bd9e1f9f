"""Text normalisation shared by hierarchy and OCR matching.

Matching works on a *compact* form: NFKC, lower case, curly quotes folded, and every character that is not a
letter, digit or CJK ideograph removed. That makes "Don’t allow", "DON'T ALLOW" and OCR's "Don’ tallow"
equal, and "同 意" (tesseract puts spaces between ideographs) equal to "同意".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'})
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACE_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff\uff00-\uffef])\s+(?=[\u3400-\u9fff\uff00-\uffef])")
_SENTENCE = re.compile(r"[《》，。！？；]|[.!?;]\s")
# ... and, for reading (not for the safety guard, which keeps to the above): an enumeration comma or a
# closing full stop is prose too ("电话、相机权限", "This cannot be undone.")
_PROSE = re.compile(r"、|\w\.$")  # sentence punctuation: body text, not a label


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Display form: NFKC, quotes folded to ASCII, whitespace collapsed, no spaces between ideographs."""
    t = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    t = " ".join(t.split())
    return _SPACE_BETWEEN_CJK.sub("", t)


@lru_cache(maxsize=16384)
def compact(text: str) -> str:
    """Matching form: lower-case letters, digits and ideographs only."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def text_len(text: str) -> float:
    """Visual length in 'words': one per ideograph/2, one per Latin word. Tells a label from a sentence."""
    cjk = len(_CJK.findall(text))
    latin = len(re.findall(r"[A-Za-z0-9]+", text))
    return cjk / 2 + latin


def is_sentence(text: str) -> bool:
    """Sentence punctuation inside: a piece of body text ("ride. Delete your account"), not a label."""
    return _SENTENCE.search(text) is not None


def is_prose(text: str) -> bool:
    """A sentence, or a line punctuated like one (an enumeration comma, a closing full stop)."""
    return is_sentence(text) or _PROSE.search(text) is not None
