"""Parking in the rack, without adb: a job whose phone cannot move its clock gives the device up for a long
wait, the device runs the next app meanwhile, and the parked job takes it back first in line; a short wait
keeps the device. Device and jobs are stand-ins whose clock runs with wall time (scaled)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from exerciser.device.contract import DeviceInfo, Key
from exerciser.scenario import AppRef, Scenario

SCALE = 1000.0  # device seconds per wall second


class TickingPhone:
    """Just what parking touches: a clock that runs by itself, a HOME key, its facts."""

    def __init__(self, serial: str) -> None:
        self.info = DeviceInfo(serial, 33, "13", "aosp", "en-US", 1080, 2340)
        self._t0 = time.monotonic()
        self.keys: list[Key] = []

    def now_ms(self) -> int:
        return 1_767_600_000_000 + int((time.monotonic() - self._t0) * SCALE * 1000)

    def key(self, key: Key) -> None:
        self.keys.append(key)


@dataclass
class Done:
    app: str
    serial: str
    steps: int = 0
    status: str = "compliant"
    error: str | None = None


class Jobs:
    """Each app works `work_s` wall seconds; the ones in `waits` then wait that many device seconds."""

    def __init__(self, waits: dict[str, float], work_s: float = 0.3) -> None:
        self.waits, self.work_s = waits, work_s
        self.events: list[str] = []
        self.lock = threading.Lock()

    def note(self, text: str) -> None:
        with self.lock:
            self.events.append(text)

    def __call__(self, sc, device, out_dir, park=None, **_):
        self.note(f"start {sc.id}")
        time.sleep(self.work_s)
        if sc.id in self.waits:
            self.note(f"park {sc.id}")
            park(self.waits[sc.id])
            self.note(f"resume {sc.id}")
            time.sleep(self.work_s)
        self.note(f"end {sc.id}")
        return Done(sc.id, device.info.serial)


def suite(*ids: str) -> list[Scenario]:
    return [Scenario(id=i, app=AppRef("package", f"com.example.{i}")) for i in ids]


def run(tmp_path: Path, jobs: Jobs, ids: list[str], phone: TickingPhone):
    from exerciser.rack import run_suite

    return run_suite(
        suite(*ids),
        [phone.info.serial],
        tmp_path,
        progress=False,
        device_factory=lambda serial: phone,
        runner=jobs,
        hand_over_s=0.5,
    )


def test_a_long_wait_hands_the_device_over_and_resumes_first(tmp_path, monkeypatch):
    monkeypatch.setattr("exerciser.rack.scheduler.ensure_installed", lambda dev, sc: None)
    phone = TickingPhone("phone-1")
    jobs = Jobs({"a": 700.0}, work_s=1.0)  # 0.7 wall seconds: handed over; over while b still runs
    results = run(tmp_path, jobs, ["a", "b", "c"], phone)
    assert [r.app for r in results] == ["a", "b", "c"] and all(r.serial == "phone-1" for r in results)
    ev = jobs.events
    # b ran while a was parked; when b ended, a took the device back before c started
    assert ev.index("park a") < ev.index("start b") < ev.index("end b") < ev.index("resume a")
    assert ev.index("resume a") < ev.index("start c")
    assert ev.index("end a") < ev.index("start c")  # one app drives the device at a time
    assert phone.keys == [Key.HOME]  # back at the launcher before a goes on
    log = (tmp_path / "rack.log").read_text()
    assert "phone-1: a PARKED for 11.7 min of device time" in log and "serves other apps" in log
    assert "phone-1: a resumed after a wait of" in log
    import json

    (dev,) = json.loads((tmp_path / "rack.json").read_text())["devices"]
    assert dev["parked"] == 1 and 0 < dev["busy_s"] <= dev["span_s"]


def test_a_short_wait_keeps_the_device(tmp_path, monkeypatch):
    monkeypatch.setattr("exerciser.rack.scheduler.ensure_installed", lambda dev, sc: None)
    phone = TickingPhone("phone-1")
    jobs = Jobs({"a": 100.0})  # 0.1 wall seconds: not worth handing over
    run(tmp_path, jobs, ["a", "b"], phone)
    assert jobs.events == ["start a", "park a", "resume a", "end a", "start b", "end b"]
    assert phone.keys == []
    assert "too short to hand the device over" in (tmp_path / "rack.log").read_text()


def test_without_parking_a_long_wait_is_slept_a_minute_at_a_time_with_progress(
    adb_server, tmp_path, monkeypatch
):
    """`exerciser check --device` (nobody else to give the phone to) waits in place: the phone's own `sleep`,
    never more than a minute per call, and a progress line per device hour (here per 10 minutes)."""
    import re

    from adb_helpers import serve

    from exerciser.device.u2driver import U2Device
    from exerciser.runner import session
    from exerciser.runner.app_run import default_reader
    from exerciser.runner.session import Session
    from exerciser.sim import VirtualDevice

    monkeypatch.setattr(session, "WAIT_REPORT_S", 600.0)

    (front,) = serve(
        [VirtualDevice([], profile="api33", locale="en-US", seed=4)],
        adb_server,
        clock_scale=600.0,  # half a device hour in three wall seconds
        clock_methods=frozenset(),  # a production phone: no clock change
    )
    try:
        dev = U2Device(front.serial, adb_port=adb_server.port)
        notes: list[str] = []
        s = Session(dev, "com.android.settings", tmp_path, default_reader(), progress=notes.append)
        t0 = dev.now_ms()
        step = s.advance(1800, note="a long wait")
        assert dev.now_ms() - t0 >= 1800 * 1000
        assert step.action["method"] == "waited"
        waits = [n for n in notes if n.startswith("waiting on the phone's clock")]
        left = [float(re.search(r"([\d.]+) h left", n).group(1)) for n in waits]  # a line per 10 min
        # what is left when the wait begins: half an hour less the round trips before it (trying the clock
        # methods), which at this scale cost device minutes on a loaded host (a wall second is 10 minutes)
        assert 0.25 < left[0] <= 0.5 and left[-1] <= 10 / 60 + 0.005  # a line per 10 min to the end
        assert len(left) >= 2 and all(round((a - b) * 60) == 10 for a, b in zip(left, left[1:], strict=False))
        sleeps = [float(m) for c in front.phone.history for m in re.findall(r"\bsleep ([\d.]+)", c)]
        # A minute at most per call; most of the wait is the phone's own sleep (the rest: the round trips
        # between calls, which at this clock scale are device seconds each).
        assert max(sleeps) <= 60 and sum(sleeps) >= 1800 / 2
        assert s.jumped_ms >= 1800 * 1000  # the wait is not counted as the run's device time
        assert front.phone.state.settings["global"]["auto_time"] == "1"
    finally:
        front.close()


def test_a_parked_wait_ends_when_the_phone_says_so_at_its_pace(monkeypatch):
    """The wait is looked at by the phone's measured pace: on a phone 150 times as fast, 90 device
    seconds are 0.6 wall seconds, not the poll's whole second (on a fake wall clock)."""
    from exerciser.rack import park

    wall = [0.0]

    class Phone:
        def now_ms(self) -> int:
            return int(wall[0] * 150 * 1000)

    class Clock:  # park's own `time` only: nothing else in the process sees it
        @staticmethod
        def sleep(s: float) -> None:
            wall[0] += s

        @staticmethod
        def monotonic() -> float:
            return wall[0]

    monkeypatch.setattr(park, "time", Clock)
    assert park.wait_device_time(Phone(), 90, rate=150) == 0.6
    wall[0] = 0.0
    assert park.wait_device_time(Phone(), 90, rate=1.0) == 1.0  # a pace unknown: one poll's second
