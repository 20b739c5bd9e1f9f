"""Replay a recorded trace on any Device, check every screen, and re-score.

Two ways to replay, both checking every step against the recording:

- **probes** (default when the run folder holds its `scenario.json`): the run's probes are run again by
  `exerciser.runner.app_run.run_app` on the new device, through a `ReplaySession` that holds them to the
  trace: each action they ask for must be the recorded one (same type and control: role, else
  resource-id, else text), is executed at the place the *recorded* selector resolves to on the current
  screen, and must reach a screen that matches the recorded one. Only the explorer's own moves
  (`FREE_CHOICE_NOTES`) may differ: which target it tries first follows the layout, so on another
  screen size it may pick another; then the recorded move is made instead and its screen handed to the
  probe ("substituted"); where the recorded exploration went further, its remaining moves are made
  before the probe's next one; where it stopped earlier, the extra moves are not made ("skipped") until
  the explorer gives up. The verdicts are then scored by the real scorer from the probes' findings — a
  true re-score.
- **trace**: the recorded actions are executed one by one without the probes (for traces whose scenario
  is unknown, e.g. from a phone); device time follows the recording (after each action the device runs
  until the step's recorded offset from the start). Re-scoring is then an evidence re-check: a verdict
  is reproduced when every step it cites was reproduced with a matching screen.

Taps are resolved on the *current* screen by the recorded selector — resource-id with text, resource-id,
the reader's role (system dialogs differ in ids and words across Android versions and locales, not in
roles), text, class + index path — and only when none is found by the recorded point, scaled to the new
screen size. A screen matches (`compare.screens_match`) by state id, or by skeleton and kinds, or by app
screen and kinds, or as the same kind of system screen. At the first mismatch the replay stops with a
divergence report (step, expected vs got, both screenshots). The replay folder is a bundle of its own
(trace with `action.replay.of` = the original step, screenshots, verdict, reports, manifest, replay.json).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exerciser import atomic
from exerciser.device.contract import Device, Key
from exerciser.errors import UserError
from exerciser.evidence.compare import (
    ROLE_EQUIV,
    Comparison,
    ScreenSig,
    action_key,
    compare_runs,
    same_action,
    screens_match,
)
from exerciser.paths import safe_id
from exerciser.report.model import RunFolder, load_run
from exerciser.safety import ActionRefused

DEFAULT_SETTLE = {"app_start": 1.5, "app_stop": 0.2, "app_clear": 0.2, "advance_clock": 0.2, "observe": 0.0}
TAP_TYPES = ("tap", "long_press")
Progress = Callable[[str], None]


# --- resolving a recorded tap on the current screen ------------------------------------------------------


def _norm(text: str) -> str:
    try:
        from exerciser.explore.state import norm_label

        return norm_label(text)
    except ImportError:  # pragma: no cover - explore not installed
        return " ".join(text.split()).lower()


def _rid(rid: str) -> str:
    return rid.split(":id/", 1)[-1] if rid else ""


@dataclass(frozen=True)
class Resolved:
    point: tuple[int, int]
    method: str  # "id+text" | "id" | "role" | "text" | "path" | "point"
    selector: dict[str, str]


def _candidates(reading: Any) -> list[tuple[dict[str, str], tuple[int, int, int, int], str]]:
    """(selector, bounds, role) of everything tappable on the screen."""
    out = []
    for t in reading.targets:
        sel = {"resource_id": t.resource_id, "text": t.text, "cls": t.cls, "index_path": t.index_path}
        out.append((sel, tuple(t.bounds), t.role))
    for e in reading.elements:
        if e.bounds[2] <= e.bounds[0] or e.bounds[3] <= e.bounds[1] or not e.enabled:
            continue
        if e.source == "hierarchy" and not (e.clickable or e.checkable or e.resource_id or e.label):
            continue
        sel = {"resource_id": e.resource_id, "text": e.label, "cls": e.cls, "index_path": e.index_path}
        out.append((sel, tuple(e.bounds), ""))
    return out


def _center(b: tuple[int, int, int, int]) -> tuple[int, int]:
    return (b[0] + b[2]) // 2, (b[1] + b[3]) // 2


def resolve_tap(reading: Any, action: dict[str, Any], scale: tuple[float, float]) -> Resolved:
    """Where to tap on this screen for a recorded tap action (selectors first, scaled point last)."""
    sel = action.get("selector") or {}
    role = action.get("role") or sel.get("role") or ""
    rid = _rid(sel.get("resource_id", ""))
    text = _norm(sel.get("text", "") or action.get("label", "") or "")
    cands = _candidates(reading)
    point = action.get("point")
    scaled = (round(point[0] * scale[0]), round(point[1] * scale[1])) if point else None

    def near(hits: list) -> tuple:
        if scaled is None or len(hits) == 1:
            return hits[0]
        return min(hits, key=lambda c: abs(_center(c[1])[0] - scaled[0]) + abs(_center(c[1])[1] - scaled[1]))

    path = sel.get("index_path")
    tries: list[tuple[str, Callable[[tuple], bool]]] = []
    if rid and text:
        tries.append(("id+text", lambda c: _rid(c[0]["resource_id"]) == rid and _norm(c[0]["text"]) == text))
    if rid:
        tries.append(("id", lambda c: _rid(c[0]["resource_id"]) == rid))
    if role:
        roles = ROLE_EQUIV.get(role, (role,))
        tries.append(("role", lambda c: c[2] == role))
        if len(roles) > 1:
            tries.append(("role~", lambda c: c[2] in roles))
    if text:
        tries.append(("text", lambda c: _norm(c[0]["text"]) == text))
    if path:
        tries.append(("path", lambda c: c[0]["index_path"] == path and c[0]["cls"] == sel.get("cls")))
    for method, pred in tries:
        hits = [c for c in cands if pred(c)]
        if method == "id" and len({c[1] for c in hits}) > 1 and not scaled:
            continue  # an id shared by several controls (list rows) decides nothing without a point
        if hits:
            c = near(hits)
            return Resolved(_center(c[1]), method, {k: v for k, v in c[0].items() if v})
    if scaled is None:
        raise LookupError("tap has neither a selector found on screen nor a point")
    return Resolved(scaled, "point", {})


# --- results ---------------------------------------------------------------------------------------------


@dataclass
class ReplayStep:
    n: int  # original step number
    new_n: int  # step number in the replay's trace
    action: str
    resolved_by: str
    match: bool
    level: str
    expected: str
    got: str


@dataclass
class Divergence:
    n: int
    reason: str
    expected: str
    got: str
    expected_screenshot: str  # absolute paths, so the report can be read from anywhere
    got_screenshot: str

    def lines(self) -> list[str]:
        return [
            f"DIVERGED at step {self.n}: {self.reason}",
            f"  expected: {self.expected}",
            f"  got:      {self.got}",
            f"  recorded screenshot: {self.expected_screenshot}",
            f"  replay screenshot:   {self.got_screenshot or '(none)'}",
        ]


@dataclass
class ReplayResult:
    source: Path
    out_dir: Path
    device: str
    total: int
    mode: str = "trace"  # "probes" | "trace"
    steps: list[ReplayStep] = field(default_factory=list)
    divergence: Divergence | None = None
    verdict: dict[str, Any] | None = None
    rescore_method: str = ""
    comparison: Comparison | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    substituted: int = 0  # explorer moves the probes chose differently, made as recorded
    skipped: int = 0  # explorer moves past the recorded end of an exploration, not made
    # recorded scrolls this screen did not need: what they were for showed already (a taller screen)
    unneeded: int = 0

    @property
    def completed(self) -> bool:
        return len(self.steps) + self.unneeded == self.total and self.divergence is None

    @property
    def ok(self) -> bool:
        agree = self.comparison is None or self.comparison.verdicts_agree
        return self.completed and all(s.match for s in self.steps) and agree

    def to_json(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "device": self.device,
            "mode": self.mode,
            "total": self.total,
            "replayed": len(self.steps),
            "completed": self.completed,
            "ok": self.ok,
            "divergence": dataclasses.asdict(self.divergence) if self.divergence else None,
            "rescore_method": self.rescore_method,
            "verdicts_agree": self.comparison.verdicts_agree if self.comparison else None,
            "figures_agree": self.comparison.figures_agree if self.comparison else None,
            "steps": [dataclasses.asdict(s) for s in self.steps],
            "notes": self.notes,
            "substituted": self.substituted,
            "skipped": self.skipped,
            "unneeded_scrolls": self.unneeded,
            "seconds": round(self.seconds, 2),
        }

    def lines(self) -> list[str]:
        out = [f"replay ({self.mode}) of {self.source} on {self.device} → {self.out_dir}"]
        levels: dict[str, int] = {}
        methods: dict[str, int] = {}
        for s in self.steps:
            if s.match:
                levels[s.level] = levels.get(s.level, 0) + 1
            if s.resolved_by:
                methods[s.resolved_by] = methods.get(s.resolved_by, 0) + 1
        matched = ", ".join(f"{k} {v}" for k, v in sorted(levels.items())) or "none"
        out.append(
            f"steps replayed: {len(self.steps)}/{self.total} in {self.seconds:.1f} s; screens: {matched}"
        )
        if methods:
            out.append("taps resolved by: " + ", ".join(f"{k} {v}" for k, v in sorted(methods.items())))
        if self.substituted or self.skipped:
            out.append(
                f"explorer moves made as recorded instead of the replay's own choice: {self.substituted}; "
                f"asked past the recorded end of an exploration and not made: {self.skipped}"
            )
        if self.unneeded:
            out.append(
                f"recorded scrolls not needed on this screen (what they were for showed): {self.unneeded}"
            )
        if self.divergence:
            out += self.divergence.lines()
        if self.comparison is not None:
            out.append(f"re-scored ({self.rescore_method}):")
            out += ["  " + x for x in self.comparison.lines()[3:] if x]
        out += self.notes
        out.append("REPLAY OK: same screens, same verdicts" if self.ok else "REPLAY FAILED")
        return out


# --- shared helpers --------------------------------------------------------------------------------------


def _png_size(path: Path) -> tuple[int, int] | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(24)
        if head[:8] == b"\x89PNG\r\n\x1a\n":
            return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    except OSError:
        pass
    return None


def recorded_screen_size(run: RunFolder) -> tuple[int, int] | None:
    dev = run.meta.get("device") or {}
    if dev.get("width") and dev.get("height"):
        return int(dev["width"]), int(dev["height"])
    for r in run.records:
        if r.get("screenshot"):
            size = _png_size(run.path / r["screenshot"])
            if size:
                return size
    return None


def _scale(run: RunFolder, device: Device) -> tuple[float, float]:
    size = recorded_screen_size(run)
    info = device.info
    return (info.width / size[0], info.height / size[1]) if size else (1.0, 1.0)


def _step_record(step: Any) -> dict[str, Any]:
    """The fields of a runner Step that `ScreenSig.from_record` reads, as its trace line has them."""
    groups = [k.permission_group for k in step.reading.kinds if k.permission_group]
    return {
        "n": step.n,
        "state_after": step.state.id,
        "package": step.obs.package,
        "activity": step.obs.activity,
        "kinds": [k.kind for k in step.reading.kinds],
        "extra": {"permission_groups": groups, "structure": step.state.structure},
        "screenshot": f"steps/{step.n:04d}.png",
    }


def _device_name(device: Device) -> str:
    i = device.info
    return f"{i.serial} (API {i.api_level} {i.rom}, {i.locale}, {i.width}x{i.height})"


class _Checker:
    """Compares each replayed step with its recording and keeps the result."""

    def __init__(self, run: RunFolder, out_dir: Path, res: ReplayResult, progress: Progress | None):
        self.run, self.out_dir, self.res, self.progress = run, Path(out_dir), res, progress

    def diverge(self, rec: dict[str, Any] | None, reason: str, got: dict[str, Any] | None) -> None:
        if self.res.divergence is not None:
            return
        rec = rec or {}
        self.res.divergence = Divergence(
            n=rec.get("n", 0),
            reason=reason,
            expected=ScreenSig.from_record(rec).describe() if rec else "(end of the trace)",
            got=ScreenSig.from_record(got).describe() if got else "(no screen)",
            expected_screenshot=str((self.run.path / rec["screenshot"]).resolve())
            if rec.get("screenshot")
            else "",
            got_screenshot=str((self.out_dir / got["screenshot"]).resolve()) if got else "",
        )

    def diverge_action(self, rec: dict[str, Any], asked: dict[str, Any], current: Any) -> None:
        """The probes want another action than the recorded one, on the screen `current`."""
        if self.res.divergence is not None:
            return
        prev = self.run.step(rec.get("n", 0) - 1)
        screen = ScreenSig.from_record(_step_record(current)).describe() if current else "(no screen)"
        self.res.divergence = Divergence(
            n=rec.get("n", 0),
            reason=f"the probes asked for '{action_key(asked)}' where the trace has "
            f"'{action_key(rec.get('action') or {})}'",
            expected=f"{action_key(rec.get('action') or {})} on "
            + (ScreenSig.from_record(prev).describe() if prev else "(start)"),
            got=f"{action_key(asked)} on {screen}",
            expected_screenshot=str((self.run.path / prev["screenshot"]).resolve()) if prev else "",
            got_screenshot=str((self.out_dir / f"steps/{current.n:04d}.png").resolve()) if current else "",
        )

    def check(self, rec: dict[str, Any], step: Any, method: str) -> bool:
        got = _step_record(step)
        exp_sig, got_sig = ScreenSig.from_record(rec), ScreenSig.from_record(got)
        ok, level = screens_match(exp_sig, got_sig)
        action = (rec.get("action") or {}).get("type", "")
        self.res.steps.append(
            ReplayStep(
                rec.get("n", 0), step.n, action, method, ok, level, exp_sig.describe(), got_sig.describe()
            )
        )
        if self.progress:
            verdict = f"match {level}" if ok else f"MISMATCH: {level}"
            self.progress(f"replay step {rec.get('n')}/{self.res.total}: {action} {method} → {verdict}")
        if not ok:
            self.diverge(rec, level, got)
        return ok


# --- mode "probes": the run's probes, held to the trace --------------------------------------------------


def _session_class() -> type:
    from exerciser.runner.session import BudgetExhausted, Session

    class ReplaySession(Session):
        """A runner Session that accepts only the recorded actions, at their recorded places.

        A divergence raises BudgetExhausted (which run_app turns into "not run" for the remaining probes)
        and every later action raises again, so the run ends at once whatever the probes catch.
        """

        def replay_setup(
            self, run: RunFolder, checker: _Checker, scale: tuple[float, float], stop_on_divergence: bool
        ) -> None:
            self._rp_run, self._rp_checker, self._rp_scale = run, checker, scale
            self._rp_stop_on_divergence = stop_on_divergence
            self._rp_i = 0
            self._rp_stopped = False

        def replay_index(self) -> int:
            return self._rp_i

        def _stop(self, why: str) -> BudgetExhausted:
            self._rp_stopped = True
            return BudgetExhausted(f"replay stopped: {why}")

        def _do(self, action: dict[str, Any], perform: Callable[[], None], settle: float, note: str = ""):
            if self._rp_stopped:
                raise BudgetExhausted("replay stopped after a divergence")
            recs = self._rp_run.records
            chk = self._rp_checker
            free = is_free_choice(note)
            ended = self._rp_i >= len(recs) or not is_free_choice(recs[self._rp_i].get("note", ""))
            if free and ended and self.current is not None:
                # the recorded exploration ended here; this one would go on: the move is not made
                # (the screen stays as it is) until the explorer gives up and the probe moves on
                chk.res.skipped += 1
                if chk.res.skipped > MAX_SKIPPED:
                    chk.diverge(recs[min(self._rp_i, len(recs) - 1)], "the explorer would not stop", None)
                    raise self._stop("the explorer would not stop")
                return self.current
            while not free and self._rp_i < len(recs) and is_free_choice(recs[self._rp_i].get("note", "")):
                # the recorded exploration went further than this one: make its remaining moves first
                self._substitute(recs[self._rp_i], recs[self._rp_i].get("note", ""))
            if self._rp_i >= len(recs):
                chk.diverge(
                    None, f"the probes asked for '{action_key(action)}' after the last recorded step", None
                )
                raise self._stop("past the end of the trace")
            rec = recs[self._rp_i]
            ra = rec.get("action") or {}
            same, how = same_action(action, ra)
            if not same and ra.get("type") == "scroll" and action.get("type") != "scroll":
                # on a taller screen fewer scrolls reveal what the recorded ones were for: the probe's
                # move is the one after them; they are not made
                j = self._rp_i
                while j < len(recs) and (recs[j].get("action") or {}).get("type") == "scroll":
                    j += 1
                if j < len(recs) and same_action(action, recs[j].get("action") or {})[0]:
                    chk.res.unneeded += j - self._rp_i
                    self._rp_i = j
                    rec, ra = recs[j], recs[j].get("action") or {}
                    same, how = same_action(action, ra)
            if not same and free:
                return self._substitute(rec, note)
            if not same:
                why = f"the probes asked for '{action_key(action)}' where the trace has '{action_key(ra)}'"
                chk.diverge_action(rec, action, self.current)
                raise self._stop(f"step {rec.get('n')}: {why}")
            method = ""
            if action.get("type") in TAP_TYPES:
                self._reveal(rec)
                r = None
                if self.current is not None:
                    try:
                        r = resolve_tap(self.current.reading, ra, self._rp_scale)
                    except LookupError:
                        r = None
                if r is not None and r.method != "point":
                    x, y = r.point
                    method = r.method
                else:  # the recorded selector is not on screen, but the probe found its control
                    x, y = action["point"]
                    method = "probe"
                dev = self.device
                if action["type"] == "long_press":
                    dur = int(action.get("duration_ms", 800))

                    def perform() -> None:
                        dev.long_press(x, y, dur)
                else:

                    def perform() -> None:
                        dev.tap(x, y)

                action = {**action, "point": [x, y]}
            if action.get("type") == "scroll":
                perform = scroll_until(self, rec, perform, following_tap(self._rp_run, rec), self._rp_scale)
            action = {**action, "replay": {"of": rec.get("n")} | ({"resolved_by": method} if method else {})}
            step = super()._do(action, perform, settle, note)
            self._rp_i += 1
            if not chk.check(rec, step, method) and self._rp_stop_on_divergence:
                raise self._stop(f"step {rec.get('n')}: screen differs")
            return step

        def _reveal(self, rec: dict[str, Any]) -> None:
            """The control of a recorded tap has scrolled out of view on this screen size (the page
            scrolled further than in the recording): scroll its page back to the top, then down, until it
            shows. Each scroll is a step of the replay, made for `rec`."""
            from exerciser.explore.explorer import axes
            from exerciser.runner.session import HSCROLL, SCROLL, scroll_gesture

            ra = rec.get("action") or {}
            sel = ra.get("selector") or {}
            if not (sel.get("resource_id") or sel.get("text") or ra.get("role") or sel.get("role")):
                return  # a tap known by its point only: nothing to look for
            cur = self.current
            if cur is None:
                return
            elements = list(cur.reading.elements)
            boxes = [e for e in elements if e.scrollable and e.source == "hierarchy"]
            # each container along the axes it scrolls (a tab strip sideways, its page up and down)
            for box, role in [(b, r) for b in boxes for r in axes(b, elements)]:
                sideways = role == HSCROLL
                for forward in (False, True):
                    for _ in range(MAX_SCROLL_REPEATS):
                        cur = self.current
                        if cur is None or usable(cur.reading, ra, self._rp_scale):
                            return
                        now = next((e for e in cur.reading.elements if e.index_path == box.index_path), box)
                        (x1, y1), (x2, y2), ms = scroll_gesture(now.bounds, forward, sideways)
                        action = {
                            "type": SCROLL,
                            "direction": "forward" if forward else "backward",
                            "selector": {
                                k: v for k, v in (("resource_id", box.resource_id), ("cls", box.cls)) if v
                            }
                            | {"role": role},
                            "from": [x1, y1],
                            "to": [x2, y2],
                            "duration_ms": ms,
                            "replay": {"of": rec.get("n"), "resolved_by": "reveal"},
                        }
                        if sideways:
                            action["axis"] = "horizontal"
                        dev = self.device
                        before = (cur.obs.xml, cur.obs.png)
                        swipe = functools.partial(dev.swipe, x1, y1, x2, y2, ms)
                        step = Session._do(self, action, swipe, self.settle_s, "replay: reveal")
                        if (step.obs.xml, step.obs.png) == before:
                            break

        def _substitute(self, rec: dict[str, Any], note: str):
            """The explorer picked another move than the recorded one (its order of targets follows the
            layout, which another screen size changes): make the recorded move, as trace mode would,
            and hand its screen to the probe."""
            chk = self._rp_checker
            if (rec.get("action") or {}).get("type") in TAP_TYPES:
                self._reveal(rec)
            try:
                action, perform, method = recorded_action(
                    self.device, self.current, rec, self._rp_scale, self.package
                )
            except (LookupError, ValueError, KeyError) as exc:
                chk.diverge(rec, f"action cannot be replayed: {exc}", None)
                raise self._stop(f"step {rec.get('n')}: {exc}") from exc
            if action.get("type") == "advance_clock":
                jump, dev = perform, self.device

                def perform() -> None:
                    t = dev.now_ms()
                    jump()
                    self.jumped_ms += dev.now_ms() - t

            if action.get("type") == "scroll":
                perform = scroll_until(self, rec, perform, following_tap(self._rp_run, rec), self._rp_scale)
            method = f"{method}, substituted" if method else "substituted"
            action["replay"] = {"of": rec.get("n"), "resolved_by": method}
            chk.res.substituted += 1
            step = Session._do(self, action, perform, recorded_settle(self._rp_run, rec), note)
            self._rp_i += 1
            if not chk.check(rec, step, method) and self._rp_stop_on_divergence:
                raise self._stop(f"step {rec.get('n')}: screen differs")
            return step

    return ReplaySession


# Notes of the moves an exploration chooses by itself (explore.explorer and the feature map of probe 7).
# Two such moves may differ between a run and its replay on another screen: which target comes first
# follows the layout. Any other move (agree, deny, wait 48 h, relaunch to check a re-request) is what
# a probe decided, and must be the recorded one.
FREE_CHOICE_NOTES = ("explorer", "feature: relaunch", "feature: leave")
MAX_SKIPPED = 2000  # explorer moves past the recorded end of an exploration, before calling it a loop


def is_free_choice(note: str) -> bool:
    return note.startswith(FREE_CHOICE_NOTES)


def recorded_settle(run: RunFolder, rec: dict[str, Any]) -> float:
    """Device seconds the recording let pass between the previous step and `rec` (the settle time the
    probe gave that move), clipped; the default settle of the action type where unknown."""
    prev = run.step(rec.get("n", 0) - 1)
    a = rec.get("action") or {}
    if a.get("type") in ("wait", "advance_clock") or prev is None:
        return _settle_for(rec) if a.get("type") != "advance_clock" else 0.2
    gap = (rec.get("device_time_ms", 0) - prev.get("device_time_ms", 0)) / 1000
    return min(max(gap, 0.0), 10.0)


@contextmanager
def _replay_sessions(factory: Callable[..., Any]) -> Iterator[None]:
    """Make `run_app` build its Session with `factory` for the duration of one replay.

    run_app constructs `Session(...)` itself and has no parameter for it, so the module attribute is
    swapped for the call (single-threaded; restored even on errors)."""
    from exerciser.runner import app_run

    original = app_run.Session
    app_run.Session = factory  # type: ignore[assignment]
    try:
        yield
    finally:
        app_run.Session = original  # type: ignore[assignment]


def scenario_from_run(run: RunFolder) -> Any | None:
    """The run's Scenario rebuilt from its scenario.json (None when absent or unusable)."""
    p = run.path / "scenario.json"
    if not p.exists():
        return None
    try:
        from exerciser.scenario import Scenario

        return Scenario.from_json(json.loads(p.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError):
        return None


def replay_with_probes(
    run: RunFolder,
    scenario: Any,
    device: Device,
    out: Path,
    stop_on_divergence: bool,
    progress: Progress | None,
    video: bool = True,
) -> ReplayResult:
    from exerciser.runner.app_run import run_app

    t0 = time.perf_counter()
    res = ReplayResult(run.path, out, _device_name(device), total=len(run.records), mode="probes")
    checker = _Checker(run, out, res, progress)
    cls = _session_class()
    scale = _scale(run, device)
    sessions: list[Any] = []

    def factory(*a: Any, **kw: Any) -> Any:
        s = cls(*a, **kw)
        s.replay_setup(run, checker, scale, stop_on_divergence)
        sessions.append(s)
        return s

    # the replay folder is named by --out; the wall budget must not cut a replay on a slower machine
    sc = dataclasses.replace(
        scenario,
        id=out.name,
        budgets=dataclasses.replace(scenario.budgets, wall_seconds=max(scenario.budgets.wall_seconds, 1e6)),
    )
    with _replay_sessions(factory):
        run_app(sc, device, out.parent, progress=progress, finalize=video)  # finalize: the live video
    if sessions and res.divergence is None and sessions[0].replay_index() < len(run.records):
        i = sessions[0].replay_index()
        checker.diverge(run.records[i], f"the probes stopped after {i} of {len(run.records)} steps", None)
    res.seconds = time.perf_counter() - t0
    v = json.loads((out / "verdict.json").read_text(encoding="utf-8"))
    res.verdict, res.rescore_method = v, "probes + exerciser.score"
    return res


# --- mode "trace": the recorded actions alone ------------------------------------------------------------


def _settle_for(rec: dict[str, Any]) -> float:
    a = rec.get("action") or {}
    if a.get("type") == "wait":
        return float(a.get("seconds") or 0)
    return DEFAULT_SETTLE.get(a.get("type", ""), 0.6)


MAX_SCROLL_REPEATS = 12  # swipes one recorded scroll may take on a smaller screen


def _scroll_box(reading: Any, sel: dict[str, Any]) -> tuple[int, int, int, int]:
    """Bounds of the recorded scroll container on this screen: by resource-id, else class, else the
    first one that scrolls."""
    boxes = [e for e in reading.elements if e.scrollable and e.source == "hierarchy"]
    rid, cls = sel.get("resource_id", ""), sel.get("cls", "")
    for ok in (lambda e: rid and e.resource_id == rid, lambda e: cls and e.cls == cls, lambda e: True):
        hit = next((e for e in boxes if ok(e)), None)
        if hit is not None:
            return hit.bounds
    raise LookupError("no scroll container on screen")


def usable(reading: Any, action: dict[str, Any], scale: tuple[float, float]) -> bool:
    """The control of a recorded tap is on this screen, found by its selector, and enabled."""
    try:
        r = resolve_tap(reading, action, scale)
    except LookupError:
        return False
    sel = action.get("selector") or {}
    if r.method == "point" or (r.method == "path" and (sel.get("resource_id") or sel.get("text"))):
        return False  # a class path finds another row of a list that has scrolled
    x, y = r.point
    under = [
        e
        for e in reading.elements
        if e.source == "hierarchy"
        and (e.clickable or e.checkable)
        and e.bounds[0] <= x < e.bounds[2]
        and e.bounds[1] <= y < e.bounds[3]
    ]
    return all(e.enabled for e in under)


def following_tap(run: RunFolder, rec: dict[str, Any]) -> dict[str, Any] | None:
    """The action of the record after `rec` when it is a tap (what a scroll was made for), else None."""
    nxt = run.step(int(rec.get("n", 0)) + 1)
    a = (nxt or {}).get("action") or {}
    return a if a.get("type") in TAP_TYPES else None


def scroll_until(
    session: Any,
    rec: dict[str, Any],
    perform: Callable[[], None],
    then: dict[str, Any] | None = None,
    scale: tuple[float, float] = (1.0, 1.0),
) -> Callable[[], None]:
    """A recorded scroll on another screen size: how far one swipe moves the page depends on the screen,
    what the user saw after it does not. Swipe again until the screen matches the recorded one and the
    control the next recorded tap (`then`) aims at shows, enabled — or the content stops moving."""
    from exerciser.evidence.trace import sha256_hex

    expected = ScreenSig.from_record(rec)

    def run() -> None:
        last = None
        for _ in range(MAX_SCROLL_REPEATS):
            perform()
            obs = session.device.observe()
            reading, state = session._read(obs, sha256_hex(obs.xml.encode()), sha256_hex(obs.png))
            got = {
                "state_after": state.id,
                "package": obs.package,
                "activity": obs.activity,
                "kinds": [k.kind for k in reading.kinds],
                "extra": {"structure": state.structure},
            }
            seen = screens_match(expected, ScreenSig.from_record(got))[0]
            # a blind WebView's page moves in the pixels only: the screen is the dump and the picture
            now = (obs.xml, sha256_hex(obs.png))
            if (seen and (then is None or usable(reading, then, scale))) or now == last:
                return
            last = now

    return run


def recorded_action(
    dev: Device, current: Any, rec: dict[str, Any], scale: tuple[float, float], package: str
) -> tuple[dict[str, Any], Callable[[], None], str]:
    """(action as it will be recorded, the call that performs it on `dev`, how a tap was resolved) for
    the recorded step `rec`, on the screen `current` (a runner Step) of the replaying device."""
    a = dict(rec.get("action") or {})
    a.pop("refused", None)  # the guard judges again on this device; its word is recorded anew
    t = a.get("type", "")
    if t in TAP_TYPES:
        if current is None:
            raise LookupError("a tap before any screen was observed")
        r = resolve_tap(current.reading, a, scale)
        x, y = r.point
        a["point"] = [x, y]
        a["selector"] = r.selector or a.get("selector") or {}
        if t == "long_press":
            return a, lambda: dev.long_press(x, y, int(a.get("duration_ms", 800))), r.method
        return a, lambda: dev.tap(x, y), r.method
    if t == "scroll":
        if current is None:
            raise LookupError("a scroll before any screen was observed")
        from exerciser.runner.session import scroll_gesture

        box = _scroll_box(current.reading, a.get("selector") or {})
        sideways = a.get("axis") == "horizontal"
        (x1, y1), (x2, y2), ms = scroll_gesture(box, a.get("direction") != "backward", sideways)
        a["from"], a["to"], a["duration_ms"] = [x1, y1], [x2, y2], ms
        return a, lambda: dev.swipe(x1, y1, x2, y2, ms), ""
    if t == "key":
        return a, lambda: dev.key(Key(a["key"])), ""
    if t in ("type", "type_text"):
        return a, lambda: dev.type_text(a.get("text", "")), ""
    if t in ("app_start", "app_stop", "app_clear"):
        a["package"] = package
        fn = {"app_start": dev.app_start, "app_stop": dev.app_stop, "app_clear": dev.app_clear}[t]
        return a, lambda: fn(package), ""
    if t in ("wait", "observe"):
        return a, lambda: None, ""
    if t == "advance_clock":
        secs = float(a.get("seconds") or 0)
        jump = getattr(dev, "advance_clock", None)
        return a, (lambda: jump(secs)) if jump else (lambda: dev.wait(secs)), ""
    raise LookupError(f"cannot replay an action of type {t!r}")


class TraceReplayer:
    """Re-executes one run's records on `device`, recording through a runner Session into `out_dir`."""

    def __init__(
        self,
        run: RunFolder,
        device: Device,
        reader: Any,
        out_dir: Path,
        package: str,
        progress: Progress | None = None,
    ):
        from exerciser.runner.session import Session
        from exerciser.scenario import Budgets

        self.run, self.device, self.package = run, device, package
        self.out_dir = Path(out_dir)
        self.progress = progress
        big = Budgets(actions=10**9, explore_actions=10**9, device_seconds=1e15, wall_seconds=1e9)
        self.session = Session(device, package, self.out_dir, reader, big)
        self.scale = _scale(run, device)

    def _perform(self, rec: dict[str, Any]) -> tuple[dict[str, Any], Callable[[], None], str]:
        # through the session's guarded device: a replay on a phone never performs what the guard
        # refuses (a refused step of the recording is refused again, and recorded as such)
        return recorded_action(self.session.device, self.session.current, rec, self.scale, self.package)

    def run_all(self, stop_on_divergence: bool = True) -> ReplayResult:
        t_wall = time.perf_counter()
        recs = self.run.records
        res = ReplayResult(self.run.path, self.out_dir, _device_name(self.device), total=len(recs))
        checker = _Checker(self.run, self.out_dir, res, self.progress)
        s = self.session
        rec_origin = recs[0].get("device_time_ms", 0) - int(_settle_for(recs[0]) * 1000) if recs else 0
        replay_origin = self.device.now_ms()
        try:
            for rec in recs:
                s.probe = rec.get("probe", "replay")
                try:
                    action, perform, method = self._perform(rec)
                except (LookupError, ValueError, KeyError) as exc:
                    checker.diverge(rec, f"action cannot be replayed: {exc}", None)
                    break
                action["replay"] = {"of": rec.get("n")} | ({"resolved_by": method} if method else {})
                before = s.current.state.id if s.current else None
                if action.get("type") == "scroll":
                    perform = scroll_until(s, rec, perform, following_tap(self.run, rec), self.scale)
                note = rec.get("note", "")
                try:
                    perform()
                except ActionRefused as exc:  # not performed, as in the recording: the screen stays
                    j = exc.judgement.to_json()
                    action, note = {**action, "refused": j}, f"REFUSED by the safety guard: {j['reason']}"
                else:
                    # let the device run until this step's recorded offset (self-correcting, never negative)
                    target = rec.get("device_time_ms", 0) - rec_origin
                    settle = max(0.0, (target - (self.device.now_ms() - replay_origin)) / 1000)
                    if settle > 0:
                        self.device.wait(settle)
                s.actions += 1
                step = s._record(action, before, note)
                if not checker.check(rec, step, method) and stop_on_divergence:
                    break
        finally:
            s.close()
            s.graph.write(self.out_dir)
        res.seconds = time.perf_counter() - t_wall
        return res


def rescore_by_evidence(run: RunFolder, res: ReplayResult) -> dict[str, Any]:
    """Each category keeps its verdict when every step it cites was replayed with a matching screen;
    otherwise it becomes inconclusive, naming the steps that did not reproduce."""
    matched = {s.n for s in res.steps if s.match}
    new_n = {s.n: s.new_n for s in res.steps}
    cats: dict[str, Any] = {}
    for key, v in run.ordered_categories():
        ev = [s for s in v.get("evidence_steps") or [] if isinstance(s, int)]
        missing: list[Any] = [s for s in ev if s not in matched]
        if res.divergence is not None and not ev:
            missing = ["(replay stopped)"]  # a verdict resting on an absence needs the whole trace
        if missing:
            cats[key] = {
                "verdict": "inconclusive",
                "figure": None,
                "severity": v.get("severity"),
                "reason": f"replay did not reproduce evidence steps {missing}",
                "evidence_steps": [new_n[s] for s in ev if s in new_n],
            }
        else:
            cats[key] = dict(v) | {"evidence_steps": [new_n[s] for s in ev]}
    return {"app": run.app, "categories": cats, "rescored_by": "evidence re-check"}


# --- devices ---------------------------------------------------------------------------------------------


def run_facts(run: RunFolder) -> dict[str, Any]:
    """App and device facts of the original run (run.json, scenario.json, verdict.json, trace)."""
    v, m = run.verdict, run.meta
    dev = m.get("device") or {}
    package = m.get("package") or v.get("package")
    if not package:
        pk = [r.get("action", {}).get("package") for r in run.records if r.get("action", {}).get("package")]
        package = pk[0] if pk else None
    app = m.get("app") if isinstance(m.get("app"), dict) else {}
    model = None
    if app.get("kind") == "sample":
        from exerciser import SAMPLES_DIR

        model = str(SAMPLES_DIR / app["value"] / "app.yaml")
    elif app.get("kind") == "model":
        model = app["value"]
    return {
        "app": run.app,
        "package": package,
        "model": model,
        "profile": m.get("profile") or dev.get("profile"),
        "locale": m.get("locale") or dev.get("locale"),
        # the display the run saw (runs before density was recorded: 440 dpi); a replay uses it unless told
        "width": dev.get("width"),
        "height": dev.get("height"),
        "density": dev.get("density") or (440 if dev.get("width") else None),
    }


def open_virtual_device(
    facts: dict[str, Any],
    profile: str | None,
    locale: str | None,
    width: int | None,
    height: int | None,
    density: int | None = None,
) -> Device:
    """A fresh VirtualDevice with the run's app model installed, on the run's display unless told."""
    from exerciser.device.contract import DeviceError
    from exerciser.sim.appmodel import load_app_model
    from exerciser.sim.runtime import VirtualDevice

    if not facts.get("model") or not Path(facts["model"]).exists():
        raise UserError(
            f"cannot tell which app model the run used (app {facts.get('app')!r}); replay it with "
            "--device SERIAL on a phone that has the app"
        )
    kw: dict[str, Any] = {
        "profile": profile or facts.get("profile") or "api33",
        "locale": locale or facts.get("locale") or "en-US",
    }
    for key, value in (("width", width), ("height", height), ("density", density)):
        if value or facts.get(key):
            kw[key] = value or facts[key]
    try:
        return VirtualDevice(apps=[load_app_model(facts["model"])], serial="virtual-replay", **kw)
    except DeviceError as exc:
        raise UserError(f"{exc}") from exc


def open_real_device(serial: str) -> Device:
    try:
        from exerciser.device import u2driver  # type: ignore[attr-defined]
    except ImportError as exc:
        raise UserError(f"real devices need exerciser.device.u2driver: {exc}") from exc
    for name in ("connect", "open_device"):
        fn = getattr(u2driver, name, None)
        if fn is not None:
            return fn(serial)
    cls = getattr(u2driver, "U2Device", None) or getattr(u2driver, "RealDevice", None)
    if cls is None:
        raise UserError("exerciser.device.u2driver has no connect(serial)")
    return cls(serial)


def _reader() -> Any:
    from exerciser.runner.app_run import default_reader

    return default_reader()


# --- the command -----------------------------------------------------------------------------------------


def replay_run(
    trace: Path,
    profile: str | None = None,
    locale: str | None = None,
    width: int | None = None,
    height: int | None = None,
    serial: str | None = None,
    out: Path | None = None,
    density: int | None = None,
    device: Device | None = None,
    mode: str = "auto",
    stop_on_divergence: bool = True,
    video: bool = True,
    progress: Progress | None = None,
) -> ReplayResult:
    """`exerciser replay`: replay TRACE (or its run folder) into the bundle `out` and compare verdicts."""
    if mode not in ("auto", "probes", "trace"):
        raise UserError(f"unknown replay mode {mode!r} (auto, probes, trace)")
    run = load_run(trace)
    if not run.records:
        raise UserError(f"{run.path}: the trace has no steps")
    notes = []
    if not run.trace.chain_ok:
        notes.append(
            "warning: the recorded trace's hash chain is broken (see exerciser verify); replayed anyway"
        )
    facts = run_facts(run)
    if not facts.get("package"):
        raise UserError(f"{run.path}: cannot tell the app's package from the run")
    scenario = scenario_from_run(run)
    if mode == "probes" and scenario is None:
        raise UserError(f"{run.path}: no usable scenario.json, replay with --mode trace")
    use_probes = scenario is not None and mode != "trace"
    if device is None:
        if serial:
            if profile or locale or width or height or density:
                raise UserError(
                    "--profile/--locale/--width/--height/--density apply to the virtual device only"
                )
            device = open_real_device(serial)
        else:
            device = open_virtual_device(facts, profile, locale, width, height, density)
    out = Path(out) if out else run.path.parent / f"{run.path.name}.replay-{time.strftime('%Y%m%d-%H%M%S')}"
    out = out.resolve()
    safe_id(out.name, "--out: the replay folder's name")  # it is the replay's app id too
    if (out / "trace.jsonl").exists():
        raise UserError(f"{out} already holds a trace; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    info = device.info
    if use_probes:
        assert scenario is not None
        sc = scenario.with_overrides(profile=profile, locale=info.locale)
        res = replay_with_probes(run, sc, device, out, stop_on_divergence, progress, video)
    else:
        res = TraceReplayer(run, device, _reader(), out, facts["package"], progress).run_all(
            stop_on_divergence
        )
        res.verdict, res.rescore_method = rescore_by_evidence(run, res), "evidence re-check"
        atomic.write_text(out / "verdict.json", json.dumps(res.verdict, indent=1, ensure_ascii=False) + "\n")
        meta = {
            "package": facts["package"],
            "profile": profile or facts.get("profile"),
            "device": {
                "serial": info.serial,
                "api_level": info.api_level,
                "rom": info.rom,
                "locale": info.locale,
                "width": info.width,
                "height": info.height,
                "density": info.density,
            },
        }
        atomic.write_text(out / "run.json", json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
    res.notes += notes
    res.comparison = compare_runs(run, out)
    replay_meta = res.to_json() | {"replay_of": str(run.path.resolve()), "replay_of_head": run.trace.head}
    atomic.write_text(out / "replay.json", json.dumps(replay_meta, indent=1, ensure_ascii=False) + "\n")
    from exerciser.evidence.bundle import finalize_app

    # probes mode: run_app already made the video; remake reports + manifest so they include replay.json
    finalize_app(out, video=video and not use_probes)
    return res
