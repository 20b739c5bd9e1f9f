"""Compare two runs (or a run and its replay): do the verdicts agree, and where do the traces differ?

Screens are compared with `screens_match`, the same rule replay uses, because a run on another screen
size, locale or Android version cannot reproduce state ids (they hash the labels) but must reproduce what
the screen *is*: the foreground app and activity and the recognised kinds (with permission groups).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exerciser.report.model import RunFolder, load_run

# Screens that are "the same" across device profiles although package/activity differ: the system UI.
SYSTEM_KINDS = frozenset({"permission_prompt", "launcher", "crash_dialog"})
# Kinds that depend on the device profile, not on the app: ignored when comparing kinds.
PROFILE_KINDS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ScreenSig:
    """What a screen is, independent of size, language and Android version."""

    state: str | None
    structure: str | None
    package: str
    activity: str
    kinds: frozenset[str]  # "permission_prompt:camera", "privacy_consent", ...

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> ScreenSig:
        extra = rec.get("extra") or {}
        groups = list(extra.get("permission_groups") or [])
        kinds = set()
        for k in rec.get("kinds") or []:
            if k in ("permission_prompt", "permission_rationale") and groups:
                kinds.add(f"{k}:{groups[0]}")
            else:
                kinds.add(k)
        return cls(
            state=rec.get("state_after"),
            structure=extra.get("structure"),
            package=rec.get("package", ""),
            activity=rec.get("activity", ""),
            kinds=frozenset(kinds),
        )

    def describe(self) -> str:
        k = ",".join(sorted(self.kinds)) or "no kind"
        return f"{self.package}/{self.activity.rsplit('.', 1)[-1]} [{k}] state {str(self.state)[:10]}"


def screens_match(expected: ScreenSig, got: ScreenSig) -> tuple[bool, str]:
    """(match, level): level is "exact" (same state id), "structure" (same skeleton and kinds),
    "semantic" (same app screen and kinds; or the same kind of system screen) or why it differs."""
    if expected.state and expected.state == got.state:
        return True, "exact"
    kinds_e, kinds_g = expected.kinds - PROFILE_KINDS, got.kinds - PROFILE_KINDS
    if kinds_e != kinds_g:
        return False, f"kinds differ: expected {sorted(kinds_e) or 'none'}, got {sorted(kinds_g) or 'none'}"
    if expected.structure and expected.structure == got.structure:
        return True, "structure"
    if {k.split(":", 1)[0] for k in kinds_e} & SYSTEM_KINDS:
        # system dialog/launcher: its package and activity depend on the Android version and ROM
        return True, "semantic"
    if expected.package != got.package:
        return False, f"foreground app differs: expected {expected.package}, got {got.package}"
    if expected.activity != got.activity:
        return False, f"activity differs: expected {expected.activity}, got {got.activity}"
    return True, "semantic"


# Roles that are the same answer on different Android versions: "While using the app" (API 29+) is what
# "Allow" (API 23-28) grants for foreground use.
ROLE_CANON = {"allow_foreground": "allow"}
ROLE_EQUIV = {"allow": ("allow", "allow_foreground"), "allow_foreground": ("allow_foreground", "allow")}


def action_key(action: dict[str, Any]) -> str:
    """What an action did, independent of where it tapped: type + the control it aimed at."""
    t = action.get("type", "?")
    if t in ("tap", "long_press"):
        sel = action.get("selector") or {}
        role = action.get("role") or sel.get("role")
        if role:  # system dialogs differ in ids and texts across profiles, not in roles
            return f"{t} role={ROLE_CANON.get(role, role)}"
        rid = (sel.get("resource_id") or "").split(":id/", 1)[-1]
        return f"{t} id={rid}" if rid else f"{t} text={sel.get('text', '')}"
    if t == "key":
        return f"key {action.get('key')}"
    if t in ("wait", "advance_clock"):
        return f"{t} {action.get('seconds')}"
    return t


CLOCK_SLACK_S = 30.0  # advance_clock jumps this close (or within CLOCK_SLACK_SHARE) are the same move
CLOCK_SLACK_SHARE = 0.001


def same_action(a: dict[str, Any], b: dict[str, Any]) -> tuple[bool, str]:
    """(same, how): the same action by key, or — for taps on words read by OCR (no id, no role), whose
    spelling varies with the screen size — by similar text (SequenceMatcher ratio >= 0.6)."""
    ka, kb = action_key(a), action_key(b)
    if ka == kb:
        return True, "same"
    if a.get("type") == b.get("type") == "advance_clock":
        # a jump "to 48 h after the refusal" is measured from now: a replay whose scrolls took another
        # swipe or two on a smaller screen jumps a little less far, to the same moment
        da, db = float(a.get("seconds") or 0), float(b.get("seconds") or 0)
        if abs(da - db) <= max(CLOCK_SLACK_S, CLOCK_SLACK_SHARE * db):
            return True, f"close jump ({da - db:+.1f} s)"
    if ka.startswith(("tap text=", "long_press text=")) and kb.split("=", 1)[0] == ka.split("=", 1)[0]:
        ta, tb = ka.split("=", 1)[1].lower(), kb.split("=", 1)[1].lower()
        ratio = difflib.SequenceMatcher(None, ta, tb).ratio()
        if ratio >= 0.6:
            return True, f"similar text ({ratio:.2f})"
    return False, f"'{ka}' vs '{kb}'"


@dataclass
class StepDiff:
    n: int
    same_action: bool
    screen_match: bool
    level: str
    a: str  # description of run A's step
    b: str


@dataclass
class CategoryDiff:
    category: str
    a: dict[str, Any] | None
    b: dict[str, Any] | None

    @property
    def verdict_agrees(self) -> bool:
        return (self.a or {}).get("verdict") == (self.b or {}).get("verdict")

    @property
    def figure_agrees(self) -> bool:
        return (self.a or {}).get("figure") == (self.b or {}).get("figure")


@dataclass
class Comparison:
    a: Path
    b: Path
    categories: list[CategoryDiff]
    steps: list[StepDiff] = field(default_factory=list)
    length_a: int = 0
    length_b: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def verdicts_agree(self) -> bool:
        return all(c.verdict_agrees for c in self.categories)

    @property
    def figures_agree(self) -> bool:
        return all(c.figure_agrees for c in self.categories)

    @property
    def first_difference(self) -> StepDiff | None:
        return next((s for s in self.steps if not (s.same_action and s.screen_match)), None)

    def lines(self) -> list[str]:
        out = [f"A: {self.a}", f"B: {self.b}", ""]
        out.append(f"{'category':10} {'A':28} {'B':28} agree")
        for c in self.categories:
            fa = "—" if c.a is None else f"{c.a.get('verdict')} ({c.a.get('figure')})"
            fb = "—" if c.b is None else f"{c.b.get('verdict')} ({c.b.get('figure')})"
            mark = "yes" if c.verdict_agrees else "NO"
            if c.verdict_agrees and not c.figure_agrees:
                mark += " (figures differ)"
            out.append(f"{c.category:10} {fa:28} {fb:28} {mark}")
        out.append("")
        fd = self.first_difference
        if fd is None and self.length_a == self.length_b:
            out.append(f"traces: {self.length_a} steps each, same actions and matching screens at every step")
        else:
            out.append(f"traces: A has {self.length_a} steps, B has {self.length_b}")
            if fd is not None:
                what = [] if fd.same_action else ["action differs"]
                if not fd.screen_match:
                    what.append(fd.level)
                out.append(f"first difference at step {fd.n}: {'; '.join(what)}")
                out.append(f"  A: {fd.a}")
                out.append(f"  B: {fd.b}")
            else:
                out.append(f"the common {min(self.length_a, self.length_b)} steps match; the rest is extra")
        levels: dict[str, int] = {}
        for s in self.steps:
            if s.screen_match:
                levels[s.level] = levels.get(s.level, 0) + 1
        if levels:
            out.append("screen matches: " + ", ".join(f"{k} {v}" for k, v in sorted(levels.items())))
        out += self.notes
        out.append("")
        out.append("VERDICTS AGREE" if self.verdicts_agree else "VERDICTS DISAGREE")
        return out


def compare_runs(a: RunFolder | Path, b: RunFolder | Path) -> Comparison:
    ra = a if isinstance(a, RunFolder) else load_run(Path(a))
    rb = b if isinstance(b, RunFolder) else load_run(Path(b))
    cats = list(
        dict.fromkeys([c for c, _ in ra.ordered_categories()] + [c for c, _ in rb.ordered_categories()])
    )
    cmp = Comparison(
        ra.path,
        rb.path,
        [CategoryDiff(c, ra.categories.get(c), rb.categories.get(c)) for c in cats],
        length_a=len(ra.records),
        length_b=len(rb.records),
    )
    if not ra.verdict:
        cmp.notes.append("note: A has no verdict.json")
    if not rb.verdict:
        cmp.notes.append("note: B has no verdict.json")
    for ta, tb in zip(ra.records, rb.records, strict=False):
        sa, sb = ScreenSig.from_record(ta), ScreenSig.from_record(tb)
        ok, level = screens_match(sa, sb)
        aa, ab = ta.get("action") or {}, tb.get("action") or {}
        cmp.steps.append(
            StepDiff(
                n=ta.get("n", 0),
                same_action=same_action(aa, ab)[0],
                screen_match=ok,
                level=level,
                a=f"{action_key(aa)} → {sa.describe()}",
                b=f"{action_key(ab)} → {sb.describe()}",
            )
        )
    for r, name in ((ra, "A"), (rb, "B")):
        if not r.trace.chain_ok:
            cmp.notes.append(f"warning: {name}'s trace chain is broken (run exerciser verify)")
    return cmp
