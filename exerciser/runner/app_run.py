"""`run_app`: the whole job for one app on one device, usable by `exerciser run` and by a rack scheduler.

Runs the scenario's probes in a fixed order (consent, 7 which also maps the app, 5, 6, 8) on clean
installs, scores them with the rule pack and writes the app's results folder:
  verdict.json, graph.json + graph.graphml, trace.jsonl, steps/NNNN.png|xml, deciding/*.png,
  scenario.json, run.json; then hands the folder to `exerciser.evidence.bundle.finalize_app` when present.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from exerciser import __version__, atomic, yamlio
from exerciser.device.contract import Device, DeviceLost
from exerciser.errors import UserError
from exerciser.paths import safe_id, under
from exerciser.probes import advance, consent, deletion, refusal, rerequest
from exerciser.probes.common import ProbeAborted, ProbeContext, ProbeResult
from exerciser.runner.checkpoint import FILE as CHECKPOINT
from exerciser.runner.checkpoint import VERSION as CHECKPOINT_VERSION
from exerciser.runner.checkpoint import Checkpoint, Parked, restore_results, results_json
from exerciser.runner.session import BudgetExhausted, Session
from exerciser.scenario import Scenario
from exerciser.score.rulepack import RulePack, load_rulepack
from exerciser.score.score import CATEGORIES, CategoryVerdict, score_all

ORDER = ("consent", "7", "5", "6", "8")
PROBES: dict[str, Callable[[ProbeContext], ProbeResult]] = {
    "consent": consent.run,
    "5": refusal.run,
    "6": rerequest.run,
    "7": advance.run,
    "8": deletion.run,
}

Progress = Callable[[str], None]
ROOM_NAME = ".verdict-room"  # removed before the verdict is written: never in a finished bundle
ROOM_BYTES = 256 * 1024  # a verdict.json is a few KB


@dataclass
class AppInfo:
    package: str
    label: str
    language: str  # "en" | "zh": the app's own language (decides which regulation duties apply)


@dataclass
class AppResult:
    app: str  # the scenario id = results folder name
    package: str
    out_dir: Path
    categories: dict[str, CategoryVerdict] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # tool error (the categories then are inconclusive)
    steps: int = 0
    wall_seconds: float = 0.0
    serial: str = ""

    @property
    def violations(self) -> list[str]:
        return [c for c, v in self.categories.items() if v.verdict == "violation"]

    @property
    def status(self) -> str:
        """ "violation" | "compliant" | "inconclusive" | "error" for the whole app."""
        if self.error and not self.categories:
            return "error"
        if self.violations:
            return "violation"
        if any(v.verdict == "inconclusive" for v in self.categories.values()) or self.error:
            return "inconclusive"
        return "compliant"

    def verdict_json(self) -> dict[str, Any]:
        return {
            "app": self.app,
            "package": self.package,
            "status": self.status,
            "categories": {c: v.to_json() for c, v in self.categories.items()},
            "extra": self.extra,
            "error": self.error,
            "steps": self.steps,
            "wall_seconds": round(self.wall_seconds, 2),
            "serial": self.serial,
        }


def app_info(sc: Scenario) -> AppInfo:
    """Package, label and language of the scenario's app (from its model, or the scenario itself)."""
    mp = sc.app.model_path
    if mp is not None:
        try:
            # libyaml when there: a sample model is ~10x faster to parse than with the pure-Python loader
            data = yamlio.safe_load(mp.read_text(encoding="utf-8"), str(mp))
            return AppInfo(data["package"], sc.app.label or data.get("label", ""), data.get("language", "en"))
        except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
            raise UserError(f"{mp}: cannot read the app model: {exc}") from None
    if sc.app.kind == "package":
        return AppInfo(sc.app.value, sc.app.label, sc.locale.split("-")[0])
    try:
        from exerciser.apk.reader import read_apk  # type: ignore[attr-defined]
    except ImportError:
        raise UserError(f"{sc.source}: app.apk needs the APK reader (exerciser.apk), not available") from None
    info = read_apk(Path(sc.app.value))
    return AppInfo(info.package, sc.app.label or getattr(info, "label", ""), sc.locale.split("-")[0])


_READER = None


def default_reader():
    global _READER
    if _READER is None:
        from exerciser.perceive import Reader

        _READER = Reader()
    return _READER


def run_app(
    scenario: Scenario,
    device: Device,
    out_dir: Path,
    progress: Progress | None = None,
    rules: RulePack | None = None,
    reader: Any = None,
    finalize: bool = True,
    park: Callable[[float], None] | None = None,
    resume: Checkpoint | None = None,
) -> AppResult:
    """Run every probe of `scenario` on `device` (app installed) and write `out_dir/<scenario.id>/`.

    `out_dir` is the suite folder; the app's folder is created inside it. Raises DeviceLost when the
    device vanishes (what was recorded stays on disk); every other failure becomes inconclusive
    verdicts with the error noted. `finalize=False` skips the evidence bundle (video, reports, manifest).
    `park(seconds)`: how a long wait passes on a device whose clock cannot be moved (the rack frees the
    device meanwhile); without it the run waits. A `park` that raises `Parked` stops the run there:
    `checkpoint.json` is written beside the trace and `Parked` raised on; `resume` (that checkpoint,
    same device, same folder) goes on from it. A moved clock is put back at the end, whatever happens.
    """
    t0 = time.monotonic() - (resume.data["wall_seconds"] if resume else 0.0)
    info = app_info(scenario)
    app_dir = under(out_dir, safe_id(scenario.id, "scenario id"))
    app_dir.mkdir(parents=True, exist_ok=True)
    rp = (rules or load_rulepack()).with_overrides(scenario.rules, origin=str(scenario.source or scenario.id))
    atomic.write_json(app_dir / "scenario.json", scenario.to_json())
    dev_info = device.info
    if info.package not in device.installed_packages():
        raise UserError(f"{scenario.id}: {info.package} is not installed on {dev_info.serial}")
    room = _reserve_room(app_dir)
    live = _start_live(app_dir, device) if finalize else None  # video etc. made while the run goes
    session = Session(
        device,
        info.package,
        app_dir,
        reader or default_reader(),
        scenario.budgets,
        progress=progress,
        on_step=live.on_step if live else None,
        park=park,
    )
    ctx = ProbeContext(session, scenario, rp, info.package, info.label)
    errors: dict[str, str] = {}
    if resume is not None:
        session.restore(resume.data["session"])
        restore_results(ctx, resume.data["probes"])
        errors = resume.data["errors"]
        (app_dir / CHECKPOINT).unlink(missing_ok=True)  # taken up: a later stop writes its own
    result = AppResult(scenario.id, info.package, app_dir, serial=dev_info.serial)
    wanted = set(scenario.probes)
    scored = False
    if wanted & {"5", "6"}:
        wanted.add("7")  # the map of where each group is asked
    try:
        for name in ORDER:
            if name not in wanted or name in ctx.results:
                continue
            if progress:
                progress(f"probe {name}")
            try:
                ctx.results[name] = PROBES[name](ctx)
            except BudgetExhausted as exc:
                errors[name] = f"budget: {exc}"
                for rest in ORDER[ORDER.index(name) + 1 :]:
                    errors.setdefault(rest, f"not run: {exc}")
                break
            except ProbeAborted as exc:
                errors[name] = str(exc)
            except (DeviceLost, Parked):
                raise
            except Exception as exc:  # a probe's bug must not lose the other probes' evidence
                errors[name] = f"tool error in probe {name}: {type(exc).__name__}: {exc}"
                with contextlib.suppress(OSError):  # a full disk: the verdict still names the error
                    atomic.write_text(app_dir / f"error-{name}.txt", traceback.format_exc())
        if live:
            live.end_input()  # no more steps: the video closes while the run scores and writes up
        cats, extra = score_all(ctx.results, scenario, rp, info.language, errors)
        result.categories = cats
        result.extra = extra
        scored = True
        if errors:
            result.error = "; ".join(f"{k}: {v}" for k, v in errors.items())
    except Parked:  # a long wait nobody may keep the device for: stop here, go on later
        clock = _restore_clock(device, session)
        data = {"version": CHECKPOINT_VERSION, "app": scenario.id, "errors": errors}
        data |= {"session": session.snapshot(), "probes": results_json(ctx)}
        data["wall_seconds"] = session.wall_used()  # parked time not counted
        Checkpoint(data).write(app_dir)
        _write_run_json(app_dir, scenario, dev_info, session, t0, ctx, rp, "parked", clock)
        session.close()
        if live:
            live.abort()
        raise
    except DeviceLost as exc:
        result.error = f"device lost: {exc}"
        clock = _restore_clock(device, session)
        _write_run_json(app_dir, scenario, dev_info, session, t0, ctx, rp, "device_lost", clock)
        session.close()
        if live:
            live.abort()
        raise
    except BaseException:
        _restore_clock(device, session)
        if live:
            live.abort()
        raise
    finally:
        if not scored:
            room.unlink(missing_ok=True)
            session.graph.write(app_dir)  # stopped before scoring: the map so far
    clock = _restore_clock(device, session)
    session.close()
    result.steps = session.n
    result.wall_seconds = time.monotonic() - t0
    _copy_deciding(app_dir, result)
    _write_verdict(app_dir, result, room)  # before anything derived: a full disk costs those, not this
    session.graph.write(app_dir)
    _write_run_json(app_dir, scenario, dev_info, session, t0, ctx, rp, result.status, clock)
    if finalize:
        _finalize(app_dir, progress, live)
    return result


def _reserve_room(app_dir: Path) -> Path:
    """Disk space held from the start for verdict.json: the video and the steps may fill the disk, the
    verdict is still written (the room is given back just before it)."""
    room = app_dir / ROOM_NAME
    try:
        with open(room, "wb") as fh:
            try:
                os.posix_fallocate(fh.fileno(), 0, ROOM_BYTES)
            except OSError:  # a file system without fallocate: real bytes
                fh.write(bytes(ROOM_BYTES))
    except OSError:  # no room even now: the run fails at its first step, with one line
        room.unlink(missing_ok=True)
    return room


def _write_verdict(app_dir: Path, result: AppResult, room: Path) -> None:
    room.unlink(missing_ok=True)
    atomic.write_json(app_dir / "verdict.json", result.verdict_json())


def _copy_deciding(app_dir: Path, result: AppResult) -> None:
    """The screenshots of the steps that decide each verdict, named by category and step."""
    dec = app_dir / "deciding"
    dec.mkdir(exist_ok=True)
    for cat, v in result.categories.items():
        shots = []
        for n in v.evidence_steps:
            src = app_dir / "steps" / f"{n:04d}.png"
            if src.exists():
                dst = dec / f"{cat}-{n:04d}.png"
                dst.unlink(missing_ok=True)
                try:
                    os.link(src, dst)  # the step's own bytes under a second name, not a second copy
                except OSError:  # no links on this file system
                    shutil.copyfile(src, dst)
                shots.append(f"deciding/{dst.name}")
        v.screenshots = shots


def _write_run_json(
    app_dir: Path,
    sc: Scenario,
    dev_info: Any,
    session: Session,
    t0: float,
    ctx: ProbeContext,
    rp: RulePack,
    status: str,
    clock: dict[str, Any] | None = None,
) -> None:
    run = {
        "tool": "consent-exerciser",
        "version": __version__,
        "status": status,
        "app": sc.id,
        "package": ctx.package,
        "device": {
            "serial": dev_info.serial,
            "api_level": dev_info.api_level,
            "release": dev_info.release,
            "rom": dev_info.rom,
            "locale": dev_info.locale,
            "width": dev_info.width,
            "height": dev_info.height,
            "density": dev_info.density,
            "model": dev_info.model,
        },
        "profile": sc.profile,
        "steps": session.n,
        "actions": session.actions,
        "taps": session.taps,
        "read_ms": round(session.read_ms, 1),
        "read_reused": session.read_hits,
        "wall_seconds": round(time.monotonic() - t0, 2),
        "clock": clock or {},
        "rules": rp.to_json(),
        "probes": {
            name: {"facts": r.facts, "evidence": r.evidence, "inconclusive": r.inconclusive, "notes": r.notes}
            for name, r in ctx.results.items()
        },
        "categories": list(CATEGORIES),
        # what the safety guard kept from the phone (never performed), and whether deletion was allowed
        "safety": {"test_account": sc.test_account, "refused": session.refusals},
        # per probe, the permission groups it really measured and those it could not (and why)
        "coverage": {name: r.facts["coverage"] for name, r in ctx.results.items() if "coverage" in r.facts},
    }
    atomic.write_json(app_dir / "run.json", run, default=str)


def _restore_clock(device: Device, session: Session) -> dict[str, Any]:
    """Put a moved clock back (true time, automatic time as it was); what the run did with the clock."""
    moves = session.clock_moves
    out: dict[str, Any] = {
        "methods": sorted({m.get("method", "") for m in moves}),
        "moves": len(moves),
        "moved_s": round(sum(m["seconds"] for m in moves), 1),
    }
    restore = getattr(device, "restore_clock", None)
    if callable(restore):
        try:
            out["restored"] = restore()
        except Exception as exc:  # the device went away: the phone's marker lets the next run undo it
            out["restored"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def _start_live(app_dir: Path, device: Device) -> Any:
    try:
        from exerciser.evidence.live import start_live
    except ImportError:
        return None
    return start_live(app_dir, device)


def _finalize(app_dir: Path, progress: Progress | None, live: Any = None) -> None:
    try:
        from exerciser.evidence.bundle import finalize_app
    except ImportError:
        if progress:
            progress("evidence bundle not available (exerciser.evidence.bundle): skipped")
        return
    finalize_app(app_dir, live=live)
