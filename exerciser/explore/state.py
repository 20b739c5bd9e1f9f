"""State abstraction of a screen: a structure hash (no text) and a content hash, from a ScreenReading.

What changes inside one screen must not change its id: the clock, counters and other digits, the rows of
a list (their number and texts), ads. What tells two screens or dialogs apart must: package, activity,
the layout skeleton (classes, resource-ids, depth), the recognised kinds (a privacy dialog vs. its second
chance, the camera vs. the contacts prompt), and the labels of the controls one can tap (excluding list
rows). The content hash keeps everything, so a reviewer can tell two visits of one state apart.
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


def _list_rows(elements: list[Element]) -> set[str]:
    """index_paths of elements that are list rows (or inside one): repeated sibling shapes."""
    by_parent: dict[str, Counter] = {}
    shape: dict[str, tuple[str, str]] = {}
    for e in elements:
        if e.source != "hierarchy" or not e.index_path:
            continue
        s = (e.cls, _id_name(e.resource_id))
        shape[e.index_path] = s
        by_parent.setdefault(_parent(e.index_path), Counter())[s] += 1
    rows = {p for p, s in shape.items() if by_parent[_parent(p)][s] >= LIST_MIN_REPEAT}
    if not rows:
        return rows
    # everything below a row belongs to it
    return {p for p in shape if p in rows or any(p.startswith(r + "/") for r in rows)}


def _h(parts: list[str]) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:12]


def state_of(reading: ScreenReading) -> ScreenState:
    elements = [e for e in reading.elements if not _is_ad(e)]
    rows = _list_rows(elements)
    skeleton: list[str] = []
    seen_row_shapes: set[tuple] = set()
    labels: list[str] = []
    for e in elements:
        if e.source != "hierarchy":
            continue
        depth = e.index_path.count("/") if e.index_path else 0
        token = f"{depth}:{e.cls.rsplit('.', 1)[-1]}:{_id_name(e.resource_id)}:{int(e.clickable)}"
        if e.index_path in rows:
            # one token per row shape, however many rows the list holds today
            key = (_parent(e.index_path) if e.index_path.count("/") else "", token)
            if key in seen_row_shapes:
                continue
            seen_row_shapes.add(key)
            skeleton.append("row:" + token)
            continue
        skeleton.append(token)
        if (e.clickable or e.checkable) and e.label:
            labels.append(norm_label(e.label))
    kinds = tuple(
        sorted({k.kind + (f":{k.permission_group}" if k.permission_group else "") for k in reading.kinds})
    )
    # On blind screens the words come from OCR; the targets the reader found stand in for the controls.
    roles = sorted({t.role for t in reading.targets})
    if reading.blind:
        labels += sorted({norm_label(t.text) for t in reading.targets if t.text})
    structure = _h([reading.package, reading.activity, *skeleton])
    sid = _h([structure, *kinds, "|", *sorted(labels), "|", *roles])
    content = _h([reading.package, reading.activity, *(e.label for e in reading.elements if e.label)])
    return ScreenState(sid, structure, content, reading.package, reading.activity, kinds)
