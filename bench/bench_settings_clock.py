"""Benchmark of a clock jump on a phone that allows only the Settings app's Date & time page, against one
whose shell may `cmd alarm set-time`: served virtual devices with a phone's latencies (hierarchy dump 1 s,
screenshot 0.3 s, tap 50 ms), through the real adb server, the uiautomator2 driver and the safety guard.

Prints, per method, the device seconds a jump costs (the phone's /proc/uptime across it: what it would
take on a phone), the wall seconds here, the inputs judged by the guard per jump, and how far past the
asked time the clock lands (the pickers keep minute precision).

    .venv/bin/python bench/bench_settings_clock.py [--jumps 5] [--scale 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_driver import adb, connect, free_port  # noqa: E402

from exerciser.device.u2driver import U2Device  # noqa: E402
from exerciser.safety import GuardedDevice  # noqa: E402
from exerciser.sim import VirtualDevice, load_sample  # noqa: E402
from exerciser.sim.adbfront import AdbFront  # noqa: E402
from exerciser.sim.adbfront.clock import PhoneSpeed  # noqa: E402

ADB = "/usr/bin/adb"
JUMP_S = 2 * 3600.0


def uptime(drv: U2Device) -> float:
    return float(drv.sh("cat /proc/uptime")[0].split()[0])


def one(method: str, adb_port: int, jumps: int, scale: float) -> dict[str, float]:
    dev = VirtualDevice([load_sample("compliant_en")], profile="api33", locale="en-US", seed=1)
    front = AdbFront(
        dev, free_port(), clock_scale=scale, speed=PhoneSpeed(), clock_methods=frozenset({method})
    )
    front.start()
    connect(adb_port, front.serial)
    drv = U2Device(front.serial, adb_port=adb_port)
    guarded = GuardedDevice(drv)
    judged = []
    judge = guarded.guard.judge_point
    guarded.guard.judge_point = lambda *a, **k: judged.append(1) or judge(*a, **k)  # type: ignore[method-assign]
    dev_s, wall_s, inputs, over_s = [], [], [], []
    try:
        for _ in range(jumps):
            n0, up0, t0, w0 = len(judged), uptime(drv), drv.now_ms(), time.monotonic()
            guarded.advance_clock(JUMP_S)
            wall_s.append(time.monotonic() - w0)
            dev_s.append(uptime(drv) - up0)
            over_s.append((drv.now_ms() - t0) / 1000 - JUMP_S)
            inputs.append(len(judged) - n0)
        restored = drv.restore_clock()
    finally:
        drv.close()
        adb(adb_port, "disconnect", front.serial)
        front.close()
    return {
        "method": drv.clock.method or "-",
        "device_s": statistics.median(dev_s),
        "wall_s": statistics.median(wall_s),
        "taps": statistics.median(inputs),
        "past_s": statistics.median(over_s),
        "auto_time": restored.get("auto_time", "?"),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jumps", type=int, default=5)
    ap.add_argument("--scale", type=float, default=10.0)
    args = ap.parse_args()
    port = free_port()
    subprocess.run([ADB, "-P", str(port), "start-server"], check=True, capture_output=True)
    try:
        for method in ("alarm", "settings-ui"):
            r = one(method, port, args.jumps, args.scale)
            print(
                f"{method:12s} method={r['method']}: a 2 h jump costs {r['device_s']:.1f} device s "
                f"({r['wall_s']:.2f} wall s at x{args.scale:g}), {r['taps']:.0f} taps judged by the guard, "
                f"clock lands {r['past_s']:.0f} s past the asked time (median of {args.jumps}); "
                f"automatic time at the end: {r['auto_time']}"
            )
    finally:
        subprocess.run([ADB, "-P", str(port), "kill-server"], capture_output=True)


if __name__ == "__main__":
    main()
