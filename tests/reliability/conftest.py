"""Shared fixtures of the reliability tests: one real sealed bundle and one redis-server per module."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from reliability_helpers import exerciser


@pytest.fixture(scope="module")
def sealed_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run of a sample app with deciding screenshots and a lost attempt sealed with it (as the
    cluster leaves one): read-only, copy it to tamper."""
    import shutil

    from exerciser.evidence.manifest import write_manifest

    out = tmp_path_factory.mktemp("sealed")
    sc = out / "refusal_wall_en.yaml"  # its consent and refusal probes: a violation with deciding shots
    sc.write_text("app: {sample: refusal_wall_en}\nprobes: [consent, '5']\n")
    p = exerciser("run", sc, "--out", out / "run", "--quiet")
    assert p.returncode in (0, 1), p.stderr
    app = out / "run" / "refusal_wall_en"
    lost = app / "attempts" / "1"
    lost.mkdir(parents=True)
    shutil.copy2(app / "trace.jsonl", lost / "trace.jsonl")
    shutil.copytree(app / "steps", lost / "steps")
    (lost / "attempt.json").write_text('{"attempt": 1, "status": "lost"}')
    write_manifest(app)
    return app


@pytest.fixture(scope="module")
def redis_broker(tmp_path_factory: pytest.TempPathFactory):
    """A private redis-server on a loopback port, with appendonly (as the README asks): (url, client)."""
    import shutil
    import socket
    import time

    exe = shutil.which("redis-server")
    if not exe:
        pytest.skip("redis-server not installed")
    import redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = tmp_path_factory.mktemp("redis")
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", str(d)]
    proc = subprocess.Popen([exe, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, decode_responses=True)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0", client
    proc.terminate()
    proc.wait(10)
