"""Two virtual devices behind the adb front, driven by the real Debian adb (server and command line)."""

from __future__ import annotations

import hashlib
import os
import sys

import pytest
from adb_helpers import serve

from exerciser.sim import VirtualDevice, load_sample

EN = "com.pocketledger.app"
EXERCISER = [sys.executable, "-c", "from exerciser.cli.main import main; main()"]


@pytest.fixture(scope="module")
def rack(adb_server):
    zh_model = load_sample("compliant_zh")
    devices = [
        VirtualDevice([load_sample("compliant_en")], profile="api33", locale="en-US"),
        VirtualDevice([zh_model], profile="api29", locale="zh-CN"),
    ]
    fronts = serve(devices, adb_server)
    yield adb_server, fronts, zh_model.package
    for f in fronts:
        f.stop()


def test_devices_listed_with_model_and_state(rack):
    adb, fronts, _ = rack
    out = adb.run("devices", "-l").stdout
    for f in fronts:
        line = next(ln for ln in out.splitlines() if ln.startswith(f.serial))
        assert line.split()[1] == "device"
        assert "model:" in line and "product:" in line


def test_getprop_per_device(rack):
    adb, (a, b), _ = rack
    assert adb.run("-s", a.serial, "shell", "getprop", "ro.build.version.sdk").stdout.strip() == "33"
    assert adb.run("-s", b.serial, "shell", "getprop", "ro.build.version.sdk").stdout.strip() == "29"
    assert adb.run("-s", b.serial, "shell", "getprop", "persist.sys.locale").stdout.strip() == "zh-CN"
    assert adb.run("-s", a.serial, "shell", "getprop", "ro.serialno").stdout.strip() == f"EXR{a.port:05d}"


def test_dumpsys_package_runtime_permissions(rack):
    adb, (a, b), zh_pkg = rack
    out = adb.run("-s", a.serial, "shell", "dumpsys", "package", EN).stdout
    assert f"Package [{EN}]" in out and "versionName=5.4.0" in out and "targetSdk=34" in out
    block = out.split("runtime permissions:")[1]
    sensitive = "USER_SENSITIVE_WHEN_GRANTED|USER_SENSITIVE_WHEN_DENIED"  # every app permission, API 29+
    assert f"android.permission.CAMERA: granted=false, flags=[ {sensitive}]" in block
    assert adb.run("-s", a.serial, "shell", "pm", "grant", EN, "android.permission.CAMERA").returncode == 0
    out = adb.run("-s", a.serial, "shell", "dumpsys package " + EN + " | grep CAMERA:").stdout
    assert "android.permission.CAMERA: granted=true" in out
    # the other device is untouched
    assert f"Package [{zh_pkg}]" in adb.run("-s", b.serial, "shell", "dumpsys", "package", zh_pkg).stdout
    assert "Unable to find package" in adb.run("-s", b.serial, "shell", "dumpsys", "package", EN).stdout


def test_shell_v2_exit_status_and_stderr(rack):
    adb, (a, _), _ = rack
    r = adb.run("-s", a.serial, "shell", "nosuchcommand")
    assert r.returncode == 127 and "/system/bin/sh: nosuchcommand: not found" in r.stderr
    assert adb.run("-s", a.serial, "shell", "false").returncode == 1
    assert adb.run("-s", a.serial, "shell", "echo ok && true").stdout == "ok\n"


def test_push_pull_and_md5_across_packet_boundaries(rack, tmp_path):
    adb, (a, _), _ = rack
    data = os.urandom(700_000)  # several 64 KiB sync chunks, several WRTE payloads
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    assert adb.run("-s", a.serial, "push", str(src), "/data/local/tmp/sub/blob.bin").returncode == 0
    md5 = adb.run("-s", a.serial, "shell", "toybox", "md5sum", "/data/local/tmp/sub/blob.bin").stdout.split()[
        0
    ]
    assert md5 == hashlib.md5(data).hexdigest()
    back = tmp_path / "back.bin"
    assert adb.run("-s", a.serial, "pull", "/data/local/tmp/sub/blob.bin", str(back)).returncode == 0
    assert back.read_bytes() == data
    assert "blob.bin" in adb.run("-s", a.serial, "shell", "ls", "/data/local/tmp/sub").stdout
    r = adb.run("-s", a.serial, "pull", "/data/local/tmp/nothing", str(tmp_path / "x"))
    assert r.returncode != 0 and "No such file or directory" in r.stdout + r.stderr


def test_install_a_model_apk_with_adb_install(rack, tmp_path):
    from exerciser.sim.adbfront.install import model_apk
    from exerciser.sim.appmodel import SAMPLES_DIR

    adb, (a, _), _ = rack
    apk = model_apk(SAMPLES_DIR / "refusal_wall_en" / "app.yaml", tmp_path / "wall.apk")
    r = adb.run("-s", a.serial, "install", str(apk))
    assert r.returncode == 0 and "Success" in r.stdout, r
    pkgs = adb.run("-s", a.serial, "shell", "pm", "list", "packages", "-3").stdout
    assert len(pkgs.split()) == 2
    bad = tmp_path / "bad.apk"
    bad.write_bytes(b"not an apk")
    r = adb.run("-s", a.serial, "install", str(bad))
    assert r.returncode != 0 and "INSTALL_PARSE_FAILED_NOT_APK" in (r.stdout + r.stderr)


def test_sim_serve_command_serves_a_rack(adb_server):
    """`exerciser sim serve --count 2` in its own process: two devices on consecutive ports."""
    import subprocess

    from adb_helpers import free_ports

    port = free_ports(2)[0]
    proc = subprocess.Popen(
        [
            *EXERCISER,
            "sim",
            "serve",
            "--port",
            str(port),
            "--count",
            "2",
            "--app",
            "compliant_en",
            "--profile",
            "api30",
            "--locale",
            "zh-CN",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stderr.readline() for _ in range(2)]
        assert all("serving 127.0.0.1:" in ln for ln in lines), lines
        for p in (port, port + 1):
            adb_server.connect(f"127.0.0.1:{p}")
            r = adb_server.run(
                "-s", f"127.0.0.1:{p}", "shell", "getprop ro.build.version.sdk; pm list packages -3"
            )
            assert r.stdout.split() == ["30", f"package:{EN}"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_sim_serve_bad_input_is_one_line_exit_2():
    import subprocess

    r = subprocess.run(
        [*EXERCISER, "sim", "serve", "--app", "no_such_app"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "no_such_app" in r.stderr
