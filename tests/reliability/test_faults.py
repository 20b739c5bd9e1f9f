"""Faults: an unexpected error, a full disk, a read-only results folder, a killed parent, Ctrl-C, a broker
that would lose its queue. Each ends in a clean error or a finished run, with nothing recorded lost."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_helpers import ROOT, exerciser, invoke, one_error_line

from exerciser import atomic
from exerciser.errors import CRASH_LOG
from exerciser.evidence.manifest import verify_bundle
from exerciser.evidence.trace import load_trace

SCENARIOS = ROOT / "scenarios"


def test_an_unexpected_error_is_one_line_and_exit_2_with_the_trace_in_the_results(monkeypatch, tmp_path):
    import exerciser.cli.run_cmd as run_cmd

    def boom(*a, **kw):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(run_cmd, "run_suite_virtual", boom)
    out = tmp_path / "out"
    res = invoke("run", SCENARIOS / "compliant_en.yaml", "--out", out, "--quiet")
    assert res.exit_code == 2, res.output
    line = one_error_line(res.output)
    assert "RuntimeError: boom" in line and str(out / CRASH_LOG) in line
    log = (out / CRASH_LOG).read_text()
    assert "Traceback" in log and "boom" in log


@pytest.mark.parametrize("exc", [RecursionError("deep"), MemoryError(), KeyError("k"), ValueError("v")])
def test_any_exception_escaping_a_command_exits_2(exc, monkeypatch, tmp_path):
    import exerciser.evidence.manifest as manifest

    def fail(*a, **kw):
        raise exc

    monkeypatch.setattr(manifest, "verify_bundle", fail)
    (tmp_path / "trace.jsonl").write_text("")
    res = invoke("verify", tmp_path)
    assert res.exit_code == 2 and type(exc).__name__ in one_error_line(res.output)


def _fsize_limit(limit: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG), as ENOSPC does
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


def test_atomic_write_that_fails_keeps_the_old_file(tmp_path):
    p = tmp_path / "verdict.json"
    atomic.write_json(p, {"verdict": "violation"})
    old = resource.getrlimit(resource.RLIMIT_FSIZE)
    prev = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, old[1]))
    try:
        with pytest.raises(OSError):
            atomic.write_text(p, "x" * 100_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old)
        signal.signal(signal.SIGXFSZ, prev)
    assert json.loads(p.read_text()) == {"verdict": "violation"}
    assert [f.name for f in tmp_path.iterdir()] == ["verdict.json"]  # no temporary left behind


def _whole(app: Path) -> None:
    """Every result file there is whole: JSON parses, no temporary or partial file is left."""
    for name in ("verdict.json", "run.json", "scenario.json", "graph.json", "report.json", "manifest.json"):
        if (app / name).exists():
            json.loads((app / name).read_text())
    left = [p.name for p in app.rglob("*") if ".tmp" in p.name or p.name.endswith((".part.mp4", "-room"))]
    assert not left, left
    t = load_trace(app / "trace.jsonl")
    assert t.chain_ok, t.problems


def test_disk_full_while_making_the_bundle(tmp_path):
    """Files may be at most 256 KiB: the video (0.6 MB) and the HTML report (0.5 MB) cannot be written. The
    verdict is written first and the bundle sealed all the same; exit 2, every file there whole."""
    out = tmp_path / "out"
    sc = tmp_path / "s.yaml"
    sc.write_text("app: {sample: compliant_en}\nprobes: [consent, '7']\n")
    p = exerciser("run", sc, "--out", out, "--quiet", preexec_fn=_fsize_limit(1 << 18))
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert "File too large" in p.stdout
    app = out / "compliant_en"
    v = json.loads((app / "verdict.json").read_text())
    assert set(v["categories"]) >= {"consent", "7"}
    assert not (app / "video.mp4").exists() and not (app / "report.html").exists()  # never half written
    _whole(app)
    assert verify_bundle(app).ok  # what was written is sealed and intact


def _mount_tmpfs(where: Path, opts: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True
        ).returncode
        == 0
    )


@pytest.fixture
def tmpfs(tmp_path):
    mounted: list[Path] = []

    def make(name: str, opts: str) -> Path:
        d = tmp_path / name
        if not _mount_tmpfs(d, opts):
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounted.append(d)
        return d

    yield make
    for d in mounted:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def test_disk_really_full(tmpfs, tmp_path):
    """A 3 MB file system fills up mid-run (the live video and the steps take it): the room held for the
    verdict from the start lets it be written all the same; exit 2, every file there whole."""
    out = tmpfs("full", "size=3m")
    sc = tmp_path / "s.yaml"
    sc.write_text("app: {sample: compliant_en}\nprobes: [consent, '7']\n")
    p = exerciser("run", sc, "--out", out, "--quiet")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    app = out / "compliant_en"
    assert set(json.loads((app / "verdict.json").read_text())["categories"]) >= {"consent", "7"}
    _whole(app)
    if (app / "manifest.json").exists():
        assert verify_bundle(app).ok


def test_out_on_a_read_only_file_system(tmpfs):
    ro = tmpfs("ro", "ro,size=1m")
    res = invoke("run", SCENARIOS / "compliant_en.yaml", "--out", ro / "runs", "--quiet")
    assert res.exit_code == 2 and "cannot write there" in one_error_line(res.output)


# --- worker processes ------------------------------------------------------------------------------


def _suite(tmp_path: Path) -> Path:
    s = tmp_path / "suite.yaml"
    apps = ["compliant_en", "refusal_wall_en", "compliant_zh"]
    s.write_text("scenarios:\n" + "".join(f"  - {SCENARIOS / a}.yaml\n" for a in apps))
    return s


def _workers(parent: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        kids += [int(x) for x in (task / "children").read_text().split()]
    return [k for k in kids if b"resource_tracker" not in Path(f"/proc/{k}/cmdline").read_bytes()]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _start_jobs2(tmp_path: Path) -> tuple[subprocess.Popen, Path, list[int]]:
    out = tmp_path / "out"
    script = Path(sys.executable).with_name("exerciser")
    proc = subprocess.Popen(
        [str(script), "run", str(_suite(tmp_path)), "--out", str(out), "--jobs", "2", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: Ctrl-C reaches it and its workers, not pytest
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if any(p.exists() and p.stat().st_size for p in out.glob("*/trace.jsonl")):
            break
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    workers = _workers(proc.pid)
    assert len(workers) == 2, workers
    return proc, out, workers


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG")
def test_killed_parent_takes_its_workers_with_it(tmp_path):
    proc, out, workers = _start_jobs2(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    deadline = time.monotonic() + 30  # hang guard
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "orphaned workers kept running"
    assert not (out / "compliant_zh").exists()  # the app not yet started never starts
    for app in out.iterdir():
        if (app / "trace.jsonl").exists():
            assert load_trace(app / "trace.jsonl").chain_ok


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
def test_ctrl_c_starts_no_other_app_and_ends(tmp_path):
    proc, out, workers = _start_jobs2(tmp_path)
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = proc.communicate(timeout=60)  # hang guard
    took = time.monotonic() - t0
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "aborted" in err, err
    assert not (out / "compliant_zh").exists(), f"a queued app started after Ctrl-C ({took:.1f} s)"
    assert not any(_alive(w) for w in workers)
    for app in out.iterdir():  # what the running apps recorded is intact
        if (app / "trace.jsonl").exists():
            assert load_trace(app / "trace.jsonl").chain_ok


# --- broker persistence ----------------------------------------------------------------------------


def test_submit_and_worker_refuse_a_broker_without_persistence(redis_broker, tmp_path):
    url, client = redis_broker
    client.config_set("appendonly", "no")
    suite = SCENARIOS / "compliant_en.yaml"
    res = invoke("submit", suite, "--broker", url)
    assert res.exit_code == 2 and "appendonly" in one_error_line(res.output)
    assert not client.keys("exerciser:*")  # nothing queued
    res = invoke("worker", "--broker", url, "--virtual", "1", "--results", tmp_path / "r")
    assert res.exit_code == 2 and "--allow-volatile-broker" in one_error_line(res.output)
    res = invoke("submit", suite, "--broker", url, "--allow-volatile-broker")
    assert res.exit_code == 0 and "warning:" in res.output, res.output
    assert client.keys("exerciser:suite:*")
    client.config_set("appendonly", "yes")
    res = invoke("submit", suite, "--broker", url)
    assert res.exit_code == 0 and "warning" not in res.output, res.output


# --- attempt records -------------------------------------------------------------------------------


def _run_job(redis_broker, tmp_path: Path, monkeypatch, fault: str) -> dict:
    """One job run in process by a worker whose claim of the job fails at the end (`fault`)."""
    from exerciser.cluster import execute as ex
    from exerciser.cluster.jobs import Job
    from exerciser.runner.parallel import virtual_device
    from exerciser.scenario import load_scenario

    url, client = redis_broker
    sc = load_scenario(SCENARIOS / "compliant_en.yaml").with_overrides(probes=("consent",))
    suite = f"s-{fault}"

    class Slot:
        serial = "virtual-1"
        lost = False

        @staticmethod
        def device_for(scn):
            return virtual_device(scn, "virtual-1")

    if fault == "discarded":  # another attempt completed the job while this one ran
        monkeypatch.setattr(ex.JobState, "claim_done", lambda self, *a, **kw: False)
    else:  # another attempt took the job over while this one ran
        monkeypatch.setattr(ex.Beat, "tick", lambda self: setattr(self, "lost", True))
    store = tmp_path / "store"
    ctx = ex.WorkerContext(client, "w1@h", Slot(), tmp_path / "scratch", str(store))
    job = Job(suite, sc.id, "q", {}, sc.to_json())
    with pytest.raises(ex.Superseded):
        ex.execute(job, ctx)
    return json.loads((store / suite / sc.id / "attempts/1/attempt.json").read_text())


@pytest.mark.parametrize("fault", ["discarded", "superseded"])
def test_an_attempt_that_did_not_complete_the_job_says_so(fault, redis_broker, tmp_path, monkeypatch):
    rec = _run_job(redis_broker, tmp_path, monkeypatch, fault)
    assert rec["status"] == fault and rec["message"] and rec["ended"], rec
