"""Robust selectors: how an action finds its control again (resource-id, text, class path, tap point)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from exerciser.explore.state import norm_label
from exerciser.perceive.reading import Bounds, Element, ScreenReading, Target, center


@dataclass(frozen=True)
class Selector:
    resource_id: str = ""
    text: str = ""
    cls: str = ""
    index_path: str = ""
    role: str = ""  # role of the reader's Target, when the control came from one

    def key(self) -> str:
        """Stable edge key: what identifies the control, not where it happens to be drawn today."""
        if self.role == "scroll_h":  # the same container scrolled sideways is another edge
            return "sideways|" + replace(self, role="scroll").key()
        rid = self.resource_id.split(":id/", 1)[-1]
        if rid and self.text:
            return f"id={rid}|text={norm_label(self.text)}"
        if rid:
            return f"id={rid}"
        if self.text:
            return f"text={norm_label(self.text)}"
        if self.role:
            return f"role={self.role}"
        return f"path={self.cls.rsplit('.', 1)[-1]}@{self.index_path}"

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class Control:
    """A tappable thing on the current screen."""

    selector: Selector
    bounds: Bounds
    label: str
    selected: bool = False  # the current tab of a navigation bar: tapping it goes nowhere new

    @property
    def point(self) -> tuple[int, int]:
        return center(self.bounds)


def from_target(t: Target) -> Control:
    return Control(Selector(t.resource_id, t.text, t.cls, t.index_path, t.role), t.bounds, t.text)


def from_element(e: Element) -> Control:
    return Control(Selector(e.resource_id, e.label, e.cls, e.index_path), e.bounds, e.label, e.selected)


def controls(reading: ScreenReading) -> list[Control]:
    """Every distinct tappable control: the reader's targets, clickable hierarchy nodes, and on blind
    screens the OCR'd words (a WebView's links are not in the hierarchy)."""
    out: list[Control] = []
    seen: set[str] = set()
    for t in reading.targets:
        c = from_target(t)
        if c.selector.key() not in seen:
            seen.add(c.selector.key())
            out.append(c)
    for e in reading.elements:
        usable = e.enabled and e.bounds[2] > e.bounds[0] and e.bounds[3] > e.bounds[1]
        if not usable:
            continue
        if e.source == "hierarchy" and not (e.clickable or e.checkable):
            continue
        if e.source == "ocr" and (not e.text.strip() or e.cls == "ocr.prose"):
            continue  # nothing read, or a line of a wrapped paragraph (the reader's "ocr.prose")
        if e.source == "hierarchy" and not e.label:
            # a clickable container without text: use the first labelled descendant's text
            inner = next(
                (d for d in reading.elements if d.index_path.startswith(e.index_path + "/") and d.label),
                None,
            )
            if inner is None:
                continue
            e = replace(e, text=inner.label)
        c = from_element(e)
        if c.selector.key() not in seen:
            seen.add(c.selector.key())
            out.append(c)
    return out


def find(reading: ScreenReading, sel: Selector) -> Control | None:
    """Find the control of `sel` on this screen: resource-id+text, text, resource-id, role, and for a
    control with neither id nor text its class path."""
    cs = controls(reading)
    want_text = norm_label(sel.text) if sel.text else ""
    rid = sel.resource_id.split(":id/", 1)[-1]

    def rid_of(c: Control) -> str:
        return c.selector.resource_id.split(":id/", 1)[-1]

    tries = []
    if rid and want_text:
        tries.append(lambda c: rid_of(c) == rid and norm_label(c.label) == want_text)
    if want_text:
        tries.append(lambda c: norm_label(c.label) == want_text)
    if rid:
        tries.append(lambda c: rid_of(c) == rid)
    if sel.role:
        tries.append(lambda c: c.selector.role == sel.role)
    if sel.index_path and not (rid or want_text):
        # the class path only for controls known by nothing else (an icon without id or text): where
        # an id or a text was known, another control at that place (the list shifted) is not this one
        tries.append(lambda c: c.selector.index_path == sel.index_path and c.selector.cls == sel.cls)
    for t in tries:
        hit = next((c for c in cs if t(c)), None)
        if hit:
            return hit
    return None
