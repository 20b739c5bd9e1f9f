"""Benchmark of the real-phone path at a phone's pace: served virtual devices that keep wall time and answer
with a phone's latencies (hierarchy dump 1 s, screenshot 0.3 s, tap 50 ms, app start 1.5 s), each in its
own `exerciser sim serve` process, driven through the real adb server and the uiautomator2 driver.

1. pace: the sample suite with a clock method (`cmd alarm set-time`): minutes per app and steps per app.
   At `--scale 1` (the default) the figures are a phone's own; a larger scale runs the phones faster and
   the minutes shown are device minutes (the host's own work then counts `scale` times).
2. park: a suite of `--apps` apps on two phones that allow no clock change: the long waits are parked,
   the devices run other apps meanwhile; the share of the time each device was driving an app. The
   protocol's window is shortened to an hour with its relaunch schedule inside it (settable conventions,
   `SHORT_RULES`) and the clock scaled (`--park-scale`) so that the parked waits last seconds, not days.
3. cluster: the same on the Celery cluster (`--cluster-apps` apps, a real redis-server, one `exerciser
   worker` serving both phones): a long wait ends the attempt with a checkpoint and a delayed task resumes
   it; each device's busy share from the jobs' records (an attempt's start or resume to its park or end).

    .venv/bin/python bench/bench_phone.py [--part pace|park|cluster|all] [--scale 1] [--apps 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_driver import adb, connect, free_port  # noqa: E402

EXE = [sys.executable, "-c", "from exerciser.cli.main import main; main()"]
# the window shortened to an hour, and the relaunch schedule inside it with it (+2 min, +15 min, +30 min)
SHORT_RULES = {"reprompt_window_hours": 1, "relaunch_gap_minutes": 2, "relaunch_2_hours": 0.25}
SHORT_RULES |= {"relaunch_3_hours": 0.5}


def scaled_rules(scale: float) -> dict:
    """SHORT_RULES for phones whose clock runs `scale` times as fast: a tap's round trip over adb lasts
    `scale` times as long in device time, so the window that puts a request down to the tap (300 ms on a
    phone) grows with it."""
    return SHORT_RULES | {"request_tap_window_ms": int(300 * scale)}


# Device seconds a run may spend (waits and jumps excluded) on a scaled clock: the host's own work counts
# `scale` times, and a loaded host alone can pass a phone's 6 h.
SCALED_BUDGETS = {"device_seconds": 10 * 6 * 3600}


def serve(
    out: Path, locale: str, apps: list[str], scale: float, methods: str
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [*EXE, "sim", "serve", "--port", str(port), "--profile", "api33", "--locale", locale]
    cmd += ["--clock-scale", str(scale), "--phone-speed", "phone", "--clock-methods", methods]
    for a in apps:
        cmd += ["--app", a]
    log = open(out / f"serve-{port}.log", "w+")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(cmd, stderr=log, text=True)
    while "serving" not in Path(log.name).read_text():
        if proc.poll() is not None:
            raise SystemExit(Path(log.name).read_text())
        time.sleep(0.05)
    return proc, f"127.0.0.1:{port}"


def stop(adb_port: int, served: list[tuple[subprocess.Popen, str]]) -> None:
    for proc, serial in served:
        adb(adb_port, "disconnect", serial)
        proc.terminate()
    for proc, _ in served:
        proc.wait(10)


def scenarios(ids: list[str], rules: dict | None = None, n: int | None = None):
    from exerciser import SCENARIOS_DIR
    from exerciser.scenario import load_scenario

    picked = ids if n is None else [ids[i % len(ids)] for i in range(n)]
    out = []
    for i, a in enumerate(picked):
        sc = load_scenario(SCENARIOS_DIR / f"{a}.yaml")
        sc = replace(sc, id=a if n is None else f"{a}-{i}", rules=dict(rules) if rules else sc.rules)
        if rules:  # a scaled clock (see SCALED_BUDGETS)
            sc = replace(sc, budgets=replace(sc.budgets, **SCALED_BUDGETS))
        out.append(sc)
    return out


def sample_ids() -> dict[str, list[str]]:
    from exerciser import SCENARIOS_DIR

    by_locale: dict[str, list[str]] = {"en-US": [], "zh-CN": []}
    for p in sorted(SCENARIOS_DIR.glob("*.yaml")):
        if (Path(SCENARIOS_DIR).parent / "sample_apks" / p.stem / "app.yaml").exists():
            by_locale["zh-CN" if p.stem.endswith("_zh") else "en-US"].append(p.stem)
    return by_locale


def runner():
    from exerciser.runner.app_run import run_app

    return lambda sc, dev, out, **kw: run_app(sc, dev, out, finalize=False, **kw)


def auto_time(adb_port: int, serial: str) -> str:
    return adb(adb_port, "-s", serial, "shell", "settings get global auto_time").strip()


# --- 1. pace ----------------------------------------------------------------------------------------------


def pace(adb_port: int, out: Path, scale: float, per_locale: int) -> None:
    from exerciser.rack import run_suite

    groups = {loc: ids[:per_locale] for loc, ids in sample_ids().items()}
    print(
        f"\n== pace: {sum(map(len, groups.values()))} sample apps, phone-speed latencies, clock x{scale:g}, "
    )
    print("   `cmd alarm set-time` allowed; one phone per locale, both at once ==")
    served = {loc: serve(out, loc, ids, scale, "alarm") for loc, ids in groups.items()}
    results: dict[str, list] = {}
    try:
        for _, serial in served.values():
            connect(adb_port, serial)

        def run(loc: str) -> None:
            results[loc] = run_suite(
                scenarios(groups[loc]), [served[loc][1]], out / loc, False, adb_port=adb_port, runner=runner()
            )

        threads = [threading.Thread(target=run, args=(loc,)) for loc in groups]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        restored = {serial: auto_time(adb_port, serial) for _, serial in served.values()}
    finally:
        stop(adb_port, list(served.values()))
    rows = []
    for loc, res in results.items():
        for r in res:
            run_json = json.loads((out / loc / r.app / "run.json").read_text())
            rows.append((r.app, r.wall_seconds * scale / 60, r.steps, r.status, run_json["clock"]))
    for app, minutes, steps, status, clock in rows:
        print(f"  {app:28} {minutes:6.1f} min  {steps:4d} steps  {status:12} clock: {clock['methods']}")
    mins = [m for _, m, *_ in rows]
    steps = [s for _, _, s, *_ in rows]
    print(
        f"minutes per app: median {statistics.median(mins):.1f}, max {max(mins):.1f} (target <= 10); "
        f"steps per app: median {statistics.median(steps):.0f}, max {max(steps)}; "
        f"{statistics.median([m * 60 / s for m, s in zip(mins, steps, strict=True)]):.2f} s per step"
    )
    print(f"automatic time at the end: {restored}")


# --- 2. park ----------------------------------------------------------------------------------------------


def park(adb_port: int, out: Path, scale: float, n_apps: int) -> None:
    from exerciser.rack import run_suite

    ids = sample_ids()["zh-CN"]
    print(f"\n== park: {n_apps} apps on 2 phones that allow no clock change, clock x{scale:g}, ")
    print(f"   phone-speed latencies, windows shortened {scaled_rules(scale)} ==")
    served = [serve(out, "zh-CN", ids, scale, "none") for _ in range(2)]
    try:
        for _, serial in served:
            connect(adb_port, serial)
        t0 = time.perf_counter()
        res = run_suite(
            scenarios(ids, scaled_rules(scale), n_apps),
            [s for _, s in served],
            out / "park",
            False,
            adb_port=adb_port,
            runner=runner(),
        )
        took = time.perf_counter() - t0
        restored = {serial: auto_time(adb_port, serial) for _, serial in served}
    finally:
        stop(adb_port, served)
    rack = json.loads((out / "park" / "rack.json").read_text())
    for d in rack["devices"]:
        share = 100 * d["busy_s"] / d["span_s"] if d["span_s"] else 0
        print(f"  {d['serial']:18} {len(d['apps']):3d} apps  parked {d['parked']:3d}x  busy {share:5.1f} %")
    busy = sum(d["busy_s"] for d in rack["devices"]) / sum(d["span_s"] for d in rack["devices"])
    errors = sum(1 for r in res if r.error)
    steps = [r.steps for r in res]
    print(
        f"{len(res)} apps in {took / 60:.1f} min, {errors} with errors; device busy {100 * busy:.1f} % "
        f"(target >= 90); steps per app median {statistics.median(steps):.0f}"
    )
    print(f"automatic time at the end: {restored}")


# --- 3. cluster -------------------------------------------------------------------------------------------


def cluster(adb_port: int, out: Path, scale: float, n_apps: int) -> None:
    import redis
    import yaml

    from exerciser import SCENARIOS_DIR

    ids = sample_ids()["zh-CN"]
    print(
        f"\n== cluster: {n_apps} apps, one worker with 2 phones that allow no clock change, clock x{scale:g},"
    )
    print(f"   phone-speed latencies, rules {scaled_rules(scale)}; parked jobs resume as delayed tasks ==")
    suite_dir = out / "cluster-suite"
    suite_dir.mkdir()
    names = []
    for i in range(n_apps):
        a = ids[i % len(ids)]
        sc = yaml.safe_load((SCENARIOS_DIR / f"{a}.yaml").read_text(encoding="utf-8"))
        names.append(f"{a}-{i}.yaml")
        sc |= {"id": f"{a}-{i}" if n_apps > len(ids) else a, "rules": scaled_rules(scale)}
        sc["budgets"] = SCALED_BUDGETS
        (suite_dir / names[-1]).write_text(yaml.safe_dump(sc, allow_unicode=True))
    (suite_dir / "suite.yaml").write_text(f"name: bench\nscenarios: [{', '.join(names)}]\n")
    rport = free_port()
    rdir = out / "redis"
    rdir.mkdir()
    rsrv = subprocess.Popen(
        ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"]
        + ["--dir", str(rdir)],
        stdout=subprocess.DEVNULL,
    )
    broker = f"redis://127.0.0.1:{rport}/0"
    served = [serve(out, "zh-CN", ids, scale, "none") for _ in range(2)]
    worker = None
    try:
        r = redis.Redis.from_url(broker, decode_responses=True)
        while not _ping(r):
            time.sleep(0.05)
        for _, serial in served:
            connect(adb_port, serial)
        devices = ",".join(s for _, s in served)
        wlog = open(out / "worker.log", "w")  # noqa: SIM115 (closed with the process)
        worker = subprocess.Popen(
            [*EXE, "worker", "--broker", broker, "--devices", devices, "--results", str(out / "store")]
            + ["--adb-port", str(adb_port), "--name", "bench"],
            stdout=wlog,
            stderr=subprocess.STDOUT,
        )
        while len(list(r.scan_iter("exerciser:worker:*"))) < 2:
            time.sleep(0.2)
        t0 = time.perf_counter()
        sid = (
            subprocess.run(
                [*EXE, "submit", str(suite_dir / "suite.yaml"), "--broker", broker],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        while True:
            st = json.loads(
                subprocess.run(
                    [*EXE, "status", sid, "--broker", broker, "--json"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            if st["finished"]:
                break
            time.sleep(2)
        took = time.perf_counter() - t0
        restored = {serial: auto_time(adb_port, serial) for _, serial in served}
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(60)
        stop(adb_port, served)
        rsrv.terminate()
        rsrv.wait(10)
    shares, parks = busy_shares(st["jobs"])
    for serial, (attempts, used, span) in sorted(shares.items()):
        print(f"  {serial:18} {attempts:3d} attempts  busy {100 * used / span:5.1f} %")
    done = st["counts"].get("done", 0)
    share = 100 * sum(u for _, u, _ in shares.values()) / sum(s for *_, s in shares.values())
    print(
        f"{done}/{len(st['jobs'])} jobs done in {took / 60:.1f} min, {parks} parks resumed as delayed tasks; "
        f"device busy {share:.1f} % (target >= 90)"
    )
    print(f"automatic time at the end: {restored}")


def busy_shares(jobs: list[dict]) -> tuple[dict[str, tuple[int, float, float]], int]:
    """Per device, from the jobs' records (`exerciser status --json`): attempts, wall seconds driven (an
    attempt's start or resume to its park or completion) and the span from its first start to its last
    end; and how many parks were resumed."""
    spans: dict[str, list[tuple[float, float]]] = {}
    parks = 0
    for j in jobs:
        began: dict[int, tuple[float, str]] = {}
        for e in j["history"]:
            if e["event"] in ("started", "resumed"):
                began[e["attempt"]] = (e["at"], e["serial"])
                parks += e["event"] == "resumed"
            elif e["event"] in ("parked", "completed") and e["attempt"] in began:
                at, serial = began.pop(e["attempt"])
                spans.setdefault(serial, []).append((at, e["at"]))
    out = {}
    for serial, sp in spans.items():
        out[serial] = (len(sp), sum(b - a for a, b in sp), max(b for _, b in sp) - min(a for a, _ in sp))
    return out, parks


def _ping(r) -> bool:
    try:
        return bool(r.ping())
    except Exception:
        return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("pace", "park", "cluster", "both", "all"), default="both")
    ap.add_argument("--scale", type=float, default=1.0, help="clock scale of the pace part")
    ap.add_argument("--pace-apps", type=int, default=2, help="sample apps per locale in the pace part")
    ap.add_argument("--park-scale", type=float, default=150.0)
    ap.add_argument("--apps", type=int, default=30)
    ap.add_argument("--cluster-apps", type=int, default=12)
    args = ap.parse_args()
    adb_port = free_port()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(adb_port)
    adb(adb_port, "start-server")
    out = Path(tempfile.mkdtemp(prefix="bench-phone-"))
    try:
        if args.part in ("pace", "both", "all"):
            pace(adb_port, out, args.scale, args.pace_apps)
        if args.part in ("park", "both", "all"):
            park(adb_port, out, args.park_scale, args.apps)
        if args.part in ("cluster", "all"):
            cluster(adb_port, out, args.park_scale, args.cluster_apps)
    finally:
        adb(adb_port, "kill-server")
    print(f"(runs kept in {out})")


if __name__ == "__main__":
    main()
