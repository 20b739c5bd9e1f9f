"""Fonts and text measurement for the virtual device: Noto Sans CJK SC for Chinese and Latin alike.

Widths are summed per character from a cache (no kerning in the BASIC layout engine, so the sum equals
what PIL draws), which makes wrapping long privacy texts cheap. The SC face draws the curly quotes
‘ ’ “ ” full-width; Android takes them from Roboto (narrow, as in "Don’t allow"), so they come from the
JP face of the same collection, which has proportional ones: `runs()` splits a line by face.
"""

from __future__ import annotations

import os
from functools import lru_cache

from PIL import ImageFont

FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/noto-cjk", "/usr/share/fonts/truetype/noto")
REGULAR = "NotoSansCJK-Regular.ttc"
BOLD = "NotoSansCJK-Bold.ttc"
SC_INDEX = 2  # face order in the .ttc: JP, KR, SC, TC, HK
JP_INDEX = 0
PROPORTIONAL = frozenset("‘’“”")  # drawn narrow (Roboto's on a phone), not full-width

# Characters that must not start a line (closing punctuation) or end one (opening punctuation).
_NO_LINE_START = set("，。、；：？！）》」』】〕…—,.;:?!)]}%’”·")
_NO_LINE_END = set("（《「『【〔([{‘“")


def _font_path(name: str) -> str:
    for d in FONT_DIRS:
        path = os.path.join(d, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"{name} not found (install fonts-noto-cjk)")


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False, face: int = SC_INDEX) -> ImageFont.FreeTypeFont:
    """A face of Noto Sans CJK (SC unless told) at a pixel size (cached)."""
    path = _font_path(BOLD if bold else REGULAR)
    return ImageFont.truetype(path, size, index=face, layout_engine=ImageFont.Layout.BASIC)


def runs(line: str, size: int, bold: bool = False) -> list[tuple[str, ImageFont.FreeTypeFont]]:
    """The line cut into pieces drawn with one face each (curly quotes from the JP face)."""
    if not PROPORTIONAL.intersection(line):
        return [(line, font(size, bold))]
    out: list[tuple[str, ImageFont.FreeTypeFont]] = []
    cur, cur_jp = "", False
    for ch in line:
        jp = ch in PROPORTIONAL
        if cur and jp != cur_jp:
            out.append((cur, font(size, bold, JP_INDEX if cur_jp else SC_INDEX)))
            cur = ""
        cur, cur_jp = cur + ch, jp
    if cur:
        out.append((cur, font(size, bold, JP_INDEX if cur_jp else SC_INDEX)))
    return out


@lru_cache(maxsize=64)
def _advances(size: int, bold: bool) -> dict[str, float]:
    return {}


def char_width(ch: str, size: int, bold: bool = False) -> float:
    table = _advances(size, bold)
    w = table.get(ch)
    if w is None:
        w = font(size, bold, JP_INDEX if ch in PROPORTIONAL else SC_INDEX).getlength(ch)
        table[ch] = w
    return w


def text_width(text: str, size: int, bold: bool = False) -> int:
    table = _advances(size, bold)
    total = 0.0
    for ch in text:
        w = table.get(ch)
        if w is None:
            w = char_width(ch, size, bold)
        total += w
    return int(round(total))


def line_height(size: int) -> int:
    return int(round(size * 1.42))


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # radicals, kana, CJK punctuation, unified ideographs
        or 0xAC00 <= o <= 0xD7AF  # hangul
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x2FFFF
    )


def _tokens(text: str) -> list[str]:
    """Break units: one CJK character, or one Latin word with its trailing spaces.

    Closing punctuation sticks to the unit before it and opening punctuation to the unit after it.
    """
    units: list[str] = []
    word = ""
    for ch in text:
        if _is_cjk(ch) or ch in _NO_LINE_START or ch in _NO_LINE_END:
            if word:
                units.append(word)
                word = ""
            units.append(ch)
        elif ch == " ":
            word += ch
            units.append(word)
            word = ""
        else:
            if word.endswith(" "):
                units.append(word)
                word = ""
            word += ch
    if word:
        units.append(word)
    merged: list[str] = []
    glue_next = False
    for u in units:
        if merged and (glue_next or u[0] in _NO_LINE_START):
            merged[-1] += u
        else:
            merged.append(u)
        glue_next = u[-1] in _NO_LINE_END
    return merged


def _split_long(unit: str, max_w: int, size: int, bold: bool) -> list[str]:
    """Hard-break a unit wider than the line (a long URL or word), per character."""
    parts: list[str] = []
    cur = ""
    for ch in unit:
        if cur and text_width(cur + ch, size, bold) > max_w:
            parts.append(cur)
            cur = ch
        else:
            cur += ch
    if cur:
        parts.append(cur)
    return parts


@lru_cache(maxsize=4096)
def wrap(text: str, max_w: int, size: int, bold: bool = False) -> tuple[str, ...]:
    """Lines of `text` fitting `max_w` pixels: per character for CJK, per word for Latin."""
    lines: list[str] = []
    for para in text.split("\n"):
        lines.extend(_wrap_para(para, max_w, size, bold))
    return tuple(lines)


def _wrap_para(para: str, max_w: int, size: int, bold: bool) -> list[str]:
    if not para:
        return [""]
    lines: list[str] = []
    cur = ""
    cur_w = 0
    for unit in _tokens(para):
        uw = text_width(unit, size, bold)
        if cur_w + text_width(unit.rstrip(" "), size, bold) <= max_w:
            cur += unit
            cur_w += uw
            continue
        if cur:
            lines.append(cur.rstrip(" "))
        if text_width(unit.rstrip(" "), size, bold) > max_w:
            pieces = _split_long(unit, max_w, size, bold)
            lines.extend(pieces[:-1])
            cur = pieces[-1]
        else:
            cur = unit
        cur_w = text_width(cur, size, bold)
    lines.append(cur.rstrip(" "))
    return lines
