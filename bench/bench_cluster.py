"""Benchmark: suite throughput of the Celery + Redis cluster with 1, 2 and 4 workers on virtual devices.

Starts a private redis-server on a loopback port, then for each worker count W starts W `exerciser
worker --virtual 1` processes (each one in-process virtual device, as W hosts with one device would
be), waits until they are ready, submits the same suite and waits until every job is done. Prints
per round: wall time from submit to the last job, apps per minute and the ratio to one worker, the
mean time a job spends running on its device, and the rest (queueing, claiming, evidence copied to the
results store) per job. One run: figures on a shared machine are noisy.

    .venv/bin/python bench/bench_cluster.py [--workers 1,2,4] [--apps 8] [--probes consent,8]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REDIS = "/usr/bin/redis-server"
CLI = [sys.executable, "-c", "from exerciser.cli.main import main; main()"]
# Quick samples in both languages; the suite cycles through them when --apps asks for more.
APPS = [
    ("camera_on_news_list_en", "en-US"),
    ("no_privacy_dialog_zh", "zh-CN"),
    ("perms_before_consent_en", "en-US"),
    ("deletion_hotline_zh", "zh-CN"),
    ("refusal_wall_en", "en-US"),
    ("perms_before_consent_zh", "zh-CN"),
    ("re_ask_every_launch_en", "en-US"),
    ("deletion_id_upload_zh", "zh-CN"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    import redis

    port = free_port()
    proc = subprocess.Popen(
        [
            REDIS,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def write_suite(folder: Path, n: int, probes: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(n):
        app, locale = APPS[i % len(APPS)]
        sid = f"{app}-{i}"
        plist = ", ".join(f'"{p}"' for p in probes)
        (folder / f"{sid}.yaml").write_text(
            f"id: {sid}\napp: {{sample: {app}}}\nlocale: {locale}\nprofile: api33\nprobes: [{plist}]\n"
        )
        names.append(f"{sid}.yaml")
    suite = folder / "suite.yaml"
    suite.write_text(f"name: bench\nscenarios: [{', '.join(names)}]\n")
    return suite


def run_round(broker: str, suite: Path, workers: int, tmp: Path) -> dict:
    import redis

    from exerciser.cluster.keys import live_workers
    from exerciser.cluster.progress import suite_status
    from exerciser.cluster.submit import build_jobs, submit

    r = redis.Redis.from_url(broker, decode_responses=True)
    store = tmp / f"store-{workers}"
    t_spawn = time.monotonic()
    procs = [
        subprocess.Popen(
            [
                *CLI,
                "worker",
                "--broker",
                broker,
                "--virtual",
                "1",
                "--name",
                f"b{workers}-{i}",
                "--results",
                str(store),
                "--loglevel",
                "WARNING",
                "--allow-volatile-broker",  # throughput only: persistence is not what this measures
            ],
            stdout=subprocess.DEVNULL,
            stderr=(tmp / f"w{workers}-{i}.log").open("w"),
        )
        for i in range(workers)
    ]
    try:
        while len(live_workers(r)) < workers:
            if any(p.poll() is not None for p in procs):
                raise SystemExit(f"a worker exited; see {tmp}/w{workers}-*.log")
            time.sleep(0.1)
        ready_s = time.monotonic() - t_spawn
        rec, jobs = build_jobs(suite)
        t0 = time.monotonic()
        submit(rec, jobs, broker)
        while not (st := suite_status(r, rec.id)).finished:
            time.sleep(0.2)
        wall = time.monotonic() - t0
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(60)
    t = [row.summary.get("timings") or {} for row in st.rows if row.summary]
    part = {
        k: statistics.mean(float(x.get(k, 0)) for x in t) if t else 0.0 for k in ("run", "bundle", "upload")
    }
    bad = [row.app for row in st.rows if row.state != "done" or row.attempts != 1]
    busy = sum(part.values()) * len(t)
    return {
        "workers": workers,
        "ready_s": ready_s,
        "wall": wall,
        "apps": len(st.rows),
        **part,
        "other_s": (wall * workers - busy) / max(1, len(t)),
        "bad": bad,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    ap.add_argument("--apps", type=int, default=8, help="jobs in the suite")
    ap.add_argument("--probes", default="consent,8", help="probe list of every job")
    args = ap.parse_args()
    counts = [int(x) for x in args.workers.split(",") if x.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as t:
        tmp = Path(t)
        proc, broker = start_redis(tmp)
        try:
            suite = write_suite(tmp / "suite", args.apps, args.probes.split(","))
            print(
                f"suite: {args.apps} jobs, probes {args.probes}; {os.cpu_count()} cores; "
                f"load {os.getloadavg()[0]:.1f}; broker {broker}"
            )
            rows = []
            for w in counts:
                rows.append(run_round(broker, suite, w, tmp))
                x = rows[-1]
                print(f"  {w} worker(s): {x['wall']:.1f} s", flush=True)
        finally:
            proc.terminate()
            proc.wait(10)
    base = rows[0]["apps"] / rows[0]["wall"]
    print()
    head = ("workers", "ready s", "suite s", "apps/min", "ratio", "run s", "bundle s", "upload s", "other s")
    print("  ".join(f"{h:>8}" for h in head))
    for x in rows:
        rate = x["apps"] / x["wall"]
        cells = (
            x["workers"],
            x["ready_s"],
            x["wall"],
            rate * 60,
            rate / base,
            x["run"],
            x["bundle"],
            x["upload"],
        )
        print("  ".join(f"{c:>8.2f}" if isinstance(c, float) else f"{c:>8}" for c in (*cells, x["other_s"])))
        if x["bad"]:
            print(f"          not done exactly once: {', '.join(x['bad'])}")
    print(
        "\nready s: worker processes started until all serve. Per job (means): run s on the device, bundle s "
        "(video, reports, manifest), upload s (last copy to the results store); other s: the rest of "
        "suite s x workers per job (queue, claim, fetch, idle tail while the last jobs finish)."
    )


if __name__ == "__main__":
    main()
