"""Fonts and text measurement for the virtual device: Noto Sans CJK SC for Chinese and Latin alike.

Widths are summed per character from a cache (no kerning in the BASIC layout engine, so the sum equals
what PIL draws), which makes wrapping long privacy texts cheap. The SC face draws the curly quotes
‘ ’ “ ” full-width; Android takes them from Roboto (narrow, as in "Don’t allow"), so they come from the
JP face of the same collection, which has proportional ones: `runs()` splits a line by face. Symbols the
CJK faces lack (✗ ✕ ✔ ⋮ ☰ ⌫, drawn as an empty box) come from DejaVu Sans, as Android falls back to its
symbol fonts.
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
SYMBOL_DIRS = ("/usr/share/fonts/truetype/dejavu",)
SYMBOL_REGULAR, SYMBOL_BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
SYMBOL = -1  # face key of the symbol fallback

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


@lru_cache(maxsize=8)
def _symbol_path(bold: bool) -> str | None:
    for d in SYMBOL_DIRS:
        path = os.path.join(d, SYMBOL_BOLD if bold else SYMBOL_REGULAR)
        if os.path.exists(path):
            return path
    return None


@lru_cache(maxsize=64)
def symbol_font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | None:
    path = _symbol_path(bold)
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC) if path else None


def _notdef(f: ImageFont.FreeTypeFont) -> bytes:
    m = f.getmask("\uffff")
    return bytes(m) + repr(m.size).encode()


@lru_cache(maxsize=4096)
def face_of(ch: str) -> int:
    """Which face draws `ch`: the SC face, the JP one (narrow curly quotes), or the symbol fallback."""
    if ch in PROPORTIONAL:
        return JP_INDEX
    if ch.isascii() or _is_cjk(ch):
        return SC_INDEX
    sc = font(48)
    m = sc.getmask(ch)
    if bytes(m) + repr(m.size).encode() != _notdef(sc) or symbol_font(48) is None:
        return SC_INDEX
    return SYMBOL


def _face(size: int, bold: bool, key: int) -> ImageFont.FreeTypeFont:
    return (symbol_font(size, bold) if key == SYMBOL else None) or font(size, bold, max(key, 0))


def runs(line: str, size: int, bold: bool = False) -> list[tuple[str, ImageFont.FreeTypeFont]]:
    """The line cut into pieces drawn with one face each (curly quotes from the JP face, symbols the CJK
    faces lack from the symbol font)."""
    if line.isascii():
        return [(line, font(size, bold))]
    out: list[tuple[str, ImageFont.FreeTypeFont]] = []
    cur, cur_key = "", SC_INDEX
    for ch in line:
        key = face_of(ch)
        if cur and key != cur_key:
            out.append((cur, _face(size, bold, cur_key)))
            cur = ""
        cur, cur_key = cur + ch, key
    if cur:
        out.append((cur, _face(size, bold, cur_key)))
    return out


@lru_cache(maxsize=64)
def _advances(size: int, bold: bool) -> dict[str, float]:
    return {}


def char_width(ch: str, size: int, bold: bool = False) -> float:
    table = _advances(size, bold)
    w = table.get(ch)
    if w is None:
        w = _face(size, bold, face_of(ch)).getlength(ch)
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
