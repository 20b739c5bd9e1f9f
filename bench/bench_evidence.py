"""Benchmark of the evidence a run leaves: bytes per step, and time per step spent on it against the
step time on the virtual device. Target: evidence <= 10% of the step time.

    .venv/bin/python bench/bench_evidence.py [--scenario scenarios/refusal_wall_en.yaml] [--no-baseline]

One real `run_app` of the scenario on the virtual device, with every evidence part timed where it runs:
- hot path, inside each step: hashing the capture, writing the screenshot and dump (`StepFiles.write`:
  a hard link for a screen seen before), the trace line (`TraceWriter.append`) and handing the step to
  the live evidence (`LiveEvidence.on_step`, and `end_input` once after the last step);
- end of the app: `finalize_app` (what it does beside the video worker's last frames: loading the run,
  hashing its files for the manifest, junit.xml; then waiting for the video, report.json/html, the
  manifest).
The step time is the run's wall time without those. CPU is reported too: the live video's worker and
its ffmpeg run beside the run (another core), so they cost CPU but little wall time; the worker's CPU
is broken down by part (decode, pictures for the report, drawing, pipe to ffmpeg, ffmpeg) as it
measured it, and its start (Python, numpy, OpenCV) apart.

The baseline run (unless --no-baseline) is the same run the way evidence was made before: an fsync per
trace line, every screenshot written again, the video made from the bundle after the run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import exerciser.evidence.bundle as bundle
import exerciser.evidence.live as live
import exerciser.evidence.stepfiles as stepfiles
import exerciser.evidence.trace as trace
import exerciser.evidence.video as video_mod
import exerciser.runner.session as session_mod
from exerciser.evidence.bundle import FinalizeStats
from exerciser.evidence.trace import sha256_hex
from exerciser.runner.app_run import default_reader, run_app
from exerciser.scenario import load_suite_or_scenario

ROOT = Path(__file__).resolve().parent.parent


class Timers:
    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, owner: type, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*a, **kw):
            t, c = time.perf_counter(), time.thread_time()
            try:
                return original(*a, **kw)
            finally:
                self.wall[label] += time.perf_counter() - t
                self.cpu[label] += time.thread_time() - c
                self.calls[label] += 1

        timed.__wrapped__ = original  # type: ignore[attr-defined]
        setattr(owner, name, timed)

    @staticmethod
    def unwrap(owner: type, name: str) -> None:
        setattr(owner, name, getattr(owner, name).__wrapped__)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _device(sc):
    from exerciser.sim import VirtualDevice, load_app_model

    return VirtualDevice(apps=[load_app_model(sc.app.model_path)], profile=sc.profile, locale=sc.locale)


IF_COPIED = "(links as copies)"


def _bytes(app_dir: Path) -> dict[str, int]:
    """On-disk bytes by part (a top-level file or folder), each file content (inode) counted once, in
    steps/ first: a screen seen again and a deciding screenshot are hard links to a step's file. Under
    IF_COPIED: the total with every link counted as a copy."""
    out: dict[str, int] = defaultdict(int)
    seen: set[tuple[int, int]] = set()
    files = [p for p in app_dir.rglob("*") if p.is_file()]
    for p in sorted(files, key=lambda p: (p.relative_to(app_dir).parts[0] != "steps", str(p))):
        st = p.stat()
        out[IF_COPIED] += st.st_size
        rel = p.relative_to(app_dir).parts
        part = rel[0] + ("/" if len(rel) > 1 else "")
        out[part] += st.st_size if (st.st_dev, st.st_ino) not in seen else 0
        seen.add((st.st_dev, st.st_ino))
    return out


def measure(sc, out_dir: Path, baseline: bool) -> dict:
    stepfiles.DEDUPE = not baseline
    trace.SYNC_EVERY_S = 0.0 if baseline else 1.0
    live.LIVE_VIDEO = not baseline
    timers = Timers()
    targets = [
        (stepfiles.StepFiles, "write", "step files"),
        (trace.TraceWriter, "append", "trace line"),
        (live.LiveEvidence, "on_step", "to live video"),
        (live.LiveEvidence, "end_input", "to live video"),
    ]
    for owner, name, label in targets:
        timers.wrap(owner, name, label)
    stats = FinalizeStats()

    def timed_sha(data: bytes) -> str:  # the session hashes each capture (trace and read cache)
        t, c = time.perf_counter(), time.thread_time()
        try:
            return sha256_hex(data)
        finally:
            timers.wall["sha-256"] += time.perf_counter() - t
            timers.cpu["sha-256"] += time.thread_time() - c

    original_finalize = bundle.finalize_app
    fin: dict[str, float] = {}

    def finalize(app_dir, *a, **kw):
        t, c, pc = time.perf_counter(), time.thread_time(), time.process_time()
        try:
            return original_finalize(app_dir, *a, stats=stats, **kw)
        finally:
            fin["wall"], fin["cpu"] = time.perf_counter() - t, time.thread_time() - c
            fin["cpu_all"] = time.process_time() - pc  # this process's threads, not its children

    bundle.finalize_app = finalize
    session_mod.sha256_hex = timed_sha
    try:
        t0, c0 = time.perf_counter(), time.thread_time()
        p0, k0 = time.process_time(), _children_cpu()
        res = run_app(sc, _device(sc), out_dir)
        wall, cpu_main = time.perf_counter() - t0, time.thread_time() - c0
        # every thread of this process (the live video's, decoding pools) and ffmpeg (reaped children)
        cpu_all = time.process_time() - p0 + _children_cpu() - k0
    finally:
        bundle.finalize_app = original_finalize
        session_mod.sha256_hex = sha256_hex
        for owner, name, _ in targets:
            Timers.unwrap(owner, name)
    n = res.steps
    hot_wall = sum(timers.wall.values())
    hot_cpu = sum(timers.cpu.values())
    step_wall = (wall - fin["wall"] - hot_wall) / n
    step_cpu = (cpu_main - fin["cpu"] - hot_cpu) / n  # OCR (tesserocr) runs in the main thread
    video = stats.video
    wait = video.wait_seconds if video and not baseline else 0.0
    worker_cpu = video.cpu_seconds if video and not baseline else 0.0
    # on an idle 2-core machine the worker runs beside the run: only what it does beyond the run's own
    # CPU time is waited for at the end
    if baseline:  # the video is made after the run: all of it is waited for
        idle = hot_cpu + fin["cpu_all"] + (video.encoder_cpu_seconds if video else 0.0)
    else:
        idle = hot_cpu + fin["cpu_all"] + max(0.0, worker_cpu - step_cpu * n)
    return {
        "steps": n,
        "wall": wall,
        "step_wall_ms": step_wall * 1000,
        "step_cpu_ms": step_cpu * 1000,
        "hot_ms": {k: v / n * 1000 for k, v in timers.wall.items()},
        "hot_cpu_parts_ms": {k: v / n * 1000 for k, v in timers.cpu.items()},
        "hot_cpu_ms": hot_cpu / n * 1000,
        "finalize_cpu_ms": fin["cpu"] / n * 1000,
        "worker_cpu_ms": worker_cpu / n * 1000,
        "wait_ms": wait / n * 1000,
        "idle_estimate_ms": idle / n * 1000,
        "finalize_ms": fin["wall"] / n * 1000,
        "finalize_parts_ms": {k: v / n * 1000 for k, v in stats.seconds.items()},
        "video_wait_ms": (video.wait_seconds / n * 1000) if video and not baseline else None,
        "worker": video if video and not baseline else None,
        "evidence_wall_ms": (hot_wall + fin["wall"]) / n * 1000,
        "evidence_cpu_ms": (cpu_all - step_cpu * n) / n * 1000,
        "bytes": _bytes(out_dir / sc.id),
        "errors": stats.errors,
    }


def _per_step_kib(m: dict) -> float:
    return sum(v for k, v in m["bytes"].items() if k != IF_COPIED) / m["steps"] / 1024


def report(name: str, m: dict) -> None:
    n = m["steps"]
    print(f"\n== {name}: {n} steps in {m['wall']:.1f} s")
    print(f"step on the virtual device, evidence excluded: {m['step_wall_ms']:6.2f} ms wall, ", end="")
    print(f"{m['step_cpu_ms']:.2f} ms CPU (run's thread; OCR included)")
    hot = "  ".join(f"{k} {v:.3f}" for k, v in m["hot_ms"].items())
    hot_cpu = "  ".join(f"{k} {v:.3f}" for k, v in m["hot_cpu_parts_ms"].items())
    print(f"evidence, hot path per step (ms): wall {hot}")
    print(f"                                   CPU  {hot_cpu}")
    parts = "  ".join(f"{k} {v:.2f}" for k, v in m["finalize_parts_ms"].items())
    print(f"evidence, end of run per step: {m['finalize_ms']:.2f} ms wall ({parts}), ", end="")
    print(f"{m['finalize_cpu_ms']:.2f} ms CPU")
    if m["video_wait_ms"] is not None:
        print(
            f"live video worker: {m['worker_cpu_ms']:.2f} ms CPU per step beside the run (frames + ffmpeg); "
            f"the end of the run waited {m['video_wait_ms']:.2f} ms per step for it"
        )
        v = m["worker"]
        parts = "  ".join(f"{k} {s / n * 1000:.2f}" for k, s in v.parts.items())
        w = v.worker
        print(f"  worker CPU per step by part: {parts}; its start {v.start_cpu_seconds * 1000:.0f} ms CPU")
        print(
            f"  after the last step it was {w.get('behind', 0):.0f} steps behind "
            f"({w.get('drain_seconds', 0) * 1000:.0f} ms to draw them), then took "
            f"{w.get('finish_seconds', 0) * 1000:.0f} ms to close the file; PNG bands inflated "
            f"{w.get('bands_inflated', 0):.0f}, reused {w.get('bands_reused', 0):.0f}"
        )
    ratio = m["evidence_wall_ms"] / m["step_wall_ms"]
    print(
        f"EVIDENCE WALL per step {m['evidence_wall_ms']:.2f} ms = {ratio:.1%} of the step's wall time "
        f"(target <= 10%: {'OK' if ratio <= 0.10 else 'OVER'}; as measured, on this machine's load)"
    )
    est = m["idle_estimate_ms"] / m["step_cpu_ms"]
    print(
        f"IDLE-MACHINE ESTIMATE {m['idle_estimate_ms']:.2f} ms per step = {est:.1%} of the step's CPU "
        f"(hot path + end of run + worker CPU beyond the run's; target <= 10%: "
        f"{'OK' if est <= 0.10 else 'OVER'})"
    )
    print(
        f"evidence CPU in all {m['evidence_cpu_ms']:.2f} ms per step "
        f"= {m['evidence_cpu_ms'] / m['step_cpu_ms']:.0%} of the step's CPU"
    )
    b = m["bytes"]
    print(f"bytes per step: {_per_step_kib(m):.1f} KiB in all")
    rows = sorted(((k, v) for k, v in b.items() if v and k != IF_COPIED), key=lambda kv: -kv[1])
    print("  " + "  ".join(f"{k} {v / n / 1024:.1f}" for k, v in rows[:9]) + "  (KiB/step)")
    print(f"  {b[IF_COPIED] / n / 1024:.1f} KiB/step if every hard link were a copy")
    if m["errors"]:
        print("errors: " + "; ".join(m["errors"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "refusal_wall_en.yaml")
    ap.add_argument("--no-baseline", action="store_true", help="skip the before-the-changes run")
    ap.add_argument("--baseline-first", action="store_true", help="measure the baseline run first")
    ap.add_argument("--keep", type=Path, help="leave the bundles here")
    ap.add_argument("--worker-nice", type=int, default=0, help="niceness of the live video worker")
    args = ap.parse_args()
    sc = load_suite_or_scenario(args.scenario).scenarios[0]
    video_mod.WORKER_NICE = args.worker_nice
    print(f"scenario {args.scenario} (app {sc.id}), {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    root = Path(tempfile.mkdtemp(prefix="bench-evidence-"))
    try:
        # the warm-up pays the one-time costs (OCR models, fonts, templates); each measured run starts with
        # an empty OCR cache, as the first run of an app does, so neither finds it warmer than the other
        reader = default_reader()
        run_app(sc, _device(sc), root / "warmup")
        modes = [False] if args.no_baseline else [False, True]
        results = {}
        for baseline in reversed(modes) if args.baseline_first else modes:
            reader.clear_cache()
            results[baseline] = measure(sc, root / ("before" if baseline else "now"), baseline)
        report("evidence as made now", results[False])
        if True in results:
            now, before = results[False], results[True]
            report("baseline: fsync per line, no links, video after the run", before)
            print(
                f"\nnow vs baseline: evidence wall per step {now['evidence_wall_ms']:.2f} vs "
                f"{before['evidence_wall_ms']:.2f} ms; bytes per step {_per_step_kib(now):.0f} vs "
                f"{_per_step_kib(before):.0f} KiB"
            )
        print(f"\nload average at the end {os.getloadavg()[0]:.1f} (figures are from one run: noisy)")
    finally:
        if args.keep:
            shutil.copytree(root, args.keep, dirs_exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
