"""What every probe shares: the run context, the interruption handler (`Driver.settle`) and records.

Probes see screens only through `ScreenReading` (kinds and targets), and the app's exits only through the
device's events (PROC_DIED, CRASH, FINISH_ACTIVITY, PERMISSION_REQUEST), process liveness and the
foreground package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from exerciser.device.contract import EventKind, Key
from exerciser.explore.explorer import moved, scrollers
from exerciser.explore.selector import Control, Selector, find, from_target
from exerciser.perceive.popups import popup
from exerciser.perceive.signatures import signatures
from exerciser.runner.session import Session, Step
from exerciser.scenario import Scenario
from exerciser.score.rulepack import RulePack

# Roles to press, in order of preference, for each answer.
ALLOW_ROLES = ("allow_foreground", "allow", "allow_once")
DENY_ROLES = ("deny", "deny_dont_ask_again")
NAG_DISMISS_ROLES = ("cancel", "close", "deny", "refuse")
NAG_PROCEED_ROLES = ("allow", "confirm", "agree")
MAX_UNLOCK = 20  # scrolls / ticks to enable a policy dialog's agree button


def _enabled(step: Step, bounds: tuple[int, int, int, int]) -> bool:
    return all(e.enabled for e in step.reading.elements if e.bounds == bounds and e.source == "hierarchy")


MAX_SETTLE = 12  # interruptions answered in a row before giving up (a pop-up loop)


class ProbeAborted(Exception):
    """The probe cannot go on (app unreachable, path lost); the reason becomes an inconclusive verdict."""


@dataclass
class Prompt:
    """One permission-related interruption: a system prompt or an in-app nag (rationale / go-to-settings)."""

    step: int
    time_ms: int
    group: str
    source: str  # "system" | "in_app" | "settings_page" (the app opened the settings page itself)
    phase: str  # what the probe was doing: launch, feature, stay, home, relaunch, after_window, ...
    before_consent: bool
    user_tap: dict[str, Any] | None  # the tap that caused it (None: no user action did; see `_caused_by_tap`)
    screen: str  # activity of the app screen the request came from
    answer: str = ""  # role pressed
    page: int = 0  # position in a burst of prompts with no user action between them (1 = first)
    # the last tap before it when the event log shows that tap did not cause it (the app asked by itself,
    # e.g. from a timer, `request_tap_window_ms` or more after the tap)
    after_tap: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ProbeResult:
    probe: str
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, list[int]] = field(default_factory=dict)  # fact name -> step numbers
    inconclusive: str = ""  # why the probe could not measure (empty: it did)
    notes: list[str] = field(default_factory=list)

    def cite(self, name: str, *steps: int) -> None:
        lst = self.evidence.setdefault(name, [])
        for s in steps:
            if s not in lst:
                lst.append(s)


@dataclass
class AppMap:
    """What the feature exploration learnt: where each permission group is asked from."""

    main_state: str = ""
    # group -> how to make the app ask for it: {"phase": "launch"} or {"path": [selector dicts]}
    triggers: dict[str, dict[str, Any]] = field(default_factory=dict)
    prompts: list[Prompt] = field(default_factory=list)


@dataclass
class ProbeContext:
    session: Session
    scenario: Scenario
    rules: RulePack
    package: str
    label: str = ""
    appmap: AppMap | None = None
    results: dict[str, ProbeResult] = field(default_factory=dict)
    # a probe's own progress, kept as JSON so that a run stopped at a long wait can go on elsewhere
    progress: dict[str, Any] = field(default_factory=dict)

    @property
    def api_level(self) -> int:
        return self.session.device.info.api_level


Answer = str | Callable[[str], str]  # "allow" | "deny", or group -> "allow" | "deny"


class Driver:
    """Answers interruptions the way a probe wants and writes down every permission moment.

    `settle(step)` returns the first calm in-app step (no prompt, no consent dialog, no crash dialog), the
    step itself when it is a blocking wall, or None when the app is no longer in front.
    """

    def __init__(
        self,
        ctx: ProbeContext,
        prompts: Answer = "allow",
        policy: str = "agree",
        nags: str = "dismiss",
        phase: str = "launch",
    ):
        self.ctx = ctx
        self.s = ctx.session
        self.prompt_answer = prompts
        self.policy = policy
        self.nags = nags
        self.phase = phase
        self.prompts: list[Prompt] = []
        self.suspects: list[str] = []  # groups a request naming none is put down to (those being refused)
        self.consent_steps: list[int] = []
        self.consented = False
        self.user_tap: dict[str, Any] | None = None
        self.last_screen = ""  # activity of the last calm in-app step
        self.left_app: list[int] = []
        self.walls: list[int] = []
        self.crashes: list[int] = []
        self._burst = 0
        # The in-app request (nag or wall) on screen at the last in-app look, and whether we already
        # pressed something on it: one dialog that stays up is one appearance, however often it is seen.
        self._standing: str | None = None
        self._pressed_standing = False
        # Consent boxes: ticked by us (steps), and the dialog looks we already ticked once — a box is
        # ticked exactly once per look, never toggled; one found ticked before we touched it is noted.
        self.popups: list[dict[str, Any]] = []  # pop-ups dismissed (splash advert, teen mode, update, ...)
        self.consent_ticks: list[int] = []
        self.preticked: list[int] = []
        self._ticked_states: set[str] = set()

    # what a checkpoint keeps of the driver (the answers are the probe's to set again)
    _KEEP = (
        "phase",
        "suspects",
        "consent_steps",
        "consented",
        "user_tap",
        "last_screen",
        "left_app",
        "walls",
        "crashes",
        "_burst",
        "_standing",
        "_pressed_standing",
        "popups",
        "consent_ticks",
        "preticked",
    )

    def snapshot(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self._KEEP}
        return out | {"prompts": [p.to_json() for p in self.prompts], "_ticked": sorted(self._ticked_states)}

    def restore(self, d: dict[str, Any]) -> None:
        for k in self._KEEP:
            setattr(self, k, d[k])
        self.prompts = [Prompt(**p) for p in d["prompts"]]
        self._ticked_states = set(d["_ticked"])

    # --- actions that count as the user's -----------------------------------------------------------
    def launch(self, note: str = "", clear: bool = False) -> Step | None:
        if clear:
            self.s.clear()
            self.consented = False
        if clear or not self.s.device.is_alive(self.ctx.package):
            self._standing = None  # a cold start: whatever the app shows now is a new appearance
        self.user_tap = None
        self._burst = 0
        return self.settle(self.s.start(note=note or f"{self.phase}: launch"))

    def tap(self, c: Control, note: str = "") -> Step | None:
        self._note_tap(c)
        return self.settle(self.s.tap(c, note=note))

    def _note_tap(self, c: Control) -> None:
        """`c` is about to be pressed as the user would: the request it makes is put down to it."""
        cur = self.s.current
        self.user_tap = {
            "label": c.label,
            "step": self.s.n + 1,
            "selector": c.selector.to_json(),
            "screen": cur.reading.activity if cur else "",
            "state": cur.state.id if cur else "",
            "time_ms": self.s.device.now_ms(),  # the moment of the tap, to tie requests to it
        }
        self._burst = 0

    def tap_selector(self, sel: dict[str, str], note: str = "") -> Step | None:
        cur = self.s.current
        if cur is None:
            return None
        c = find(cur.reading, Selector(**sel))
        if c is None:
            return None
        return self.tap(c, note)

    # --- answering --------------------------------------------------------------------------------
    def _press(self, step: Step, roles: tuple[str, ...], note: str) -> Step | None:
        for r in roles:
            t = step.reading.target(r)
            if t is not None:
                return self.s.tap(from_target(t), note=note)
        return None

    def _unlock_agree(self, step: Step) -> Step:
        """An agree button that is disabled until the policy is read to its end (or its "I have read"
        box ticked): scroll the dialog's body down, then tick the box, until it is enabled."""
        done: set[str] = set()  # containers read to their end (the body, then a WebView policy in it)
        for _ in range(MAX_UNLOCK):
            t = step.reading.target("agree")
            if t is None or _enabled(step, t.bounds):
                return step
            boxes = [b for b in scrollers(step, vertical_only=True) if b.selector.key() not in done]
            if boxes:
                nxt = self.s.scroll(boxes[0], note=f"{self.phase}: read the policy to its end")
                if not moved(step, nxt, boxes[0].bounds):
                    done.add(boxes[0].selector.key())
                step = nxt
                continue
            ticks = [e for e in step.reading.elements if e.checkable and not e.checked and e.enabled]
            if not ticks:
                return step
            e = ticks[0]
            step = self.s.tap(
                Control(Selector(e.resource_id, e.label, e.cls, e.index_path), e.bounds, e.label),
                note=f"{self.phase}: tick I have read",
            )
        return step

    def _answer_for(self, group: str) -> str:
        a = self.prompt_answer
        return a(group) if callable(a) else a

    def settle(self, step: Step | None) -> Step | None:
        for _ in range(MAX_SETTLE):
            if step is None:
                return None
            r = step.reading
            if step.in_app and not (r.has("permission_rationale") or r.has("blocking_wall")):
                self._standing = None  # the app's own screen without a request: any request is gone
            if r.has("permission_prompt"):
                step = self._on_prompt(step)
                continue
            if r.has("privacy_consent") or r.has("consent_second_chance"):
                self.consent_steps.append(step.n)
                agree = self.policy == "agree"
                if agree and (ticked := self._tick_consent_box(step)) is not None:
                    step = ticked
                    continue
                roles = ("agree",) if agree else ("refuse", "exit", "cancel", "close")
                if agree:
                    step = self._unlock_agree(step)
                nxt = self._press(
                    step, roles, f"{self.phase}: {'agree to' if agree else 'refuse'} the policy"
                )
                if nxt is None:
                    nxt = self._press(step, ("agree",), f"{self.phase}: only agree was offered")
                    agree = nxt is not None
                if nxt is None:
                    return step
                if agree:
                    self.consented = True
                step = nxt
                continue
            if r.has("blocking_wall"):
                # only exit or settings lead out: nothing to press; a wall that names a permission is
                # an in-app request too (counted once per appearance)
                self.walls.append(step.n)
                if r.has("permission_rationale"):
                    self._sighting(step)
                return step
            if r.has("permission_rationale"):
                if self.stuck(step):
                    return step  # it stays up whatever we press: one appearance, like a wall
                step = self._on_nag(step)
                continue
            if r.has("crash_dialog"):
                self.crashes.append(step.n)
                nxt = self._press(step, ("close", "cancel", "confirm"), f"{self.phase}: close crash dialog")
                step = nxt if nxt is not None else self.s.key(Key.BACK, note="close crash dialog")
                continue
            if not step.in_app:
                if r.has("launcher") or self._is_launcher(step):
                    self.left_app.append(step.n)
                    return None
                if r.package in signatures().settings_packages and not self._tapped_into(step):
                    # the app opened the system settings page by itself, in place of a prompt: a request
                    self._settings_page(step)
                # a foreign app or the settings page the app opened: come back
                step = self.s.key(Key.BACK, note=f"{self.phase}: leave foreign app {r.package}")
                if not step.in_app and not step.reading.kinds:
                    self.left_app.append(step.n)
                    return None
                continue
            pop = popup(r)
            if pop is not None:
                # in the way but asking for nothing measured: dismiss, count nothing, note it
                seen = {"step": step.n, "kind": pop.kind, "evidence": list(pop.evidence)}
                e = pop.dismiss
                c = Control(Selector(e.resource_id, e.label, e.cls, e.index_path), e.bounds, e.label)
                step = self.s.tap(c, note=f"{self.phase}: dismiss the {pop.kind} pop-up (not counted)")
                self.popups.append(seen | {"dismiss_step": step.n})
                continue
            self.last_screen = r.activity
            return step
        return step

    def _tapped_into(self, step: Step) -> bool:
        """`step` is what a tap of ours led to (not something the app did by itself)."""
        return step.action.get("type") == "tap"

    def _settings_page(self, step: Step) -> None:
        """The app put the settings page in front by itself: one in-app request per appearance, put down to
        the groups the probe refuses (the page names none)."""
        if step.state.id == self._standing:
            return
        self._standing = step.state.id
        for group in self.suspects or ["unknown"]:
            self.prompts.append(
                Prompt(
                    step.n,
                    step.time_ms,
                    group,
                    "settings_page",
                    self.phase,
                    not self.consented,
                    self.user_tap,
                    self.last_screen,
                )
            )

    def _tick_consent_box(self, step: Step) -> Step | None:
        """Tick an unticked consent box once before agreeing (the step after the tick); None when there is
        nothing to tick. A box found ticked that we did not tick is noted as pre-ticked."""
        k = step.reading.kind("privacy_consent")
        box = step.reading.target("consent_checkbox")
        state = k.detail.get("checkbox") if k else None
        if box is None or state is None:
            return None
        if state == "ticked":
            if not self.consent_ticks and step.n not in self.preticked:
                self.preticked.append(step.n)
            return None
        if step.state.id in self._ticked_states:
            return None  # ticked once already on this look: agree (or give up) rather than toggle
        self._ticked_states.add(step.state.id)
        self.consent_ticks.append(step.n)
        return self.s.tap(from_target(box), note=f"{self.phase}: tick the consent box")

    def stuck(self, step: Step) -> bool:
        """`step` shows an in-app request that stayed up whatever was pressed on it."""
        return step.state.id == self._standing and self._pressed_standing

    def _is_launcher(self, step: Step) -> bool:
        return "launcher" in step.reading.package or step.reading.package.endswith(".home")

    def _app_screen(self) -> str:
        return self.last_screen

    def _caused_by_tap(self, step: Step) -> bool:
        """The event log ties the permission request behind `step` to the last user tap: the app's latest
        request was logged within `request_tap_window_ms` of the tap. No request logged (a device without
        the event): the tap is taken as the cause."""
        tap = self.user_tap
        if tap is None or tap.get("time_ms") is None:
            return tap is not None
        asked = [
            e.time_ms
            for n, e in self.s.events_log
            if n <= step.n and e.kind == EventKind.PERMISSION_REQUEST and e.package == self.ctx.package
        ]
        if not asked:
            return True
        return asked[-1] - tap["time_ms"] <= self.ctx.rules.value("request_tap_window_ms")

    def _on_prompt(self, step: Step) -> Step:
        group = step.prompt_group() or "unknown"
        self._burst += 1
        ans = self._answer_for(group)
        by_tap = self._caused_by_tap(step)
        p = Prompt(
            step.n,
            step.time_ms,
            group,
            "system",
            self.phase,
            not self.consented,
            self.user_tap if by_tap else None,
            self._app_screen(),
            page=self._burst,
            after_tap=None if by_tap else self.user_tap,
        )
        if ans == "deny" and self.ctx.scenario.dont_ask_again:
            box = step.reading.target("dont_ask_again_checkbox")
            if box is not None:
                step = self.s.tap(from_target(box), note=f"{self.phase}: tick don't ask again ({group})")
            roles = ("deny_dont_ask_again", "deny")
        else:
            roles = ALLOW_ROLES if ans == "allow" else DENY_ROLES
        nxt = self._press(step, roles, f"{self.phase}: {ans} {group}")
        if nxt is None:
            nxt = self.s.key(Key.BACK, note=f"{self.phase}: no {ans} button, back")
            p.answer = "back"
        else:
            p.answer = self.s.current.action.get("role", ans) if self.s.current else ans
        self.prompts.append(p)
        return nxt

    def _sighting(self, step: Step) -> Prompt | None:
        """Note an in-app request on screen; a new Prompt only for a new appearance (it was not up at the
        last in-app look, or the app was cold-started since), not for another look at a standing one."""
        if step.state.id == self._standing:
            return None
        self._standing = step.state.id
        self._pressed_standing = False
        p = Prompt(
            step.n,
            step.time_ms,
            _nag_group(step),
            "in_app",
            self.phase,
            not self.consented,
            self.user_tap,
            step.reading.activity,
        )
        self.prompts.append(p)
        return p

    def _on_nag(self, step: Step) -> Step:
        p = self._sighting(step)  # None: another look at the one already noted
        group = _nag_group(step)
        self._pressed_standing = True
        # the app's own explanation before the system dialog is answered as the probe answers the group:
        # allowed, it leads on to the prompt; refused, its cancel is the user's refusal (`refusal_of`)
        proceed = self.nags == "proceed" or self._answer_for(group) == "allow"
        roles = NAG_PROCEED_ROLES + NAG_DISMISS_ROLES if proceed else NAG_DISMISS_ROLES + ("confirm", "agree")
        note = f"{self.phase}: {'accept' if proceed else 'dismiss'} in-app request ({group})"
        ahead = [t for r in NAG_PROCEED_ROLES if (t := step.reading.target(r)) is not None]
        if proceed and ahead:
            # going on from the app's explanation is the user's choice: the system dialog it opens is that
            # tap's request (a feature's path runs through it), not one the app made by itself
            self._note_tap(from_target(ahead[0]))
        nxt = self._press(step, roles, note)
        if nxt is None:
            nxt = self.s.key(Key.BACK, note=f"{self.phase}: dismiss in-app request by back")
        if p is not None:
            p.answer = "back" if nxt.action.get("type") == "key" else str(nxt.action.get("role", ""))
        return nxt


def refusal_of(prompts: list[Prompt], group: str) -> Prompt | None:
    """The user's first refusal of `group`: a system prompt denied, or the app's own request about it (an
    explanation before the system dialog, a nag) dismissed — its 取消 / Not now says no just as well, and
    the system dialog may then never come."""
    return next(
        (
            p
            for p in prompts
            if p.group == group
            and (p.source == "system" or (p.source == "in_app" and p.answer in NAG_DISMISS_ROLES + ("back",)))
        ),
        None,
    )


def ask_for(
    ctx: ProbeContext, d: Driver, step: Step | None, groups: list[str], trigger: dict[str, Any], note: str
) -> Step | None:
    """Make the app ask for `groups` the way probe 7 saw it ask: replay the feature path, or (asked by the
    app itself, at launch or from a timer) wait on the screen up to `ask_wait_seconds`."""

    def asked() -> bool:
        return all(any(p.group == g for p in d.prompts) for g in groups)

    if trigger.get("phase") == "feature" and step is not None:
        for sel in trigger.get("path", []):
            if asked():
                break
            step = d.tap_selector(sel, note=note)
            if step is None:
                break
    waited, limit = 0.0, ctx.rules.value("ask_wait_seconds")
    while step is not None and not asked() and waited < limit:
        step = d.settle(ctx.session.wait(2.0, note=f"{note}: wait for the app to ask"))
        waited += 2.0
    return step


NOT_MEASURED = {
    "not_asked": "not asked on a clean install",
    "unreachable": "where it is asked could not be reached",
}


def coverage(rows: list[dict[str, Any]], key: str = "group") -> dict[str, Any]:
    """Which groups a probe really measured, and which not and why: a group the app did not ask for in the
    probe's own run is reported, never taken as tolerated."""
    measured = [r[key] for r in rows if r.get("outcome") not in NOT_MEASURED]
    missing = [
        {key: r[key], "why": NOT_MEASURED[r["outcome"]]} for r in rows if r.get("outcome") in NOT_MEASURED
    ]
    return {"measured": measured, "not_measured": missing}


def not_measured_note(facts: dict[str, Any]) -> str:
    """ " Not measured: camera (not asked on a clean install)." for a verdict's reason, or ""."""
    missing = (facts.get("coverage") or {}).get("not_measured") or []
    if not missing:
        return ""
    return " Not measured: " + ", ".join(f"{m['group']} ({m['why']})" for m in missing) + "."


def _nag_group(step: Step) -> str:
    k = step.reading.kind("permission_rationale")
    return (k.permission_group if k else None) or "unknown"


_DEATH = (EventKind.PROC_DIED, EventKind.CRASH, EventKind.KILL)


def exit_events(s: Session, after_n: int) -> dict[str, list[int]]:
    """Steps after `after_n` whose logcat shows the app's process dying or its activity finishing."""
    out: dict[str, list[int]] = {"died": [], "finished": []}
    for n, e in s.events_log:
        if n <= after_n or e.package != s.package:
            continue
        if e.kind in _DEATH and n not in out["died"]:
            out["died"].append(n)
        elif e.kind == EventKind.FINISH_ACTIVITY and n not in out["finished"]:
            out["finished"].append(n)
    return out
