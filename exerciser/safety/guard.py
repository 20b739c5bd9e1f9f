"""The safety guard's judgement: may this tap, key or text be sent to the phone?

It judges what is really under the finger on the last screen the run read (the smallest control at the
tap point, its words, content-desc and resource-id), and the dialog or page around it, against the
irreversible-action lexicon. It does not rely on the recogniser having named the screen: a deletion
confirmation it has never seen is still refused, because

- payments, calls (also a clickable phone number, a tel: link), SMS, posting, signing out, uninstalling,
  clearing data and factory resets are refused wherever their words stand, and a dialog whose title or
  body names one of them has no positive button the guard will press;
- once the app shows a page or dialog about deleting the account (or the deletion entry was tapped),
  the run is on the *deletion path*: there only controls known to be reversible are used (back, cancel,
  close, ticking a box, and for the deletion probe a plain "Next"), everything else is refused. The path
  is left only for a screen seen off the path before, or by restarting the app.

A test account (`test_account: true`) lifts the deletion part, for the deletion probe only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from exerciser.device.contract import Key
from exerciser.perceive.reading import Bounds, Element, ScreenReading
from exerciser.perceive.text import is_sentence, text_len
from exerciser.safety.lexicon import ALWAYS, display, id_words, irreversible_lexicon, whole

# screens whose words about deletion are information, not the deletion path (a consent dialog's body
# routinely says "you may delete your account")
_NOT_PATH_KINDS = (
    "privacy_consent",
    "consent_second_chance",
    "permission_prompt",
    "permission_rationale",
    "crash_dialog",
    "launcher",
)
# dialogs whose answers can be taken back (a permission is revoked in settings): their words describe what
# is asked ("make and manage phone calls"), not what the button does
_ANSWERABLE = ("permission_prompt", "permission_rationale", "privacy_consent", "consent_second_chance")
_PATH_KINDS = ("deletion_confirm", "deletion_obstacle")
HUGE = 0.4  # a clickable covering this share of the screen is a backdrop, not the control under the finger
SAFE_KEYS = (Key.BACK, Key.HOME, Key.RECENT)
LABEL_WORDS = 10  # longer than this (text_len: Latin words, ideographs / 2) is a paragraph, not a label


@dataclass(frozen=True)
class Judgement:
    allowed: bool
    rule: str = ""  # e.g. "payment.label", "account_deletion.final", "deletion_path.default_deny"
    category: str = ""  # payment, call, sms, publish, sign_out, ..., account_deletion
    reason: str = ""  # one line for the trace and the report
    control: dict[str, Any] = field(default_factory=dict)  # what was under the finger
    enters_deletion_path: bool = False

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("enters_deletion_path")
        return out


def _area(b: Bounds) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _contains(b: Bounds, x: int, y: int) -> bool:
    return b[0] <= x < b[2] and b[1] <= y < b[3]


def _inside(inner: Bounds, outer: Bounds) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _control_json(e: Element, words: list[str]) -> dict[str, Any]:
    out = {
        "label": e.label,
        "words": " | ".join(words),
        "resource_id": e.resource_id,
        "class": e.cls,
        "bounds": list(e.bounds),
        "source": e.source,
    }
    return {k: v for k, v in out.items() if v not in ("", None)}


class SafetyGuard:
    def __init__(self) -> None:
        self.lx = irreversible_lexicon()
        self.screen: ScreenReading | None = None
        self.stale = True  # an input was sent since the screen was last read
        self.on_path = False  # the screen in front is on the deletion path
        self._entered = False  # a deletion entry was just tapped: the next screen is on the path
        self._outside: set[str] = set()  # states seen off the deletion path
        self.purpose = "explore"  # "deletion" while the deletion probe walks its flow
        self.lifted = False  # test account: the deletion part is lifted (deletion probe only)
        self._ctx: dict[Bounds | None, list[str]] = {}  # context texts of the screen read last

    # --- what the run sees ---------------------------------------------------------------------------
    def saw(self, reading: ScreenReading, state_id: str) -> None:
        """The session read a new capture: judge against it, and follow the deletion path."""
        self.screen = reading
        self.stale = False
        self._ctx: dict[Bounds | None, list[str]] = {}
        # on the path: a screen about deletion, or the one a deletion entry opened; off it: a screen seen
        # off the path before; an unknown screen after one on the path stays on it (default deny)
        on = self.about_deletion(reading) or self._entered or (self.on_path and state_id not in self._outside)
        self._entered = False
        self.on_path = on
        if not on:
            self._outside.add(state_id)

    def snapshot(self) -> dict:
        """What outlives a run stopped with the app stopped (a checkpoint): screens seen off the deletion
        path, and what the guard is set to allow."""
        return {"outside": sorted(self._outside), "purpose": self.purpose, "lifted": self.lifted}

    def restore(self, d: dict) -> None:
        self._outside = set(d["outside"])
        self.purpose, self.lifted = d["purpose"], d["lifted"]
        self.restarted()  # the app was stopped at the checkpoint

    def restarted(self) -> None:
        """The app was started, stopped or cleared: whatever it shows next is a fresh start."""
        self.on_path = False
        self._entered = False
        self.stale = True

    def performed(self, j: Judgement | None = None) -> None:
        """An input reached the device: the screen read before it is no longer what is in front."""
        self.stale = True
        if j is not None and j.enters_deletion_path:
            self._entered = True

    @contextmanager
    def deletion_walk(self, test_account: bool = False) -> Iterator[None]:
        """The deletion probe walks its flow: "Next" is allowed on the path; a test account lifts it."""
        prev = (self.purpose, self.lifted)
        self.purpose, self.lifted = "deletion", bool(test_account)
        try:
            yield
        finally:
            self.purpose, self.lifted = prev

    def about_deletion(self, r: ScreenReading) -> bool:
        if any(r.has(k) for k in _NOT_PATH_KINDS):
            return False
        if any(r.has(k) for k in _PATH_KINDS):
            return True
        return bool(self.lx.deletion_context.search(" | ".join(self._context(r, None))))

    # --- judgements ------------------------------------------------------------------------------------
    def judge_point(self, x: int, y: int, action: str = "tap") -> Judgement:
        r = self.screen
        if r is None or self.stale:
            return Judgement(
                False, "no_fresh_screen", "", f"{action} at ({x}, {y}) without a fresh reading of the screen"
            )
        el, words = self._under(r, x, y)
        if el is None:
            if self.on_path and not self.lifted:
                return Judgement(
                    False,
                    "deletion_path.unknown_control",
                    "account_deletion",
                    f"nothing known at ({x}, {y}) on the deletion path: its effect is unknown",
                )
            return Judgement(True, control={"point": [x, y]})
        return self.judge_control(el, words, r)

    def judge_control(self, el: Element, words: list[str], r: ScreenReading) -> Judgement:
        lx = self.lx
        ctl = _control_json(el, words)
        text = display(" | ".join(words))  # every word on the control: numbers and links anywhere act
        # what reads as a label (a button's words, a row's title and subtitle), not a paragraph that
        # happens to be clickable (an agreement text, a search hint): verbs count only there
        lines = [ln for w in words for ln in w.split("\n") if ln.strip()]
        labelish = display(
            " | ".join(ln for ln in lines if text_len(ln) <= LABEL_WORDS and not is_sentence(ln))
        )
        label = whole(el.label or (words[0] if words else ""))

        def refuse(rule: str, category: str, why: str) -> Judgement:
            return Judgement(False, rule, category, why, ctl)

        for scheme, cat in lx.schemes.items():
            if scheme in text:
                return refuse(f"{cat}.link", cat, f"'{el.label}' is a {scheme} link")
        m = lx.phone.search(text)
        if m:
            return refuse("call.number", "call", f"'{el.label}' would dial {m.group(0)}")
        for name in ALWAYS:
            hit = lx.categories[name].label_hit(labelish)
            if hit:
                return refuse(f"{name}.label", name, f"'{el.label}' would {name.replace('_', ' ')} ({hit})")
        if not self.lifted:
            # a settings row is judged by its title: its subtitle describes ("Permanently delete your
            # account" under "Delete account"); a button by all its words
            head = display(el.inner_text.split("\n")[0]) if el.inner_text and not el.text else labelish
            m = lx.deletion_final.search(head)
            if m:
                return refuse(
                    "account_deletion.final",
                    "account_deletion",
                    f"'{el.label}' is the final step of account deletion ({m.group(0)})",
                )
        if label in lx.backward:
            return Judgement(True, control=ctl)
        system = any(r.has(k) for k in _ANSWERABLE)
        in_dialog = bool(r.dialog_bounds and _inside(el.bounds, r.dialog_bounds))
        if in_dialog and not system:
            around = display(" | ".join(self._context(r, r.dialog_bounds)))
            for name in ALWAYS:
                hit = lx.categories[name].context_hit(around)
                if hit:
                    return refuse(
                        f"{name}.dialog",
                        name,
                        f"'{el.label}' answers a dialog about {name.replace('_', ' ')} ({hit})",
                    )
        ids = id_words(el.resource_id)
        for name in ALWAYS if not el.label else ():  # the id speaks only for a control with no words
            hit_ids = ids & lx.categories[name].ids
            if hit_ids:
                return refuse(
                    f"{name}.resource_id",
                    name,
                    f"'{el.label or el.resource_id}' has the id of a {name.replace('_', ' ')} control "
                    f"({', '.join(sorted(hit_ids))})",
                )
        if self.on_path and not self.lifted:
            if el.checkable:
                return Judgement(True, control=ctl)  # a box that can be unticked again
            if self.purpose == "deletion" and label in lx.forward and not in_dialog:
                # "Next" on a page of the flow; in a dialog about deletion it is the confirmation
                return Judgement(True, control=ctl)
            return refuse(
                "deletion_path.default_deny",
                "account_deletion",
                f"'{el.label}' on the deletion path: only controls known to be reversible are used",
            )
        enters = bool(lx.deletion_entry.search(labelish) or ids & lx.deletion_ids)
        if not enters and lx.deletion_verbs.search(labelish):
            enters = bool(lx.account_words.search(display(" | ".join(self._context(r, None)))))
        return Judgement(True, control=ctl, enters_deletion_path=enters)

    def judge_key(self, key: Key | str) -> Judgement:
        k = Key(key) if not isinstance(key, Key) else key
        if k in SAFE_KEYS:
            return Judgement(True)
        r = self.screen
        if r is None or self.stale:
            return Judgement(False, "no_fresh_screen", "", f"key {k} without a fresh reading of the screen")
        if self.on_path and not self.lifted:
            return Judgement(
                False, "deletion_path.enter", "account_deletion", "ENTER on the deletion path may submit"
            )
        for e in r.elements:
            if not (e.clickable and e.label):
                continue
            text = display(e.label)
            for name in ALWAYS:
                if self.lx.categories[name].label_hit(text):
                    return Judgement(
                        False,
                        f"{name}.enter",
                        name,
                        f"ENTER may submit: the screen offers '{e.label}' ({name.replace('_', ' ')})",
                    )
        return Judgement(True)

    def judge_text(self, text: str) -> Judgement:
        """Typing fills a field; only a line break acts (the IME's send / done)."""
        if "\n" in text or "\r" in text:
            return self.judge_key(Key.ENTER)
        return Judgement(True)

    # --- reading the screen ------------------------------------------------------------------------------
    def _huge(self, r: ScreenReading, b: Bounds) -> bool:
        w, h = r.screen
        return w > 0 and h > 0 and _area(b) > HUGE * w * h

    def _under(self, r: ScreenReading, x: int, y: int) -> tuple[Element | None, list[str]]:
        """The control under (x, y) and every word drawn on it."""
        at = [e for e in r.elements if _contains(e.bounds, x, y) and _area(e.bounds) > 0]
        acting = [e for e in at if (e.clickable or e.checkable) and not self._huge(r, e.bounds)]
        if acting:
            el = min(acting, key=lambda e: _area(e.bounds))
        else:
            labelled = [e for e in at if e.label]
            if not labelled:
                return None, []
            el = min(labelled, key=lambda e: _area(e.bounds))
        words = [w for w in (el.text, el.content_desc, el.inner_text) if w]
        for e in r.elements:  # words drawn inside the control (a row's texts, OCR words on a button)
            if e is not el and e.label and _inside(e.bounds, el.bounds) and e.label not in words:
                words.append(e.label)
        return el, words

    def _context(self, r: ScreenReading, within: Bounds | None) -> list[str]:
        """Texts of the page or dialog that are not on a control: titles, bodies, notices."""
        if r is self.screen and within in self._ctx:
            return self._ctx[within]
        controls = [
            e.bounds for e in r.elements if (e.clickable or e.checkable) and not self._huge(r, e.bounds)
        ]
        out = []
        for e in r.elements:
            if not e.label or e.clickable or e.checkable:
                continue
            if within is not None and not _inside(e.bounds, within):
                continue
            if any(_inside(e.bounds, b) for b in controls):
                continue
            out.append(e.label)
        if r is self.screen:
            self._ctx[within] = out
        return out
