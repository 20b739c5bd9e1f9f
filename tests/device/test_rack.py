"""The rack: `exerciser devices`, a suite spread over served virtual devices through the real adb server
and the uiautomator2 driver, and a device unplugged mid-app."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from adb_helpers import serve
from click.testing import CliRunner

from exerciser.device.contract import Device
from exerciser.scenario import AppRef, Scenario
from exerciser.sim import VirtualDevice, load_sample

SAMPLES = ["compliant_en", "re_ask_every_launch_en", "refusal_wall_en", "compliant_zh"]


def scenario(app_id: str) -> Scenario:
    return Scenario(id=app_id, app=AppRef("sample", app_id))


@dataclass
class WalkResult:
    app: str
    serial: str
    steps: int
    status: str = "compliant"


class Walker:
    """A small stand-in for run_app: launch, then tap the first clickable node a few times, writing each
    observed hierarchy as evidence. `on_step(serial, app, n)` lets a test pull the plug mid-app."""

    def __init__(self, steps: int = 4, on_step=None) -> None:
        self.steps = steps
        self.on_step = on_step
        self.ran: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, sc: Scenario, device: Device, out_dir: Path, progress=None, **_):
        pkg = load_sample(sc.id).package
        app_dir = Path(out_dir) / sc.id / "steps"
        app_dir.mkdir(parents=True, exist_ok=True)
        device.app_start(pkg)
        for n in range(1, self.steps + 1):
            obs = device.observe()
            (app_dir / f"{n:04d}.xml").write_text(obs.xml)
            if progress:
                progress(f"step {n}")
            if self.on_step:
                self.on_step(device.info.serial, sc.id, n)
            m = re.search(r'clickable="true"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"', obs.xml)
            if m:
                x1, y1, x2, y2 = map(int, m.groups())
                device.tap((x1 + x2) // 2, (y1 + y2) // 2)
        device.app_stop(pkg)
        with self.lock:
            self.ran.append((device.info.serial, sc.id))
        return WalkResult(sc.id, device.info.serial, self.steps)


@pytest.fixture(scope="module")
def two(adb_server):
    models = [load_sample(s) for s in SAMPLES[:3]]
    fronts = serve([VirtualDevice(models, seed=1), VirtualDevice([], seed=2)], adb_server)
    yield adb_server, fronts
    for f in fronts:
        f.stop()


def test_devices_command_lists_the_rack(two):
    from exerciser.cli.main import cli

    adb, fronts = two
    res = CliRunner().invoke(cli, ["devices", "--adb-port", str(adb.port)])
    assert res.exit_code == 0, res.output
    for f in fronts:
        row = next(ln for ln in res.output.splitlines() if ln.startswith(f.serial))
        assert row.split()[1:3] == ["device", "virtual"] and " 33 " in row  # model: ro.product.model
    res = CliRunner().invoke(cli, ["devices", "--adb-port", str(adb.port), "--json"])
    assert {d["serial"] for d in json.loads(res.output)} == {f.serial for f in fronts}


def test_devices_option_and_unknown_serial(two):
    from exerciser.errors import UserError
    from exerciser.rack import parse_devices_option, resolve_serials

    adb, fronts = two
    assert parse_devices_option("all") == "all"
    assert parse_devices_option(" a:1, b:2 ,") == ["a:1", "b:2"]
    assert resolve_serials("all", adb.port) == sorted(f.serial for f in fronts)
    with pytest.raises(UserError, match="device not attached: 127.0.0.1:1 "):
        resolve_serials(["127.0.0.1:1"], adb.port)


def test_suite_spread_over_two_devices(two, tmp_path):
    from exerciser.rack import run_suite

    adb, fronts = two
    walker = Walker()
    results = run_suite(
        [scenario(s) for s in SAMPLES], "all", tmp_path, progress=True, adb_port=adb.port, runner=walker
    )
    assert [r.app for r in results] == SAMPLES
    assert {serial for serial, _ in walker.ran} == {f.serial for f in fronts}  # both devices worked
    rack = json.loads((tmp_path / "rack.json").read_text())
    assert all(a["status"] == "done" for a in rack["apps"])
    assert sorted(sum((d["apps"] for d in rack["devices"]), [])) == sorted(SAMPLES)
    # the bare device got its apps installed from the models (pm install of a model APK)
    ran_on_bare = [a for s, a in walker.ran if s == fronts[1].serial]
    assert set(ran_on_bare) <= set(fronts[1].device.installed_packages()) | set(ran_on_bare)
    for app in ran_on_bare:
        assert load_sample(app).package in fronts[1].device.installed_packages()
    for s in SAMPLES:
        assert len(list((tmp_path / s / "steps").glob("*.xml"))) == 4


def test_run_command_unknown_serial_is_one_line_exit_2(two, tmp_path):
    import subprocess
    import sys

    from exerciser import SCENARIOS_DIR

    _, fronts = two
    r = subprocess.run(
        [sys.executable, "-c", "from exerciser.cli.main import main; main()", "run"]
        + [str(SCENARIOS_DIR / "compliant_en.yaml"), "--devices", f"{fronts[0].serial},127.0.0.1:1"]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r
    assert len(r.stderr.strip().splitlines()) == 1 and "device not attached: 127.0.0.1:1 " in r.stderr


def test_run_command_on_listed_devices(two, tmp_path):
    """`exerciser run SCENARIO --devices A,B` end to end (consent probe only, to stay short): the rack
    takes both devices, shows its live view and writes a sealed bundle."""
    from exerciser import SCENARIOS_DIR
    from exerciser.cli.main import cli
    from exerciser.evidence.manifest import verify_bundle

    _, fronts = two
    text = (SCENARIOS_DIR / "compliant_en.yaml").read_text()
    scenario_file = tmp_path / "compliant_en.yaml"
    scenario_file.write_text(re.sub(r"(?m)^probes:.*$", "probes: [consent]", text))
    out = tmp_path / "out"
    serials = [f.serial for f in fronts]
    res = CliRunner().invoke(
        cli, ["run", str(scenario_file), "--devices", ",".join(serials), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert "rack: 1/1 apps" in res.output  # the live view's last picture
    rack = json.loads((out / "rack.json").read_text())
    assert [d["serial"] for d in rack["devices"]] == serials and rack["apps"][0]["status"] == "done"
    verdict = json.loads((out / "compliant_en" / "verdict.json").read_text())
    assert verdict["categories"]["consent"]["verdict"] == "compliant"
    assert verdict["serial"] == rack["apps"][0]["serial"]
    assert verify_bundle(out / "compliant_en").ok


# --- the real exerciser through the rack ------------------------------------------------------------

# Three sample apps of the suite (one violation each, in different categories: 8, consent, 5), the
# shortest runs of scenarios/samples.yaml; both served devices and the references are api33 zh-CN.
SUITE = ["deletion_hotline_zh", "no_privacy_dialog_zh", "quit_on_policy_refusal_zh"]
PROFILE, LOCALE = "api33", "zh-CN"
CLOCK_SCALE = 20.0  # the served phones keep wall time, 20 times as fast: the protocol's watches are short


def suite() -> list[Scenario]:
    from exerciser import SCENARIOS_DIR
    from exerciser.scenario import load_scenario

    # a tap's adb round trip lasts CLOCK_SCALE times longer in device time: so does the window that puts
    # a permission request down to the tap (300 ms on a phone)
    rules = {"request_tap_window_ms": 300 * CLOCK_SCALE}
    return [replace(load_scenario(SCENARIOS_DIR / f"{a}.yaml"), rules=rules) for a in SUITE]


def _run_app_or_skip():
    try:
        from exerciser.perceive import Reader  # noqa: F401
        from exerciser.runner.app_run import run_app
    except ImportError as exc:  # the exerciser is still being assembled
        pytest.skip(f"run_app not available yet: {exc}")
    return run_app


def _outcome(res) -> dict[str, tuple[str, object]]:
    return {c: (v.verdict, v.figure) for c, v in res.categories.items()}


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    """Each app run alone on a fresh in-process virtual device: the reference verdicts and figures."""
    from exerciser.sim import load_app_model

    run_app = _run_app_or_skip()
    out = tmp_path_factory.mktemp("inproc")
    refs = {}
    for sc in suite():
        dev = VirtualDevice([load_app_model(sc.app.model_path)], profile=PROFILE, locale=LOCALE)
        refs[sc.id] = _outcome(run_app(sc, dev, out, finalize=False))
    assert {v for r in refs.values() for v, _ in r.values()} == {"violation", "compliant"}
    return refs


class PullPlug:
    """Device proxy that unplugs its served device (stops the server) at the `after`-th observation."""

    def __init__(self, device: Device, front, after: int) -> None:
        self._d, self._front, self._left = device, front, after

    def observe(self):
        self._left -= 1
        if self._left == 0:
            self._front.stop()
        return self._d.observe()

    def __getattr__(self, name):
        return getattr(self._d, name)


def test_real_suite_through_the_rack_same_verdicts(adb_server, tmp_path, in_process, capsys):
    """The suite through the real adb server and the uiautomator2 driver on two served devices: the
    device that starts the third app is unplugged at its 6th observation. The suite still completes, every
    app with the verdicts and figures of the in-process device, and the loss is told in rack.json,
    rack.log, the app's attempts/attempts.json and the lost attempt's own trace."""
    from exerciser.evidence.bundle import finalize_app
    from exerciser.evidence.manifest import verify_bundle
    from exerciser.evidence.trace import load_trace
    from exerciser.rack import run_suite
    from exerciser.runner.app_run import run_app
    from exerciser.sim import load_app_model

    models = [load_app_model(sc.app.model_path) for sc in suite()]
    fronts = serve(  # phones whose shell may set the clock: the long waits are clock jumps
        [VirtualDevice(models, profile=PROFILE, locale=LOCALE, seed=s) for s in (11, 12)],
        adb_server,
        clock_methods=frozenset({"alarm"}),
        clock_scale=CLOCK_SCALE,
    )
    by_serial = {f.serial: f for f in fronts}
    starts: list[tuple[str, str]] = []
    lock = threading.Lock()

    def runner(sc, device, out_dir, **kw):
        with lock:
            starts.append((device.info.serial, sc.id))
            third = len(starts) == 3
        if third:
            device = PullPlug(device, by_serial[device.info.serial], after=6)
        return run_app(sc, device, out_dir, finalize=False, **kw)

    try:
        results = run_suite(
            suite(), list(by_serial), tmp_path, progress=True, adb_port=adb_server.port, runner=runner
        )
    finally:
        for f in fronts:
            f.stop()
    victim, app = starts[2]
    (survivor,) = set(by_serial) - {victim}
    assert [r.app for r in results] == SUITE
    assert {r.app: _outcome(r) for r in results} == in_process
    assert all(not r.error for r in results), [r.error for r in results]
    # both devices gave results; the lost app was finished by the other one
    assert {r.serial for r in results} == {victim, survivor}
    assert next(r for r in results if r.app == app).serial == survivor
    assert starts[3:] == [(survivor, app)]

    # the lost attempt's evidence: kept apart, its trace closed by a line telling what happened
    rel = f"{app}/attempts/1-{victim.replace(':', '_')}"
    lost = tmp_path / rel
    trace = load_trace(lost / "trace.jsonl")
    assert trace.chain_ok, trace.problems
    *steps, last = trace.records
    assert last["probe"] == "rack" and last["action"] == {"type": "device_lost", "serial": victim}
    assert victim in last["note"] and "handed to another device" in last["note"]
    assert 0 < len(steps) < 6 and all((lost / r["screenshot"]).exists() for r in steps)
    assert json.loads((lost / "run.json").read_text())["status"] == "device_lost"
    attempts = json.loads((tmp_path / app / "attempts" / "attempts.json").read_text())["lost_attempts"]
    assert [(a["serial"], a["steps"], a["evidence"]) for a in attempts] == [
        (victim, len(steps), rel.removeprefix(app + "/"))
    ]
    # ... and the new attempt's own evidence in place
    assert (tmp_path / app / "verdict.json").exists() and (tmp_path / app / "trace.jsonl").exists()

    rack = json.loads((tmp_path / "rack.json").read_text())
    dev = {d["serial"]: d for d in rack["devices"]}
    assert dev[victim]["state"] == "lost" and dev[victim]["lost_during"] == app
    assert victim in dev[victim]["reason"] and dev[survivor]["state"] == "done"
    tries = next(x for x in rack["apps"] if x["app"] == app)["attempts"]
    assert [(t["serial"], t["outcome"]) for t in tries] == [(victim, "device_lost"), (survivor, "completed")]
    assert tries[0]["evidence"] == rel and tries[0]["steps"] == len(steps)
    shown = capsys.readouterr().out  # under the live view's last picture
    assert f"lost {victim} during {app} after {len(steps)} steps" in shown
    assert f"{app} finished on {survivor}; its evidence so far: {rel}" in shown
    log = (tmp_path / "rack.log").read_text()
    assert (
        f"{victim}: LOST during {app} after {len(steps)} steps" in log and "handed to another device" in log
    )

    # sealing the app's folder seals the lost attempt with it
    finalize_app(tmp_path / app, video=False)
    files = json.loads((tmp_path / app / "manifest.json").read_text())["files"]
    assert {"attempts/attempts.json", f"{rel.removeprefix(app + '/')}/trace.jsonl"} <= set(files)
    assert verify_bundle(tmp_path / app).ok


class Blip:
    """Device proxy that drops its served device off adb at the `after`-th observation and plugs it back
    `back_s` seconds later (a loose cable, a Wi-Fi adb hiccup)."""

    def __init__(self, device: Device, front, after: int, back_s: float = 1.0) -> None:
        self._d, self._front, self._left, self._back_s = device, front, after, back_s

    def observe(self):
        self._left -= 1
        if self._left == 0:
            self._front.stop()
            threading.Timer(self._back_s, self._front.plug_back).start()
        return self._d.observe()

    def __getattr__(self, name):
        return getattr(self._d, name)


def test_device_offline_for_a_moment_finishes_its_app(adb_server, tmp_path, in_process):
    """One device, one app; it drops off adb for a second in mid-run. The driver waits for it and the app
    finishes on the same device with the in-process verdicts and figures: no lost attempt, one line in
    rack.log, and a trace that is whole."""
    from exerciser.evidence.trace import load_trace
    from exerciser.rack import run_suite
    from exerciser.runner.app_run import run_app
    from exerciser.sim import load_app_model

    sc = suite()[0]
    (front,) = serve(
        [VirtualDevice([load_app_model(sc.app.model_path)], profile=PROFILE, locale=LOCALE, seed=13)],
        adb_server,
        clock_methods=frozenset({"alarm"}),
        clock_scale=CLOCK_SCALE,
    )

    def runner(sc, device, out_dir, **kw):
        return run_app(sc, Blip(device, front, after=8), out_dir, finalize=False, **kw)

    try:
        (res,) = run_suite(
            [sc], [front.serial], tmp_path, progress=False, adb_port=adb_server.port, runner=runner
        )
    finally:
        front.stop()
    assert not res.error and res.serial == front.serial
    assert _outcome(res) == in_process[sc.id]
    assert not (tmp_path / sc.id / "attempts").exists()
    rack = json.loads((tmp_path / "rack.json").read_text())
    assert [(t["serial"], t["outcome"]) for t in rack["apps"][0]["attempts"]] == [(front.serial, "completed")]
    log = (tmp_path / "rack.log").read_text()
    assert re.search(rf"{re.escape(front.serial)}: offline for [\d.]+ s during .+ while running {sc.id}", log)
    assert "LOST" not in log
    trace = load_trace(tmp_path / sc.id / "trace.jsonl")
    assert trace.chain_ok and trace.count == res.steps
