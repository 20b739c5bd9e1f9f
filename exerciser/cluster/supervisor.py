"""`exerciser worker`: one Celery worker process per device of this host, kept running.

A child that exits because its device is missing or was lost (exit 3) is started again after
`device_retry` seconds (the phone may come back); one that crashed is restarted, up to a limit.
SIGTERM / Ctrl-C stop the children warmly (each finishes its job); a second Ctrl-C stops them at once
(their jobs go back to the queue after the visibility timeout). SIGKILL of this process kills the
children with it (see `child.die_with_parent`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click

from exerciser.cluster.config import Timing
from exerciser.errors import UserError

EXIT_NO_DEVICE = 3
MAX_CRASHES = 5


@dataclass
class Child:
    label: str
    cfg: dict[str, Any]
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restart_at: float | None = None
    crashes: int = 0


@dataclass
class WorkerOptions:
    broker: str
    backend: str | None
    results: str | None  # --results: wins over the suite's store
    default_results: str = ""  # when neither the worker nor the suite names one
    virtual: int = 0
    serials: list[str] = field(default_factory=list)
    adb_port: int | None = None
    queues: list[str] = field(default_factory=list)
    name: str = ""
    scratch: Path = Path("/tmp")
    timing: Timing = field(default_factory=Timing)
    device_retry: float = 30.0
    loglevel: str = "INFO"


def _preexec() -> None:
    from exerciser.cluster.child import die_with_parent

    die_with_parent()


def _spawn(child: Child) -> None:
    child.proc = subprocess.Popen(
        [sys.executable, "-m", "exerciser.cluster.child", json.dumps(child.cfg)],
        preexec_fn=_preexec,
        stdin=subprocess.DEVNULL,
    )
    child.started = time.monotonic()
    child.restart_at = None


def children_of(opts: WorkerOptions) -> list[Child]:
    base = {
        "broker": opts.broker,
        "backend": opts.backend,
        "results": opts.results,
        "default_results": opts.default_results,
        "queues": opts.queues,
        "name": opts.name,
        "scratch": str(opts.scratch),
        "timing": asdict(opts.timing),
        "loglevel": opts.loglevel,
        "ppid": os.getpid(),
    }
    out = [
        Child(f"virtual-{i}", base | {"virtual": i, "label": f"virtual-{i}"})
        for i in range(1, opts.virtual + 1)
    ]
    out += [Child(s, base | {"serial": s, "adb_port": opts.adb_port, "label": s}) for s in opts.serials]
    return out


def serve(opts: WorkerOptions) -> int:
    kids = children_of(opts)
    if not kids:
        raise UserError("no device to serve: give --virtual N and/or --devices all|SERIAL,...")
    stopping = {"n": 0}

    def on_signal(signum, _frame) -> None:
        stopping["n"] += 1
        sig = signal.SIGTERM if stopping["n"] == 1 else signal.SIGQUIT
        if stopping["n"] == 1:
            click.echo("worker: stopping (each device finishes its job; Ctrl-C again to stop now)", err=True)
        for k in kids:
            if k.proc and k.proc.poll() is None:
                k.proc.send_signal(sig)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for k in kids:
        _spawn(k)
        click.echo(f"worker {opts.name}: serving {k.label} (pid {k.proc.pid})", err=True)
    while True:
        time.sleep(0.5)
        now = time.monotonic()
        alive = 0
        for k in kids:
            if k.proc is not None and k.proc.poll() is None:
                alive += 1
                continue
            if stopping["n"]:
                continue
            if k.proc is not None:  # just exited
                code = k.proc.returncode
                k.proc = None
                if code == EXIT_NO_DEVICE and "serial" in k.cfg and opts.device_retry > 0:
                    click.echo(
                        f"worker: {k.label}: no device; trying again in {opts.device_retry:.0f} s", err=True
                    )
                    k.restart_at = now + opts.device_retry
                elif code not in (0, EXIT_NO_DEVICE) and k.crashes < MAX_CRASHES:
                    k.crashes += 1 if now - k.started < 60 else 0
                    click.echo(f"worker: {k.label}: exited with {code}; restarting", err=True)
                    k.restart_at = now + 2
                else:
                    click.echo(f"worker: {k.label}: stopped (exit {code})", err=True)
            if k.restart_at is not None:
                alive += 1
                if now >= k.restart_at:
                    _spawn(k)
        if alive == 0:
            return 0 if stopping["n"] else 1
