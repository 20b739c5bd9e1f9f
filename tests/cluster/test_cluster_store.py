"""A job through an fsspec object store (memory://, which like S3 has no real folders), in process:
the bundle lands in the store sealed, a killed earlier attempt is kept beside it, a second delivery does
not run it again, and collect rebuilds the suite folder from the store."""

from __future__ import annotations

import json

import pytest
from cluster_helpers import write_suite

APP = "perms_before_consent_en"
STORE = "memory://bucket/results"


@pytest.fixture(scope="module")
def r(redis_server):
    import redis

    return redis.Redis.from_url(redis_server.url, decode_responses=True)


@pytest.fixture(scope="module")
def job_run(r, tmp_path_factory):
    from exerciser.cluster.execute import Slot, WorkerContext, execute
    from exerciser.cluster.keys import JobState, save_suite
    from exerciser.cluster.store import Store
    from exerciser.cluster.submit import build_jobs
    from exerciser.runner.parallel import virtual_device

    tmp = tmp_path_factory.mktemp("store")
    rec, [job] = build_jobs(write_suite(tmp / "suite", {APP: "en-US"}, ("consent",)), results=STORE)
    rec.queued = 1
    save_suite(r, rec)
    store = Store(STORE)
    rel = f"{rec.id}/{APP}"
    # attempt 1 was killed with its worker: it left a claim-less "running" attempt and one step
    js = JobState(r, rec.id, APP)
    assert js.next_attempt() == 1
    store.write_json(f"{rel}/attempts/1/attempt.json", {"attempt": 1, "status": "running", "serial": "gone"})
    store.fs.pipe_file(store.path(rel, "attempts/1/steps/0001.xml"), b"<hierarchy/>")

    calls = []

    def device_for(sc):
        calls.append(sc.id)
        return virtual_device(sc, serial="virtual-1")

    ctx = WorkerContext(
        r, "mem@test", Slot("virtual-1", "virtual-1", True, [], device_for), tmp / "scratch", None
    )
    first = execute(job, ctx)
    second = execute(job, ctx)
    return {
        "rec": rec,
        "store": store,
        "rel": rel,
        "js": js,
        "first": first,
        "second": second,
        "calls": calls,
        "scratch": tmp / "scratch",
        "tmp": tmp,
    }


def test_bundle_sealed_in_the_object_store(job_run):
    store, rel, first = job_run["store"], job_run["rel"], job_run["first"]
    assert first["attempt"] == 2 and first["status"] == "violation"
    assert first["categories"]["consent"]["verdict"] == "violation"
    files = store.files(rel)
    for name in ("verdict.json", "trace.jsonl", "manifest.json", "report.html", "attempt.json"):
        assert name in files
    assert any(f.startswith("steps/") and f.endswith(".png") for f in files)
    assert store.read_json(f"{job_run['rec'].id}/.done/{APP}.json") == first
    assert not store.files(f"{rel}/attempts/2")  # the completed attempt is the bundle, not an attempt
    lost = store.read_json(f"{rel}/attempts/1/attempt.json")
    assert lost["status"] == "lost"
    assert not list(job_run["scratch"].rglob("trace.jsonl"))  # the worker's scratch is cleaned


def test_second_delivery_does_not_run_again(job_run):
    assert job_run["second"] == job_run["first"]
    assert job_run["calls"] == [APP] and job_run["js"].attempts() == 2
    assert [h["event"] for h in job_run["js"].history()] == ["lost", "started", "completed"]


def test_collect_from_the_object_store(job_run, r, tmp_path):
    from exerciser.cluster.collect import collect
    from exerciser.cluster.progress import suite_status
    from exerciser.evidence.manifest import verify_bundle

    st = suite_status(r, job_run["rec"].id)
    assert st.finished and st.rows[0].state == "done"
    got = collect(st, tmp_path / "out")
    assert not got.missing and [x.status for x in got.results] == ["violation"]
    app_dir = tmp_path / "out" / APP
    assert (
        json.loads((app_dir / "verdict.json").read_text())["categories"]["consent"]["verdict"] == "violation"
    )
    assert (app_dir / "attempts" / "1" / "steps" / "0001.xml").read_text() == "<hierarchy/>"
    vr = verify_bundle(app_dir)
    assert vr.ok, [f.line() for f in vr.failures]
    assert (tmp_path / "out" / "report.html").exists()


def test_duplicate_waits_for_the_live_attempt_then_returns_its_result(r, tmp_path):
    """A second copy of a job's message (handed out while its attempt still runs) waits on the claim and
    returns the result of that attempt: no device, no attempt of its own."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from exerciser.cluster.config import Timing
    from exerciser.cluster.execute import Slot, WorkerContext, execute
    from exerciser.cluster.jobs import Job
    from exerciser.cluster.keys import JobState

    def no_device(sc):
        raise AssertionError("the duplicate must not run the job")

    js = JobState(r, "dup-1", "app")
    claim = js.acquire({"worker": "other@host"}, ttl=30)
    job = Job("dup-1", "app", "q", {}, {}, results=str(tmp_path / "store"))
    timing = Timing(visibility_timeout=30, lease_seconds=30, beat_seconds=0.2)
    ctx = WorkerContext(
        r, "me@test", Slot("t", "t", True, [], no_device), tmp_path / "s", None, timing=timing
    )
    fut = ThreadPoolExecutor(1).submit(execute, job, ctx)
    time.sleep(1.0)
    assert not fut.done()  # still waiting on the live attempt's claim
    summary = {"app": "app", "attempt": 1, "status": "compliant"}
    assert js.claim_done(summary, event="completed", attempt=1)
    js.release(claim)
    assert fut.result(timeout=10) == summary
    assert js.attempts() == 0 and [h["event"] for h in js.history()] == ["completed"]
    assert json.loads((tmp_path / "store" / "dup-1" / ".done" / "app.json").read_text()) == summary


def test_a_parked_job_runs_only_by_its_own_delayed_task(r, tmp_path):
    """While a job is parked, any other copy of its message (a redelivery, a stale resume of an earlier
    park) is dropped without a device or an attempt; only the message carrying the park's token goes on."""
    from exerciser.cluster.execute import Slot, WorkerContext, execute
    from exerciser.cluster.jobs import Job
    from exerciser.cluster.keys import JobState

    def no_device(sc):
        raise AssertionError("a copy of a parked job must not run it")

    js = JobState(r, "park-1", "app")
    park = {"token": "t2", "attempt": 2, "until": "2026-01-05T06:20:58Z", "serial": "s"}
    js.park(park)
    ctx = WorkerContext(r, "me@test", Slot("t", "t", True, [], no_device), tmp_path / "s", None)
    fresh = Job("park-1", "app", "q", {}, {}, results=str(tmp_path / "store"))
    stale = Job("park-1", "app", "q", {}, {}, results=str(tmp_path / "store"), resume={"token": "t1"})
    assert execute(fresh, ctx) == {"parked": park}
    assert execute(stale, ctx) == {"parked": park}
    assert js.attempts() == 0 and js.lease() is None and js.parked() == park
