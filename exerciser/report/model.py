"""One app's results folder, loaded for the reports, compare and replay (read-only)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from exerciser.errors import UserError
from exerciser.evidence.trace import TRACE_NAME, LoadedTrace, load_trace

CATEGORIES = ("consent", "5", "6", "7", "8")
CATEGORY_TITLES = {
    "consent": "Consent first: privacy policy before any permission or collection",
    "5": "Refusal blocks use (quit, close, wall)",
    "6": "Re-requests after an explicit refusal",
    "7": "Permissions in advance, off-screen or beyond the declared features",
    "8": "Account deletion: present, reachable, unobstructed",
}
VERDICTS = ("violation", "compliant", "inconclusive")


@dataclass
class RunFolder:
    path: Path
    app: str
    verdict: dict[str, Any]  # verdict.json as written ({} when absent)
    trace: LoadedTrace
    graph: nx.MultiDiGraph | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # run.json / scenario facts when present

    @property
    def records(self) -> list[dict[str, Any]]:
        return self.trace.records

    @property
    def categories(self) -> dict[str, dict[str, Any]]:
        return self.verdict.get("categories") or {}

    def ordered_categories(self) -> list[tuple[str, dict[str, Any]]]:
        cats = self.categories
        order = [c for c in CATEGORIES if c in cats] + sorted(c for c in cats if c not in CATEGORIES)
        return [(c, cats[c] or {}) for c in order]

    def step(self, n: int) -> dict[str, Any] | None:
        return self.trace.step(n)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(VERDICTS, 0)
        for _, v in self.ordered_categories():
            out[v.get("verdict", "inconclusive")] = out.get(v.get("verdict", "inconclusive"), 0) + 1
        return out


def resolve_run_dir(path: Path) -> tuple[Path, Path]:
    """(run folder, trace file) from a folder or a trace path. UserError for anything else."""
    path = Path(path)
    if path.is_dir():
        trace = path / TRACE_NAME
        if not trace.exists():
            raise UserError(f"{path}: not a run folder (no {TRACE_NAME})")
        return path, trace
    if path.is_file():
        return path.parent, path
    raise UserError(f"{path}: no such file or folder")


def load_graph(run_dir: Path) -> nx.MultiDiGraph | None:
    """graph.json (networkx node-link) or graph.graphml, as written by the explorer; None if absent/bad."""
    gj, gm = run_dir / "graph.json", run_dir / "graph.graphml"
    try:
        if gj.exists():
            data = json.loads(gj.read_text())
            edges = "links" if "links" in data else "edges"
            g = nx.node_link_graph(data, directed=True, multigraph=True, edges=edges)
            return nx.MultiDiGraph(g)
        if gm.exists():
            return nx.MultiDiGraph(nx.read_graphml(gm))
    except (ValueError, KeyError, TypeError, nx.NetworkXError, SyntaxError):
        return None
    return None


def graph_from_trace(records: list[dict[str, Any]]) -> nx.MultiDiGraph:
    """State graph rebuilt from the trace alone (state_before --action--> state_after)."""
    g = nx.MultiDiGraph()
    for r in records:
        a, b = r.get("state_before"), r.get("state_after")
        if b is None:
            continue
        if b not in g:
            g.add_node(
                b, kinds=",".join(r.get("kinds") or []), activity=r.get("activity", ""), first_step=r["n"]
            )
        if a is not None:
            if a not in g:
                g.add_node(a)
            g.add_edge(a, b, step=r.get("n"), action=(r.get("action") or {}).get("type", ""))
    return g


def load_run(path: Path) -> RunFolder:
    run_dir, trace_path = resolve_run_dir(path)
    verdict: dict[str, Any] = {}
    vp = run_dir / "verdict.json"
    if vp.exists():
        try:
            verdict = json.loads(vp.read_text())
        except ValueError as exc:
            raise UserError(f"{vp}: not valid JSON: {exc}") from exc
        if not isinstance(verdict, dict):
            raise UserError(f"{vp}: not a JSON object")
    meta: dict[str, Any] = {}
    for name in ("run.json", "scenario.json"):
        p = run_dir / name
        if p.exists():
            with contextlib.suppress(ValueError):
                meta.update(json.loads(p.read_text()))
    trace = load_trace(trace_path)
    return RunFolder(
        path=run_dir,
        app=str(verdict.get("app") or run_dir.name),
        verdict=verdict,
        trace=trace,
        graph=load_graph(run_dir),
        meta=meta,
    )
