"""Bad input to submit / worker / status / collect: one clear line and exit status 2, nothing recorded;
a suite nobody serves: status says so, collect writes what there is and exits 2."""

from __future__ import annotations

import json

import pytest
from cluster_helpers import free_port, invoke, run_cli, write_suite

from exerciser.cluster.keys import SUITES

APPS = {"camera_on_news_list_en": "en-US", "no_privacy_dialog_zh": "zh-CN"}


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory):
    return write_suite(tmp_path_factory.mktemp("suite"), APPS, ("consent",))


def one_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize("cmd", [["submit", "SUITE"], ["worker", "--virtual", "1"]])
def test_unreachable_broker(cmd, suite_file):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    args = [str(suite_file) if a == "SUITE" else a for a in cmd]
    p = run_cli(*args, "--broker", dead)
    assert p.returncode == 2, p
    assert "not reachable" in one_line(p.stderr) and dead in p.stderr


def test_status_and_collect_unreachable_or_wrong_broker(tmp_path):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    res = invoke("status", "s-1", "--broker", dead)
    assert res.exit_code == 2 and "not reachable" in one_line(res.output)
    res = invoke("collect", "s-1", "--broker", "http://127.0.0.1:1/", "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and "expected redis://" in one_line(res.output)
    assert not (tmp_path / "o").exists()


def test_bad_suite_nothing_queued(redis_server, tmp_path):
    import redis

    r = redis.Redis.from_url(redis_server.url)
    before = r.zcard(SUITES)
    missing = tmp_path / "missing.yaml"
    missing.write_text("name: x\nscenarios: [nope.yaml]\n")
    nosample = tmp_path / "nosample.yaml"
    nosample.write_text("app: {sample: no_such_app}\n")
    cases = [
        ([str(missing)], "scenarios[0]: file not found"),
        ([str(nosample)], "app.sample: no sample app 'no_such_app'"),
        ([str(tmp_path / "absent.yaml")], "file not found"),
        (
            [str(write_suite(tmp_path / "s", APPS, ("consent",))), "--profile", "api99"],
            "unknown profile 'api99'",
        ),
    ]
    for args, msg in cases:
        res = invoke("submit", *args, "--broker", redis_server.url)
        assert res.exit_code == 2, res.output
        assert msg in one_line(res.output), res.output
    assert r.zcard(SUITES) == before
    assert not r.keys("exerciser:job:*")


def test_worker_bad_options(redis_server, tmp_path):
    res = invoke("worker", "--broker", redis_server.url, "--results", str(tmp_path / "r"))
    assert res.exit_code == 2 and "no device to serve" in one_line(res.output)
    res = invoke("worker", "--broker", redis_server.url, "--virtual", "1", "--results", "nosuchfs://x/y")
    assert res.exit_code == 2 and "results store nosuchfs://x/y" in one_line(res.output)
    res = invoke("status", "no-such-suite-1", "--broker", redis_server.url)
    assert res.exit_code == 2 and "unknown suite id: no-such-suite-1" in one_line(res.output)


def test_unserved_suite_status_and_partial_collect(redis_server, suite_file, tmp_path):
    res = invoke("submit", str(suite_file), "--broker", redis_server.url)
    assert res.exit_code == 0, res.output
    sid = res.output.strip().splitlines()[-1]
    st = json.loads(invoke("status", sid, "--broker", redis_server.url, "--json").output)
    assert st["counts"] == {"queued": 2} and not st["finished"]
    queues = {j["queue"] for j in st["jobs"]}
    assert queues == {"exerciser.model.api33.aosp.en-US", "exerciser.model.api33.aosp.zh-CN"}
    assert st["waiting"] == dict.fromkeys(queues, 1) and set(st["unserved_queues"]) == queues
    table = invoke("status", sid, "--broker", redis_server.url)
    assert "no live worker consumes exerciser.model.api33.aosp.zh-CN" in " ".join(table.output.split())
    out = tmp_path / "out"
    res = invoke("collect", sid, "--broker", redis_server.url, "--out", str(out), "--quiet")
    assert res.exit_code == 2 and "2 of 2 jobs not finished" in res.output
    assert (out / "report.html").exists() and json.loads((out / "cluster.json").read_text())["counts"]
