"""Explorer quality and run speed on every sample app: prints figures and ratios, asserts nothing.

    python bench/bench_explore.py [--corpus corpus2] [--apps A,B] [--seeds 3] [--budget 300] [--no-full]
                                  [--cores N]

Per sample app, from the main screen of a clean install (policy agreed, prompts allowed):
  shortest  taps from the main screen to the deletion entry, tapping the entry included, on the state
            graph of an exhaustive exploration (and, in brackets, the figure of its expected.yaml)
  goal / bfs / random
            taps each strategy spent to get there from scratch (its own choices and the replays
            to reach them; the entry tap included), and the ratio to the shortest path; random is the
            median over --seeds seeds, with how many seeds reached the entry within --budget actions
  run s     wall time of a whole five-probe `run_app` (video and reports included), on --cores cores
            (default 1: the process and its children are pinned to one CPU), with its CPU seconds
  steps, device s
            the run's trace steps and the device time they took (deliberate clock jumps apart, in hours),
            and how many of the five verdicts and figures match expected.yaml
--corpus corpus2 measures the second sample corpus (sample_apks/corpus2/, scenarios/corpus2/).
Targets (issue 4): goal <= 1.5x the shortest path on every sample; a full run <= 60 s on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from exerciser import SAMPLES_DIR, SCENARIOS_DIR  # noqa: E402
from exerciser.explore.explorer import Explorer, Goal, deletion_goal, entry_targets  # noqa: E402
from exerciser.probes.advance import start_app  # noqa: E402
from exerciser.probes.common import Driver, ProbeContext  # noqa: E402
from exerciser.runner.app_run import app_info, default_reader, run_app  # noqa: E402
from exerciser.runner.parallel import virtual_device  # noqa: E402
from exerciser.runner.session import Session, Step  # noqa: E402
from exerciser.scenario import Scenario, load_scenario  # noqa: E402
from exerciser.score.rulepack import load_rulepack  # noqa: E402

TARGET_RATIO = 1.5
TARGET_RUN_S = 60.0


def _fresh(sc: Scenario, tmp: Path, name: str) -> tuple[Session, Driver, Step]:
    info = app_info(sc)
    s = Session(virtual_device(sc, "bench"), info.package, tmp / name, default_reader(), sc.budgets)
    ctx = ProbeContext(s, sc, load_rulepack(), info.package, info.label)
    d = Driver(ctx, prompts="allow", policy="agree", phase="bench")
    return s, d, start_app(ctx, d, "bench: clean install")


def _entry_tap(step: Step) -> int:
    """1 when the deletion entry is on this screen (its tap is part of the path), 0 past it."""
    return 1 if entry_targets(step) else 0


def shortest(sc: Scenario, tmp: Path, budget: int) -> int | None:
    """Exhaustive exploration; the shortest tap distance from the main screen to the deletion entry."""
    s, d, main = _fresh(sc, tmp, "map")
    target = deletion_goal()
    hits: dict[str, int] = {}

    def note(step: Step) -> bool:
        if target.reached(step):
            hits.setdefault(step.state.id, _entry_tap(step))
        return False  # never stop: map everything

    ex = Explorer(s, d.settle, "bfs", max_actions=budget, tap=d.tap)
    ex.explore(Goal("map", note, lambda c, st: 1.0), main)
    dist = s.graph.tap_distances(main.state.id)
    found = [dist[sid] + extra for sid, extra in hits.items() if sid in dist]
    s.close()
    return min(found) if found else None


def attempt(sc: Scenario, tmp: Path, strategy: str, seed: int, budget: int) -> tuple[int | None, int]:
    """(taps to the deletion entry, the entry tap included, or None when not reached; taps spent)."""
    s, d, main = _fresh(sc, tmp, f"{strategy}-{seed}")
    ex = Explorer(s, d.settle, strategy, seed=seed, max_actions=budget, tap=d.tap)
    r = ex.explore(deletion_goal(), main)
    s.close()
    return (None if r.found is None else r.taps + _entry_tap(r.found)), r.taps


@dataclass
class FullRun:
    wall_s: float
    cpu_s: float
    steps: int
    device_s: float  # device time the steps took, deliberate clock jumps excluded
    jumped_h: float  # deliberate clock jumps (the re-request schedule)
    agree: int  # categories whose verdict and figure match expected.yaml


def full_run(sc: Scenario, tmp: Path, expected: dict) -> FullRun:
    def cpu() -> float:
        a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime

    c0, t0 = cpu(), time.perf_counter()
    r = run_app(sc, virtual_device(sc, "bench-run"), tmp / "runs")
    wall, used = time.perf_counter() - t0, cpu() - c0
    lines = [json.loads(x) for x in (r.out_dir / "trace.jsonl").read_text(encoding="utf-8").splitlines() if x]
    times = [x["device_time_ms"] for x in lines]
    jumped = sum(x["action"].get("seconds", 0) for x in lines if x["action"]["type"] == "advance_clock")
    want = {c: (e["verdict"], e["figure"]) for c, e in expected.items() if c in r.categories}
    agree = sum((v.verdict, v.figure) == want[c] for c, v in r.categories.items())
    return FullRun(wall, used, r.steps, (max(times) - min(times)) / 1000 - jumped, jumped / 3600, agree)


def _ratio(got: tuple[int | None, int], best: int | None) -> str:
    taps, spent = got
    if taps is None:
        return f"none ({spent} taps)"
    if not best:
        return f"{taps}"
    return f"{taps} ({taps / best:.2f}x)"


def _expected(apps_dir: Path, app: str) -> dict:
    return yaml.safe_load((apps_dir / app / "expected.yaml").read_text(encoding="utf-8"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apps", default="", help="comma-separated sample ids (default: every sample)")
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the random baseline")
    ap.add_argument("--budget", type=int, default=300, help="actions per exploration")
    ap.add_argument("--no-full", action="store_true", help="skip the whole five-probe runs")
    ap.add_argument("--cores", type=int, default=1, help="CPUs the benchmark may use (0: all)")
    ap.add_argument("--corpus", default="", help="a sample corpus folder (corpus2) instead of sample_apks/")
    a = ap.parse_args()
    if a.cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: a.cores])
    apps_dir, sc_dir = SAMPLES_DIR / a.corpus, SCENARIOS_DIR / a.corpus
    apps = a.apps.split(",") if a.apps else sorted(p.parent.name for p in apps_dir.glob("*/app.yaml"))
    default_reader()  # the OCR engines load once, not inside the first measurement
    cols = ("app", "shortest (exp.)", "goal", "bfs", f"random (median of {a.seeds})", "run s (cpu s)")
    print(" | ".join(cols + ("steps", "device s (+ jumped h)", "verdicts ok")))
    worst_goal, worst_run, missed, totals = 0.0, 0.0, [], [0, 0.0, 0, 0]
    with tempfile.TemporaryDirectory(prefix="bench-explore-") as td:
        tmp = Path(td)
        for app in apps:
            sc = load_scenario(sc_dir / f"{app}.yaml")
            exp = _expected(apps_dir, app)
            best = shortest(sc, tmp / app, max(a.budget, 400))
            goal = attempt(sc, tmp / app, "goal", 0, a.budget)
            bfs = attempt(sc, tmp / app, "bfs", 0, a.budget)
            rnd = [attempt(sc, tmp / app, "random", k, a.budget) for k in range(a.seeds)]
            got = [t for t, _ in rnd if t is not None]
            rnd_med = (
                (int(statistics.median(got)) if got else None),
                int(statistics.median(x for _, x in rnd)),
            )
            run = full_run(sc, tmp / app, exp) if not a.no_full else None
            if best:
                if goal[0] is None:
                    missed.append(app)
                else:
                    worst_goal = max(worst_goal, goal[0] / best)
            elif goal[0] is not None:
                missed.append(f"{app} (entry found where the map has none)")
            row = [
                app,
                f"{best if best is not None else 'none'} ({exp['8']['figure']})",
                _ratio(goal, best),
                _ratio(bfs, best),
                f"{_ratio(rnd_med, best)} [{len(got)}/{a.seeds}]",
                f"{run.wall_s:.1f} ({run.cpu_s:.1f})" if run else "-",
            ]
            if run:
                row += [str(run.steps), f"{run.device_s:.0f} (+{run.jumped_h:.1f} h)", f"{run.agree}/5"]
                worst_run = max(worst_run, run.wall_s)
                totals = [x + y for x, y in zip(totals, (run.steps, run.device_s, run.agree, 5), strict=True)]
            print(" | ".join(row), flush=True)
    print(
        f"goal-directed: worst ratio {worst_goal:.2f}x (target <= {TARGET_RATIO}x)"
        + (f"; not reached: {', '.join(missed)}" if missed else "")
    )
    if not a.no_full:
        cores = a.cores or os.cpu_count()
        print(
            f"whole five-probe run: slowest {worst_run:.1f} s on {cores} core(s)"
            f" (target <= {TARGET_RUN_S:g} s); {totals[0]} steps and {totals[1]:.0f} device s in all"
            f" ({totals[1] / max(1, len(apps)):.0f} s per app); verdict and figure as expected in"
            f" {totals[2]}/{totals[3]} categories"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
