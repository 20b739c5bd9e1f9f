"""The trace: hash chain, torn last line, and a writer killed with SIGKILL mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import exerciser.evidence.trace as trace
from exerciser.evidence.trace import GENESIS, TraceWriter, load_trace, read_trace, sha256_file, sha256_hex


def _rec(n: int) -> dict:
    return {"n": n, "probe": "explore", "action": {"type": "observe"}, "kinds": [], "state_after": f"s{n}"}


def test_chain_links_every_line(tmp_path: Path) -> None:
    p = tmp_path / "trace.jsonl"
    with TraceWriter(p) as tw:
        heads = [tw.append(_rec(n)) for n in range(1, 6)]
    lines = p.read_bytes().splitlines()
    assert [sha256_hex(x) for x in lines] == heads
    assert json.loads(lines[0])["prev"] == GENESIS
    for a, b in zip(lines, lines[1:], strict=False):
        assert json.loads(b)["prev"] == sha256_hex(a)
    t = load_trace(p)
    assert t.chain_ok and t.count == 5 and t.head == heads[-1]


def test_reordered_and_edited_lines_break_the_chain(tmp_path: Path) -> None:
    p = tmp_path / "trace.jsonl"
    with TraceWriter(p) as tw:
        for n in range(1, 6):
            tw.append(_rec(n))
    lines = p.read_bytes().splitlines(keepends=True)
    p.write_bytes(b"".join([lines[0], lines[2], lines[1], *lines[3:]]))
    t = load_trace(p)
    assert not t.chain_ok
    assert {pr.kind for pr in t.problems} >= {"chain", "numbering"}
    # an edit that keeps valid JSON is still caught by the next line's prev
    edited = lines[1].replace(b'"s2"', b'"s9"')
    p.write_bytes(b"".join([lines[0], edited, *lines[2:]]))
    t = load_trace(p)
    assert [pr.line for pr in t.problems if pr.kind == "chain"] == [3]


def test_torn_last_line_is_reported_not_fatal_and_writer_resumes(tmp_path: Path) -> None:
    p = tmp_path / "trace.jsonl"
    with TraceWriter(p) as tw:
        for n in range(1, 4):
            tw.append(_rec(n))
    with open(p, "ab") as fh:
        fh.write(b'{"n": 4, "probe": "expl')  # the process died inside a write
    t = load_trace(p)
    assert t.count == 3 and t.chain_ok
    assert [pr.kind for pr in t.problems] == ["torn"]
    assert [r["n"] for r in read_trace(p)] == [1, 2, 3]
    with TraceWriter(p) as tw:  # resuming keeps the torn bytes aside and continues the chain
        assert tw.count == 3
        tw.append(_rec(4))
    t = load_trace(p)
    assert t.chain_ok and not t.problems and t.count == 4
    torn = list(tmp_path.glob("trace.jsonl.torn-*"))
    assert len(torn) == 1 and torn[0].read_bytes() == b'{"n": 4, "probe": "expl'


WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from exerciser.evidence.trace import StepRecord, TraceWriter, sha256_hex
    out = Path(sys.argv[1]); (out / "steps").mkdir(parents=True, exist_ok=True)
    tw = TraceWriter(out / "trace.jsonl")
    n = 0
    while True:  # like runner.Session: files first, then the trace line, then the next action
        n += 1
        png = bytes([n % 256]) * 20000; xml = f"<hierarchy n='{n}'/>".encode()
        (out / f"steps/{n:04d}.png").write_bytes(png); (out / f"steps/{n:04d}.xml").write_bytes(xml)
        tw.append(StepRecord(n=n, probe="explore", action={"type": "tap", "point": [1, 2]},
                  device_time_ms=n * 600, wall_time=time.time(), state_before=None, state_after=f"s{n}",
                  package="p", activity="a", kinds=[], screenshot=f"steps/{n:04d}.png",
                  screenshot_sha256=sha256_hex(png), xml=f"steps/{n:04d}.xml", xml_sha256=sha256_hex(xml),
                  note="x" * (n * 37 % 500)))
        print(n, flush=True)
    """
)


def test_sigkill_mid_run_keeps_every_earlier_step(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(out)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = 0
    deadline = time.monotonic() + 30
    while acknowledged < 40 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip():
            acknowledged = int(line)
    os.kill(proc.pid, signal.SIGKILL)  # no chance to flush or close anything
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert acknowledged >= 40
    t = load_trace(out / "trace.jsonl")
    assert t.chain_ok, t.problems
    assert t.count >= acknowledged  # every step the writer reported as written is there
    assert [r["n"] for r in t.records] == list(range(1, t.count + 1))
    for r in t.records:
        assert sha256_file(out / r["screenshot"]) == r["screenshot_sha256"]
        assert sha256_file(out / r["xml"]) == r["xml_sha256"]


def test_periodic_fsync_is_off_the_writers_thread(tmp_path: Path, monkeypatch) -> None:
    # Other writers (left by earlier tests in this process) may fsync meanwhile: only this writer's
    # syncer thread and the caller's own thread are looked at.
    calls: list[threading.Thread] = []
    real = trace.os.fsync
    monkeypatch.setattr(trace.os, "fsync", lambda fd: calls.append(threading.current_thread()) or real(fd))
    me = threading.current_thread()
    w = TraceWriter(tmp_path / "t.jsonl", sync_every_s=0.01)
    for n in range(1, 21):
        w.append({"n": n})
        time.sleep(0.003)
    deadline = time.monotonic() + 5
    while (w._syncer is None or w._syncer not in calls) and time.monotonic() < deadline:
        time.sleep(0.01)
    syncer = w._syncer
    assert syncer is not None and syncer.name == "trace-fsync" and syncer in calls and me not in calls
    w.close()  # the last fsync is the closer's own, and the thread is gone
    assert [t for t in calls if t in (me, syncer)][-1] is me
    assert not syncer.is_alive()
    assert load_trace(tmp_path / "t.jsonl").count == 20
    every = TraceWriter(tmp_path / "e.jsonl", sync_every_s=0)  # 0: an fsync per line, in the caller
    calls.clear()
    every.append({"n": 1})
    assert [t for t in calls if t is me or t.name != "trace-fsync"] == [me]
    every.close()
