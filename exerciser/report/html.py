"""Self-contained HTML reports: one per app (screenshots as data URIs, graph as inline SVG) and a suite index.

Self-contained means the file alone shows every screenshot and the graph without network or the rest of
the bundle; the video is embedded when small, otherwise linked as the bundle's relative `video.mp4`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from exerciser import __version__
from exerciser.evidence.video import VIDEO_NAME, action_label
from exerciser.report.graph_svg import KIND_COLOURS, graph_svg
from exerciser.report.model import CATEGORY_TITLES, RunFolder, graph_from_trace
from exerciser.report.thumbs import Thumbs, read_bgr

TEMPLATES = Path(__file__).parent / "templates"
EMBED_VIDEO_MAX = 6 * 1024 * 1024
MAX_STEP_THUMBS = 600  # beyond this, only evidence steps get embedded pictures


@functools.cache  # compiling the templates costs more than rendering them: once per process
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def evidence_steps(run: RunFolder) -> set[int]:
    out: set[int] = set()
    for _, v in run.ordered_categories():
        out |= {s for s in v.get("evidence_steps") or [] if isinstance(s, int)}
    return out


def new_thumbs(run: RunFolder) -> Thumbs:
    return Thumbs(wanted_large=evidence_steps(run), wanted_small=len(run.records) <= MAX_STEP_THUMBS)


def fill_thumbs(run: RunFolder, thumbs: Thumbs) -> None:
    """Decode whatever screenshots the thumbs still lack (the video pass usually made them already)."""
    for rec in run.records:
        n = rec.get("n")
        thumbs.from_cache(rec)
        if thumbs.missing(n) and rec.get("screenshot"):
            bgr = read_bgr(run.path / rec["screenshot"])
            if bgr is not None:
                thumbs.add(rec, bgr)


def _fmt_duration(ms: int) -> str:
    s = max(0, ms) // 1000
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def _short(state: Any) -> str:
    return "—" if state is None else str(state)[:10]


def app_context(run: RunFolder, thumbs: Thumbs, video_rel: str | None) -> dict[str, Any]:
    recs = run.records
    t0 = recs[0].get("device_time_ms", 0) if recs else 0
    steps = []
    for r in recs:
        n = r.get("n")
        steps.append(
            {
                "n": n,
                "file": r.get("screenshot", ""),
                "uri": thumbs.small.get(n, ""),
                "t": f"{(r.get('device_time_ms', t0) - t0) / 1000:.1f}s",
                "probe": r.get("probe", ""),
                "action": action_label(r.get("action") or {}),
                "kinds": ", ".join(r.get("kinds") or []),
                "before": _short(r.get("state_before")),
                "after": _short(r.get("state_after")),
                "package": r.get("package", ""),
                "activity": r.get("activity", ""),
                "note": r.get("note", ""),
            }
        )
    cats = []
    for key, v in run.ordered_categories():
        ev = [s for s in v.get("evidence_steps") or [] if isinstance(s, int)]
        shots = []
        for s in ev:
            r = run.step(s)
            if r is None:
                continue
            shots.append(
                {
                    "n": s,
                    "file": r.get("screenshot", ""),
                    "uri": thumbs.large.get(s) or thumbs.small.get(s, ""),
                    "probe": r.get("probe", ""),
                    "action": action_label(r.get("action") or {}),
                    "kinds": ", ".join(r.get("kinds") or []),
                    "note": r.get("note", ""),
                    "sha": r.get("screenshot_sha256", ""),
                }
            )
        cats.append(
            {
                "key": key,
                "title": v.get("title") or CATEGORY_TITLES.get(key, ""),
                "verdict": v.get("verdict", "inconclusive"),
                "figure": v.get("figure"),
                "severity": v.get("severity"),
                "reason": v.get("reason", ""),
                "steps": ev,
                "shots": shots,
            }
        )
    g = run.graph
    source = "graph file of the explorer"
    if g is None or g.number_of_nodes() == 0:
        g, source = graph_from_trace(recs), "rebuilt from the trace"
    hl = {str(r.get("state_after")) for r in recs if r.get("n") in evidence_steps(run)}
    video_uri, video_note = None, ""
    if video_rel:
        vp = run.path / video_rel
        if vp.exists() and vp.stat().st_size <= EMBED_VIDEO_MAX:
            video_uri = "data:video/mp4;base64," + base64.b64encode(vp.read_bytes()).decode()
            video_note = (
                f"Embedded copy of the bundle's {video_rel} (1 s per step: the screen before the "
                "action with the tap circled, then the screen after it)."
            )
        elif vp.exists():
            video_uri = video_rel
            video_note = f"Plays the bundle's {video_rel} (kept beside this file; too large to embed)."
    torn = len(run.trace.torn_tail)
    return {
        "app": run.app,
        "package": run.verdict.get("package")
        or run.meta.get("package")
        or (recs[-1].get("package") if recs else ""),
        "profile": run.verdict.get("profile") or run.meta.get("profile", ""),
        "locale": run.verdict.get("locale") or run.meta.get("locale", ""),
        "duration": _fmt_duration((recs[-1].get("device_time_ms", t0) - t0) if recs else 0),
        "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tool": f"consent-exerciser {__version__}",
        "head": run.trace.head,
        "lines": run.trace.count,
        "torn": torn,
        "chain_ok": run.trace.chain_ok,
        "categories": cats,
        "steps": steps,
        "video": video_uri,
        "video_note": video_note,
        "graph_svg": graph_svg(g, highlight=hl),
        "graph_nodes": g.number_of_nodes(),
        "graph_edges": g.number_of_edges(),
        "graph_source": source,
        "legend": list(KIND_COLOURS.items()) + [("other", "#5cb85c")],
    }


def render_app_html(run: RunFolder, thumbs: Thumbs | None = None, video_rel: str | None = VIDEO_NAME) -> str:
    if thumbs is None:
        thumbs = new_thumbs(run)
    fill_thumbs(run, thumbs)
    return _env().get_template("app.html.j2").render(**app_context(run, thumbs, video_rel))


def render_suite_html(out_dir: Path, runs: list[RunFolder]) -> str:
    from exerciser.report.model import CATEGORIES

    cats = list(CATEGORIES)
    for r in runs:
        cats += [c for c, _ in r.ordered_categories() if c not in cats]
    apps = []
    violations = 0
    for r in runs:
        rel = (
            r.path.resolve().relative_to(out_dir.resolve()).as_posix()
            if r.path.resolve().is_relative_to(out_dir.resolve())
            else str(r.path.resolve())
        )
        rows = []
        for key, v in r.ordered_categories():
            violations += v.get("verdict") == "violation"
            rows.append(
                {
                    "key": key,
                    "verdict": v.get("verdict", "inconclusive"),
                    "figure": v.get("figure"),
                    "severity": v.get("severity"),
                    "reason": v.get("reason", ""),
                    "steps": v.get("evidence_steps") or [],
                }
            )
        apps.append(
            {
                "app": r.app,
                "dir": rel,
                "link": f"{rel}/report.html",
                "cats": dict(r.ordered_categories()),
                "rows": rows,
                "steps": r.trace.count,
                "has_video": (r.path / VIDEO_NAME).exists(),
            }
        )
    return (
        _env()
        .get_template("suite.html.j2")
        .render(
            apps=apps,
            cats=cats,
            violations=violations,
            generated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            tool=f"consent-exerciser {__version__}",
        )
    )
