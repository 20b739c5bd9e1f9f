"""A suite at a phone's pace: six sample apps on two served devices that keep wall time (scaled) and answer
with a phone's latencies, through the real adb server and the uiautomator2 driver.

With a clock method the long waits are clock jumps; without one the jobs are parked (their devices run the
other apps meanwhile) and resumed on the same device. Either way every app gets the verdicts and figures of
the in-process device, no wait is slept through on the phone, and automatic time is back on at the end."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from adb_helpers import PHONE_PACE_DEVICE_SECONDS, PHONE_PACE_RULES, serve

from exerciser.sim import VirtualDevice
from exerciser.sim.adbfront.clock import PhoneSpeed

# Six zh samples of both verdict sides, short ones (75-205 steps): re-asks in rounds (6, parked), a
# compliant app with a prompt (6 measured, parked), a policy refusal that quits (5), no privacy dialog
# (consent), deletion behind a hotline in an H5 page (8), a game's blind settings list (a surface swiped).
SUITE = [
    "re_ask_in_app_dialog_zh",
    "scroll_agree_after_read_zh",
    "quit_on_policy_refusal_zh",
    "no_privacy_dialog_zh",
    "h5_hotline_deletion_zh",
    "game_settings_scroll_zh",
]
pytestmark = pytest.mark.timeout(600)  # a whole suite at a phone's pace, twice: minutes, not seconds
PROFILE, LOCALE = "api33", "zh-CN"
SCALE = 150.0  # device seconds per wall second: the whole phone runs faster, latencies included
RULES = PHONE_PACE_RULES  # see adb_helpers


def suite():
    from exerciser import SCENARIOS_DIR
    from exerciser.scenario import load_scenario

    out = []
    for a in SUITE:
        sc = load_scenario(SCENARIOS_DIR / f"{a}.yaml")
        budgets = replace(sc.budgets, device_seconds=PHONE_PACE_DEVICE_SECONDS)
        out.append(replace(sc, rules=dict(RULES), budgets=budgets))
    return out


def outcome(res) -> dict:
    return {c: (v.verdict, v.figure) for c, v in res.categories.items()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from exerciser.runner.app_run import run_app
    from exerciser.sim import load_app_model

    out = tmp_path_factory.mktemp("inproc")
    refs = {}
    for sc in suite():
        dev = VirtualDevice([load_app_model(sc.app.model_path)], profile=PROFILE, locale=LOCALE)
        refs[sc.id] = outcome(run_app(sc, dev, out, finalize=False))
    assert {v for r in refs.values() for v, _ in r.values()} == {"violation", "compliant"}
    return refs


def run_rack(adb_server, out, methods: frozenset[str]):
    from exerciser.rack import run_suite
    from exerciser.runner.app_run import run_app
    from exerciser.sim import load_app_model

    models = [load_app_model(sc.app.model_path) for sc in suite()]
    fronts = serve(
        [VirtualDevice(models, profile=PROFILE, locale=LOCALE, seed=s) for s in (21, 22)],
        adb_server,
        clock_scale=SCALE,
        speed=PhoneSpeed(),  # dump 1 s, screenshot 0.3 s, tap 50 ms, app start 1.5 s (device time)
        clock_methods=methods,
    )
    try:
        results = run_suite(
            suite(),
            [f.serial for f in fronts],
            out,
            progress=False,
            adb_port=adb_server.port,
            runner=lambda sc, dev, o, **kw: run_app(sc, dev, o, finalize=False, **kw),
        )
    finally:
        for f in fronts:
            f.close()
    return results, fronts


def advances(out, app: str) -> list[dict]:
    lines = (out / app / "trace.jsonl").read_text().splitlines()
    return [a for a in (json.loads(x)["action"] for x in lines) if a["type"] == "advance_clock"]


def check_phones_left_as_found(fronts) -> None:
    for f in fronts:
        phone = f.phone
        assert phone.state.settings["global"]["auto_time"] == "1"  # automatic time on again
        assert abs(phone.device.now_ms() - phone.clock.network_ms()) < 600_000  # the true time
        sleeps = [float(m) for c in phone.history for m in re.findall(r"\bsleep ([\d.]+)", c)]
        assert sleeps and max(sleeps) <= 60  # the phone never slept through a long wait


def test_with_a_clock_method_the_waits_are_jumps(adb_server, tmp_path, reference):
    results, fronts = run_rack(adb_server, tmp_path, frozenset({"alarm"}))
    assert {r.app: outcome(r) for r in results} == reference
    assert all(not r.error for r in results), [r.error for r in results]
    rack = json.loads((tmp_path / "rack.json").read_text())
    assert all(d["parked"] == 0 for d in rack["devices"])
    for app in SUITE:
        run = json.loads((tmp_path / app / "run.json").read_text())
        moves = advances(tmp_path, app)
        measured = run["probes"].get("6", {}).get("facts", {}).get("coverage", {}).get("measured")
        if measured:  # the re-request probe refused a group and ran its waits
            assert moves and {a["method"] for a in moves} == {"cmd alarm set-time"}
            assert run["clock"]["methods"] == ["cmd alarm set-time"]
            assert run["clock"]["restored"]["auto_time"] == "1"
    assert any(advances(tmp_path, app) for app in SUITE)
    check_phones_left_as_found(fronts)


def test_without_a_clock_method_jobs_are_parked_and_resumed(adb_server, tmp_path, reference):
    results, fronts = run_rack(adb_server, tmp_path, frozenset())
    assert {r.app: outcome(r) for r in results} == reference
    assert all(not r.error for r in results), [r.error for r in results]
    rack = json.loads((tmp_path / "rack.json").read_text())
    assert sum(d["parked"] for d in rack["devices"]) > 0
    log = (tmp_path / "rack.log").read_text()
    resumed = [float(s) for s in re.findall(r"resumed after a wait of ([\d.]+) s", log)]
    assert len(resumed) == sum(d["parked"] for d in rack["devices"])
    assert max(resumed) <= 60  # no single wait longer than a minute
    assert "the device serves other apps meanwhile" in log  # the long ones handed the device over
    for app in SUITE:
        moves = advances(tmp_path, app)
        assert all(a["method"] == "parked" for a in moves)
        if moves:
            serial = next(r.serial for r in results if r.app == app)
            parks = re.findall(rf"(\S+): {app} (?:PARKED|resumed)", log)
            assert set(parks) == {serial}  # resumed on the device it was parked on
    check_phones_left_as_found(fronts)
