"""State abstraction of a screen: a structure hash (no text) and a content hash, from a ScreenReading.

What changes inside one screen must not change its id: the clock, counters and other digits, the rows of
a list (their number and texts; rows are sibling shapes repeated three times, or numbered ids such as
item_1, item_2), ads, and what a scroll container shows at its current offset (the page is the same
whatever its scroll position; the container itself counts). What tells two screens or dialogs apart
must: package, activity, the layout skeleton (classes, resource-ids, depth), the recognised kinds (a
privacy dialog vs. its second chance, the camera vs. the contacts prompt), the labels of the
controls one can tap (excluding list rows), and the title of the page a WebView shows (H5 pages loaded
one after the other in one activity). The content hash keeps everything, so a reviewer can tell
two visits of one state apart.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from exerciser.perceive.reading import Element, ScreenReading

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
# resource-id name parts that mark ads and promotional banners: their presence and content vary per visit
_AD_ID = re.compile(r"(^|[_/.])(ad|ads|adview|advert|banner|promo|sponsor(ed)?)([_.]|$|\d)", re.I)
LIST_MIN_REPEAT = 3  # siblings of one shape repeated this often are list rows


def norm_label(text: str) -> str:
    """Label without digits, case or repeated spaces (clock, counters, 'Messages (3)')."""
    return _SPACE.sub(" ", _DIGITS.sub("#", text)).strip().lower().replace("\u2019", "'")


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _id_name(rid: str) -> str:
    return rid.split(":id/", 1)[-1] if rid else ""


def _is_ad(e: Element) -> bool:
    return bool(e.resource_id) and bool(_AD_ID.search(_id_name(e.resource_id)))


@dataclass(frozen=True)
class ScreenState:
    id: str  # graph node id: package + activity + structure + kinds + control labels
    structure: str  # hash of the skeleton only (no text at all)
    content: str  # hash of every text on the screen
    package: str
    activity: str
    kinds: tuple[str, ...]  # "permission_prompt:camera", "privacy_consent", ...


def _shape_id(rid: str) -> str:
    """A resource-id as a row shape: numbered rows (item_1, item_2, ...) are one shape."""
    return _DIGITS.sub("#", _id_name(rid))


def _list_rows(elements: list[Element]) -> dict[str, str]:
    """index_path -> path of its list container, for list rows and everything inside them. A row is one
    of sibling shapes repeated at least LIST_MIN_REPEAT times, or numbered (item_1, item_2) twice."""
    by_parent: dict[str, Counter] = {}
    numbered: dict[str, Counter] = {}
    shape: dict[str, tuple[str, str]] = {}
    for e in elements:
        if e.source != "hierarchy" or not e.index_path:
            continue
        s = (e.cls, _shape_id(e.resource_id))
        shape[e.index_path] = s
        by_parent.setdefault(_parent(e.index_path), Counter())[s] += 1
        if s[1] != _id_name(e.resource_id):
            numbered.setdefault(_parent(e.index_path), Counter())[s] += 1
    roots = [
        p
        for p, s in shape.items()
        if by_parent[_parent(p)][s] >= LIST_MIN_REPEAT or numbered.get(_parent(p), Counter())[s] >= 2
    ]
    out: dict[str, str] = {}
    for r in sorted(roots, key=len):  # outer lists first: a list inside a row belongs to the row
        container = _parent(r)
        for p in shape:
            if (p == r or p.startswith(r + "/")) and p not in out:
                out[p] = container
    return out


def _h(parts: list[str]) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:12]


def _scrolled_content(elements: list[Element]) -> set[str]:
    """index paths inside a scroll container that can move: which of them show depends on the offset."""
    roots = [e.index_path for e in elements if e.scrollable and e.source == "hierarchy" and e.index_path]
    return {
        e.index_path
        for e in elements
        if e.index_path and any(e.index_path.startswith(r + "/") for r in roots)
    }


def state_of(reading: ScreenReading) -> ScreenState:
    scrolled = _scrolled_content(list(reading.elements))
    elements = [e for e in reading.elements if not _is_ad(e) and e.index_path not in scrolled]
    rows = _list_rows(elements)
    skeleton: list[str] = []
    seen_row_shapes: set[tuple[str, str]] = set()
    labels: list[str] = []
    for e in elements:
        if e.source != "hierarchy":
            continue
        depth = e.index_path.count("/") if e.index_path else 0
        token = f"{depth}:{e.cls.rsplit('.', 1)[-1]}:{_shape_id(e.resource_id)}:{int(e.clickable)}"
        if e.index_path in rows:
            # one token per row shape (and per shape inside rows), however many rows the list holds
            key = (rows[e.index_path], token)
            if key in seen_row_shapes:
                continue
            seen_row_shapes.add(key)
            skeleton.append("row:" + token)
            continue
        skeleton.append(token)
        if (e.clickable or e.checkable) and e.label:
            labels.append(norm_label(e.label))
        elif e.cls.endswith("WebView") and e.text:
            # a WebView's document node reports the page's <title>: which H5 page of the view is shown
            # (pages loaded in one activity share its skeleton, their links scroll with the page)
            labels.append("web:" + norm_label(e.text))
    kinds = tuple(
        sorted({k.kind + (f":{k.permission_group}" if k.permission_group else "") for k in reading.kinds})
    )
    # On blind screens the words come from OCR; the targets the reader found stand in for the controls.
    roles = sorted({t.role for t in reading.targets if t.index_path not in scrolled})
    if reading.blind:
        labels += sorted({norm_label(t.text) for t in reading.targets if t.text})
    structure = _h([reading.package, reading.activity, *skeleton])
    sid = _h([structure, *kinds, "|", *sorted(labels), "|", *roles])
    content = _h([reading.package, reading.activity, *(e.label for e in reading.elements if e.label)])
    return ScreenState(sid, structure, content, reading.package, reading.activity, kinds)
