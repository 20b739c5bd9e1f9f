"""What the safety guard costs per step: prints figures, asserts nothing.

    python bench/bench_guard.py [--apps N]
    python bench/bench_guard.py --matrix     # every safety sample app on every profile: harm reached?

Runs sample apps of the suite on the virtual device (every probe, as `exerciser run` does) with the guard
in place, then replays every captured screen of those runs through the guard alone: `saw()` (follow the
deletion path: the words of the page or dialog) plus one judgement is what a step costs; `saw()` plus the
judgement of every control on the screen is what the explorer's pre-filter spends once per new screen.
Also prints how many actions the guard refused per app and its share of the step time.

With --matrix: runs every app of sample_apks/safety on every device profile with every probe and counts
the runs whose trace reached an `.irreversible.` screen (0 expected; a test account: only probe 8).

Target (issue 12): <= 1 ms per step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from exerciser.device.contract import Observation
from exerciser.explore.selector import controls
from exerciser.explore.state import state_of
from exerciser.perceive import Reader
from exerciser.runner.app_run import run_app
from exerciser.safety import SafetyGuard
from exerciser.scenario import load_scenario
from exerciser.sim import VirtualDevice
from exerciser.sim.appmodel import load_sample

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "safety"))
TARGET_MS = 1.0


def _p95(xs: list[float]) -> float:
    return sorted(xs)[int(0.95 * (len(xs) - 1))]


def matrix() -> int:
    from safety_runs import ALL_PROFILES, SAFETY_SCENARIOS, harm_steps, run_safety, scenario

    reader = Reader()
    runs = harmed = refused = 0
    lifted: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in SAFETY_SCENARIOS:
            row = []
            for profile in ALL_PROFILES:
                sc = scenario(path, profile)
                _, trace = run_safety(sc, Path(tmp) / f"{path.stem}-{profile}", reader)
                harm = harm_steps(trace)
                runs += 1
                refused += sum(1 for t in trace if t["action"].get("refused"))
                if sc.test_account:
                    lifted.append(f"{path.stem}/{profile}: probes {sorted({p for _, p, _ in harm})}")
                elif harm:
                    harmed += 1
                row.append("HARM" if harm and not sc.test_account else ("lift" if harm else "ok"))
            print(f"{path.stem:32s} " + " ".join(f"{p}:{r}" for p, r in zip(ALL_PROFILES, row, strict=True)))
    print(f"\nruns: {runs}, reached an irreversible screen without a test account: {harmed}")
    print(f"actions refused by the guard: {refused}")
    print("test account (deletion finished on purpose): " + "; ".join(lifted))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=6, help="sample apps to run (default 6)")
    ap.add_argument("--matrix", action="store_true", help="every safety sample on every profile")
    args = ap.parse_args()
    if args.matrix:
        return matrix()
    suite = sorted((ROOT / "scenarios").glob("*.yaml"))
    suite = [p for p in suite if p.name not in ("samples.yaml",)][: args.apps]
    reader = Reader()
    per_step: list[float] = []
    per_control: list[float] = []
    per_screen: list[float] = []
    step_ms: list[float] = []
    refused_total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in suite:
            sc = load_scenario(path)
            model = load_sample(sc.app.value)
            dev = VirtualDevice([model], profile=sc.profile, locale=sc.locale)
            t0 = time.perf_counter()
            res = run_app(sc, dev, Path(tmp), reader=reader, finalize=False)
            wall = (time.perf_counter() - t0) * 1000
            step_ms.append(wall / max(1, res.steps))
            app_dir = Path(tmp) / sc.id
            lines = (app_dir / "trace.jsonl").read_text(encoding="utf-8").splitlines()
            refused = sum('"refused"' in ln for ln in lines)
            refused_total += refused
            guard = SafetyGuard()
            info = dev.info
            for n in range(1, res.steps + 1):
                xml = (app_dir / "steps" / f"{n:04d}.xml").read_text(encoding="utf-8")
                png = (app_dir / "steps" / f"{n:04d}.png").read_bytes()
                obs = Observation(xml, png, model.package, "", 0)
                reading = reader.read(obs, info)
                sid = state_of(reading).id
                cs = controls(reading)
                t = time.perf_counter()
                guard.saw(reading, sid)
                saw_ms = (time.perf_counter() - t) * 1000
                judged = []
                for c in cs:
                    t1 = time.perf_counter()
                    guard.judge_point(*c.point)
                    judged.append((time.perf_counter() - t1) * 1000)
                per_control.extend(judged)
                per_step.append(saw_ms + (statistics.median(judged) if judged else 0.0))
                per_screen.append(saw_ms + sum(judged))
            print(f"{sc.id:32s} steps {res.steps:4d}  refused {refused:2d}  {step_ms[-1]:.1f} ms/step")
    med = statistics.median(per_step)
    print()
    print(f"screens judged: {len(per_step)}, controls judged: {len(per_control)}")
    print(
        f"guard per step (saw + one judgement): median {med:.3f} ms, "
        f"p95 {_p95(per_step):.3f} ms (target <= {TARGET_MS:g} ms)"
    )
    print(
        f"guard per new screen (saw + every control, the explorer's pre-filter): median "
        f"{statistics.median(per_screen):.3f} ms, p95 {_p95(per_screen):.3f} ms"
    )
    print(f"guard per control judgement: median {statistics.median(per_control):.4f} ms")
    print(
        f"share of a step: {med / statistics.median(step_ms) * 100:.1f}% of the "
        f"{statistics.median(step_ms):.1f} ms median step; refused actions: {refused_total}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
