"""Benchmark of the real-device driver against virtual devices served over the adb protocol.

1. Per step: the time a step takes through the uiautomator2/adbutils driver (real adb server, adb front,
   on-device-server emulation) vs. the time spent inside the virtual device for that step, and the
   same call on the virtual device in process.
2. Suite throughput through the rack with 1, 2 and 4 virtual devices (each served by its own
   `exerciser sim serve` process), apps per minute and the ratio to one device.

    .venv/bin/python bench/bench_driver.py [--rounds 30] [--apps 8] [--runner auto|run_app|walk]

`--runner walk` replaces `run_app` by a fixed walk of N steps per app (observe + tap + events + clock)
when the full exerciser is not wanted (or not available).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ADB = os.environ.get("ADBUTILS_ADB_PATH", "/usr/bin/adb")
APP = "com.pocketledger.app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def adb(port: int, *args: str) -> str:
    return subprocess.run([ADB, "-P", str(port), *args], capture_output=True, text=True, timeout=60).stdout


def connect(port: int, serial: str) -> None:
    adb(port, "connect", serial)
    deadline = time.monotonic() + 20
    while f"{serial}\tdevice" not in adb(port, "devices"):
        if time.monotonic() > deadline:
            raise SystemExit(f"{serial} did not come online")
        time.sleep(0.1)


def start_adb_server() -> int:
    """A private adb server on a free port, which adbutils and uiautomator2 of this process use."""
    port = free_port()
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)
    os.environ["ADBUTILS_ADB_PATH"] = ADB
    subprocess.run([ADB, "-P", str(port), "start-server"], capture_output=True, check=True)
    return port


def ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def centre(xml: str, text: str) -> tuple[int, int]:
    m = re.search(r'text="' + re.escape(text) + r'"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', xml)
    x1, y1, x2, y2 = map(int, m.groups())
    return (x1 + x2) // 2, (y1 + y2) // 2


# --- 1. per step ---------------------------------------------------------------------------------------


def per_step(adb_port: int, rounds: int) -> None:
    from exerciser.device.contract import Key
    from exerciser.device.u2driver import U2Device
    from exerciser.sim import VirtualDevice, load_sample
    from exerciser.sim.adbfront import AdbFront

    model = load_sample("compliant_en")
    local = VirtualDevice([model], seed=5)
    local.input_costs = False  # the served twin's inputs take wall time, not virtual time
    front = AdbFront(VirtualDevice([model], seed=5), free_port()).start()
    connect(adb_port, front.serial)
    t = time.perf_counter()
    drv = U2Device(front.serial, adb_port=adb_port)
    connect_s = time.perf_counter() - t
    stats = front.phone.stats

    def same_screen() -> bool:  # at the same moment: the served phone's clock runs with wall time
        xml = drv.observe().xml
        local.set_clock(front.phone.device.now_ms())
        return xml == local.observe().xml

    def inside(names: tuple[str, ...]) -> float:
        return sum(stats[n].seconds for n in names)

    for dev in (local, drv):
        dev.app_start(APP)
    x, y = centre(local.observe().xml, "Agree")
    for dev in (local, drv):
        dev.tap(x, y)
    assert same_screen()
    tabs = [centre(local.observe().xml, t) for t in ("Discover", "Home")]
    rows: dict[str, tuple[list[float], list[float], list[float]]] = {}
    add = centre(local.observe().xml, "Add expense")
    for dev in (local, drv):  # a screen with a text field: every typed digit is new content
        dev.tap(*add)
    amount = centre(local.observe().xml, "Amount")
    for dev in (local, drv):
        dev.tap(*amount)

    def measure(name: str, call, dev_names: tuple[str, ...], before=None) -> None:
        drv_t, dev_t, loc_t = rows.setdefault(name, ([], [], []))
        for k in range(rounds):
            if before:
                before(k)
            t0 = time.perf_counter()
            call(local)
            loc_t.append(time.perf_counter() - t0)
            d0 = inside(dev_names)
            t0 = time.perf_counter()
            call(drv)
            drv_t.append(time.perf_counter() - t0)
            dev_t.append(inside(dev_names) - d0)

    def type_digit(k: int) -> None:  # new content before every capture: nothing is served from a cache
        for dev in (local, drv):
            dev.type_text(str(k % 10))

    measure("observe (new content)", lambda d: d.observe(), ("observe", "jpeg_encode"), before=type_digit)
    measure("type_text", lambda d: d.type_text("7"), ("type_text",))
    assert same_screen()  # both walked the same way
    for dev in (local, drv):
        dev.key(Key.BACK)
    measure("tap", lambda d: d.tap(*tabs[0]), ("tap",))

    def switch_tab(k: int) -> None:  # back and forth between two screens: each was seen before
        for dev in (local, drv):
            dev.tap(*tabs[k % 2])

    measure("observe (seen before)", lambda d: d.observe(), ("observe", "jpeg_encode"), before=switch_tab)

    def back_and_return(d) -> None:
        d.key(Key.BACK)
        d.app_start(APP)

    measure("key back + app_start", back_and_return, ("key", "app_start"))
    measure("app_start", lambda d: d.app_start(APP), ("app_start",))
    measure("permissions", lambda d: d.permissions(APP), ("permissions",))
    measure("events(since)", lambda d: d.events(d.now_ms() - 60_000), ("events", "now_ms"))
    measure("is_alive", lambda d: d.is_alive(APP), ("is_alive", "pid", "pidof"))
    measure("now_ms", lambda d: d.now_ms(), ("now_ms",))
    print(f"\n== per step ({rounds} rounds, medians; driver connect incl. u2.jar push: {connect_s:.2f} s) ==")
    print(f"{'step':22} {'driver':>10} {'in device':>10} {'overhead':>10} {'ratio':>7} {'in-process':>11}")
    for name, (drv_t, dev_t, loc_t) in rows.items():
        d, v, loc = ms(drv_t), ms(dev_t), ms(loc_t)
        ratio = f"{d / v:6.1f}x" if v > 0.05 else "    -"
        print(f"{name:22} {d:8.2f}ms {v:8.2f}ms {d - v:8.2f}ms {ratio:>7} {loc:9.2f}ms")
    parts = {k: ms(v) for k, v in drv.timings.items() if k.startswith(("rpc:", "observe"))}
    print("driver, medians of all calls: " + ", ".join(f"{k} {v:.1f} ms" for k, v in sorted(parts.items())))
    print(f"driver PNG cache: {drv._shots.hits} hits, {drv._shots.misses} conversions")
    drv.close()
    front.stop()


# --- 2. throughput -------------------------------------------------------------------------------------


def samples() -> list[str]:
    from exerciser import SAMPLES_DIR

    return sorted(p.parent.name for p in Path(SAMPLES_DIR).glob("*/app.yaml"))


class Walk:
    """A fixed workload per app: start, then N rounds of observe + tap + events + clock."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def __call__(self, sc, device, out_dir, progress=None, **_):
        from exerciser.runner.app_run import AppResult, app_info

        pkg = app_info(sc).package
        device.app_clear(pkg)
        device.app_start(pkg)
        since = device.now_ms()
        for _ in range(self.steps):
            obs = device.observe()
            m = re.findall(r'clickable="true"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', obs.xml)
            if m:
                x1, y1, x2, y2 = map(int, m[len(m) // 2])
                device.tap((x1 + x2) // 2, (y1 + y2) // 2)
            device.events(since)
            device.wait(1.0)
        device.app_stop(pkg)
        return AppResult(sc.id, pkg, Path(out_dir) / sc.id)


def pick_runner(kind: str):
    if kind == "walk":
        return None
    try:
        from exerciser.perceive import Reader  # noqa: F401  (run_app needs the screen reader)
        from exerciser.runner.app_run import run_app
    except ImportError as exc:
        if kind == "run_app":
            raise SystemExit(f"run_app not available: {exc}") from None
        return None
    return run_app


def throughput(adb_port: int, n_apps: int, runner_kind: str, steps: int) -> None:
    from exerciser.rack import run_suite
    from exerciser.scenario import AppRef, Scenario

    ids = samples()
    apps = [ids[i % len(ids)] for i in range(n_apps)]
    scenarios = [Scenario(id=f"{a}-{i}", app=AppRef("sample", a)) for i, a in enumerate(apps)]
    run_app = pick_runner(runner_kind)
    runner = run_app or Walk(steps)
    label = "run_app (all probes)" if run_app else f"walk of {steps} steps"
    exe = [sys.executable, "-c", "from exerciser.cli.main import main; main()"]
    print(f"\n== suite throughput: {len(scenarios)} apps, {label}, each device in its own process ==")
    # in process, no adb: the reference
    from exerciser.sim import VirtualDevice, load_sample

    out = Path(tempfile.mkdtemp(prefix="bench-rack-"))
    try:
        dev = VirtualDevice([load_sample(a) for a in ids])
        t0 = time.perf_counter()
        for sc in scenarios:
            runner(sc, dev, out / "inproc")
        base = time.perf_counter() - t0
        print(f"{'in process (no adb)':22} {base:7.1f} s  {len(scenarios) / base * 60:6.1f} apps/min")
        first = None
        for n in (1, 2, 4):
            procs, serials = [], []
            for _ in range(n):
                p = free_port()
                # phones whose shell may set the clock, keeping wall time 20 times as fast: the protocol's
                # long waits are clock jumps and its watches short (bench_phone.py measures real pace)
                cmd = [*exe, "sim", "serve", "--port", str(p), "--profile", "api33"]
                cmd += ["--clock-methods", "alarm", "--clock-scale", "20"]
                for a in ids:
                    cmd += ["--app", a]
                log = open(out / f"serve-{p}.log", "w+")  # noqa: SIM115 (closed with the process)
                procs.append(subprocess.Popen(cmd, stderr=log, text=True))
                while "serving" not in Path(log.name).read_text():
                    time.sleep(0.05)
                serials.append(f"127.0.0.1:{p}")
            try:
                for s in serials:
                    connect(adb_port, s)
                t0 = time.perf_counter()
                res = run_suite(
                    scenarios,
                    serials,
                    out / f"rack{n}",
                    progress=False,
                    adb_port=adb_port,
                    runner=run_app or Walk(steps),
                )
                took = time.perf_counter() - t0
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait(10)
                for s in serials:
                    adb(adb_port, "disconnect", s)
            errors = sum(1 for r in res if getattr(r, "error", None))
            rate = len(scenarios) / took * 60
            first = first or rate
            name = f"{n} device(s) over adb"
            print(
                f"{name:22} {took:7.1f} s  {rate:6.1f} apps/min  x{rate / first:4.2f} vs 1"
                f"  x{base / took:4.2f} vs in-process" + (f"  ({errors} errors)" if errors else "")
            )
    finally:
        for log in sorted(out.glob("serve-*.log")):
            lines = [
                ln for ln in log.read_text().splitlines() if "serving" not in ln and "connect with" not in ln
            ]
            if lines:
                print(f"{log.name}: {len(lines)} lines logged, first: {lines[0][:200]}")
        shutil.rmtree(out, ignore_errors=True)
    print(f"(cores: {os.cpu_count()}; the devices, the rack and the adb server share them)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--apps", type=int, default=8)
    ap.add_argument("--steps", type=int, default=25, help="steps per app for --runner walk")
    ap.add_argument("--runner", choices=("auto", "run_app", "walk"), default="auto")
    ap.add_argument("--skip-steps", action="store_true")
    ap.add_argument("--skip-suite", action="store_true")
    args = ap.parse_args()
    port = start_adb_server()
    try:
        if not args.skip_steps:
            per_step(port, args.rounds)
        if not args.skip_suite:
            throughput(port, args.apps, args.runner, args.steps)
    finally:
        subprocess.run([ADB, "-P", str(port), "kill-server"], capture_output=True)


if __name__ == "__main__":
    main()
