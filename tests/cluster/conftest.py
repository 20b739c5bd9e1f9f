"""Shared fixture of the cluster tests: a real redis-server on a loopback port (append-only, as an
operator's broker runs, so a restart loses nothing), one per test module."""

from __future__ import annotations

import os

import pytest
from cluster_helpers import ADB, REDIS, AdbServer, RedisServer, free_port


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    if not os.path.exists(REDIS):
        pytest.skip("redis-server not installed (apt install redis-server)")
    srv = RedisServer(free_port(), tmp_path_factory.mktemp("redis"), persist=True).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def adb(tmp_path_factory):
    """A real adb server on a free port, for workers whose devices are served virtual devices."""
    if not os.path.exists(ADB):
        pytest.skip("Debian adb not installed (apt install adb)")
    server = AdbServer(free_port())
    assert server.run("start-server").returncode == 0
    yield server
    server.run("kill-server")
