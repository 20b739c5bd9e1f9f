"""Benchmark of `exerciser check app.apk` without a device, on the real APKs of ../shared/real_apks.

Target: under 0.5 s per APK for the whole command (process start, imports, reading, printing). Prints, per
APK and as a median: the command's wall time (a new process, as a user runs it), the in-process read + check
time, and the peak of Python allocations while reading; then the slowest module imports of the command.

    .venv/bin/python bench/bench_check.py [--dir ../shared/real_apks] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from exerciser.apk import read_apk
from exerciser.apk.static import StaticCheck, summary_lines
from exerciser.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
EXE = [sys.executable, "-m", "exerciser.cli.main", "check"]


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def command_time(apk: Path, rounds: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of the command in a new process. The CPU figure is what an idle machine
    would take; the wall figure on a shared machine includes waiting for a core."""
    walls, cpus = [], []
    for _ in range(rounds):
        t, c = time.perf_counter(), _child_cpu()
        r = subprocess.run([*EXE, str(apk)], capture_output=True, text=True, cwd=ROOT)
        walls.append(time.perf_counter() - t)
        cpus.append(_child_cpu() - c)
        if r.returncode not in (0, 1, 2):
            raise SystemExit(f"{apk.name}: exit {r.returncode}\n{r.stderr}")
    return statistics.median(walls), statistics.median(cpus)


def in_process(apk: Path) -> tuple[float, float, str]:
    """(seconds to read and check, peak MiB while reading, outcome)."""
    t = time.perf_counter()
    try:
        lines = summary_lines(StaticCheck(read_apk(apk), []))
        outcome = lines[-1].strip()
    except UserError as exc:
        outcome = f"refused: {str(exc).split(': ', 1)[1][:50]}"
    dt = time.perf_counter() - t
    tracemalloc.start()
    with contextlib.suppress(UserError):
        read_apk(apk)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return dt, peak, outcome


def hostile(work: Path) -> None:
    """Time and peak allocation of the reader on the worst archives the caps allow (built here)."""
    from exerciser.apk import axml
    from exerciser.apk.build import deflated_zeros, manifest_xml, raw_zip
    from exerciser.apk.ziparc import limits

    good = axml.encode_text(manifest_xml("com.example.bench", permissions=["android.permission.CAMERA"]))
    bomb = deflated_zeros(1024)
    cap = limits().max_manifest_bytes
    cases = {
        "1 GiB manifest in 1 MB, size declared": [
            {"name": "AndroidManifest.xml", "data": bomb, "method": 8, "usize": 1 << 30}
        ],
        "same, declared 4 KiB (lying)": [
            {"name": "AndroidManifest.xml", "data": bomb, "method": 8, "usize": 4096}
        ],
        "manifest at the size cap, stored": [{"name": "AndroidManifest.xml", "data": os.urandom(cap)}],
        f"{limits().max_entries} entries": [{"name": "AndroidManifest.xml", "data": good}]
        + [{"name": f"r/{i}", "data": b""} for i in range(limits().max_entries - 1)],
    }
    print("hostile archives (built now):")
    for name, entries in cases.items():
        path = work / "hostile.apk"
        path.write_bytes(raw_zip(entries))
        t = time.perf_counter()
        try:
            read_apk(path)
            outcome = "read"
        except UserError as exc:
            outcome = str(exc).split(": ", 1)[1][:58]
        dt = time.perf_counter() - t
        peak = "-"
        if len(entries) < 10:  # tracemalloc would slow half a million entries a hundredfold
            tracemalloc.start()
            with contextlib.suppress(UserError):
                read_apk(path)
            peak = f"{tracemalloc.get_traced_memory()[1] / 2**20:.1f}"
            tracemalloc.stop()
        print(f"  {name:<38} {dt * 1000:7.0f} ms {peak:>6} MiB  {outcome}")


def slowest_imports(apk: Path, n: int = 6) -> list[str]:
    r = subprocess.run(
        [*EXE[:1], "-X", "importtime", *EXE[1:], str(apk)], capture_output=True, text=True, cwd=ROOT
    )
    rows = []
    for line in r.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    return [f"{us / 1000:7.1f} ms {name}" for us, name in rows[:n]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=ROOT.parent / "shared" / "real_apks")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    apks = sorted(args.dir.glob("*.apk"))
    if not apks:
        raise SystemExit(f"no APKs in {args.dir}")
    print(f"{len(apks)} APKs in {args.dir}, {args.rounds} command runs each, {os.cpu_count()} CPUs")
    print(f"{'apk':<36} {'wall':>7} {'CPU':>7} {'read+check':>11} {'peak':>8}  outcome")
    walls, cpus, reads, peaks = [], [], [], []
    for apk in apks:
        wall, cpu = command_time(apk, args.rounds)
        dt, peak, outcome = in_process(apk)
        walls.append(wall)
        cpus.append(cpu)
        reads.append(dt)
        peaks.append(peak)
        print(
            f"{apk.name[:36]:<36} {wall * 1000:5.0f}ms {cpu * 1000:5.0f}ms {dt * 1000:9.1f}ms "
            f"{peak:6.1f}MiB  {outcome}"
        )
    print(
        f"median command: wall {statistics.median(walls) * 1000:.0f} ms (max {max(walls) * 1000:.0f}), "
        f"CPU {statistics.median(cpus) * 1000:.0f} ms (max {max(cpus) * 1000:.0f}; target < 500), "
        f"read+check {statistics.median(reads) * 1000:.2f} ms (max {max(reads) * 1000:.1f} ms), "
        f"peak allocation max {max(peaks):.1f} MiB (target < 300)"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        hostile(Path(tmp))
    print("slowest imports of the command (cumulative):")
    for line in slowest_imports(apks[0]):
        print("  " + line)


if __name__ == "__main__":
    main()
