"""Every sample app on every profile of the virtual device: do the verdicts and figures match expected.yaml?

    python bench/check_samples.py [--corpus all|samples,corpus2,safety] [--profiles all|api23,miui14]
                                  [--apps A,B] [--results FILE.jsonl] [--resume]

Each app runs all five probes in process (`run_app`, no video or reports) on each profile in turn, with
its scenario's locale; the expected verdict and figure of each category are those its expected.yaml
states for that profile (`profiles` entries: figures that differ by Android family, with the fact that
causes them; exerciser/sim/expected.py). One JSON line per run goes to --results as it finishes (so a long
run can be read while it goes, and --resume skips what is there). Prints a matrix (app x profile: `ok`,
or the categories that differ, `v` verdict / `f` figure only), per profile the verdicts and figures
matched, and every mismatch with the tool's reason. Corpora: samples (scenarios/samples.yaml: the 18
first samples and the 7 scrolling ones), corpus2 (scenarios/corpus2.yaml), corpus3 (scenarios/corpus3.yaml),
safety (scenarios/safety/).
Exit status 0 when everything matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from exerciser import SCENARIOS_DIR  # noqa: E402
from exerciser.runner.app_run import default_reader, run_app  # noqa: E402
from exerciser.runner.parallel import virtual_device  # noqa: E402
from exerciser.scenario import Scenario, load_scenario, load_suite_or_scenario  # noqa: E402
from exerciser.sim.expected import CATEGORIES, expected_on, load_expected  # noqa: E402
from exerciser.sim.profiles import PROFILES  # noqa: E402

CORPORA = ("samples", "corpus2", "corpus3", "safety")


def corpus_scenarios(name: str) -> list[Scenario]:
    if name == "safety":
        return [load_scenario(p) for p in sorted((SCENARIOS_DIR / "safety").glob("*.yaml"))]
    return list(load_suite_or_scenario(SCENARIOS_DIR / f"{name}.yaml").scenarios)


def check_one(sc: Scenario, profile: str, reader: Any) -> dict[str, Any]:
    """Run `sc` on `profile`; per category what was expected and what came out."""
    sc = replace(sc, profile=profile)
    assert sc.app.expected_path is not None
    want = expected_on(load_expected(sc.app.expected_path), PROFILES[profile])
    t0, c0 = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="check-samples-") as tmp:
        res = run_app(sc, virtual_device(sc, f"check-{profile}"), Path(tmp), reader=reader, finalize=False)
    cats = {}
    for c in CATEGORIES:
        got, exp = res.categories[c], want[c]
        cats[c] = {
            "want": [exp.verdict, exp.figure],
            "got": [got.verdict, got.figure],
            "verdict_ok": got.verdict == exp.verdict,
            "figure_ok": got.figure == exp.figure,
            "reason": got.reason,
            "fact": exp.fact,
        }
    return {
        "app": sc.id,
        "profile": profile,
        "wall_s": round(time.perf_counter() - t0, 1),
        "cpu_s": round(time.process_time() - c0, 1),  # this process only (OCR runs in it)
        "steps": res.steps,
        "categories": cats,
    }


def cell(r: dict[str, Any]) -> str:
    bad = []
    for c, x in r["categories"].items():
        if not x["verdict_ok"]:
            bad.append(f"{c}v")
        elif not x["figure_ok"]:
            bad.append(f"{c}f")
    return ",".join(bad) or "ok"


def report(results: list[dict[str, Any]], profiles: list[str], out=sys.stdout) -> int:
    by = {(r["app"], r["profile"]): r for r in results}
    apps = list(dict.fromkeys(r["app"] for r in results))
    width = max((len(a) for a in apps), default=10)
    cols = [p for p in profiles if any(r["profile"] == p for r in results)]
    print(f"{'app':<{width}}  " + "  ".join(f"{p:<9}" for p in cols), file=out)
    for a in apps:
        row = [cell(by[(a, p)]) if (a, p) in by else "-" for p in cols]
        print(f"{a:<{width}}  " + "  ".join(f"{c:<9}" for c in row), file=out)
    print(file=out)
    total_v = total_f = total_n = 0
    for p in cols:
        rs = [r for r in results if r["profile"] == p]
        n = len(rs) * len(CATEGORIES)
        v = sum(x["verdict_ok"] for r in rs for x in r["categories"].values())
        f = sum(x["verdict_ok"] and x["figure_ok"] for r in rs for x in r["categories"].values())
        wall = sum(r["wall_s"] for r in rs)
        total_v, total_f, total_n = total_v + v, total_f + f, total_n + n
        line = f"{p:<9} apps {len(rs):>3}  verdicts {v:>3}/{n}  figures {f:>3}/{n}  wall {wall:6.0f} s"
        print(line, file=out)
    line = f"{'all':<9} runs {len(results):>3}  verdicts {total_v}/{total_n}  figures {total_f}/{total_n}"
    print(line, file=out)
    wrong = [
        (r, c, x)
        for r in results
        for c, x in r["categories"].items()
        if not (x["verdict_ok"] and x["figure_ok"])
    ]
    if wrong:
        print("\nmismatches (expected -> got):", file=out)
    for r, c, x in wrong:
        print(
            f"  {r['app']} {r['profile']} {c}: {x['want'][0]} {x['want'][1]} -> {x['got'][0]} {x['got'][1]}"
            f"  ({x['reason']})",
            file=out,
        )
    return 1 if wrong else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="all", help="all or a comma list of " + ", ".join(CORPORA))
    ap.add_argument("--profiles", default="all", help="all or a comma list of " + ", ".join(PROFILES))
    ap.add_argument("--apps", default="", help="only these app ids (comma list)")
    ap.add_argument("--results", type=Path, default=None, help="JSON lines, one per run, as they finish")
    ap.add_argument("--resume", action="store_true", help="keep the runs already in --results")
    ap.add_argument("--report-only", action="store_true", help="print the matrix of --results, run nothing")
    a = ap.parse_args(argv)
    corpora = CORPORA if a.corpus == "all" else tuple(a.corpus.split(","))
    profiles = list(PROFILES) if a.profiles == "all" else a.profiles.split(",")
    for name in (*corpora, *profiles):
        if name not in (*CORPORA, *PROFILES):
            print(f"check_samples: unknown corpus or profile {name!r}", file=sys.stderr)
            return 2
    scenarios = [sc for c in corpora for sc in corpus_scenarios(c)]
    if a.apps:
        keep = set(a.apps.split(","))
        scenarios = [sc for sc in scenarios if sc.id in keep]
    results: list[dict[str, Any]] = []
    if a.results and (a.resume or a.report_only) and a.results.exists():
        ids = {sc.id for sc in scenarios}
        for line in a.results.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r["app"] in ids and r["profile"] in profiles:
                results.append(r)
    if not a.report_only:
        done = {(r["app"], r["profile"]) for r in results}
        reader = default_reader()
        sink = a.results.open("a" if a.resume else "w", encoding="utf-8") if a.results else None
        for p in profiles:  # one profile after another: a profile's figures are complete early
            for sc in scenarios:
                if (sc.id, p) in done:
                    continue
                r = check_one(sc, p, reader)
                results.append(r)
                took = f"{r['wall_s']} s, cpu {r['cpu_s']} s"
                print(f"{p} {sc.id}: {cell(r)} ({took})", file=sys.stderr, flush=True)
                if sink:
                    sink.write(json.dumps(r, ensure_ascii=False) + "\n")
                    sink.flush()
        if sink:
            sink.close()
    order = {sc.id: i for i, sc in enumerate(scenarios)}
    results.sort(key=lambda r: order.get(r["app"], 0))
    return report(results, profiles)


if __name__ == "__main__":
    sys.exit(main())
