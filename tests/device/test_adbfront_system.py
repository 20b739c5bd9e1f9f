"""The served device answers as AOSP does where real clients (uiautomator2, adbutils) look: the shell's
grammar and builtins, processes, pm/am/dumpsys formats, adb services, helper APKs, the notification
shade. Shell-level checks run in process; the adb services run through the real adb server."""

from __future__ import annotations

import re
import struct
import time
from pathlib import Path

import pytest
from adb_helpers import serve

from exerciser.sim import VirtualDevice, resolve_model
from exerciser.sim.adbfront.commands import make_commands
from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Shell

APPS = Path(__file__).parent / "client_apps"
DEMO = "com.example.u2testdemo"
APIS = "io.appium.android.apis"


def _device(profile: str = "api33") -> VirtualDevice:
    models = [resolve_model(str(APPS / "u2testdemo.yaml")), resolve_model(str(APPS / "apidemos.yaml"))]
    return VirtualDevice(models, profile=profile, locale="en-US")


@pytest.fixture()
def sh():
    phone = Phone(_device(), "127.0.0.1:7401", 7401)
    return Shell(phone.fs, make_commands(phone)), phone


def run(shell: Shell, line: str) -> tuple[str, str, int]:
    out, err, status = shell.run(line)
    return out.decode(), err.decode(), status


def test_shell_grammar_loops_arithmetic_substitution_cwd_and_scripts(sh):
    shell, _ = sh
    assert run(shell, "for i in 1 2 3; do echo n$i; done")[0] == "n1\nn2\nn3\n"
    assert run(shell, "i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i $((7 / 2)) $((-7 % 3))")[0] == (
        "3 3 -1\n"
    )
    assert run(shell, "for f in $(echo a b); do echo [$f]; done")[0] == "[a]\n[b]\n"  # fields split
    assert run(shell, 'x="a b"; for f in "$x"; do echo [$f]; done')[0] == "[a b]\n"  # quoted: one
    assert run(shell, "if [ -d /sdcard ]; then echo yes; else echo no; fi")[0] == "yes\n"
    assert run(shell, "printf 'a b\\nc d\\n' | while read x y; do echo $y; done")[0] == "b\nd\n"
    assert run(shell, "pwd; cd /data/local/tmp && pwd && echo hi > rel.txt && cat /data/local/tmp/rel.txt")[
        0
    ] == ("/\n/data/local/tmp\nhi\n")
    assert run(shell, "cd /nope")[1:] == ("/system/bin/sh: cd: /nope: No such file or directory\n", 2)
    run(shell, "echo 'echo script $1 $#; exit 3' > /data/local/tmp/s.sh")
    assert run(shell, "sh /data/local/tmp/s.sh arg; echo $?") == ("script arg 1\n3\n", "", 0)
    assert run(shell, "sh /data/local/tmp/none.sh")[2] == 127
    assert run(shell, "for x in a; do")[1].startswith("/system/bin/sh: syntax error")


def test_system_commands_and_properties(sh):
    shell, phone = sh
    assert run(shell, "uname")[0] == "Linux\n"
    assert run(shell, "uname -a")[0].startswith("Linux localhost 5.10.")
    run(shell, "touch /data/local/tmp/t")
    size, mtime = run(shell, "stat -c '%s %Y' /data/local/tmp/t")[0].split()
    assert size == "0" and int(mtime) == phone.now_ms() // 1000  # the device clock, not the host's
    listing = run(shell, "ls /system/bin")[0].split()
    assert {"ls", "sh", "pm", "am", "uname", "stat", "log"} <= set(listing) and "cd" not in listing
    assert run(shell, "/system/bin/getprop ro.build.version.codename")[0] == "REL\n"
    for prop in (
        "ro.build.version.incremental",
        "ro.product.first_api_level",
        "ro.hardware",
        "sys.usb.state",
    ):
        assert run(shell, f"getprop {prop}")[0].strip(), prop
    assert "inet 192.168.1.105/24" in run(shell, "ip addr show dev wlan0")[0]
    run(shell, "svc wifi disable")
    assert "inet " not in run(shell, "ip addr show dev wlan0")[0]
    run(shell, "log -p w -t MyTag hello there")
    assert re.search(r"W/MyTag\(\s*\d+\): hello there", run(shell, "logcat -d -v time")[0])
    assert run(shell, "service check clipboard")[0] == "Service clipboard: found\n"
    run(
        shell,
        "content insert --uri content://settings/system --bind name:s:screen_brightness --bind value:i:77",
    )
    assert "value=77" in run(shell, "content query --uri content://settings/system/screen_brightness")[0]


def test_ps_selects_like_toybox(sh):
    shell, phone = sh
    mine = run(shell, "ps")[0].splitlines()
    assert mine[0].split()[:3] == ["USER", "PID", "PPID"] and [ln.split()[-1] for ln in mine[1:]] == [
        "sh",
        "ps",
    ]
    users = {ln.split()[0] for ln in run(shell, "ps -u shell")[0].splitlines()[1:]}
    assert users == {"shell"}
    full = run(shell, "ps -ef")[0].splitlines()
    assert full[0].split() == ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert any(ln.split()[0] == "system" and ln.endswith("system_server") for ln in full)
    assert run(shell, "kill 99999")[1] == "/system/bin/sh: kill: 99999: No such process\n"


def test_pm_answers_like_package_manager(sh):
    shell, phone = sh
    uids = dict(re.findall(r"package:(\S+) uid:(\d+)", run(shell, "pm list packages -U")[0]))
    assert (uids["android"], uids["com.android.shell"], uids["com.android.phone"]) == ("1000", "2000", "1001")
    path = run(shell, f"pm path {DEMO}")[0].strip().removeprefix("package:")
    assert f"package:{path}={DEMO}" in run(shell, "pm list packages -f")[0]
    assert run(shell, "pm list users")[0] == "Users:\n\tUserInfo{0:Owner:c13} running\n"
    assert "feature:android.hardware.camera" in run(shell, "pm list features")[0]
    assert run(shell, "pm list instrumentation") == ("", "", 0)
    err = run(shell, f"pm grant {DEMO} android.permission.NO_SUCH")[1]
    assert err == (
        "Exception occurred while executing 'grant':\n"
        "java.lang.IllegalArgumentException: Unknown permission: android.permission.NO_SUCH\n"
    )
    assert (
        "has not requested permission android.permission.READ_SMS"
        in run(shell, f"pm grant {DEMO} android.permission.READ_SMS")[1]
    )
    assert run(shell, f"pm set-permission-flags {DEMO} android.permission.CAMERA bogus")[0].startswith(
        "Error: specified flag bogus is not one of [user-set, user-fixed"
    )
    run(shell, f"pm set-permission-flags {DEMO} android.permission.CAMERA user-fixed user-set")
    line = run(shell, f"dumpsys package {DEMO} | grep CAMERA:")[0]
    assert "flags=[ USER_SET|USER_FIXED|USER_SENSITIVE_WHEN_GRANTED|USER_SENSITIVE_WHEN_DENIED]" in line
    run(shell, "pm reset-permissions")
    assert "USER_SET" not in run(shell, f"dumpsys package {DEMO} | grep CAMERA:")[0]
    assert run(shell, f"pm disable-user {DEMO}")[0] == f"Package {DEMO} new state: disabled-user\n"
    assert run(shell, "pm list packages -d")[0] == f"package:{DEMO}\n"
    run(shell, f"pm enable {DEMO}")
    launcher = run(shell, "dumpsys package com.android.launcher3")[0]
    assert (
        "userId=10112" in launcher
        and "flags=[ SYSTEM HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]" in launcher
    )


def test_am_start_resolves_activities_and_reports_like_activity_manager(sh):
    shell, phone = sh
    out, err, status = run(shell, f"am start -n {DEMO}/.NotExistActivity")
    assert status == 0 and out == f"Starting: Intent {{ cmp={DEMO}/.NotExistActivity }}\n"
    assert err == f"Error type 3\nError: Activity class {{{DEMO}/{DEMO}.NotExistActivity}} does not exist.\n"
    out = run(shell, f"am start -W -n {DEMO}/.AdditionActivity")[0]
    assert "LaunchState: COLD" in out and f"Activity: {DEMO}/.AdditionActivity" in out
    assert phone.focus() == (DEMO, f"{DEMO}.AdditionActivity")
    assert "LaunchState: HOT" in run(shell, f"am start -W -n {DEMO}/.AdditionActivity")[0]
    run(shell, f"am start -n {APIS}/.ApiDemos")
    acts = run(shell, "dumpsys activity activities")[0]
    tasks = re.findall(r"\* Task\{\w+ #(\d+) type=standard A=(\d+):(\S+)", acts)
    assert [t[2] for t in tasks] == [APIS, DEMO] and len({t[0] for t in tasks}) == len(
        {t[1] for t in tasks}
    ) == 2
    assert "mResumedActivity: ActivityRecord{" in acts and f"{APIS}/.ApiDemos t{tasks[0][0]}}}" in acts
    starts = run(shell, "logcat -d | grep 'START u0'")[0]
    assert f"cmp={DEMO}/.AdditionActivity}} from uid 2000" in starts
    out = run(shell, f"monkey -v -p {APIS} 7")[0]
    assert "Events injected: 7" in out and out.count(":Sending Touch (ACTION_DOWN)") >= 1


def test_window_focus_is_where_each_android_version_prints_it():
    for profile, in_windows in (("api33", False), ("api28", True)):
        phone = Phone(_device(profile), "127.0.0.1:7401", 7401)
        shell = Shell(phone.fs, make_commands(phone))
        assert ("mCurrentFocus=" in run(shell, "dumpsys window windows")[0]) is in_windows, profile
        assert "mCurrentFocus=Window{" in run(shell, "dumpsys window")[0]
        assert ("mCurrentFocus=Window{" in run(shell, "dumpsys window displays")[0]) is not in_windows


def test_notification_shade_is_in_front_until_collapsed(sh):
    shell, phone = sh
    before = phone.observation().xml
    run(shell, "cmd statusbar expand-notifications")
    assert "No notifications" in phone.observation().xml
    assert (
        "mCurrentFocus=Window{" in (w := run(shell, "dumpsys window displays")[0])
        and "NotificationShade" in w
    )
    run(shell, "input keyevent BACK")
    assert phone.observation().xml == before
    w, h = phone.info.width, phone.info.height
    run(shell, f"input swipe {w // 2} 5 {w // 2} {h // 2} 50")  # pulled from the status bar
    assert phone.state.shade == "notifications"
    run(shell, f"input swipe {w // 2} {h // 5} {w // 2} {h // 2} 50")
    assert phone.state.shade == "quick_settings" and "Auto-rotate" in phone.observation().xml
    run(shell, "cmd statusbar collapse")
    assert phone.observation().xml == before


@pytest.fixture(scope="module")
def served(adb_server):
    fronts = serve([_device()], adb_server)
    import adbutils

    client = adbutils.AdbClient(port=adb_server.port)
    yield client.device(fronts[0].serial), fronts[0], adb_server
    fronts[0].stop()


def test_install_multiple_session_with_grants(served, tmp_path):
    from exerciser.sim.adbfront.install import model_apk

    dev, front, adb = served
    apk = model_apk(
        Path(__file__).parents[2] / "sample_apks" / "compliant_en" / "app.yaml", tmp_path / "a.apk"
    )
    r = adb.run("-s", front.serial, "install-multiple", "-g", str(apk))
    assert r.stdout.strip() == "Success", r
    lines = dev.shell("dumpsys package com.pocketledger.app | grep -E 'CAMERA:|RECORD_AUDIO:'").splitlines()
    assert len(lines) == 2 and all("granted=true" in ln for ln in lines)


def test_adb_services_reverse_framebuffer_tcpip(served):
    dev, front, _ = served
    dev.reverse("tcp:12345", "tcp:4000")
    assert [(r.remote, r.local) for r in dev.reverse_list()] == [("tcp:12345", "tcp:4000")]
    img = dev.framebuffer()
    assert img.size == (front.phone.info.width, front.phone.info.height)
    c = dev.open_transport()
    c.send_command("framebuffer:")
    c.check_okay()
    version, bpp, colorspace = struct.unpack("<3I", c.read(12))
    assert (version, bpp, colorspace) == (2, 32, 1)
    c.close()
    assert dev.tcpip(5555).strip() == "restarting in TCP mode port: 5555"


def test_kill_reaches_the_uiautomator_process_and_sh_script_reads_the_stream(served):
    dev, front, _ = served
    dev.sync.push(b"jar", "/data/local/tmp/u2.jar")
    conn = dev.shell(
        "CLASSPATH=/data/local/tmp/u2.jar app_process / com.wetest.uia2.Main -p 9008", stream=True
    )
    deadline = time.monotonic() + 5
    pid = None
    while pid is None and time.monotonic() < deadline:
        rows = [ln.split() for ln in dev.shell("ps -u shell").splitlines()]
        pid = next((r[1] for r in rows if r[-1] == "app_process"), None)
    assert pid is not None
    dev.shell(f"kill {pid}")
    conn.read_until_close()  # the process died: adbd closed its stream
    assert "app_process" not in dev.shell("ps -A")
    # adbutils' recorder script: `read` waits for the line the client sends down the stream
    dev.sync.push(b"read ANY\necho got $ANY\n", "/data/local/tmp/r.sh")
    c = dev.shell(["sh", "/data/local/tmp/r.sh"], stream=True)
    c.send(b"go\n")
    assert c.read_until_close().strip() == "got go"


def _android_pubkey(key) -> bytes:
    """A host key in Android's RSAPublicKey layout (what adb sends with AUTH RSAPUBLICKEY)."""
    import base64

    n = key.public_key().public_numbers().n
    words = 64
    n0inv = (-pow(n, -1, 1 << 32)) % (1 << 32)
    rr = pow(2, 4096, n)
    raw = struct.pack("<II", words, n0inv) + n.to_bytes(256, "little") + rr.to_bytes(256, "little")
    raw += struct.pack("<I", key.public_key().public_numbers().e)
    return base64.b64encode(raw) + b" tester@host\0"


def test_adbd_authentication_of_a_new_host_and_a_known_one():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

    from exerciser.sim.adbfront.auth import ADB_AUTH_RSAPUBLICKEY, ADB_AUTH_SIGNATURE, AdbKeys, Handshake

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = AdbKeys()
    hs = Handshake(keys)

    def sign(token: bytes) -> bytes:
        return key.sign(token, padding.PKCS1v15(), utils.Prehashed(hashes.SHA1()))

    assert hs.on_auth(ADB_AUTH_SIGNATURE, sign(hs.new_token())) is False  # unknown key: another token
    assert hs.on_auth(ADB_AUTH_RSAPUBLICKEY, _android_pubkey(key)) is True  # the user allows it
    again = Handshake(keys)  # the next connection signs with the stored key
    assert again.on_auth(ADB_AUTH_SIGNATURE, sign(again.new_token())) is True
    assert again.on_auth(ADB_AUTH_SIGNATURE, b"\0" * 256) is False


def test_list_screen_rows_sit_in_android_list():
    dev = _device()
    dev.app_start(APIS)
    xml = dev.observe().xml
    m = re.search(r'resource-id="android:id/list" class="android.widget.ListView".*?</node></node>', xml)
    assert m is not None
    rows = re.findall(
        r'text="([^"]+)" resource-id="android:id/text1" class="android.widget.TextView"', m.group(0)
    )
    assert rows[:4] == ["Accessibility", "Animation", "App", "Content"]
