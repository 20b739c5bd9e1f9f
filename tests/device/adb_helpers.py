"""Helpers of the device tests: free loopback ports, the real Debian adb server, serving virtual devices.

A plain module, not conftest.py: several test folders have a conftest, so `from conftest import` would
pick whichever was imported last.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass

ADB = "/usr/bin/adb"
# The protocol's windows, shortened for served phones whose clock runs 150 times as fast (both are
# settable conventions) so that a real wait fits a test: the longest wait (to the end of the window, plus
# half an hour) is then ~1 device hour = ~24 wall seconds, still long enough to hand the device over
# (20 s). The relaunch schedule inside the window shrinks with it; and a
# tap's round trip over adb (a few ms of host time) lasts seconds of device time at this scale, so the
# window that puts a request down to the tap grows by the same factor (300 ms on a phone).
PHONE_PACE_RULES = {
    "reprompt_window_hours": 1,
    "relaunch_gap_minutes": 2,
    "relaunch_2_hours": 0.25,
    "relaunch_3_hours": 0.5,
    "past_window_hours": 0.5,
    "request_tap_window_ms": 300 * 100,
}
# Device seconds a run may spend (its waits and clock jumps excluded): the host's own work lasts 150 times
# as long in device time, and on a loaded host that alone can pass a phone's 6 h; ten times as much room.
PHONE_PACE_DEVICE_SECONDS = 10 * 6 * 3600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """n consecutive free loopback ports (a virtual rack)."""
    for _ in range(50):
        base = free_port()
        if base + n > 65000:
            continue
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return list(range(base, base + n))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


@dataclass
class AdbServer:
    port: int

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(
            [ADB, "-P", str(self.port), *args], capture_output=True, text=True, timeout=timeout
        )

    def connect(self, serial: str) -> None:
        out = self.run("connect", serial)
        assert "connected to" in out.stdout, out
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if f"{serial}\tdevice" in self.run("devices").stdout:
                return
            time.sleep(0.1)
        raise AssertionError(f"{serial} never came online: {self.run('devices').stdout}")


def serve(devices, adb: AdbServer, **phone):
    """Start an adb front per device on free consecutive ports and `adb connect` each (`phone`: the
    fronts' clock_scale, speed, clock_methods)."""
    from exerciser.sim.adbfront import AdbFront

    ports = free_ports(len(devices))
    fronts = [AdbFront(d, p, **phone).start() for d, p in zip(devices, ports, strict=True)]
    for f in fronts:
        adb.connect(f.serial)
    return fronts


@contextmanager
def driven(device, adb: AdbServer, **phone):
    """One served device and the uiautomator2 driver a phone gets, closed and stopped afterwards."""
    from exerciser.device.u2driver import U2Device

    (front,) = serve([device], adb, **phone)
    drv = U2Device(front.serial, adb_port=adb.port)
    try:
        yield drv
    finally:
        drv.close()
        front.stop()


def past_consent(drv, package: str, agree: str = "Agree"):
    """Start the app and agree to its policy; the raw uiautomator2 device, on the app's first screen."""
    drv.app_start(package)
    d = drv._u2
    assert d(text=agree).wait(timeout=5)
    d(text=agree).click()
    return d


def has_ffmpeg() -> bool:
    return shutil.which("ffmpeg") is not None
