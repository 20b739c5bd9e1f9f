"""Host cost per step on the served-device path: one sample app run end to end (`run_app`, every probe)
through the real adb server and the uiautomator2 driver against a virtual device served in this process
(`AdbFront`, phone-speed latencies, clock scaled, `cmd alarm set-time` allowed), as the slow device
tests do; and the same app on the virtual device in process.

Prints wall ms per step for both, the phone's own latencies per step (what a phone would take anyway),
and per step: adb shell commands (by verb), JSON-RPC calls (by method), renders of the device,
hierarchy dumps and screenshots asked for, JPEG encodes and PNG conversions.

    .venv/bin/python bench/bench_served_step.py [--app compliant_zh] [--scale 150] [--profile api33]
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_driver import ADB, connect, free_port, start_adb_server  # noqa: E402
from bench_phone import SCALED_BUDGETS, scaled_rules  # noqa: E402


def scenario(app: str, scale: float):
    from exerciser import SCENARIOS_DIR
    from exerciser.scenario import load_scenario

    sc = load_scenario(SCENARIOS_DIR / f"{app}.yaml")
    return replace(sc, rules=scaled_rules(scale), budgets=replace(sc.budgets, **SCALED_BUDGETS))


def device(sc, profile: str, seed: int):
    from exerciser.sim import VirtualDevice, load_app_model

    locale = "zh-CN" if sc.id.endswith("_zh") else "en-US"
    return VirtualDevice([load_app_model(sc.app.model_path)], profile=profile, locale=locale, seed=seed)


def outcome(res) -> dict:
    return {c: (v.verdict, v.figure) for c, v in res.categories.items()}


def in_process(sc, profile: str, out: Path) -> tuple[float, int, dict]:
    from exerciser.runner.app_run import run_app

    dev = device(sc, profile, 21)
    t0 = time.perf_counter()
    res = run_app(sc, dev, out, finalize=False)
    return time.perf_counter() - t0, res.steps, outcome(res)


class Latencies:
    """The phone-speed latencies the served phone slept (serial sum: a capture's overlap counted twice)."""

    def __init__(self, clock) -> None:
        self.seconds = 0.0
        self._lock = threading.Lock()
        inner = clock.latency

        def latency(kind: str) -> None:
            t0 = time.perf_counter()
            inner(kind)
            with self._lock:
                self.seconds += time.perf_counter() - t0

        clock.latency = latency


def served(sc, profile: str, scale: float, adb_port: int, out: Path) -> dict:
    from exerciser.device.u2driver import U2Device
    from exerciser.runner.app_run import run_app
    from exerciser.sim.adbfront import AdbFront
    from exerciser.sim.adbfront.clock import PhoneSpeed

    front = AdbFront(
        device(sc, profile, 21),
        free_port(),
        clock_scale=scale,
        speed=PhoneSpeed(),
        clock_methods=frozenset({"alarm"}),
    ).start()
    phone = front.phone
    try:
        connect(adb_port, front.serial)
        drv = U2Device(front.serial, adb_port=adb_port)
        try:
            phone.history = collections.deque(maxlen=1_000_000)  # every command line of the run
            lat = Latencies(phone.clock)
            stats0 = {k: v.calls for k, v in phone.stats.items()}
            drv.timings.clear()
            shots0 = drv._shots.misses
            t0 = time.perf_counter()
            res = run_app(sc, drv, out, finalize=False)
            wall = time.perf_counter() - t0
        finally:
            drv.close()
        return {
            "wall": wall,
            "steps": res.steps,
            "outcome": outcome(res),
            "latency": lat.seconds,
            "shell": collections.Counter(_verb(c) for c in phone.history),
            "rpc": collections.Counter(
                {k[4:]: len(v) for k, v in drv.timings.items() if k.startswith("rpc:")}
            ),
            "device": {k: v.calls - stats0.get(k, 0) for k, v in phone.stats.items()},
            "png_conversions": drv._shots.misses - shots0,
            "timings": {k: (len(v), sum(v)) for k, v in drv.timings.items()},
        }
    finally:
        front.stop()


def _verb(cmd: str) -> str:
    words = cmd.split()
    if not words:
        return "(empty)"
    if words[0] in ("dumpsys", "cmd", "pm", "am", "settings", "wm") and len(words) > 1:
        return f"{words[0]} {words[1]}"
    return words[0]


def per_step(counter: collections.Counter, steps: int, top: int = 12) -> str:
    total = sum(counter.values())
    parts = [f"{k} {v / steps:.2f}" for k, v in counter.most_common(top)]
    return f"{total / steps:.2f} per step ({', '.join(parts)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--app", default="compliant_zh")
    ap.add_argument("--scale", type=float, default=150.0)
    ap.add_argument("--profile", default="api33")
    args = ap.parse_args()
    port = start_adb_server()
    out = Path(tempfile.mkdtemp(prefix="bench-served-"))
    try:
        sc = scenario(args.app, args.scale)
        in_process(sc, args.profile, out / "warm-up")  # the screen reader's models load once
        local_s, local_steps, local_out = in_process(sc, args.profile, out / "inproc")
        s = served(sc, args.profile, args.scale, port, out / "served")
    finally:
        subprocess.run([ADB, "-P", str(port), "kill-server"], capture_output=True)
        shutil.rmtree(out, ignore_errors=True)
    n = s["steps"]
    wall_ms, lat_ms = s["wall"] * 1000 / n, s["latency"] * 1000 / n
    local_ms = local_s * 1000 / local_steps
    print(f"== {args.app} on {args.profile}, PhoneSpeed, clock x{args.scale:g} ==")
    print(f"in process: {local_steps} steps, {local_s:.1f} s, {local_ms:.1f} ms per step")
    print(f"served:     {n} steps, {s['wall']:.1f} s, {wall_ms:.1f} ms per step")
    print(
        f"  phone latencies (serial sum) {lat_ms:.1f} ms per step; host beyond them {wall_ms - lat_ms:.1f} ms"
    )
    print(f"  served / in process: x{wall_ms / local_ms:.1f}")
    print(f"  verdicts as in process: {s['outcome'] == local_out}")
    print(f"  adb shell commands: {per_step(s['shell'], n)}")
    print(f"  JSON-RPC calls: {per_step(s['rpc'], n)}")
    dev = s["device"]
    print(
        f"  device renders (observe) {dev.get('observe', 0) / n:.2f}, "
        f"JPEG encodes {dev.get('jpeg_encode', 0) / n:.2f}, "
        f"driver PNG conversions {s['png_conversions'] / n:.2f} per step"
    )
    parts = sorted(s["timings"].items(), key=lambda kv: -kv[1][1])
    print(
        "  driver wall per step by call (calls, ms): "
        + ", ".join(f"{k} {c / n:.2f} {t * 1000 / n:.1f}" for k, (c, t) in parts)
    )


if __name__ == "__main__":
    main()
