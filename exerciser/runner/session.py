"""One app's run on one device: every action goes through here, is observed, read, recorded and graphed.

A `Session` turns a device action into a `Step`. Every action passes one pipeline: the safety guard
(`exerciser.safety`: the session's device is wrapped, so nothing reaches the phone unjudged), the device,
settling, then observe (hierarchy + PNG + focus), read the screen, compute its state, collect the logcat
events that happened meanwhile, write the screenshot and dump as `steps/NNNN.png|xml` and append one
trace line. An action the guard refuses is not performed: its trace line says what was refused, on which
screen and by which rule. Probes only see Steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exerciser.device.clockctl import ClockUnavailable
from exerciser.device.contract import Device, DeviceEvent, EventKind, Key, Observation
from exerciser.evidence.stepfiles import StepFiles
from exerciser.evidence.trace import StepRecord, TraceWriter, sha256_hex
from exerciser.explore.graph import TAP, StateGraph
from exerciser.explore.selector import Control, Selector
from exerciser.explore.state import ScreenState, state_of
from exerciser.perceive.reading import ScreenReading
from exerciser.runner.checkpoint import Parked
from exerciser.safety import ActionRefused, GuardedDevice
from exerciser.scenario import Budgets

WAIT_REPORT_S = 3600.0  # device seconds between two progress lines of a long wait in place
READ_CACHE = 512  # readings kept per session (distinct captures; a sample app run has ~50-120)


class BudgetExhausted(Exception):
    """The run used up its action, device-time or wall-time budget."""


@dataclass
class Step:
    n: int
    probe: str
    action: dict[str, Any]
    obs: Observation
    reading: ScreenReading
    state: ScreenState
    events: list[DeviceEvent]
    package: str  # the app under test

    @property
    def time_ms(self) -> int:
        return self.obs.time_ms

    @property
    def refused(self) -> dict[str, Any] | None:
        """The guard's judgement when this step's action was refused (and so not performed)."""
        return self.action.get("refused")

    @property
    def in_app(self) -> bool:
        return self.reading.package == self.package

    @property
    def kinds(self) -> set[str]:
        return {k.kind for k in self.reading.kinds}

    def has(self, kind: str) -> bool:
        return self.reading.has(kind)

    def prompt_group(self) -> str | None:
        """Permission group of a system permission prompt on screen, if any."""
        k = self.reading.kind("permission_prompt")
        return (k.permission_group or "unknown") if k else None

    def events_of(self, kind: EventKind) -> list[DeviceEvent]:
        return [e for e in self.events if e.kind == kind and e.package == self.package]


@dataclass
class Session:
    device: Device
    package: str
    out_dir: Path
    reader: Any  # exerciser.perceive.Reader
    budgets: Budgets = field(default_factory=Budgets)
    settle_s: float = 0.6  # device time to let the UI settle after an input
    launch_settle_s: float = 1.5  # after app_start: splash timers, launch-time requests
    progress: Callable[[str], None] | None = None
    on_step: Callable[[dict[str, Any]], None] | None = None  # gets each trace line (exerciser.evidence.live)
    park: Callable[[float], None] | None = None  # a long wait, clock not movable: frees the device

    def __post_init__(self) -> None:
        if not isinstance(self.device, GuardedDevice):
            self.device = GuardedDevice(self.device)
        self.guard = self.device.guard
        self.refusals: list[dict[str, Any]] = []  # every refused action: step, action, judgement
        self.out_dir = Path(self.out_dir)
        (self.out_dir / "steps").mkdir(parents=True, exist_ok=True)
        self.trace = TraceWriter(self.out_dir / "trace.jsonl")
        self.files = StepFiles(self.out_dir)  # a screen seen again is a hard link, not another copy
        self.graph = StateGraph()
        self.n = self.trace.count
        self.probe = "setup"
        self.current: Step | None = None
        self.started_wall = time.monotonic()
        self.started_device_ms = self.device.now_ms()
        self._ev_since = self.started_device_ms
        self._ev_seen: set[tuple] = set()
        self.actions = 0
        self.taps = 0
        self.read_ms = 0.0
        self.read_hits = 0  # captures whose reading was reused
        self._readings: dict[tuple[str, str, str, str], tuple[ScreenReading, ScreenState]] = {}
        self.jumped_ms = 0
        self.events_log: list[tuple[int, DeviceEvent]] = []  # (step number, event), whole run
        self.clock_moves: list[dict[str, Any]] = []  # each advance: seconds and how the time passed
        self.parked_s = 0.0  # wall seconds of long waits the clock could not skip (not the run's work)
        self.pending: dict[str, Any] | None = None  # the wait a checkpointed run stopped at (see resume)
        self._last_state: str | None = None  # state before the first step of a resumed run

    # --- budget ------------------------------------------------------------------------------------
    def wall_used(self) -> float:
        return time.monotonic() - self.started_wall - self.parked_s

    def device_used(self) -> float:
        """Device seconds spent, deliberate clock jumps (`advance`) excluded."""
        return (self.device.now_ms() - self.started_device_ms - self.jumped_ms) / 1000

    def check_budget(self) -> None:
        b = self.budgets
        if self.actions >= b.actions:
            raise BudgetExhausted(f"action budget of {b.actions} used up")
        if self.wall_used() > b.wall_seconds:
            raise BudgetExhausted(f"wall-time budget of {b.wall_seconds:.0f} s used up")
        if self.device_used() > b.device_seconds:
            raise BudgetExhausted(f"device-time budget of {b.device_seconds:.0f} s used up")

    # --- events ------------------------------------------------------------------------------------
    def _new_events(self) -> list[DeviceEvent]:
        out = []
        last = self._ev_since
        for e in self.device.events(self._ev_since):
            key = (e.time_ms, e.kind, e.package, tuple(sorted(e.detail.items())))
            if key in self._ev_seen:
                continue
            self._ev_seen.add(key)
            out.append(e)
            last = max(last, e.time_ms)
        if last > self._ev_since:  # forget keys older than the new horizon (same-ms events stay known)
            self._ev_seen = {k for k in self._ev_seen if k[0] >= last}
            self._ev_since = last
        return out

    # --- the one step function ---------------------------------------------------------------------
    def _do(self, action: dict[str, Any], perform: Callable[[], None], settle: float, note: str = "") -> Step:
        self.check_budget()
        before = self.current.state.id if self.current else self._last_state
        try:
            perform()
        except ActionRefused as exc:
            # not performed: the screen is recorded as it stands, with what was refused and why
            j = exc.judgement.to_json()
            self.actions += 1
            note = f"REFUSED by the safety guard: {j['reason']}"
            step = self._record({**action, "refused": j}, before, note)
            self.refusals.append({"step": step.n, "probe": self.probe, "action": action, **j})
            return step
        if settle > 0:
            self.device.wait(settle)
        self.actions += 1
        return self._record(action, before, note)

    def _read(self, obs: Observation, xml_sha: str, png_sha: str) -> tuple[ScreenReading, ScreenState]:
        """Read the screen, or reuse the reading of an identical earlier capture: a run sees the same
        screen again and again (waits, BACK to a known page, a dialog that stays up), and a reading
        depends on nothing but the capture."""
        key = (obs.package, obs.activity, xml_sha, png_sha)
        hit = self._readings.get(key)
        if hit is not None:
            self.read_hits += 1
            return hit
        t0 = time.perf_counter()
        reading = self.reader.read(obs, self.device.info)
        self.read_ms += (time.perf_counter() - t0) * 1000
        out = (reading, state_of(reading))
        if len(self._readings) >= READ_CACHE:
            self._readings.pop(next(iter(self._readings)))
        self._readings[key] = out
        return out

    def _record(self, action: dict[str, Any], before: str | None, note: str = "") -> Step:
        obs = self.device.observe()
        xml_bytes = obs.xml.encode()
        png_sha, xml_sha = sha256_hex(obs.png), sha256_hex(xml_bytes)
        reading, state = self._read(obs, xml_sha, png_sha)
        self.guard.saw(reading, state.id)
        events = self._new_events()
        self.n += 1
        n = self.n
        png, xml = f"steps/{n:04d}.png", f"steps/{n:04d}.xml"
        self.files.write(png, obs.png, png_sha)
        self.files.write(xml, xml_bytes, xml_sha)
        kinds = [k.kind for k in reading.kinds]
        extra: dict[str, Any] = {}
        groups = [k.permission_group for k in reading.kinds if k.permission_group]
        if groups:
            extra["permission_groups"] = groups
        if events:
            extra["events"] = [
                {"time_ms": e.time_ms, "kind": str(e.kind), "package": e.package, **e.detail} for e in events
            ]
        self.trace.append(
            StepRecord(
                n=n,
                probe=self.probe,
                action=action,
                device_time_ms=obs.time_ms,
                wall_time=time.time(),
                state_before=before,
                state_after=state.id,
                package=obs.package,
                activity=obs.activity,
                kinds=kinds,
                screenshot=png,
                screenshot_sha256=png_sha,
                xml=xml,
                xml_sha256=xml_sha,
                note=note,
                extra=extra,
            )
        )
        if self.on_step is not None:
            self.on_step(self.trace.last or {})
        self.graph.add_state(state, n)
        if before is not None and "refused" not in action:  # a refused action moved nothing
            attrs = (
                {"selector": action["selector"], "point": action["point"]} if action["type"] == TAP else {}
            )
            if action["type"] == SCROLL:
                attrs = {"selector": action["selector"], "direction": action["direction"]}
            self.graph.add_edge(before, state.id, action["type"], _edge_key(action), n, **attrs)
        self.events_log.extend((n, e) for e in events)
        step = Step(n, self.probe, action, obs, reading, state, events, self.package)
        self.current = step
        if self.progress:
            self.progress(f"{self.probe}: step {n} {action['type']} → {','.join(kinds) or obs.activity}")
        return step

    # --- actions -----------------------------------------------------------------------------------
    def observe(self, note: str = "") -> Step:
        """Record the screen as it is now (no input)."""
        return self._do({"type": "observe"}, lambda: None, 0, note)

    def wait(self, seconds: float, note: str = "") -> Step:
        return self._do({"type": "wait", "seconds": seconds}, lambda: None, seconds, note)

    def tap(self, c: Control, note: str = "", settle: float | None = None) -> Step:
        x, y = c.point
        action = {
            "type": TAP,
            "role": c.selector.role,
            "label": c.label,
            "selector": c.selector.to_json(),
            "point": [x, y],
        }
        step = self._do(
            action, lambda: self.device.tap(x, y), self.settle_s if settle is None else settle, note
        )
        if not step.refused:
            self.taps += 1
        return step

    def scroll(self, c: Control, forward: bool = True, note: str = "") -> Step:
        """Drag the content of scroll container `c` by about half its height, or half its width when it
        scrolls sideways (role "scroll_h"; see `scroll_gesture`)."""
        sideways = c.selector.role == HSCROLL
        (x1, y1), (x2, y2), ms = scroll_gesture(c.bounds, forward, sideways)
        action = {
            "type": SCROLL,
            "direction": "forward" if forward else "backward",
            "selector": c.selector.to_json(),
            "from": [x1, y1],
            "to": [x2, y2],
            "duration_ms": ms,
        }
        if sideways:
            action["axis"] = "horizontal"
        return self._do(action, lambda: self.device.swipe(x1, y1, x2, y2, ms), self.settle_s, note)

    def key(self, key: Key, note: str = "") -> Step:
        return self._do({"type": "key", "key": str(key)}, lambda: self.device.key(key), self.settle_s, note)

    def type_text(self, text: str, note: str = "") -> Step:
        return self._do(
            {"type": "type", "text": text}, lambda: self.device.type_text(text), self.settle_s, note
        )

    def start(self, note: str = "", settle: float | None = None) -> Step:
        return self._do(
            {"type": "app_start", "package": self.package},
            lambda: self.device.app_start(self.package),
            self.launch_settle_s if settle is None else settle,
            note,
        )

    def stop(self, note: str = "") -> Step:
        return self._do(
            {"type": "app_stop", "package": self.package},
            lambda: self.device.app_stop(self.package),
            0.2,
            note,
        )

    def clear(self, note: str = "clean install") -> Step:
        return self._do(
            {"type": "app_clear", "package": self.package},
            lambda: self.device.app_clear(self.package),
            0.2,
            note,
        )

    def advance(self, seconds: float, note: str = "") -> Step:
        """Let a long time pass (hours): the clock jumps the way the device allows; one that allows none
        is waited for, parked (`park`: the device serves others meanwhile) when the runner can. A `park`
        may raise `Parked` instead: the run stops here (a checkpoint) and, resumed, passes this wait once
        the device's clock is past its end."""
        dev = self.device
        jump = getattr(dev, "advance_clock", None)
        resumed, self.pending = self.pending, None
        if resumed is not None:  # the wait of a resumed run: it began before the stop
            seconds = resumed["seconds"]
        action: dict[str, Any] = {"type": "advance_clock", "seconds": seconds}

        def perform() -> None:
            t = dev.now_ms()  # (a resumed wait's time so far was counted as jumped by `restore`)
            end = resumed["until_ms"] if resumed else t + seconds * 1000
            try:
                if resumed is not None:
                    raise ClockUnavailable("resumed after a checkpoint")
                if jump is None:
                    raise ClockUnavailable("the device has no clock control")
                jump(seconds)
                action["method"] = getattr(dev, "clock_method", None) or "virtual clock"
            except ClockUnavailable as exc:
                action["method"] = "parked" if self.park else "waited"
                left = (end - dev.now_ms()) / 1000
                w0 = time.monotonic()
                try:
                    if left > 0 and self.park:
                        self.park(left)
                    elif left > 0:
                        self._wait_in_place(left, str(exc))
                except Parked as p:  # the run stops: the checkpoint holds this wait
                    p.since_ms, p.until_ms = t, int(end)
                    self.pending = {"seconds": seconds, "since_ms": t, "until_ms": p.until_ms, "note": note}
                    raise
                self.parked_s += time.monotonic() - w0
            self.jumped_ms += dev.now_ms() - t
            self.clock_moves.append(dict(action))

        return self._do(action, perform, 0.2, note)

    def _wait_in_place(self, seconds: float, why: str = "") -> None:
        """A long wait on the phone itself (its own `sleep`, a minute at a time), with how much is left
        told every `WAIT_REPORT_S` of device time."""
        left = seconds
        while left > 0:
            if self.progress:
                self.progress(f"waiting on the phone's clock ({why}): {left / 3600:.2f} h left")
            piece = min(left, WAIT_REPORT_S)
            self.device.wait(piece)
            left -= piece

    # --- checkpoint (see exerciser.runner.checkpoint) ----------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Everything a run needs to go on in another process, as JSON."""
        return {
            "n": self.n,
            "probe": self.probe,
            "actions": self.actions,
            "taps": self.taps,
            "read_ms": self.read_ms,
            "read_hits": self.read_hits,
            "jumped_ms": self.jumped_ms,
            "started_device_ms": self.started_device_ms,
            "wall_used": self.wall_used(),
            "parked_s": self.parked_s,
            "state": self.current.state.id if self.current else self._last_state,
            "ev_since": self._ev_since,
            "ev_seen": [[t, str(k), p, [list(i) for i in d]] for t, k, p, d in self._ev_seen],
            "events": [[n, e.time_ms, str(e.kind), e.package, e.detail] for n, e in self.events_log],
            "clock_moves": self.clock_moves,
            "refusals": self.refusals,
            "graph": self.graph.to_json(),
            "guard": self.guard.snapshot(),
            "pending": self.pending,
        }

    def restore(self, d: dict[str, Any]) -> None:
        import networkx as nx

        if d["n"] != self.n:
            raise ValueError(f"checkpoint at step {d['n']}, but the trace has {self.n} steps")
        self.probe, self.actions, self.taps = d["probe"], d["actions"], d["taps"]
        self.read_ms, self.read_hits, self.jumped_ms = d["read_ms"], d["read_hits"], d["jumped_ms"]
        self.started_device_ms = d["started_device_ms"]
        self.started_wall = time.monotonic() - d["wall_used"] - d["parked_s"]
        self.parked_s = d["parked_s"]
        self._last_state = d["state"]
        self._ev_since = d["ev_since"]
        self._ev_seen = {(t, EventKind(k), p, tuple(tuple(i) for i in det)) for t, k, p, det in d["ev_seen"]}
        self.events_log = [(n, DeviceEvent(t, EventKind(k), p, det)) for n, t, k, p, det in d["events"]]
        self.clock_moves, self.refusals = d["clock_moves"], d["refusals"]
        self.graph.g = nx.node_link_graph(d["graph"], edges="edges")
        self.guard.restore(d["guard"])
        self.pending = d["pending"]
        if self.pending:  # the device time that passed while stopped is the wait's, not the run's
            self.jumped_ms += self.device.now_ms() - self.pending["since_ms"]

    def close(self) -> None:
        self.trace.close()


SCROLL = "scroll"
HSCROLL = "scroll_h"  # the selector role of a container that scrolls sideways
# A scroll drags from 75 % to 25 % of the container's height in 1.5 s: slow enough that the release
# barely flings (a few dp), so each scroll moves about half a viewport and no row is skipped unseen.
SCROLL_SPAN = (0.75, 0.25)
SCROLL_MS = 1500


def scroll_gesture(
    bounds: tuple[int, int, int, int], forward: bool, sideways: bool = False
) -> tuple[tuple[int, int], tuple[int, int], int]:
    """(from, to, duration ms) of the drag that scrolls a container with these bounds (forward: the
    content moves up, or left when `sideways`)."""
    x1, y1, x2, y2 = bounds
    if sideways:
        cy, w = (y1 + y2) // 2, x2 - x1
        right, left = x1 + int(w * SCROLL_SPAN[0]), x1 + int(w * SCROLL_SPAN[1])
        return ((right, cy), (left, cy), SCROLL_MS) if forward else ((left, cy), (right, cy), SCROLL_MS)
    cx, h = (x1 + x2) // 2, y2 - y1
    low, high = y1 + int(h * SCROLL_SPAN[0]), y1 + int(h * SCROLL_SPAN[1])
    return ((cx, low), (cx, high), SCROLL_MS) if forward else ((cx, high), (cx, low), SCROLL_MS)


def _edge_key(action: dict[str, Any]) -> str:
    t = action["type"]
    if t == TAP:
        return Selector(**{k: v for k, v in action["selector"].items()}).key()
    if t == SCROLL:  # a scroll is an edge too, replayed by its container's selector
        return f"{action['direction']}:" + Selector(**action["selector"]).key()
    if t == "key":
        return action["key"]
    return ""
