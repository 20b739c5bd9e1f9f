"""The rack's own record of a suite run: which device ran which app, what was lost, where the evidence is.

`DIR/rack.json` is rewritten after every change (a crash leaves the last state); `DIR/rack.log` gets one
line per event. A lost device's partial evidence for an app moves to `DIR/<app>/attempts/<k>-<serial>/`,
its trace ends with a `device_lost` line, and `DIR/<app>/attempts/attempts.json` lists the lost attempts.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime()) + f".{int(time.time() * 1000) % 1000:03d}"


def safe(serial: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in serial)


@dataclass
class Attempt:
    n: int
    serial: str
    started: str
    ended: str = ""
    outcome: str = "running"  # running | completed | device_lost | error
    message: str = ""
    evidence: str = ""  # folder (relative to DIR) holding this attempt's evidence
    steps: int = 0  # steps its trace recorded (a lost attempt: before the loss)


@dataclass
class AppRecord:
    app: str
    status: str = "queued"  # queued | running | done | error | not_run
    serial: str = ""
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class DeviceRecord:
    serial: str
    model: str = ""
    api_level: int | None = None
    state: str = "idle"  # idle | busy | lost | unavailable | done
    apps: list[str] = field(default_factory=list)
    lost_at: str = ""
    lost_during: str = ""
    reason: str = ""
    parked: int = 0  # jobs parked on it (a wait its clock could not skip)
    busy_s: float = 0.0  # wall seconds it drove an app
    span_s: float = 0.0  # wall seconds from ready to done


class RackRecord:
    def __init__(self, out_dir: Path, apps: list[str], serials: list[str]) -> None:
        self.dir = Path(out_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        self.started = _now()
        self.finished = ""
        self.apps = {a: AppRecord(a) for a in apps}
        self.devices = {s: DeviceRecord(s) for s in serials}
        self.log_lines: list[str] = []
        self._log_file = self.dir / "rack.log"
        self._log_file.write_text("")
        self.save()

    def log(self, text: str) -> None:
        line = f"{_now()} {text}"
        with self.lock:
            self.log_lines.append(line)
            with self._log_file.open("a", encoding="utf-8") as f:
                f.write(line + "\n")

    def save(self) -> None:
        with self.lock:
            data = {
                "started": self.started,
                "finished": self.finished,
                "devices": [asdict(d) for d in self.devices.values()],
                "apps": [asdict(a) for a in self.apps.values()],
                "log": self.log_lines,
            }
            tmp = self.dir / "rack.json.tmp"
            tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1))
            tmp.replace(self.dir / "rack.json")

    # --- transitions ---------------------------------------------------------------------------
    def device_ready(self, serial: str, model: str, api_level: int | None) -> None:
        with self.lock:
            d = self.devices[serial]
            d.model, d.api_level, d.state = model, api_level, "idle"
            self.log(f"{serial}: ready ({model}, API {api_level})")
            self.save()

    def device_unavailable(self, serial: str, reason: str) -> None:
        with self.lock:
            d = self.devices[serial]
            d.state, d.reason = "unavailable", reason
            self.log(f"{serial}: unavailable: {reason}")
            self.save()

    def start(self, app: str, serial: str) -> Attempt:
        with self.lock:
            rec = self.apps[app]
            att = Attempt(len(rec.attempts) + 1, serial, _now())
            rec.attempts.append(att)
            rec.status, rec.serial = "running", serial
            self.devices[serial].state = "busy"
            self.log(f"{serial}: start {app} (attempt {att.n})")
            self.save()
            return att

    def finish(self, app: str, att: Attempt, outcome: str, message: str = "", steps: int = 0) -> None:
        with self.lock:
            att.ended, att.outcome, att.message, att.steps = _now(), outcome, message, steps
            if not att.evidence:
                att.evidence = app
            rec = self.apps[app]
            rec.status = "done" if outcome == "completed" else "error"
            dev = self.devices[att.serial]
            dev.state = "idle"
            dev.apps.append(app)
            self.log(f"{att.serial}: {outcome} {app}" + (f": {message}" if message else ""))
            self.save()

    def lost(
        self, app: str, att: Attempt, reason: str, evidence: str, requeued: bool, steps: int = 0
    ) -> None:
        with self.lock:
            att.ended, att.outcome, att.message, att.evidence = _now(), "device_lost", reason, evidence
            att.steps = steps
            rec = self.apps[app]
            rec.status = "queued" if requeued else "not_run"
            dev = self.devices[att.serial]
            dev.state, dev.lost_at, dev.lost_during, dev.reason = "lost", att.ended, app, reason
            self.log(
                f"{att.serial}: LOST during {app} after {steps} steps: {reason}; evidence kept in "
                f"{evidence or '(nothing recorded)'}; "
                + ("app handed to another device" if requeued else "no device left to take it")
            )
            self.save()

    def parked(self, app: str, serial: str, seconds: float, handed: bool) -> None:
        with self.lock:
            self.devices[serial].parked += 1
            then = "the device serves other apps meanwhile" if handed else "too short to hand the device over"
            self.log(
                f"{serial}: {app} PARKED for {seconds / 60:.1f} min of device time (the phone's clock cannot "
                f"be moved); {then}"
            )
            self.save()

    def resumed(self, app: str, serial: str, waited_s: float, for_device_s: float) -> None:
        with self.lock:
            self.log(
                f"{serial}: {app} resumed after a wait of {waited_s:.1f} s and {for_device_s:.1f} s for the "
                "device"
            )
            self.save()

    def device_time(self, serial: str, busy_s: float, span_s: float) -> None:
        with self.lock:
            d = self.devices[serial]
            d.busy_s, d.span_s = round(busy_s, 2), round(span_s, 2)
            share = f" ({100 * busy_s / span_s:.0f} %)" if span_s > 0 else ""
            self.log(f"{serial}: busy {busy_s:.1f} s of {span_s:.1f} s{share}")
            self.save()

    def not_run(self, app: str, reason: str) -> None:
        with self.lock:
            self.apps[app].status = "not_run"
            self.log(f"{app}: not run: {reason}")
            self.save()

    def close(self) -> None:
        with self.lock:
            self.finished = _now()
            for d in self.devices.values():
                if d.state in ("idle", "busy"):
                    d.state = "done"
            self.log("suite finished")
            self.save()


def close_lost_trace(folder: Path, serial: str, reason: str, handed_over: bool = True) -> tuple[int, int]:
    """End a lost attempt's trace with one line telling what happened, continuing its hash chain (so
    `exerciser verify` still passes and a reader of the trace alone sees why it stops).

    Returns (steps recorded before the loss, number of the rack's line); (0, 0) without a trace."""
    from exerciser.evidence.trace import TRACE_NAME, TraceWriter, load_trace

    path = Path(folder) / TRACE_NAME
    if not path.exists():
        return 0, 0
    records = load_trace(path).records
    steps = sum(1 for r in records if r.get("probe") != "rack")
    n = max((r["n"] for r in records if isinstance(r.get("n"), int)), default=0) + 1
    with TraceWriter(path) as tw:
        tw.append(
            {
                "n": n,
                "probe": "rack",
                "action": {"type": "device_lost", "serial": serial},
                "device_time_ms": None,
                "wall_time": time.time(),
                "note": f"device {serial} lost: {reason}; "
                + (
                    "the app is handed to another device"
                    if handed_over
                    else "no device is left to take the app"
                ),
            }
        )
    return steps, n


def write_attempts(out_dir: Path, app: str, attempts: list[Attempt]) -> Path:
    """`DIR/<app>/attempts/attempts.json`: the earlier, lost attempts of an app (the attempt that finishes
    the app seals it in its manifest, since it lies inside the app's folder)."""
    folder = Path(out_dir) / app / "attempts"
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        asdict(a) | {"evidence": a.evidence.removeprefix(app + "/")}
        for a in attempts
        if a.outcome == "device_lost"
    ]
    path = folder / "attempts.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"app": app, "lost_attempts": rows}, ensure_ascii=False, indent=1))
    tmp.replace(path)
    return path


def keep_partial(out_dir: Path, app: str, n: int, serial: str) -> str:
    """Move `DIR/<app>/` (what the lost attempt recorded) to `DIR/<app>/attempts/<n>-<serial>/`.

    Earlier attempts already under `DIR/<app>/attempts/` stay where they are. Returns the new folder
    relative to DIR ("" when the attempt recorded nothing).
    """
    src = Path(out_dir) / app
    if not src.exists():
        return ""
    tmp = Path(out_dir) / f".{app}.attempt-{n}"
    if tmp.exists():
        shutil.rmtree(tmp)
    src.rename(tmp)
    attempts = src / "attempts"
    attempts.mkdir(parents=True)
    old = tmp / "attempts"
    if old.is_dir():
        for p in old.iterdir():
            p.rename(attempts / p.name)
        old.rmdir()
    dst = attempts / f"{n}-{safe(serial)}"
    tmp.rename(dst)
    return str(dst.relative_to(out_dir))
