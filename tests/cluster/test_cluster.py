"""Racks across hosts: a real redis-server, `exerciser worker` subprocesses with virtual devices served
over the adb front (and one with an in-process virtual device), a suite submitted, a worker SIGKILLed
mid-job, a device unplugged mid-job and the broker restarted mid-job. Every job finishes once, with the
verdicts of a single-host run, and the lost attempts' partial evidence is kept beside the final bundle."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cluster_helpers import (
    ADB,
    alive,
    invoke,
    serve,
    start_worker,
    stop_workers,
    submit_when_ready,
    wait_for,
    write_suite,
)

from exerciser.scenario import load_suite_or_scenario

APPS = {
    "camera_on_news_list_en": "en-US",
    "perms_before_consent_en": "en-US",
    "no_privacy_dialog_zh": "zh-CN",
    "deletion_hotline_zh": "zh-CN",
}
PROBES = ("consent", "8")


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    return write_suite(tmp_path_factory.mktemp("suite"), APPS, PROBES)


def single_host(suite_file: Path, out: Path) -> dict:
    """The reference: each app run alone on a fresh in-process virtual device, as `exerciser run` does."""
    from exerciser.runner.app_run import run_app
    from exerciser.sim import VirtualDevice, load_sample

    verdicts = {}
    for sc in load_suite_or_scenario(suite_file).scenarios:
        dev = VirtualDevice([load_sample(sc.id)], profile=sc.profile, locale=sc.locale)
        res = run_app(sc, dev, out, finalize=False)
        verdicts[sc.id] = {c: v.verdict for c, v in res.categories.items()}
    return verdicts


def status(broker: str, sid: str) -> dict:
    res = invoke("status", sid, "--broker", broker, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def running_on(broker: str, sid: str, serial: str, store: Path, min_steps: int = 2) -> str | None:
    """The app running on `serial` once its partial evidence (some steps) is in the store."""
    for j in status(broker, sid)["jobs"]:
        if j["state"] == "running" and j["serial"] == serial:
            steps = store / sid / j["app"] / "attempts" / str(j["attempts"] or 1) / "steps"
            if len(list(steps.glob("*.png"))) >= min_steps:
                return j["app"]
    return None


@pytest.fixture(scope="module")
def faulted_run(redis_server, adb, suite_file, tmp_path_factory):
    """Submit the suite to two adb-device workers; SIGKILL one mid-job, unplug a device of the other
    mid-job, restart the broker while jobs run; a third worker with an in-process virtual device joins
    after the submit."""
    from exerciser.sim import VirtualDevice

    broker = redis_server.url
    tmp = tmp_path_factory.mktemp("cluster")
    store = tmp / "store"
    en_a, en_b, zh_b = serve(
        [
            VirtualDevice([], profile="api33", locale="en-US", seed=1),
            VirtualDevice([], profile="api33", locale="en-US", seed=2),
            VirtualDevice([], profile="api33", locale="zh-CN", seed=3),
        ],
        adb,
        clock_methods=frozenset({"alarm"}),  # the shell may set the clock: the long waits are jumps
        clock_scale=20.0,  # wall time, 20 times as fast: the protocol's watches are short
    )
    # the single-host reference runs meanwhile, in this process (the workers mostly wait on each other)
    reference = ThreadPoolExecutor(1).submit(single_host, suite_file, tmp / "single")
    common = ["--results", str(store), "--adb-port", str(adb.port), "--device-retry", "0"]
    env = {"ADBUTILS_ADB_PATH": ADB}
    w1 = start_worker(broker, tmp / "w1.log", "--devices", en_a.serial, "--name", "w1", *common, env=env)
    w2 = start_worker(
        broker, tmp / "w2.log", "--devices", f"{en_b.serial},{zh_b.serial}", "--name", "w2", *common, env=env
    )
    w3 = None
    try:
        r, sid = submit_when_ready(broker, suite_file, 3)
        # the three devices have taken a job each; w3 (any profile) gets going meanwhile
        w3 = start_worker(broker, tmp / "w3.log", "--virtual", "1", "--name", "w3", "--results", str(store))

        killed = wait_for("a job mid-way on w1", lambda: running_on(broker, sid, en_a.serial, store), 60)
        w1_children = w1.children()
        assert w1_children, "w1 runs one child process per device"
        w1.kill()
        wait_for("w1's device process to die with it", lambda: not any(alive(p) for p in w1_children), 10)

        through_restart = [j["app"] for j in status(broker, sid)["jobs"] if j["state"] == "running"]
        redis_server.restart()  # an append-only broker, as operators run it: nothing is lost

        unplugged = wait_for(
            "a job mid-way on the zh device", lambda: running_on(broker, sid, zh_b.serial, store), 60
        )
        zh_b.stop()

        def settled():  # every job done and no worker still busy moving a bundle into place
            s = status(broker, sid)
            return s["finished"] and not r.keys(f"exerciser:job:{sid}:*:lease") and s

        final = wait_for("every job to finish", settled, 150, 0.5)
        out = tmp / "collected"
        col = invoke("collect", sid, "--broker", broker, "--out", str(out), "--quiet")
        yield {
            "sid": sid,
            "broker": broker,
            "redis": r,
            "store": store,
            "status": final,
            "collect": col,
            "out": out,
            "killed": killed,
            "unplugged": unplugged,
            "through_restart": through_restart,
            "serials": {"en_a": en_a.serial, "en_b": en_b.serial, "zh_b": zh_b.serial},
            "logs": [tmp / "w1.log", tmp / "w2.log", tmp / "w3.log"],
            "single_host": reference.result(timeout=300),
        }
    finally:
        stop_workers([w for w in (w1, w2, w3) if w is not None])
        for f in (en_a, en_b, zh_b):
            f.stop()


def test_every_job_finishes_once_with_single_host_verdicts(faulted_run):
    st, single_host = faulted_run["status"], faulted_run["single_host"]
    why = [(j["app"], j["state"], j.get("note"), j["history"]) for j in st["jobs"] if j["state"] != "done"]
    assert st["counts"] == {"done": len(APPS)}, why
    got = {j["app"]: {c: v["verdict"] for c, v in j["summary"]["categories"].items()} for j in st["jobs"]}
    assert got == single_host
    # the collected suite: same verdicts, suite report, `exerciser run`'s exit status (violations found)
    col, out = faulted_run["collect"], faulted_run["out"]
    assert col.exit_code == 1, col.output
    assert (out / "report.html").exists() and (out / "junit.xml").exists()
    for app in APPS:
        v = json.loads((out / app / "verdict.json").read_text())
        assert {c: x["verdict"] for c, x in v["categories"].items()} == single_host[app]
    # one completion per job, ever; a job no fault touched ran exactly once
    for j in st["jobs"]:
        events = [h["event"] for h in j["history"]]
        assert events.count("completed") == 1, (j["app"], events)
        if j["app"] not in (faulted_run["killed"], faulted_run["unplugged"]):
            assert j["attempts"] == 1 and events == ["started", "completed"], (j["app"], events)


def test_jobs_go_only_to_devices_that_match(faulted_run):
    s = faulted_run["serials"]
    for j in faulted_run["status"]["jobs"]:
        ran_on = {h["serial"] for h in j["history"] if h.get("serial")}
        allowed = {s["zh_b"]} if APPS[j["app"]] == "zh-CN" else {s["en_a"], s["en_b"]}
        assert ran_on <= allowed | {"virtual-1"}, (j["app"], ran_on)
        assert j["queue"].endswith(APPS[j["app"]])


def test_killed_worker_job_retried_elsewhere_partial_evidence_kept(faulted_run):
    from exerciser.evidence.manifest import verify_bundle

    app, s, out = faulted_run["killed"], faulted_run["serials"], faulted_run["out"]
    job = next(j for j in faulted_run["status"]["jobs"] if j["app"] == app)
    assert job["summary"]["attempt"] >= 2 and job["summary"]["serial"] != s["en_a"]
    lost = out / app / "attempts" / "1"
    meta = json.loads((lost / "attempt.json").read_text())
    assert meta["status"] == "lost" and meta["serial"] == s["en_a"] and meta["worker"].startswith("w1.")
    assert (lost / "trace.jsonl").stat().st_size > 0 and len(list((lost / "steps").glob("*.png"))) >= 2
    final = json.loads((out / app / "attempt.json").read_text())
    assert final["status"] == "completed" and final["attempt"] == job["summary"]["attempt"]
    # the final bundle seals the lost attempt with it: verify passes on the collected folder
    vr = verify_bundle(out / app)
    assert vr.ok, [f.line() for f in vr.failures]


def test_unplugged_device_job_handed_to_another_device(faulted_run):
    app, s, out = faulted_run["unplugged"], faulted_run["serials"], faulted_run["out"]
    job = next(j for j in faulted_run["status"]["jobs"] if j["app"] == app)
    events = [(h["event"], h.get("serial")) for h in job["history"]]
    assert ("device_lost", s["zh_b"]) in events
    assert job["summary"]["serial"] == "virtual-1"  # the only other zh-CN device: w3's in-process one
    meta = json.loads((out / app / "attempts" / "1" / "attempt.json").read_text())
    assert meta["status"] == "device_lost" and meta["serial"] == s["zh_b"] and meta["message"]
    assert list((out / app / "attempts" / "1" / "steps").glob("*.png"))


def test_broker_restart_mid_job_loses_and_repeats_nothing(faulted_run):
    hit = [
        a
        for a in faulted_run["through_restart"]
        if a not in (faulted_run["killed"], faulted_run["unplugged"])
    ]
    assert hit, "some job ran through the broker restart"
    for j in faulted_run["status"]["jobs"]:
        if j["app"] in hit:
            assert [h["event"] for h in j["history"]] == ["started", "completed"], j["history"]
            assert j["attempts"] == 1 and j["summary"]["attempt"] == 1


def test_redelivered_done_job_is_not_run_again(faulted_run, tmp_path):
    """A message handed out again after its job completed (worker killed before the ack, a broker
    restored from disk) returns the recorded summary: no new attempt, no device touched."""
    from exerciser.cluster.execute import Slot, WorkerContext, execute
    from exerciser.cluster.jobs import Job
    from exerciser.cluster.keys import JobState

    r, sid, app = faulted_run["redis"], faulted_run["sid"], faulted_run["killed"]
    js = JobState(r, sid, app)
    before = (js.attempts(), js.done(), js.history())
    assert before[1] is not None

    def no_device(sc):
        raise AssertionError("a done job must not reach a device")

    job = Job(sid, app, "q", {}, {}, results=str(faulted_run["store"]))
    ctx = WorkerContext(r, "test@here", Slot("t", "t", True, [], no_device), tmp_path, None)
    assert execute(job, ctx) == before[1]
    assert (js.attempts(), js.done(), js.history()) == before
