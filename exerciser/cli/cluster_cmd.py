"""`exerciser submit|worker|status|collect`: a suite spread over many hosts on Celery with a Redis broker.

exerciser submit scenarios/samples.yaml --broker redis://queue-host/0        # prints the suite id
exerciser worker --broker redis://queue-host/0 --virtual 2 --results /mnt/share/results
exerciser worker --broker redis://queue-host/0 --devices all --results /mnt/share/results
exerciser status SUITE_ID --broker redis://queue-host/0
exerciser collect SUITE_ID --broker redis://queue-host/0 --out runs/suite    # exit status as `run`
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import click

from exerciser.errors import UserError
from exerciser.paths import safe_id

BROKER_ENV = "EXERCISER_BROKER"
DEFAULT_RESULTS = "runs/cluster"

broker_opt = click.option(
    "--broker",
    envvar=BROKER_ENV,
    required=True,
    help=f"Redis broker URL, redis://HOST[:PORT][/DB] (or ${BROKER_ENV}).",
)
volatile_opt = click.option(
    "--allow-volatile-broker",
    "allow_volatile",
    is_flag=True,
    help="Use a Redis without appendonly persistence (a broker restart then loses queued jobs).",
)
backend_opt = click.option(
    "--backend", default=None, help="Celery result backend URL (default: the broker's Redis)."
)


def _celery(broker: str, backend: str | None):
    from exerciser.cluster.config import make_app

    return make_app(broker, backend)


def _status(broker: str, backend: str | None, suite_id: str):
    from exerciser.cluster.config import redis_client
    from exerciser.cluster.jobs import check_suite_id
    from exerciser.cluster.progress import suite_status

    r = redis_client(broker)
    return suite_status(r, check_suite_id(suite_id), _celery(broker, backend))


def _wait(broker: str, backend: str | None, suite_id: str, timeout: float | None, quiet: bool):
    t0 = time.monotonic()
    last = ""
    while True:
        st = _status(broker, backend, suite_id)
        line = ", ".join(f"{n} {s}" for s, n in st.counts().items())
        if line != last and not quiet:
            click.echo(f"{suite_id}: {line}", err=True)
            last = line
        if st.finished or (timeout is not None and time.monotonic() - t0 > timeout):
            return st
        time.sleep(1.0)


def register(cli: click.Group) -> None:
    @cli.command("submit")
    @click.argument("suite", type=click.Path(path_type=Path))
    @broker_opt
    @backend_opt
    @click.option(
        "--results", default=None, help="Results store URL for this suite (a worker's --results wins)."
    )
    @click.option("--profile", default=None, help="Device profile for every app, e.g. api28.")
    @click.option("--locale", default=None, help="Device locale for every app, en-US or zh-CN.")
    @click.option(
        "--rules",
        "rules_file",
        type=click.Path(path_type=Path),
        default=None,
        help="YAML of convention/protocol threshold overrides (name: value).",
    )
    @volatile_opt
    def submit_cmd(suite, broker, backend, results, profile, locale, rules_file, allow_volatile) -> None:
        """Queue every app of SUITE (a suite or scenario YAML) as one job; prints the suite id."""
        from exerciser.cluster.config import redis_client, require_persistence
        from exerciser.cluster.submit import build_jobs, submit

        rec, jobs = build_jobs(suite, profile, locale, rules_file, results)
        r = redis_client(broker)  # unreachable: one line, before anything is recorded
        if warning := require_persistence(r, broker, allow_volatile):
            click.echo(warning, err=True)
        rec = submit(rec, jobs, broker, backend)
        queues = sorted({j.queue for j in jobs})
        click.echo(f"queued {rec.queued} jobs of suite {rec.name} on {', '.join(queues)}", err=True)
        click.echo(rec.id)

    @cli.command("worker")
    @broker_opt
    @backend_opt
    @click.option(
        "--results",
        default=None,
        help=f"Results store URL: a path, a network path or an fsspec URL (default: the suite's, "
        f"else {DEFAULT_RESULTS}).",
    )
    @click.option("--devices", default=None, help="adb devices to serve: 'all' or SERIAL,SERIAL,...")
    @click.option("--adb-port", type=int, default=None, help="adb server port (default 5037).")
    @click.option(
        "--virtual", type=click.IntRange(0, 64), default=0, help="Serve N in-process virtual devices."
    )
    @click.option("--queues", default="", help="Extra queues to consume, comma-separated.")
    @click.option(
        "--name", default=None, help="Worker name (default w<pid>); Celery node names derive from it."
    )
    @click.option(
        "--scratch", type=click.Path(path_type=Path), default=None, help="Local folder for running jobs."
    )
    @click.option(
        "--visibility-timeout",
        type=click.FloatRange(1),
        default=120.0,
        show_default=True,
        help="Seconds before a killed worker's job is handed out again.",
    )
    @click.option(
        "--lease",
        type=click.FloatRange(1),
        default=60.0,
        show_default=True,
        help="Seconds a job stays claimed by a worker that stopped renewing it.",
    )
    @click.option(
        "--beat",
        type=click.FloatRange(0.2),
        default=5.0,
        show_default=True,
        help="Seconds between renewing a running job's claim and copying its partial evidence.",
    )
    @click.option(
        "--restore-interval",
        type=click.FloatRange(0.5),
        default=5.0,
        show_default=True,
        help="Seconds between an idle worker's looks for abandoned jobs.",
    )
    @click.option(
        "--device-retry",
        type=click.FloatRange(0),
        default=30.0,
        show_default=True,
        help="Seconds before serving a lost device again (0: never).",
    )
    @click.option("--loglevel", default="INFO", show_default=True)
    @volatile_opt
    def worker_cmd(
        broker,
        backend,
        results,
        devices,
        adb_port,
        virtual,
        queues,
        name,
        scratch,
        visibility_timeout,
        lease,
        beat,
        restore_interval,
        device_retry,
        loglevel,
        allow_volatile,
    ) -> None:
        """Serve queued jobs with this host's devices, one job per device at a time.

        Each device gets its own worker process, consuming only the queues of jobs it can run (API
        level, ROM and locale; in-process virtual devices take every profile). Run the broker's Redis
        with persistence (appendonly yes) so a broker restart loses no queued job.
        """
        from exerciser.cluster.config import Timing, redis_client, require_persistence
        from exerciser.cluster.store import Store
        from exerciser.cluster.supervisor import WorkerOptions, serve

        if warning := require_persistence(redis_client(broker), broker, allow_volatile):
            click.echo(warning, err=True)
        Store(results or DEFAULT_RESULTS).check_writable()
        serials: list[str] = []
        if devices:
            from exerciser.rack.discover import parse_devices_option, resolve_serials

            serials = resolve_serials(parse_devices_option(devices), adb_port)
        if not serials and not virtual:
            raise UserError("no device to serve: give --virtual N and/or --devices all|SERIAL,...")
        opts = WorkerOptions(
            broker=broker,
            backend=backend,
            results=Store(results).url if results else None,
            default_results=Store(DEFAULT_RESULTS).url,
            virtual=virtual,
            serials=serials,
            adb_port=adb_port,
            queues=[q.strip() for q in queues.split(",") if q.strip()],
            name=safe_id(name, "--name") if name else f"w{os.getpid()}",  # names its scratch folder
            scratch=(scratch or Path(tempfile.gettempdir()) / "exerciser-worker").resolve(),
            timing=Timing(visibility_timeout, lease, beat, restore_interval),
            device_retry=device_retry,
            loglevel=loglevel.upper(),
        )
        sys.exit(serve(opts))

    @cli.command("status")
    @click.argument("suite_id")
    @broker_opt
    @backend_opt
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    @click.option("--wait", is_flag=True, help="Wait until every job finished.")
    @click.option("--timeout", type=float, default=None, help="With --wait: give up after S seconds.")
    def status_cmd(suite_id, broker, backend, as_json, wait, timeout) -> None:
        """Progress of a submitted suite: each job's state, attempts, device and verdicts."""
        from rich.console import Console

        from exerciser.cluster.progress import status_table

        st = (
            _wait(broker, backend, suite_id, timeout, as_json) if wait else _status(broker, backend, suite_id)
        )
        if as_json:
            click.echo(json.dumps(st.to_json(), ensure_ascii=False, indent=1))
            return
        console = Console()
        console.print(status_table(st))
        for q in st.unserved():
            console.print(f"[yellow]no live worker consumes {q}: its jobs wait for a matching device[/]")

    @cli.command("collect")
    @click.argument("suite_id")
    @broker_opt
    @backend_opt
    @click.option(
        "--results", default=None, help="Results store URL as seen from here (default: the workers')."
    )
    @click.option(
        "--out", type=click.Path(path_type=Path), required=True, help="Folder for the suite's results."
    )
    @click.option("--wait", is_flag=True, help="Wait until every job finished first.")
    @click.option("--timeout", type=float, default=None, help="With --wait: give up after S seconds.")
    @click.option("--quiet", is_flag=True, help="No table.")
    def collect_cmd(suite_id, broker, backend, results, out, wait, timeout, quiet) -> None:
        """Copy a suite's evidence bundles into OUT and write the suite report; exit status as `run`."""
        from rich.console import Console

        from exerciser.cli.run_cmd import exit_code, summary_table
        from exerciser.cluster.collect import collect

        st = _wait(broker, backend, suite_id, timeout, quiet) if wait else _status(broker, backend, suite_id)
        got = collect(st, out, results)
        console = Console()
        if not quiet:
            console.print(summary_table(got.results))
        console.print(f"results: {got.out}")
        if got.missing:
            raise UserError(
                f"suite {suite_id}: {len(got.missing)} of {len(st.rows)} jobs not finished: "
                + ", ".join(got.missing)
            )
        sys.exit(exit_code(got.results))
