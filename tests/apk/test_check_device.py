"""`exerciser check APK --device SERIAL` through real adb: install, run, uninstall.

The phone is the virtual device behind its adb front (`exerciser sim serve`), reached by Debian's adb
server on a private port and driven by the uiautomator2/adbutils driver exactly like a phone. It runs
APKs that carry their behaviour model (`assets/exerciser/app.yaml`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exerciser import SAMPLES_DIR
from exerciser.apk import axml
from exerciser.apk.build import manifest_xml, write_apk

ADB = "/usr/bin/adb"
EXERCISER = [str(Path(sys.executable).with_name("exerciser"))]  # the installed command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def phone():
    """(serial, virtual device, env) of a served virtual device with no apps installed."""
    if not os.path.exists(ADB):
        pytest.skip("Debian adb not installed (apt install adb)")
    from exerciser.sim import VirtualDevice
    from exerciser.sim.adbfront import AdbFront

    port = _free_port()
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(port), ADBUTILS_ADB_PATH=ADB)
    subprocess.run([ADB, "-P", str(port), "start-server"], check=True, capture_output=True, env=env)
    try:
        dport = _free_port()
        device = VirtualDevice([], serial=f"127.0.0.1:{dport}")
        front = AdbFront(device, dport).start()
        out = subprocess.run(
            [ADB, "-P", str(port), "connect", front.serial], capture_output=True, text=True, env=env
        ).stdout
        assert "connected to" in out, out
        deadline = time.monotonic() + 15
        while (
            f"{front.serial}\tdevice"
            not in subprocess.run(
                [ADB, "-P", str(port), "devices"], capture_output=True, text=True, env=env
            ).stdout
        ):
            assert time.monotonic() < deadline, "served device never came online"
            time.sleep(0.1)
        yield front.serial, device, env
    finally:
        subprocess.run([ADB, "-P", str(port), "kill-server"], capture_output=True, env=env)


def _run(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*EXERCISER, "check", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=Path(__file__).parent,
    )


def test_apk_is_installed_checked_and_removed(phone, tmp_path):
    serial, device, env = phone
    from exerciser.sim.adbfront.install import model_apk

    apk = model_apk(SAMPLES_DIR / "compliant_en" / "app.yaml", tmp_path / "pocket-ledger.apk")
    r = _run(
        env, str(apk), "--device", serial, "--out", str(tmp_path / "out"), "--probe", "consent", "--quiet"
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"on {serial}" in r.stdout and "COMPLIANT" in r.stdout
    assert (tmp_path / "out" / "com.pocketledger.app" / "verdict.json").exists()
    assert "com.pocketledger.app" not in device.installed_packages()  # uninstalled after the check


def test_install_failure_is_one_line_exit_2(phone, tmp_path):
    serial, device, env = phone
    # a valid APK, but nothing the virtual phone can run (no behaviour model inside)
    apk = write_apk(tmp_path / "plain.apk", axml.encode_text(manifest_xml("com.example.plain")))
    r = _run(env, str(apk), "--device", serial, "--out", str(tmp_path / "out"), "--quiet")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "install failed" in lines[0] and str(apk) in lines[0], r.stderr
    assert "com.example.plain" not in device.installed_packages()
