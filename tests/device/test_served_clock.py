"""The served device keeps time like a phone (its clock runs, `sleep` blocks, timers fire by themselves, the
clock is set only the ways a phone allows), and the driver's clock control against it: the method it
finds, automatic time put back, a moved clock undone after a run that died. Shell level, no adb: fast."""

from __future__ import annotations

import time

import pytest

from exerciser.device.clockctl import ALARM, MARKER, ROOT_DATE, ClockUnavailable, DeviceClock
from exerciser.sim import VirtualDevice, load_sample
from exerciser.sim.adbfront.clock import PhoneSpeed
from exerciser.sim.adbfront.commands import make_commands
from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Shell
from exerciser.sim.appmodel import parse_app_model

SCALE = 50.0  # device seconds per wall second
TIMER_APP = """
package: com.example.timer
label: Timer
language: en
permissions: []
on_launch:
  - {replace: first}
  - after: 5
    do: [{replace: second}]
screens:
  first:
    activity: .FirstActivity
    widgets: [{type: text, text: First screen}]
  second:
    activity: .SecondActivity
    widgets: [{type: text, text: Second screen}]
"""


def phone_of(methods=(), profile="api33", scale=SCALE, apps=()) -> tuple[Phone, Shell]:
    phone = Phone(VirtualDevice(list(apps), profile=profile), "127.0.0.1:7401", 7401, clock_scale=scale)
    phone.clock_methods = frozenset(methods)
    return phone, Shell(phone.fs, make_commands(phone))


def sh_of(shell: Shell):
    def sh(cmd: str, timeout: float | None = None) -> tuple[str, int]:
        out, err, status = Shell(shell.fs, shell.commands).run(cmd)
        return (out + err).decode(), status

    return sh


def now(shell: Shell) -> int:
    return int(shell.run("date +%s%3N")[0])


def test_clock_runs_with_wall_time_and_sleep_blocks():
    phone, shell = phone_of()
    a = now(shell)
    time.sleep(0.2)
    assert now(shell) - a >= 0.2 * SCALE * 1000  # it ran by itself, SCALE times wall time
    t0 = time.monotonic()
    b = now(shell)
    assert shell.run("sleep 5")[2] == 0
    assert time.monotonic() - t0 >= 5 / SCALE  # blocked for 5 device seconds
    assert now(shell) - b >= 5000
    assert shell.run("sleep x")[2] == 1
    assert "ro.exerciser.virtual" not in shell.run("getprop")[0].decode()
    assert shell.run("exerciser-clock advance 1000")[2] == 127  # no private command


def test_app_timer_fires_with_nobody_asking():
    model = parse_app_model(TIMER_APP, "timer.yaml")
    phone, _ = phone_of(apps=[model])
    phone.call("app_start", model.package)
    assert phone.device.foreground()[1].endswith(".FirstActivity")
    phone.clock.start()
    try:
        time.sleep(8 / SCALE + 0.4)  # 5 s timer, a few ticks of margin
        with phone.lock:  # the device itself, not through a call that would sync it
            assert phone.device.foreground()[1].endswith(".SecondActivity")
    finally:
        phone.clock.stop()


def test_setting_the_clock_only_as_a_phone_allows():
    phone, shell = phone_of()
    out, err, status = shell.run("date -u 010709002026.00")
    assert status == 1 and b"cannot set date: Operation not permitted" in err
    out, _, status = shell.run("cmd alarm set-time 1800000000000")
    assert status == 255 and b"SecurityException" in out
    assert shell.run("su 0 date")[2] == 127  # not rooted: no su
    assert now(shell) < 1800000000000

    phone, shell = phone_of({"alarm"})
    target = now(shell) + 3_600_000
    assert shell.run(f"cmd alarm set-time {target}")[2] == 0
    assert now(shell) < target - 60_000  # automatic time on: network time pulls it back
    shell.run("settings put global auto_time 0")
    assert shell.run("settings get global auto_time")[0] == b"0\n"
    assert shell.run(f"cmd alarm set-time {target}")[2] == 0
    assert target <= now(shell) < target + 60_000  # it holds, and runs on
    shell.run("settings put global auto_time 1")
    assert now(shell) < target - 60_000  # automatic time back on: the true time again

    phone, shell = phone_of({"root"})
    shell.run("settings put global auto_time 0")
    assert shell.run("su 0 date -u 123123592026.30")[2] == 0  # toybox MMDDhhmmCCYY.ss, as root
    assert shell.run("date -u +%Y-%m-%dT%H:%M")[0].decode().startswith("2026-12-31T23:5")
    assert shell.run("su -c 'date -u 010100002027'")[2] == 0  # Magisk / SuperSU form
    assert shell.run("date -u +%Y%m%d")[0] == b"20270101\n"

    phone, shell = phone_of({"alarm"}, profile="api23")  # no AlarmManager shell command before 9
    assert shell.run("cmd alarm set-time 1800000000000")[2] == 255


@pytest.mark.parametrize(
    "methods, expect", [({"alarm"}, ALARM), ({"root"}, ROOT_DATE), ({"alarm", "root"}, ALARM)]
)
def test_driver_finds_the_method_and_puts_automatic_time_back(methods, expect):
    phone, shell = phone_of(methods)
    sh = sh_of(shell)
    clock = DeviceClock(sh, lambda: now(shell), 33)
    t0 = now(shell)
    assert clock.advance(48 * 3600) == expect
    assert now(shell) - t0 >= 48 * 3600 * 1000
    assert sh("settings get global auto_time")[0].strip() == "0"
    assert '"auto": "1"' in sh(f"cat {MARKER}")[0]  # what to undo, on the phone
    done = clock.restore()
    assert done["auto_time"] == "1" and done["set_back_ms"] >= 48 * 3600 * 1000
    assert now(shell) - t0 < 3600 * 1000  # the true time again
    assert sh(f"cat {MARKER}")[1] != 0
    assert clock.to_json()["method"] == expect


def test_no_method_raises_and_leaves_the_phone_as_it_was():
    phone, shell = phone_of()
    sh = sh_of(shell)
    shell.run("settings put global auto_time 1")
    clock = DeviceClock(sh, lambda: now(shell), 33)
    with pytest.raises(ClockUnavailable):
        clock.advance(600)
    assert sh("settings get global auto_time")[0].strip() == "1"
    assert sh(f"cat {MARKER}")[1] != 0
    with pytest.raises(ClockUnavailable):  # known now: not tried again
        clock.advance(600)
    assert clock.restore() == {}


def test_a_run_that_died_is_undone_at_the_next_connect():
    phone, shell = phone_of({"root"})
    sh = sh_of(shell)
    t0 = now(shell)
    DeviceClock(sh, lambda: now(shell), 33).advance(10 * 3600)  # ... and the host died here
    assert now(shell) - t0 >= 10 * 3600 * 1000
    done = DeviceClock(sh, lambda: now(shell), 33).recover()  # the next driver to connect
    assert done["auto_time"] == "1" and done["method"] == ROOT_DATE
    assert now(shell) - t0 < 3600 * 1000
    assert DeviceClock(sh, lambda: now(shell), 33).recover() == {}  # nothing left to undo


def test_phone_speed_latencies():
    assert PhoneSpeed.parse("phone") == PhoneSpeed(1.0, 0.3, 0.05, 1.5)
    assert PhoneSpeed.parse("dump=0.5,tap=0.1") == PhoneSpeed(0.5, 0.3, 0.1, 1.5)
    assert PhoneSpeed.parse("off") == PhoneSpeed.off()
    with pytest.raises(ValueError):
        PhoneSpeed.parse("dmp=1")
    model = load_sample("compliant_en")
    phone = Phone(VirtualDevice([model]), "127.0.0.1:7401", 7401, clock_scale=10, speed=PhoneSpeed())
    t0 = time.monotonic()
    phone.call("app_start", model.package)
    assert time.monotonic() - t0 >= 1.5 / 10  # an app start takes 1.5 device seconds
    from exerciser.sim.adbfront.u2server import call

    t0 = time.monotonic()
    call(phone, "dumpWindowHierarchy", [False, 50])
    assert time.monotonic() - t0 >= 1.0 / 10


@pytest.mark.parametrize(
    "args, words",
    [
        (["--clock-methods", "ntp"], "--clock-methods: unknown ntp"),
        (["--phone-speed", "dmp=1"], "--phone-speed: phone speed: 'dmp=1'"),
    ],
)
def test_sim_serve_bad_clock_options_are_one_line_exit_2(args, words):
    from click.testing import CliRunner

    from exerciser.cli.main import cli

    res = CliRunner().invoke(cli, ["sim", "serve", *args])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], res.output
