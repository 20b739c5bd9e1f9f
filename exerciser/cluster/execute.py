"""One job on one device, as a worker runs it: claim, attempt, evidence to the store, one completion.

    done already?  -> return the recorded summary (a redelivered message never runs a job again)
    claim (lease)  -> wait while another live attempt holds it
    attempt n      -> earlier attempts' partial evidence fetched into the bundle, run_app on the device,
                      what is recorded copied to <store>/<suite>/<app>/attempts/<n>/ every beat
    complete       -> SET NX done (exactly one attempt wins), then the bundle moves to <suite>/<app>/
    parked         -> (a long wait, no clock change) the checkpoint and evidence to attempts/<n>/, the job
                      parked, its delayed task scheduled (see `parking`); that task's attempt takes the
                      parked attempt's folder over and goes on from the checkpoint

The lease, the message's visibility and the partial evidence are kept fresh by one heartbeat thread.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exerciser import atomic
from exerciser.cluster import parking
from exerciser.cluster.config import Timing
from exerciser.cluster.jobs import Job, now_iso, scenario_from_json
from exerciser.cluster.keys import JobState, touch_message
from exerciser.cluster.store import Mirror, Store, done_marker
from exerciser.device.contract import Device, DeviceLost
from exerciser.errors import UserError
from exerciser.paths import under
from exerciser.runner.checkpoint import Checkpoint, Parked
from exerciser.scenario import Scenario

log = logging.getLogger("exerciser.cluster")


class DeviceGone(Exception):
    """The slot's device vanished mid-job: the job goes back to the queue for another device."""


class Superseded(Exception):
    """Another attempt took the job over (this one stalled past its lease) or completed it first."""


class ClaimLost(DeviceLost):
    """Raised inside run_app (as a DeviceLost, which it passes through) once the lease is gone."""


@dataclass
class Slot:
    """The device one worker process serves jobs with."""

    name: str  # "virtual-1" or the adb serial
    serial: str
    virtual: bool  # in-process virtual device: takes each job's profile and locale
    queues: list[str]
    device_for: Callable[[Scenario], Device]  # the device ready for this scenario (app installed)
    lost: bool = False
    home: str = ""  # the queue only this device's worker takes (parked jobs come back by it)


@dataclass
class WorkerContext:
    r: Any  # redis client of the broker
    hostname: str
    slot: Slot
    scratch: Path
    results: str | None  # this worker's --results URL (wins over the suite's)
    default_results: str = ""  # when neither the worker nor the suite names a store
    timing: Timing = field(default_factory=Timing)
    current: str = ""  # "<suite>/<app>" of the running job

    def store_for(self, job: Job) -> Store:
        url = self.results or job.results or self.default_results
        if not url:
            raise UserError("no results store: give the worker --results URL (or submit --results URL)")
        return Store(url)


class Beat(threading.Thread):
    """Renews the claim, keeps the message invisible to the timeout sweep, copies partial evidence."""

    def __init__(self, ctx: WorkerContext, js: JobState, claim: str, tag: str | None) -> None:
        super().__init__(name="exerciser-beat", daemon=True)
        self.ctx, self.js, self.claim, self.tag = ctx, js, claim, tag
        self.mirror: Mirror | None = None
        self.note_text = "starting"
        self.lost = False
        self._halt = threading.Event()
        self._lock = threading.Lock()

    def note(self, msg: str) -> None:
        self.note_text = msg

    def run(self) -> None:
        while not self._halt.wait(self.ctx.timing.beat):
            self.tick()

    def tick(self) -> None:
        t = self.ctx.timing
        with self._lock:
            if self.lost:
                return
            try:
                if not self.js.renew(self.claim, t.lease_seconds):
                    self.lost = True
                    log.warning("%s: claim lost (another attempt took the job over)", self.ctx.current)
                    return
                touch_message(self.ctx.r, self.tag)
                self.js.set_progress(self.note_text, t.lease_seconds)
            except Exception as exc:  # broker away for a moment: keep running, renew next beat
                log.warning("%s: heartbeat: %s", self.ctx.current, exc)
            if self.mirror is not None:
                try:
                    self.mirror.sync()
                except Exception as exc:  # store away for a moment: the next beat copies it
                    log.warning("%s: copying partial evidence: %s", self.ctx.current, exc)

    def final_sync(self) -> None:
        """Copy what is left, then copy no more (the attempt's folder is about to move or close)."""
        with self._lock:
            if self.mirror is not None and not self.lost:
                self.mirror.sync(final=True)
                self.mirror.prune()
            self.mirror = None

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=30)


class GuardedDevice:
    """The slot's device, which stops the run (ClaimLost) as soon as the job's claim is gone."""

    def __init__(self, device: Device, beat: Beat) -> None:
        self._d, self._beat = device, beat

    def observe(self):
        if self._beat.lost:
            raise ClaimLost("the job was taken over by another attempt")
        return self._d.observe()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._d, name)


# --- completion ---------------------------------------------------------------------------------------


def finished(js: JobState, store: Store, rel: str) -> dict[str, Any] | None:
    """The job's summary if some attempt completed it (finishing its move into place if cut short)."""
    done = js.done()
    marker = done_marker(rel)
    if done is None:
        mark = store.read_json(marker)
        if mark is None:
            return None
        js.claim_done(mark)  # Redis lost it (a broker without persistence): the store remembers
        return mark
    if not store.exists(marker) and js.lease() is None:  # its attempt died moving it: finish the move
        _promote(store, rel, int(done["attempt"]))
        store.write_json(marker, done)
    return done


def _promote(store: Store, rel: str, n: int) -> None:
    """The completed attempt's bundle, staged in attempts/<n>/, becomes the app's folder."""
    store.move_tree(f"{rel}/attempts/{n}", rel)
    attempts = store.path(rel, "attempts")
    if store.local and store.fs.isdir(attempts) and not store.fs.ls(attempts):
        store.fs.rm(attempts, recursive=True)  # no lost attempt: no empty folder


def _mark_abandoned(js: JobState, store: Store, rel: str, upto: int) -> None:
    """Attempts still marked running whose claim is gone were killed with their worker."""
    for name in store.subdirs(f"{rel}/attempts"):
        if not name.isdigit() or int(name) >= upto:
            continue
        a = store.read_json(f"{rel}/attempts/{name}/attempt.json")
        if a and a.get("status") == "running":
            a |= {
                "status": "lost",
                "ended": now_iso(),
                "message": "its worker stopped mid-job (killed or cut off)",
            }
            store.write_json(f"{rel}/attempts/{name}/attempt.json", a)
            js.log(event="lost", attempt=int(name), worker=a.get("worker"), serial=a.get("serial"))


def _claim(
    js: JobState, ctx: WorkerContext, store: Store, rel: str, tag: str | None, info: dict
) -> str | None:
    """The lease for this job, waiting while another live attempt holds it; None once it is done."""
    waited = False
    while True:
        claim = js.acquire(info, ctx.timing.lease_seconds)
        if claim is not None:
            if js.done() is None:
                return claim
            js.release(claim)  # the attempt we waited for completed it: nothing left to run
            return None
        if finished(js, store, rel) is not None:
            return None
        if not waited:
            holder = js.lease() or {}
            log.info("%s: held by %s, waiting", rel, holder.get("worker"))
            waited = True
        touch_message(ctx.r, tag)
        time.sleep(ctx.timing.beat)


def _write_local_json(path: Path, data: dict) -> None:
    atomic.write_json(path, data)


def execute(job: Job, ctx: WorkerContext, tag: str | None = None) -> dict[str, Any]:
    """Run `job` on the context's slot unless it is done already; returns its verdict summary.

    Raises DeviceGone (requeue the message), Superseded (drop it: another copy carries the job)."""
    js = JobState(ctx.r, job.suite, job.app)
    store = ctx.store_for(job)
    rel = f"{job.suite}/{job.app}"
    ctx.current = rel
    if (done := finished(js, store, rel)) is not None:
        log.info("%s: already done by attempt %s, not run again", rel, done.get("attempt"))
        return done
    info = {"worker": ctx.hostname, "serial": ctx.slot.serial, "since": now_iso()}
    claim = _claim(js, ctx, store, rel, tag, info)
    if claim is None:
        return finished(js, store, rel) or {}
    try:
        park = js.parked()
        token = (job.resume or {}).get("token")
        if (park or {}).get("token") != token:  # a parked job goes on only by its own delayed task
            log.info("%s: %s, this copy of the job is not run", rel, "parked" if park else "a stale resume")
            return {"parked": park} if park else {}
        return _attempt(job, ctx, js, store, rel, claim, tag, park)
    finally:
        with contextlib.suppress(Exception):
            js.release(claim)
        ctx.current = ""


def _attempt(
    job: Job, ctx: WorkerContext, js: JobState, store: Store, rel: str, claim: str, tag, park: dict | None
) -> dict:
    n = js.next_attempt()
    _mark_abandoned(js, store, rel, n)
    base = under(ctx.scratch, job.suite)  # resolved and inside the scratch folder, or refused
    local = under(base, job.app)
    if local.exists():
        shutil.rmtree(local)
    local.mkdir(parents=True)
    store.get_tree(f"{rel}/attempts", local / "attempts")  # the lost attempts, sealed with the bundle
    resume = _take_over(local, park["attempt"]) if park else None
    meta = {
        "attempt": n,
        "status": "running",
        "worker": ctx.hostname,
        "host": socket.gethostname(),
        "serial": ctx.slot.serial,
        "queue": job.queue,
        "started": now_iso(),
    }
    if resume is not None:
        meta["resumed_from"] = park["attempt"]
    _write_local_json(local / "attempt.json", meta)
    event = "resumed" if resume is not None else "started"
    js.log(event=event, attempt=n, worker=ctx.hostname, serial=ctx.slot.serial)
    model_file = None
    if job.model_text is not None:
        model_file = under(base, ".models", job.app, "app.yaml")
        model_file.parent.mkdir(parents=True, exist_ok=True)
        model_file.write_text(job.model_text, encoding="utf-8")
    sc = scenario_from_json(job.scenario, model_file)

    beat = Beat(ctx, js, claim, tag)
    beat.mirror = Mirror(store, local, f"{rel}/attempts/{n}")
    beat.tick()  # attempt.json in the store at once: a kill from now on leaves a trace
    beat.start()
    try:  # the beat runs to the end: the bundle (video) and its upload take time too
        return _complete(job, ctx, js, store, rel, n, meta, sc, beat, base, local, resume)
    finally:
        beat.stop()


def _take_over(local: Path, k: int) -> Checkpoint | None:
    """The parked attempt `k`'s folder (fetched into attempts/<k>/) becomes this attempt's: its trace and
    steps go on; attempts/<k>/ keeps its attempt.json. None: it left no checkpoint (run from the start)."""
    src = local / "attempts" / str(k)
    cp = Checkpoint.read(src)
    if cp is None:
        log.warning("%s: parked attempt %d left no checkpoint: the job runs from the start", local.name, k)
        return None
    for entry in list(src.iterdir()):
        if entry.name == "attempts":  # the lost attempts before it: in attempts/ already
            shutil.rmtree(entry)
        elif entry.name != "attempt.json":
            shutil.move(entry, local / entry.name)
    return cp


def _seal_resumed(store: Store, rel: str, upto: int) -> None:
    """Parked attempts before `upto` were taken over by a later one: only their attempt.json stays."""
    for name in store.subdirs(f"{rel}/attempts"):
        if not name.isdigit() or int(name) >= upto:
            continue
        path = f"{rel}/attempts/{name}"
        a = store.read_json(f"{path}/attempt.json")
        if a and a.get("status") == "parked":
            store.fs.rm(store.path(path), recursive=True)
            store.write_json(f"{path}/attempt.json", a | {"resumed_by": upto})


def _park(job: Job, ctx: WorkerContext, js: JobState, store, rel, n, meta, beat, local, p: Parked, device):
    """The run stopped at a long wait: evidence and checkpoint to the store, the job parked, its delayed
    task scheduled for when the phone's clock is past the wait; the worker is free for other jobs."""
    due = parking.due_at(device, p.until_ms, p.rate)
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(p.until_ms / 1000))
    meta |= {"status": "parked", "ended": now_iso(), "until": until, "until_ms": p.until_ms, "due": due}
    _write_local_json(local / "attempt.json", meta)
    beat.final_sync()
    if beat.lost:
        _end_attempt(store, rel, n, meta, "superseded", "another attempt took the job over while it ran")
        raise Superseded(rel)
    info = {"token": secrets.token_hex(8), "attempt": n, "until": until, "until_ms": p.until_ms, "due": due}
    info |= {"serial": ctx.slot.serial, "worker": ctx.hostname, "queue": ctx.slot.home}
    payload = job.to_json() | {"resume": {"token": info["token"], "attempt": n}}
    with ctx.r.pipeline() as pipe:  # both or neither: a parked job always has its delayed task
        js.park(info, pipe)
        parking.schedule(ctx.r, ctx.slot.home, payload, due, pipe)
        pipe.execute()
    js.log(event="parked", attempt=n, worker=ctx.hostname, serial=ctx.slot.serial, until=until)
    js.set_progress(f"parked until {until} (device time)", ctx.timing.lease_seconds)
    _seal_resumed(store, rel, n)
    log.info("%s: parked until %s (device time), resumes in %.0f s", rel, until, due - time.time())
    shutil.rmtree(local, ignore_errors=True)
    return {"parked": info}


def _complete(job, ctx, js, store, rel, n, meta, sc, beat, base, local, resume=None) -> dict[str, Any]:
    from exerciser.runner.app_run import AppResult, run_app

    t0 = time.monotonic()
    try:
        device = ctx.slot.device_for(sc)
        park = parking.stop_at_long_waits(device)
        gd = GuardedDevice(device, beat)
        result = run_app(sc, gd, base, progress=beat.note, finalize=False, park=park, resume=resume)
    except Parked as p:
        return _park(job, ctx, js, store, rel, n, meta, beat, local, p, device)
    except ClaimLost as exc:  # the job is the new holder's now: only this attempt's record changes
        _end_attempt(store, rel, n, meta, "superseded", f"another attempt took the job over: {exc}")
        js.log(event="superseded", attempt=n, worker=ctx.hostname)
        raise Superseded(str(exc)) from None
    except DeviceLost as exc:
        beat.final_sync()
        _end_attempt(store, rel, n, meta, "device_lost", str(exc))
        js.log(event="device_lost", attempt=n, worker=ctx.hostname, serial=ctx.slot.serial, message=str(exc))
        ctx.slot.lost = True
        raise DeviceGone(str(exc)) from None
    except Exception as exc:  # bad input or a tool bug: this app fails, recorded like the rack does
        log.exception("%s: attempt %s failed", rel, n)
        result = AppResult(sc.id, "", local, error=f"{type(exc).__name__}: {exc}", serial=ctx.slot.serial)
        result.wall_seconds = time.monotonic() - t0
        _write_local_json(local / "verdict.json", result.verdict_json())

    t_run = time.monotonic()
    meta |= {"status": "completed", "ended": now_iso(), "verdict": result.status}
    _write_local_json(local / "attempt.json", meta)
    if (local / "trace.jsonl").exists():
        try:
            from exerciser.evidence.bundle import finalize_app

            finalize_app(local)  # video, reports, manifest over everything (lost attempts included)
        except Exception as exc:  # the verdicts and raw evidence stand without the derived files
            log.warning("%s: evidence bundle: %s", rel, exc)
    t_bundle = time.monotonic()
    beat.final_sync()  # the whole bundle staged in attempts/<n>/
    t_upload = time.monotonic()
    if beat.lost:
        _end_attempt(store, rel, n, meta, "superseded", "another attempt took the job over while it ran")
        js.log(event="superseded", attempt=n, worker=ctx.hostname)
        raise Superseded(rel)
    summary = result.verdict_json() | {
        "suite": job.suite,
        "attempt": n,
        "worker": ctx.hostname,
        "host": socket.gethostname(),
        "queue": job.queue,
        "finished": now_iso(),
        "bundle": f"{store.url.rstrip('/')}/{rel}",
        "timings": {  # seconds: run_app, the bundle (video, reports, manifest), the last copy to the store
            "run": round(t_run - t0, 2),
            "bundle": round(t_bundle - t_run, 2),
            "upload": round(t_upload - t_bundle, 2),
        },
    }
    done = {"event": "completed", "attempt": n, "worker": ctx.hostname, "serial": ctx.slot.serial}
    if not js.claim_done(summary, **done, status=result.status):  # another attempt completed it first
        _end_attempt(store, rel, n, meta, "discarded", "finished, but another attempt completed the job")
        js.log(event="superseded", attempt=n, worker=ctx.hostname)
        raise Superseded(rel)
    js.unpark()
    _seal_resumed(store, rel, n)
    _promote(store, rel, n)
    store.write_json(done_marker(rel), summary)
    log.info("%s: %s (attempt %d, %.1f s)", rel, result.status, n, time.monotonic() - t0)
    shutil.rmtree(local, ignore_errors=True)
    return summary


def _end_attempt(store: Store, rel: str, n: int, meta: dict, status: str, message: str) -> None:
    with contextlib.suppress(Exception):
        store.write_json(
            f"{rel}/attempts/{n}/attempt.json",
            meta | {"status": status, "ended": now_iso(), "message": message},
        )
