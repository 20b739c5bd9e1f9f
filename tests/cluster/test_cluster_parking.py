"""Parking in the cluster: a served phone that keeps wall time (scaled), answers at a phone's pace and
allows no clock change, one real Celery worker (`exerciser worker`) on a real Redis. A long wait ends the
attempt with a checkpoint, the worker runs other jobs meanwhile, and a delayed task resumes the job on the
same phone; every job ends with the verdicts of an in-process run, and automatic time is on at the end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from cluster_helpers import (
    ADB,
    PHONE_PACE_DEVICE_SECONDS,
    PHONE_PACE_RULES,
    invoke,
    serve,
    start_worker,
    stop_workers,
    submit_when_ready,
    wait_for,
)

from exerciser import SCENARIOS_DIR
from exerciser.scenario import load_suite_or_scenario

pytestmark = pytest.mark.timeout(600)
# one app that re-asks (6: violation, two rounds), one short compliant one; each round parks at its wait
# past the window
APPS = ["re_ask_in_app_dialog_zh", "scroll_agree_after_read_zh"]
SCALE = 150.0  # device seconds per wall second
RULES = PHONE_PACE_RULES  # windows and tap window shortened for SCALE (see adb_helpers)


def write_suite(folder: Path) -> Path:
    for app in APPS:
        sc = yaml.safe_load((SCENARIOS_DIR / f"{app}.yaml").read_text(encoding="utf-8"))
        sc |= {"rules": RULES, "budgets": {"device_seconds": PHONE_PACE_DEVICE_SECONDS}}
        (folder / f"{app}.yaml").write_text(yaml.safe_dump(sc, allow_unicode=True))
    suite = folder / "suite.yaml"
    suite.write_text(f"name: parking\nscenarios: [{', '.join(f'{a}.yaml' for a in APPS)}]\n")
    return suite


def outcome(categories: dict) -> dict:
    return {c: (v["verdict"], v["figure"]) for c, v in categories.items()}


def in_process(suite: Path, out: Path) -> dict:
    from exerciser.runner.app_run import run_app
    from exerciser.sim import VirtualDevice, load_sample

    ref = {}
    for sc in load_suite_or_scenario(suite).scenarios:
        dev = VirtualDevice([load_sample(sc.id)], profile=sc.profile, locale=sc.locale)
        res = run_app(sc, dev, out, finalize=False)
        ref[sc.id] = outcome(res.verdict_json()["categories"])
    return ref


@pytest.fixture(scope="module")
def parked_run(redis_server, adb, tmp_path_factory):
    from exerciser.sim import VirtualDevice, load_sample
    from exerciser.sim.adbfront.clock import PhoneSpeed

    tmp = tmp_path_factory.mktemp("parking")
    suite = write_suite(tmp)
    store = tmp / "store"
    (phone,) = serve(
        [VirtualDevice([load_sample(a) for a in APPS], profile="api33", locale="zh-CN", seed=5)],
        adb,
        clock_scale=SCALE,
        speed=PhoneSpeed(),  # dump 1 s, screenshot 0.3 s, tap 50 ms, app start 1.5 s (device time)
        clock_methods=frozenset(),  # a production phone: no clock change at all
    )
    broker = redis_server.url
    args = ["--devices", phone.serial, "--name", "pk", "--results", str(store), "--adb-port", str(adb.port)]
    worker = start_worker(broker, tmp / "w.log", *args, "--device-retry", "0", env={"ADBUTILS_ADB_PATH": ADB})
    seen: list[dict] = []  # every `status` row while the suite ran
    try:
        r, sid = submit_when_ready(broker, suite, 1)
        reference = in_process(suite, tmp / "inproc")  # meanwhile, in this process

        def settled():
            st = json.loads(invoke("status", sid, "--broker", broker, "--json").output)
            seen.extend(st["jobs"])
            return st["finished"] and not r.keys(f"exerciser:job:{sid}:*:lease") and st

        final = wait_for("every job to finish", settled, 500, 1.0)
        yield {"sid": sid, "status": final, "seen": seen, "reference": reference, "store": store} | {
            "phone": phone
        }
    finally:
        stop_workers([worker])
        phone.stop()


def test_parked_jobs_resume_as_delayed_tasks_with_in_process_verdicts(parked_run):
    final, ref = parked_run["status"], parked_run["reference"]
    assert final["counts"] == {"done": len(APPS)}
    got = {j["app"]: outcome(j["summary"]["categories"]) for j in final["jobs"]}
    why = {
        j["app"]: (j["summary"]["error"], j["summary"]["categories"]["6"]["reason"]) for j in final["jobs"]
    }
    assert got == ref, why
    assert {v for r in ref.values() for v, _ in r.values()} >= {"violation", "compliant"}
    errors = [j["summary"]["error"] for j in final["jobs"]]
    assert not any(errors), errors


def test_the_device_runs_other_jobs_while_one_is_parked(parked_run):
    jobs = parked_run["status"]["jobs"]
    events = sorted(({"app": j["app"]} | e for j in jobs for e in j["history"]), key=lambda e: e["at"])
    parks = [e for e in events if e["event"] == "parked"]
    assert parks, "no job was parked"
    for p in parks:  # each park resumed by its delayed task, on the same phone, after its wait
        resume = next(e for e in events if e["app"] == p["app"] and e["at"] > p["at"])
        assert resume["event"] == "resumed" and resume["serial"] == p["serial"]
        assert resume["attempt"] == p["attempt"] + 1  # the job is not run again from the start
    # meanwhile the worker drove the phone for another app: the parked wait held no worker asleep
    between = [
        e
        for p in parks
        for e in events
        if e["app"] != p["app"]
        and e["event"] in ("started", "resumed", "completed")
        and p["at"] < e["at"] < next(x["at"] for x in events if x["app"] == p["app"] and x["at"] > p["at"])
    ]
    assert between
    assert any(r["state"] == "parked" and r["note"].startswith("parked until") for r in parked_run["seen"])


def test_the_bundle_is_one_continued_run_with_the_parked_attempt_kept(parked_run):
    store, sid = parked_run["store"], parked_run["sid"]
    jobs = parked_run["status"]["jobs"]
    parked = {j["app"] for j in jobs if any(e["event"] == "parked" for e in j["history"])}
    for app in parked:
        bundle = store / sid / app
        assert not (bundle / "checkpoint.json").exists()
        metas = [json.loads(p.read_text()) for p in sorted((bundle / "attempts").glob("*/attempt.json"))]
        assert metas and all(m["status"] == "parked" and m["resumed_by"] > m["attempt"] for m in metas)
        assert all(len(list(p.parent.iterdir())) == 1 for p in (bundle / "attempts").glob("*/attempt.json"))
        lines = [json.loads(x) for x in (bundle / "trace.jsonl").read_text().splitlines()]
        assert [x["n"] for x in lines] == list(range(1, len(lines) + 1))
        assert all((bundle / x["screenshot"]).exists() for x in lines)
        moves = [x["action"] for x in lines if x["action"]["type"] == "advance_clock"]
        assert moves and {m["method"] for m in moves} == {"parked"}


def test_the_phone_is_left_with_automatic_time_and_no_long_sleep(parked_run):
    phone = parked_run["phone"].phone
    assert phone.state.settings["global"]["auto_time"] == "1"
    sleeps = [float(m) for c in phone.history for m in re.findall(r"\bsleep ([\d.]+)", c)]
    assert sleeps and max(sleeps) <= 60
