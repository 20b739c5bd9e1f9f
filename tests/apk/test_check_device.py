"""`exerciser check APK --device SERIAL` through real adb: install, run, uninstall.

The phone is the virtual device behind its adb front (as `exerciser sim serve` serves it), reached by
Debian's adb server on a private port and driven by the uiautomator2/adbutils driver exactly like a phone.
It runs APKs that carry their behaviour model (`assets/exerciser/app.yaml`); the APK here is made by
Debian's aapt, as a build would make it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# the adb test helpers live with the device tests (a plain module, see its docstring)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "device"))
from aapt_apks import AAPT, aapt_apk, framework_stub  # noqa: E402
from adb_helpers import ADB, AdbServer, free_port, serve  # noqa: E402

from exerciser import SAMPLES_DIR  # noqa: E402
from exerciser.apk import axml  # noqa: E402
from exerciser.apk.build import manifest_xml, write_apk  # noqa: E402
from exerciser.apk.check import EMBEDDED_MODEL  # noqa: E402

EXERCISER = [str(Path(sys.executable).with_name("exerciser"))]  # the installed command


@pytest.fixture(scope="module")
def phone():
    """(serial, virtual device, env for the command) of a served virtual device with no apps installed."""
    if not os.path.exists(ADB):
        pytest.skip("Debian adb not installed (apt install adb)")
    from exerciser.sim import VirtualDevice

    server = AdbServer(free_port())
    assert server.run("start-server").returncode == 0
    env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(server.port), ADBUTILS_ADB_PATH=ADB)
    fronts = []
    try:
        device = VirtualDevice([])
        # a rooted test phone whose clock runs 20 times as fast (the protocol's watches are short)
        fronts = serve([device], server, clock_methods=frozenset({"root"}), clock_scale=20.0)
        yield fronts[0].serial, device, env
    finally:
        server.run("kill-server")
        for f in fronts:
            f.stop()


def _run(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*EXERCISER, "check", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=Path(__file__).parent,
    )


@pytest.fixture(scope="module")
def ledger_apk(tmp_path_factory):
    """Pocket Ledger (the compliant sample) as aapt packages it: binary manifest, resources, the model."""
    if AAPT is None:
        pytest.skip("Debian aapt not installed (apt install aapt)")
    work = tmp_path_factory.mktemp("ledger")
    model = (SAMPLES_DIR / "compliant_en" / "app.yaml").read_bytes()
    manifest = manifest_xml(
        "com.pocketledger.app",
        version_name="@string/version",
        target_sdk=34,
        permissions=["android.permission.CAMERA", "android.permission.RECORD_AUDIO"],
        label="@string/app_name",
    )
    return aapt_apk(
        work / "pocket-ledger-release.apk",
        manifest,
        framework=framework_stub(work),
        strings={"app_name": "Pocket Ledger", "version": "5.4.0"},
        assets={EMBEDDED_MODEL.removeprefix("assets/"): model},
    )


def test_apk_is_installed_checked_and_removed(phone, ledger_apk, tmp_path):
    serial, device, env = phone
    out = tmp_path / "out"
    r = _run(env, str(ledger_apk), "--device", serial, "--out", str(out), "--probe", "consent", "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    head = r.stdout.splitlines()[0]
    # label and version come from resources.arsc, through the manifest's @string references
    assert (
        head
        == f"exerciser check: com.pocketledger.app (Pocket Ledger, version 5.4.0, target SDK 34) on {serial}"
    )
    assert "verdict:  COMPLIANT  (exit 0)" in r.stdout
    assert (out / "com.pocketledger.app" / "verdict.json").exists()
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
