"""One Celery worker process that serves jobs with one device (`exerciser worker` starts one per device).

A process per device gives "one job per device at a time" for free (solo pool, prefetch 1), a device
its own queues (Celery consumes per process), and OCR its own core. The process dies with its
supervisor (PR_SET_PDEATHSIG, and a parent watchdog), so killing a worker host's `exerciser worker`
really stops its jobs, which then go to other workers.

    python -m exerciser.cluster.child '<json config>'    (exit 3: the device is missing or was lost)
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from exerciser.cluster.config import Timing, make_app, redis_client
from exerciser.cluster.execute import DeviceGone, Slot, Superseded, WorkerContext, execute
from exerciser.cluster.jobs import TASK_NAME, Job, now_iso, task_id
from exerciser.cluster.keys import JobState, register_worker, unregister_worker
from exerciser.cluster.parking import device_queue, wake_due
from exerciser.cluster.routing import device_queues, virtual_queues
from exerciser.errors import UserError

EXIT_NO_DEVICE = 3
log = logging.getLogger("exerciser.cluster")


def die_with_parent() -> None:
    """Linux: the kernel kills this process when the process that started it dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _watch_parent(ppid: int) -> None:
    while True:
        if os.getppid() != ppid:
            os._exit(1)
        time.sleep(1)


def open_slot(cfg: dict[str, Any]) -> Slot:
    if "virtual" in cfg:
        from exerciser.runner.parallel import virtual_device

        name = f"virtual-{cfg['virtual']}"
        return Slot(name, name, True, virtual_queues(), lambda sc: virtual_device(sc, serial=name))
    from exerciser.device.u2driver import U2Device
    from exerciser.rack import ensure_installed
    from exerciser.rack.scheduler import accepts_models

    serial = cfg["serial"]
    dev = U2Device(serial, adb_port=cfg.get("adb_port"))

    def device_for(sc):
        ensure_installed(dev, sc)
        return dev

    return Slot(serial, serial, False, device_queues(dev.info, accepts_models(dev)), device_for)


def _node_name(cfg: dict[str, Any], slot: Slot) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in slot.name)
    return f"{cfg['name']}.{safe}@{socket.gethostname()}"


def _register_loop(
    ctx: WorkerContext, info: dict[str, Any], every: float, stop: threading.Event, wake: Callable
) -> None:
    """Keeps this worker listed as live, and sends parked jobs' delayed tasks once they are due."""
    while not stop.is_set():
        try:
            register_worker(ctx.r, ctx.hostname, info | {"job": ctx.current}, ttl=3 * every)
            wake_due(ctx.r, wake)
        except Exception as exc:  # broker restarting: try again next round
            log.debug("worker registry: %s", exc)
        stop.wait(every)


def main(argv: list[str] | None = None) -> int:
    cfg = json.loads((argv or sys.argv[1:])[0])
    if cfg.get("ppid"):
        die_with_parent()
        threading.Thread(target=_watch_parent, args=(cfg["ppid"],), daemon=True).start()
    logging.basicConfig(
        level=cfg.get("loglevel", "INFO"),
        format=f"%(asctime)s {cfg.get('label', '')} %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # not the whole summary per job
    # Celery warns about root on every process; with JSON-only content (ours) it is only a warning.
    warnings.filterwarnings("ignore", message="You're running the worker with superuser privileges")
    # We keep running jobs through a broker blip on purpose (see config.make_app): no need to nag.
    warnings.filterwarnings("ignore", message=r"\s*In Celery 5\.1 we introduced an optional breaking change")
    timing = Timing(**cfg.get("timing", {}))
    try:
        r = redis_client(cfg["broker"], ride_out=timing.broker_patience)
        slot = open_slot(cfg)
    except Exception as exc:  # no broker, no such device, adb refused it: this slot cannot serve
        msg = exc.format_message() if isinstance(exc, UserError) else f"{type(exc).__name__}: {exc}"
        print(f"error: {cfg.get('serial') or 'virtual'}: {msg}", file=sys.stderr, flush=True)
        return EXIT_NO_DEVICE
    hostname = _node_name(cfg, slot)
    # the device's own queue first: consumed in this order, so a parked job it resumes goes before new ones
    # (an in-process virtual device is this process's: never parked, but named by it all the same)
    slot.home = device_queue(hostname if slot.virtual else slot.serial)
    slot.queues = [slot.home, *sorted(set(slot.queues) | set(cfg.get("queues") or []))]
    scratch = Path(cfg["scratch"]) / hostname.split("@")[0]  # one folder per worker process
    ctx = WorkerContext(
        r, hostname, slot, scratch, cfg.get("results"), cfg.get("default_results", ""), timing
    )
    app = make_app(cfg["broker"], cfg.get("backend"), timing)

    def wake(queue: str, payload: dict[str, Any]) -> None:
        tid = task_id(payload["suite"], payload["app"])
        app.send_task(TASK_NAME, args=[payload], queue=queue, task_id=tid)

    def hand_on(job: Job, payload: dict[str, Any], why: str) -> None:
        """The job back to its profile's queue for another device, as a fresh message: this delivery's
        tag may be acknowledged already (a copy of the message that was handed out twice and superseded
        acks the same tag), so requeueing it could lose the job. A parked job's checkpoint belongs to
        the lost device: it runs again from the start."""
        from celery.exceptions import Reject

        if payload.get("resume"):
            JobState(r, job.suite, job.app).unpark()
        try:
            wake(job.queue, {k: v for k, v in payload.items() if k != "resume"})
        except Exception as exc:  # the broker is away too: the transport's own requeue is all there is
            log.warning("%s: could not send the job on (%s): requeued instead", job.app, exc)
            raise Reject(why, requeue=True) from None

    @app.task(bind=True, name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)
    def run_job(self, payload: dict[str, Any]) -> dict[str, Any]:
        import redis
        from celery.exceptions import Ignore, Reject

        tag = (self.request.properties or {}).get("delivery_tag")
        try:
            job = Job.from_json(payload)
        except UserError as exc:  # a forged or broken message: never run, never retried
            log.error("job refused: %s", exc.format_message())
            raise Reject(exc.format_message(), requeue=False) from None
        try:
            return execute(job, ctx, tag)
        except DeviceGone as exc:
            log.error(
                "device %s lost: %s; job back to the queue, this worker process stops", slot.serial, exc
            )
            os.kill(os.getpid(), signal.SIGTERM)  # warm shutdown once the job is handed on
            hand_on(job, payload, str(exc))
            raise Ignore() from None
        except Superseded as exc:
            log.warning("%s: left to the attempt that took it over", exc)
            raise Ignore() from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # the broker stayed away longer than the client rides out: `retry` would need the broker
            # and drops the job when it cannot publish; a rejected message that cannot reach the
            # broker stays unacknowledged, and the transport hands it out again after its timeout
            log.error("%s: broker away: %s; the job runs again later", payload.get("app"), exc)
            raise Reject(str(exc), requeue=True) from None
        except (OSError, redis.RedisError) as exc:  # store away, or the broker refused a command
            raise self.retry(exc=exc, countdown=timing.beat, max_retries=5) from None

    info = {
        "hostname": hostname,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "slot": slot.name,
        "serial": slot.serial,
        "virtual": slot.virtual,
        "queues": slot.queues,
        "since": now_iso(),
    }
    every = max(1.0, timing.beat)
    stop = threading.Event()

    def on_ready(**_kw) -> None:  # listed as live once it consumes its queues, not before
        args = (ctx, info, every, stop, wake)
        threading.Thread(target=_register_loop, args=args, daemon=True).start()

    from celery.signals import worker_ready

    worker_ready.connect(on_ready, weak=False)
    log.info("%s serving %s on %d queues", hostname, slot.serial, len(slot.queues))
    worker = app.Worker(
        hostname=hostname,
        pool_cls="solo",
        concurrency=1,
        queues=slot.queues,
        loglevel=cfg.get("loglevel", "INFO"),
        quiet=True,
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        optimization="fair",
    )
    try:
        worker.start()
    finally:
        stop.set()
        try:
            unregister_worker(r, hostname)
        except Exception as exc:
            log.debug("worker registry: %s", exc)
    return EXIT_NO_DEVICE if slot.lost else (worker.exitcode or 0)


if __name__ == "__main__":
    sys.exit(main())
