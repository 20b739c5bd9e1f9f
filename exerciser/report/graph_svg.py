"""The state graph as an inline SVG (networkx spring layout; no plotting library needed)."""

from __future__ import annotations

import math
from html import escape

import networkx as nx

KIND_COLOURS = {
    "privacy_consent": "#f0ad4e",
    "consent_second_chance": "#f0ad4e",
    "permission_prompt": "#d9534f",
    "permission_rationale": "#e57373",
    "blocking_wall": "#8e24aa",
    "crash_dialog": "#000000",
    "launcher": "#9e9e9e",
    "account_page": "#5bc0de",
    "deletion_entry": "#0275d8",
    "deletion_confirm": "#01579b",
    "deletion_obstacle": "#6d4c41",
}
DEFAULT_COLOUR = "#5cb85c"


def _kinds(data: dict) -> list[str]:
    k = data.get("kinds") or ""
    if isinstance(k, str):
        return [x for x in k.replace(";", ",").split(",") if x]
    return [str(x) for x in k]


def node_colour(data: dict) -> str:
    for k in _kinds(data):
        if k in KIND_COLOURS:
            return KIND_COLOURS[k]
    return DEFAULT_COLOUR


def node_label(node: object, data: dict) -> str:
    for key in ("label", "title", "activity"):
        v = data.get(key)
        if v:
            return str(v).rsplit(".", 1)[-1][:22]
    k = _kinds(data)
    return k[0] if k else str(node)[:10]


def graph_svg(
    g: nx.MultiDiGraph | nx.DiGraph,
    highlight: set[str] | None = None,
    width: int = 900,
    height: int = 640,
    max_nodes: int = 400,
) -> str:
    """SVG markup (string) of the graph; `highlight` nodes (evidence states) get a thick outline."""
    highlight = highlight or set()
    if g.number_of_nodes() == 0:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="60"><text x="10" y="30">'
            "empty state graph</text></svg>"
        )
    if g.number_of_nodes() > max_nodes:  # keep the picture readable: the evidence and its neighbours
        keep = set(highlight)
        for n in list(highlight):
            if n in g:
                keep |= set(nx.all_neighbors(g, n))
        keep |= set(list(g.nodes)[: max(0, max_nodes - len(keep))])
        g = g.subgraph(keep).copy()
    n = g.number_of_nodes()
    pos = nx.spring_layout(nx.Graph(g), seed=7, k=2.2 / math.sqrt(max(n, 1)), iterations=80)
    pad, r = 40, 14 if n < 60 else 9
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - 2 * pad) / ((x1 - x0) or 1)
    sy = (height - 2 * pad) / ((y1 - y0) or 1)

    def xy(node: object) -> tuple[float, float]:
        px, py = pos[node]
        return pad + (px - x0) * sx, pad + (py - y0) * sy

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="state graph" class="graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#888"/></marker></defs>',
    ]
    seen: set[tuple] = set()
    for u, v, data in g.edges(data=True):
        if (u, v) in seen:
            continue
        seen.add((u, v))
        (ax, ay), (bx, by) = xy(u), xy(v)
        title = escape(str(data.get("label") or data.get("action") or ""))
        if u == v:
            out.append(
                f'<path d="M {ax:.1f} {ay - r:.1f} c -25 -30 25 -30 0 0" fill="none" stroke="#bbb">'
                f"<title>{title}</title></path>"
            )
            continue
        d = math.hypot(bx - ax, by - ay) or 1
        ex, ey = bx - (bx - ax) * (r + 2) / d, by - (by - ay) * (r + 2) / d
        out.append(
            f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="#aaa" stroke-width="1.2" '
            f'marker-end="url(#arrow)"><title>{title}</title></line>'
        )
    for node, data in g.nodes(data=True):
        x, y = xy(node)
        hl = str(node) in highlight
        stroke = ' stroke="#111" stroke-width="3.5"' if hl else ' stroke="#fff" stroke-width="1"'
        tip = escape(f"{node}\n{', '.join(_kinds(data))}\n{data.get('activity', '')}".strip())
        out.append(
            f'<g><circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{node_colour(data)}"{stroke}>'
            f"<title>{tip}</title></circle>"
            f'<text x="{x:.1f}" y="{y + r + 11:.1f}" font-size="10" text-anchor="middle" fill="#333">'
            f"{escape(node_label(node, data))}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)
