"""`exerciser collect`: a submitted suite's bundles from the results store into one folder, and the suite
report over them (the same report.html / junit.xml `exerciser run` writes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exerciser import atomic
from exerciser.cluster.progress import SuiteStatus
from exerciser.cluster.store import Store
from exerciser.paths import safe_id, under


@dataclass
class Collected:
    out: Path
    results: list[Any]  # AppResult of every finished job, in suite order
    missing: list[str]  # jobs not finished (their partial attempts are copied all the same)


def app_result(summary: dict[str, Any], out_dir: Path):
    """An AppResult rebuilt from a verdict summary, for the table and exit status of `exerciser run`."""
    from exerciser.runner.app_run import AppResult
    from exerciser.score.score import CategoryVerdict

    cats = {c: CategoryVerdict(**v) for c, v in (summary.get("categories") or {}).items()}
    return AppResult(
        summary["app"],
        summary.get("package", ""),
        out_dir,
        categories=cats,
        extra=summary.get("extra") or {},
        error=summary.get("error"),
        steps=int(summary.get("steps") or 0),
        wall_seconds=float(summary.get("wall_seconds") or 0.0),
        serial=summary.get("serial", ""),
    )


def _store_of(st: SuiteStatus, results: str | None, summary: dict[str, Any] | None) -> Store | None:
    """The collecting host's view of the store: --results, else where the worker said it wrote."""
    if results:
        return Store(results)
    if summary and summary.get("bundle"):
        return Store(summary["bundle"].rsplit("/", 2)[0])
    return Store(st.suite.results) if st.suite.results else None


def _same_place(store: Store, rel: str, dst: Path) -> bool:
    """--out is the store's own suite folder (a local store): the bundles are in place already."""
    return store.local and Path(store.path(rel)).resolve() == dst.resolve()


def collect(st: SuiteStatus, out: Path, results: str | None = None) -> Collected:
    from exerciser.evidence.bundle import finalize_suite

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sid = st.suite.id
    done, missing, app_dirs = [], [], []
    stores = [s for s in (_store_of(st, results, r.summary) for r in st.rows) if s is not None]
    for row in st.rows:
        store = _store_of(st, results, row.summary) or (stores[0] if stores else None)
        dst = under(out, safe_id(row.app, "app id"))
        if store is not None and not _same_place(store, f"{sid}/{row.app}", dst):
            store.get_tree(f"{sid}/{row.app}", dst)
        if row.summary:
            done.append(app_result(row.summary, dst))
            app_dirs.append(dst)
        else:
            missing.append(row.app)
    atomic.write_json(out / "cluster.json", st.to_json())
    finalize_suite(out, app_dirs)
    return Collected(out, done, missing)
