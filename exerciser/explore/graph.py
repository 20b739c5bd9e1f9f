"""State graph: screens (states) as nodes, actions as edges, kept in a networkx MultiDiGraph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx

from exerciser import atomic
from exerciser.explore.state import ScreenState

TAP = "tap"
SCROLL = "scroll"  # a scroll edge costs no tap: it moves a page, it opens nothing


class StateGraph:
    def __init__(self) -> None:
        self.g = nx.MultiDiGraph()

    def add_state(self, s: ScreenState, step: int, **attrs: Any) -> None:
        if s.id not in self.g:
            self.g.add_node(
                s.id,
                structure=s.structure,
                package=s.package,
                activity=s.activity,
                kinds=list(s.kinds),
                first_step=step,
                screenshot=f"steps/{step:04d}.png",
                visits=0,
                contents=[],
                **attrs,
            )
        node = self.g.nodes[s.id]
        node["visits"] += 1
        if s.content not in node["contents"] and len(node["contents"]) < 20:
            node["contents"].append(s.content)

    def add_edge(self, src: str, dst: str, action: str, key: str, step: int, **attrs: Any) -> None:
        """One edge per (src, action key, dst); repeated takes only add their step numbers."""
        ek = f"{action}:{key}"
        if self.g.has_edge(src, dst, ek):
            self.g.edges[src, dst, ek]["steps"].append(step)
            return
        self.g.add_edge(src, dst, key=ek, action=action, selector_key=key, steps=[step], **attrs)

    def tap_edges(self, src: str) -> list[tuple[str, dict]]:
        return [(v, d) for _, v, d in self.g.out_edges(src, data=True) if d["action"] == TAP]

    def tried(self, src: str) -> set[str]:
        return {d["selector_key"] for _, _, d in self.g.out_edges(src, data=True) if d["action"] == TAP}

    def tap_route(self, src: str, dst: str) -> list[tuple[str, dict]] | None:
        """Shortest sequence of taps from src to dst as (state reached, edge data), or None."""
        if src == dst:
            return []
        taps = self._taps()
        if src not in taps or dst not in taps:
            return None
        try:
            nodes = nx.shortest_path(taps, src, dst, weight="weight")
        except nx.NetworkXNoPath:
            return None
        return [(b, taps.edges[a, b]["data"]) for a, b in zip(nodes, nodes[1:], strict=False)]

    def tap_path(self, src: str, dst: str) -> list[dict] | None:
        """Shortest sequence of tap edges from src to dst (edge data dicts), or None."""
        route = self.tap_route(src, dst)
        return None if route is None else [d for _, d in route if d["action"] == TAP]

    def back_edges(self) -> dict[str, str]:
        """Where BACK was seen to lead from each state (the last time it was pressed there)."""
        out: dict[str, str] = {}
        for u, v, d in sorted(self.g.edges(data=True), key=lambda e: max(e[2]["steps"])):
            if d["action"] == "key" and d["selector_key"] == "back" and u != v:
                out[u] = v
        return out

    def _taps(self) -> nx.DiGraph:
        taps = nx.DiGraph()
        for u, v, d in self.g.edges(data=True):
            if u == v or d["action"] not in (TAP, SCROLL):
                continue
            w = 1 if d["action"] == TAP else 0
            if not taps.has_edge(u, v) or w < taps.edges[u, v]["weight"]:
                taps.add_edge(u, v, data=d, weight=w)
        return taps

    def tap_distances(self, src: str) -> dict[str, int]:
        taps = self._taps()
        if src not in taps:
            return {src: 0}
        return {k: int(v) for k, v in nx.single_source_dijkstra_path_length(taps, src).items()}

    # --- export ------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        return nx.node_link_data(self.g, edges="edges")

    def write(self, folder: Path) -> None:
        folder = Path(folder)
        atomic.write_json(folder / "graph.json", self.to_json())
        # GraphML holds scalars only: lists become JSON strings
        flat = nx.MultiDiGraph()
        for n, d in self.g.nodes(data=True):
            flat.add_node(n, **{k: _scalar(v) for k, v in d.items()})
        for u, v, k, d in self.g.edges(keys=True, data=True):
            flat.add_edge(u, v, key=k, **{a: _scalar(b) for a, b in d.items()})
        atomic.write_bytes(folder / "graph.graphml", "\n".join(nx.generate_graphml(flat)).encode())


def _scalar(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)):
        return v
    return json.dumps(v, ensure_ascii=False)
