"""A run stopped at each long wait (a checkpoint) and resumed in a fresh session gives the verdicts, trace
and graph of a run that never stopped: the state that must outlive the process is all in checkpoint.json."""

from __future__ import annotations

import json

import pytest

from exerciser.device.clockctl import ClockUnavailable
from exerciser.runner.app_run import run_app
from exerciser.runner.checkpoint import Checkpoint, Parked
from exerciser.scenario import load_scenario
from exerciser.sim import VirtualDevice, load_app_model

APP = "re_ask_in_app_dialog_zh"  # re-asks after refusal: probe 6 counts across the relaunches


class FixedClockPhone:
    """The in-process device as a phone that allows no clock change (its time passes only by waiting)."""

    def __init__(self, dev: VirtualDevice) -> None:
        self._d = dev

    def advance_clock(self, seconds: float) -> None:
        raise ClockUnavailable("no clock method on this phone")

    def __getattr__(self, name):
        return getattr(self._d, name)


def park(seconds: float) -> None:
    raise Parked(seconds)


def outcome(res) -> dict:
    return {c: (v.verdict, v.figure) for c, v in res.categories.items()}


def scenario():
    from exerciser import SCENARIOS_DIR

    return load_scenario(SCENARIOS_DIR / f"{APP}.yaml")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    sc = scenario()
    out = tmp_path_factory.mktemp("ref")
    dev = VirtualDevice([load_app_model(sc.app.model_path)], profile=sc.profile, locale=sc.locale)
    return run_app(sc, FixedClockPhone(dev), out, finalize=False), out / sc.id


def test_stopped_at_every_long_wait_and_resumed_gives_the_same_run(reference, tmp_path):
    ref, ref_dir = reference
    sc = scenario()
    dev = VirtualDevice([load_app_model(sc.app.model_path)], profile=sc.profile, locale=sc.locale)
    phone = FixedClockPhone(dev)
    app_dir = tmp_path / sc.id
    stops, cp = [], None
    while True:
        try:
            res = run_app(sc, phone, tmp_path, finalize=False, park=park, resume=cp)
            break
        except Parked as p:
            cp = Checkpoint.read(app_dir)
            assert cp is not None and cp.until_ms == p.until_ms > dev.now_ms()
            json.dumps(cp.data)  # plain JSON: it outlives the process
            assert json.loads((app_dir / "run.json").read_text())["status"] == "parked"
            stops.append(p.until_ms)
            dev.wait((p.until_ms - dev.now_ms()) / 1000 + 1)  # the phone's own time passes meanwhile
    assert len(stops) == 8  # each relaunch of the schedule and the one past the window, two rounds
    assert not (app_dir / "checkpoint.json").exists()
    assert outcome(res) == outcome(ref) and res.error == ref.error
    assert res.categories["6"].verdict == "violation"
    lines = [json.loads(x) for x in (app_dir / "trace.jsonl").read_text().splitlines()]
    ref_lines = [json.loads(x) for x in (ref_dir / "trace.jsonl").read_text().splitlines()]
    assert [x["action"]["type"] for x in lines] == [x["action"]["type"] for x in ref_lines]
    assert [x["n"] for x in lines] == list(range(1, len(lines) + 1))  # one trace, continued
    moves = [x["action"] for x in lines if x["action"]["type"] == "advance_clock"]
    assert {m["method"] for m in moves} == {"parked"} and len(moves) == len(stops)
    graph, ref_graph = (json.loads((d / "graph.json").read_text()) for d in (app_dir, ref_dir))
    assert len(graph["nodes"]) == len(ref_graph["nodes"]) and len(graph["edges"]) == len(ref_graph["edges"])
    # the re-requests counted: the same steps, sources and phases (their times differ by the stops' second)
    groups, ref_groups = (
        json.loads((d / "run.json").read_text())["probes"]["6"]["facts"]["groups"] for d in (app_dir, ref_dir)
    )
    assert [_plain(g) for g in groups] == [_plain(g) for g in ref_groups]


def _plain(group: dict) -> dict:
    strip = ("hours_after_refusal",)
    return {
        k: [{a: b for a, b in r.items() if a not in strip} for r in v] if isinstance(v, list) else v
        for k, v in group.items()
    }
