"""Run uiautomator2's and adbutils' own device tests against `exerciser sim serve`.

    python bench/run_client_tests.py --checkout /tmp/clients [--suite demo_tests] [-k EXPR]

CHECKOUT holds public checkouts of the two projects (never copied into this repo):
`CHECKOUT/uiautomator2` (https://github.com/openatx/uiautomator2) and `CHECKOUT/adbutils`
(https://github.com/openatx/adbutils). Their tests run with the uiautomator2 and adbutils installed
here (the checkouts give only the tests), against one virtual device that runs the stand-in app models
of `tests/device/client_apps/`, through a real adb server the script starts: on adb's default port 5037
as on a user's machine (some tests hard-code it), or on a free port when another server holds 5037 (those
tests are then reported skipped, with the reason). Prints each test's
pass / fail / skip with the reason, and the tests known not to pass on a virtual device with theirs
(`tests/device/client_apps/exceptions.yaml`).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
APPS = ROOT / "tests" / "device" / "client_apps"
ADB_DEFAULT_PORT = 5037
SUITES = {  # suite -> (project folder, tests folder)
    "demo_tests": ("uiautomator2", "demo_tests"),
    "mobile_tests": ("uiautomator2", "mobile_tests"),
    "e2etests": ("adbutils", "e2etests"),
}


@dataclass
class Outcome:
    test: str  # suite-relative node id: file.py::name[param]
    result: str  # pass | fail | skip
    reason: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listening(port):
            return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


class Rig:
    """`exerciser sim serve` with the stand-in apps and its own adb server connected to it."""

    def __init__(self, profile: str, adb_port: int = 0) -> None:
        self.dev_port = free_port()
        # adb's default port, as on a user's machine, when nobody listens there; else a free one
        self.adb_port = adb_port or (ADB_DEFAULT_PORT if not listening(ADB_DEFAULT_PORT) else free_port())
        if listening(self.adb_port):  # never borrow (and kill) another server
            raise SystemExit(f"an adb server already listens on 127.0.0.1:{self.adb_port}")
        self.serial = f"127.0.0.1:{self.dev_port}"
        self.env = dict(os.environ, ANDROID_ADB_SERVER_PORT=str(self.adb_port))
        exe = Path(sys.executable).with_name("exerciser")
        apps = [
            a for p in sorted(APPS.glob("*.yaml")) if p.name != "exceptions.yaml" for a in ("--app", str(p))
        ]
        self.serve = subprocess.Popen(
            [str(exe), "sim", "serve", "--port", str(self.dev_port), "--profile", profile, *apps],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_listening(self.dev_port)
        self.adb("start-server")
        out = self.adb("connect", self.serial)
        if "connected" not in out:
            raise SystemExit(f"adb connect {self.serial}: {out.strip()}")
        self.adb("-s", self.serial, "wait-for-device")

    def adb(self, *args: str) -> str:
        r = subprocess.run(["adb", *args], env=self.env, capture_output=True, text=True, timeout=60)
        return r.stdout + r.stderr

    def close(self) -> None:
        self.adb("kill-server")
        self.serve.terminate()
        try:
            self.serve.wait(10)
        except subprocess.TimeoutExpired:
            self.serve.kill()


# tests that connect to an adb server at 127.0.0.1:5037 whatever the environment says: run only when the
# rig's own server is there (5037 was free), never against another user's server
DEFAULT_PORT_TESTS = {
    "e2etests": (
        "test_adb.py::test_server_version",
        "test_adb.py::test_adb_disconnect",
        "test_adb.py::test_wait_for",
        "test_adb.py::test_track_device",
    ),
}


def run_suite(rig: Rig, checkout: Path, suite: str, extra: list[str]) -> list[Outcome]:
    project, folder = SUITES[suite]
    tests = checkout / project / folder
    if not tests.is_dir():
        raise SystemExit(f"no {tests}: check out {project} there")
    deselect = DEFAULT_PORT_TESTS.get(suite, ()) if rig.adb_port != ADB_DEFAULT_PORT else ()
    with tempfile.TemporaryDirectory(prefix=f"client-{suite}-") as tmp:
        junit = Path(tmp) / "junit.xml"
        # cwd outside the checkout and importlib mode: the installed packages are imported, not the
        # checkout's sources; files the tests write in cwd land in tmp
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            str(tests),
            "-q",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            f"--rootdir={tests}",
            "-c",
            os.devnull,
            *extra,
        ]
        env = dict(rig.env, ANDROID_SERIAL=rig.serial)
        if deselect and extra:  # report only the port's tests that -k would have run
            listed = subprocess.run(
                [*cmd, "--collect-only"], cwd=tmp, env=env, capture_output=True, text=True
            )
            deselect = tuple(t for t in deselect if t in listed.stdout)
        run = [
            *cmd,
            "--timeout=120",  # adbutils' logcat reader stops at the next line: an idle log may pause a minute
            f"--junitxml={junit}",
            *(f"--deselect={t}" for t in deselect),  # node ids relative to --rootdir
        ]
        subprocess.run(run, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not junit.exists():
            raise SystemExit(f"{suite}: pytest wrote no report")
        why = f"not run: hard-codes adb's port 5037, which another server holds (rig on {rig.adb_port})"
        return parse_junit(junit, tests) + [Outcome(t, "skip", why) for t in deselect]


def parse_junit(path: Path, tests: Path) -> list[Outcome]:
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        file = case.get("file") or (case.get("classname", "").rsplit(".", 1)[-1] + ".py")
        test = f"{Path(file).name}::{case.get('name')}"
        result, reason = "pass", ""
        for child in case:
            if child.tag in ("failure", "error"):
                result, reason = "fail", (child.get("message") or child.text or "").strip()
            elif child.tag == "skipped":
                result, reason = "skip", (child.get("message") or "").strip()
        out.append(Outcome(test, result, " ".join(reason.split())[:160]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkout", required=True, type=Path, help="folder with uiautomator2/ and adbutils/")
    ap.add_argument("--suite", action="append", choices=sorted(SUITES), help="default: all three")
    ap.add_argument("--profile", default="api33")
    ap.add_argument("-k", dest="keyword", help="pytest -k expression")
    ap.add_argument(
        "--adb-port",
        type=int,
        default=0,
        help="port of the rig's adb server (default: 5037 when free, else a free one)",
    )
    args = ap.parse_args()
    known = yaml.safe_load((APPS / "exceptions.yaml").read_text(encoding="utf-8")) or {}
    extra = ["-k", args.keyword] if args.keyword else []
    rig = Rig(args.profile, args.adb_port)
    totals = []
    try:
        for suite in args.suite or list(SUITES):
            t0 = time.monotonic()
            outcomes = run_suite(rig, args.checkout, suite, extra)
            print(f"== {suite} ({time.monotonic() - t0:.0f} s)")
            for o in outcomes:
                why = _known(known, suite, o.test)
                note = f"  [known: {why}]" if why and o.result != "pass" else ""
                print(f"  {o.result:<4} {o.test}{(': ' + o.reason) if o.reason else ''}{note}")
            n = {r: sum(o.result == r for o in outcomes) for r in ("pass", "fail", "skip")}
            n["known"] = sum(
                o.result != "pass" and _known(known, suite, o.test) is not None for o in outcomes
            )
            n["unexplained"] = sum(
                o.result == "fail" and _known(known, suite, o.test) is None for o in outcomes
            )
            totals.append((suite, n, len(outcomes)))
    finally:
        rig.close()
    for suite, n, total in totals:
        print(
            f"{suite}: {n['pass']}/{total} pass, {n['fail']} fail, {n['skip']} skip"
            f" ({n['known']} listed in exceptions.yaml, {n['unexplained']} failures unexplained)"
        )
    return 0 if all(n["unexplained"] == 0 for _, n, _ in totals) else 1


def _known(known: dict, suite: str, test: str) -> str | None:
    table = known.get(suite) or {}
    return table.get(test) or table.get(test.split("[")[0])


if __name__ == "__main__":
    sys.exit(main())
