"""Helpers of the cluster tests: a real redis-server on a loopback port, `exerciser worker` subprocesses,
small suites of quick sample apps. A plain module (not conftest.py), reusing the device tests' adb helpers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_DEVICE_TESTS = Path(__file__).resolve().parent.parent / "device"
if str(_DEVICE_TESTS) not in sys.path:
    sys.path.append(str(_DEVICE_TESTS))

from adb_helpers import (  # noqa: E402
    ADB,
    PHONE_PACE_DEVICE_SECONDS,
    PHONE_PACE_RULES,
    AdbServer,
    free_port,
    serve,
)

REDIS = "/usr/bin/redis-server"
CLI = [sys.executable, "-c", "from exerciser.cli.main import main; main()"]
FAST = ["--beat", "0.5", "--lease", "4", "--visibility-timeout", "4", "--restore-interval", "1"]

__all__ = ["ADB", "PHONE_PACE_DEVICE_SECONDS", "PHONE_PACE_RULES", "AdbServer", "free_port", "serve"]


def invoke(*args: str):
    """`exerciser ARGS` in process (click's runner): exit code and output."""
    from click.testing import CliRunner

    from exerciser.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`exerciser ARGS` as a user runs it (its own process, `main()`'s error handling)."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def wait_for(what: str, pred: Callable[[], object], timeout: float, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class RedisServer:
    """redis-server on a loopback port in a temp dir; `persist` keeps an append-only file (fsync always),
    as an operator's broker would, so that `restart` loses nothing."""

    port: int
    dir: Path
    persist: bool = False
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        import redis

        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
        self.proc = subprocess.Popen(
            [
                REDIS,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                *aof,
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_for("redis-server", lambda: _ping(client), 10, 0.05)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()


def _ping(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


@dataclass
class Worker:
    proc: subprocess.Popen
    log: Path

    def children(self) -> list[int]:
        try:
            raw = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(x) for x in raw.split()]

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def stop_workers(workers: list[Worker]) -> None:
    """SIGTERM all, then wait: each finishes its job (warm shutdown), all at the same time."""
    for w in workers:
        if w.proc.poll() is None:
            w.proc.terminate()
    for w in workers:
        w.stop()


def start_worker(broker: str, log: Path, *args: str, env: dict | None = None) -> Worker:
    fh = log.open("w")
    proc = subprocess.Popen(
        [*CLI, "worker", "--broker", broker, *FAST, *args],
        stdout=fh,
        stderr=subprocess.STDOUT,
        env=os.environ | (env or {}),
    )
    return Worker(proc, log)


def submit_when_ready(broker: str, suite: Path, workers: int) -> tuple[object, str]:
    """Once `workers` device workers are live, submit the suite: the broker's Redis client and suite id."""
    import redis

    from exerciser.cluster.keys import live_workers

    r = redis.Redis.from_url(broker, decode_responses=True)
    wait_for(f"{workers} device workers", lambda: len(live_workers(r)) == workers, 60)
    res = invoke("submit", str(suite), "--broker", broker)
    assert res.exit_code == 0, res.output
    return r, res.output.strip().splitlines()[-1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead too
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def write_suite(folder: Path, apps: dict[str, str], probes: tuple[str, ...], name: str = "cluster") -> Path:
    """A suite of sample apps (app id -> locale) with a short probe list."""
    folder.mkdir(parents=True, exist_ok=True)
    plist = ", ".join(f'"{p}"' for p in probes)
    for app, locale in apps.items():
        (folder / f"{app}.yaml").write_text(
            f"app: {{sample: {app}}}\nlocale: {locale}\nprofile: api33\nprobes: [{plist}]\n"
        )
    suite = folder / "suite.yaml"
    suite.write_text(f"name: {name}\nscenarios: [{', '.join(f'{a}.yaml' for a in apps)}]\n")
    return suite
