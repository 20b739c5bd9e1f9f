"""Run a suite's apps on virtual devices, one app after another or in parallel worker processes.

A virtual device lives in the process that drives it and its work is Python (layout, PNG, screen
reading), so threads would share one core: `jobs > 1` starts that many worker processes, each taking the
next app and running it on its own virtual device. Workers report progress lines through a queue; each
app's results folder is written by its worker exactly as a sequential run writes it.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from exerciser.errors import UserError
from exerciser.runner.app_run import AppResult, run_app
from exerciser.scenario import Scenario
from exerciser.score.rulepack import RulePack

# progress(app index, app id, message); message "" = the app is done
Report = Callable[[int, str, str], None]


def check_virtual(sc: Scenario) -> None:
    """The virtual device can run this scenario (a sample model, a known profile and locale)."""
    from exerciser.sim.profiles import LOCALES, PROFILES

    if sc.app.model_path is None:
        raise UserError(
            f"{sc.source}: app.{sc.app.kind} needs a real device (--devices); the virtual device "
            "runs sample models (app.sample / app.model)"
        )
    if sc.profile not in PROFILES:
        raise UserError(
            f"{sc.source}: profile: unknown profile '{sc.profile}' (known: {', '.join(PROFILES)})"
        )
    if sc.display:
        from exerciser.sim.display import parse_display

        try:
            parse_display(sc.display)
        except ValueError as exc:
            raise UserError(f"{sc.source}: display: {exc}") from None
    if sc.locale not in LOCALES:
        raise UserError(
            f"{sc.source}: locale: unsupported locale '{sc.locale}' (known: {', '.join(LOCALES)})"
        )


def virtual_device(sc: Scenario, serial: str) -> Any:
    """A fresh virtual device running the scenario's app model, with its profile and locale."""
    from exerciser.sim import VirtualDevice, load_app_model

    check_virtual(sc)
    from exerciser.sim.display import DEFAULT, parse_display

    model = load_app_model(sc.app.model_path)
    d = parse_display(sc.display) if sc.display else DEFAULT
    return VirtualDevice(
        apps=[model],
        profile=sc.profile,
        locale=sc.locale,
        serial=serial,
        width=d.width,
        height=d.height,
        density=d.density,
    )


def run_one(
    sc: Scenario,
    index: int,
    out_dir: Path,
    rules: RulePack | None,
    finalize: bool,
    progress: Callable[[str], None] | None = None,
) -> AppResult:
    """One app on its own virtual device; a tool failure becomes an error result, bad input raises."""
    dev = virtual_device(sc, serial=f"virtual-{index}")
    try:
        return run_app(sc, dev, out_dir, progress=progress, rules=rules, finalize=finalize)
    except UserError:
        raise
    except Exception as exc:  # one app's tool failure must not stop the suite
        return AppResult(sc.id, "", Path(out_dir) / sc.id, error=f"{type(exc).__name__}: {exc}")


def run_virtual(
    scenarios: list[Scenario],
    out_dir: Path,
    rules: RulePack | None = None,
    jobs: int = 1,
    finalize: bool = True,
    report: Report | None = None,
) -> list[AppResult]:
    """Every scenario on its own virtual device; results in scenario order."""
    # bad input stops the suite before anything runs
    for sc in scenarios:
        check_virtual(sc)
    if jobs <= 1 or len(scenarios) <= 1:
        out = []
        for i, sc in enumerate(scenarios, start=1):
            note = (lambda msg, _i=i, _a=sc.id: report(_i, _a, msg)) if report else None
            out.append(run_one(sc, i, out_dir, rules, finalize, note))
            if report:
                report(i, sc.id, "")
        return out
    return _run_pool(scenarios, out_dir, rules, min(jobs, len(scenarios)), finalize, report)


# --- worker processes --------------------------------------------------------------------------------

_QUEUE: Any = None
_STOPPING = False  # Ctrl-C reached this worker: the apps still queued for it are not started
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """The kernel sends SIGTERM to this worker when its parent dies (killed included): an orphan would
    go on starting apps nobody collects."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # no prctl: the check below still catches a dead parent
            pass
    if os.getppid() != parent:  # died before the call above
        os._exit(1)


def _on_sigint(_sig: int, _frame: Any) -> None:
    global _STOPPING
    if not _STOPPING:  # the first Ctrl-C ends the running app (its evidence so far kept); later ones
        _STOPPING = True  # are the same Ctrl-C again, sent on by the parent
        raise KeyboardInterrupt


def _init_worker(q: Any, parent: int) -> None:
    global _QUEUE
    _QUEUE = q
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, _on_sigint)


def _worker(sc: Scenario, index: int, out_dir: Path, rules: RulePack | None, finalize: bool) -> AppResult:
    if _STOPPING:
        return AppResult(sc.id, "", Path(out_dir) / sc.id, error="not started: interrupted")
    q = _QUEUE

    def note(msg: str) -> None:
        if q is not None:
            q.put((index, sc.id, msg))

    return run_one(sc, index, out_dir, rules, finalize, note)


def _run_pool(
    scenarios: list[Scenario],
    out_dir: Path,
    rules: RulePack | None,
    jobs: int,
    finalize: bool,
    report: Report | None,
) -> list[AppResult]:
    # spawn, not fork: the parent may hold threads (progress display, OCR engines) a fork would copy
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set() or not q.empty():
            try:
                i, app, msg = q.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError):
                return
            if report and msg:
                report(i, app, msg)

    listener = threading.Thread(target=pump, name="progress", daemon=True)
    listener.start()
    results: list[AppResult | None] = [None] * len(scenarios)
    try:
        init = (q, os.getpid())
        with ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker, initargs=init) as pool:
            futs = {
                pool.submit(_worker, sc, k + 1, out_dir, rules, finalize): k for k, sc in enumerate(scenarios)
            }
            try:
                for fut in as_completed(futs):
                    k = futs[fut]
                    sc = scenarios[k]
                    try:
                        results[k] = fut.result()
                    except BrokenProcessPool as exc:
                        results[k] = AppResult(
                            sc.id, "", Path(out_dir) / sc.id, error=f"worker process died: {exc}"
                        )
                    if report:
                        report(k + 1, sc.id, "")
            except BaseException:  # Ctrl-C (or any stop): start no other app, end the running ones now
                workers = list((getattr(pool, "_processes", None) or {}).values())
                pool.shutdown(wait=False, cancel_futures=True)
                for proc in workers:
                    with contextlib.suppress(OSError):
                        os.kill(proc.pid, signal.SIGINT)
                for proc in workers:  # the running apps stop at their next step
                    proc.join(timeout=10)
                raise
    finally:
        stop.set()
        listener.join(timeout=2)
    return [r for r in results if r is not None]
