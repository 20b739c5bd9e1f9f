"""Shared fixtures: the real Debian adb server on a private port, and virtual devices served over adb.

Everything expensive is module-scoped: one adb server per test module, devices served once and
`adb connect`ed once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from adb_helpers import ADB, AdbServer, free_port


@pytest.fixture(scope="module")
def adb_server() -> Iterator[AdbServer]:
    if not os.path.exists(ADB):
        pytest.skip("Debian adb not installed (apt install adb)")
    port = free_port()
    saved = {k: os.environ.get(k) for k in ("ANDROID_ADB_SERVER_PORT", "ADBUTILS_ADB_PATH")}
    os.environ["ANDROID_ADB_SERVER_PORT"] = str(port)
    os.environ["ADBUTILS_ADB_PATH"] = ADB
    server = AdbServer(port)
    r = server.run("start-server")
    assert r.returncode == 0, r
    try:
        yield server
    finally:
        server.run("kill-server")
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
