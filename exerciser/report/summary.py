"""report.json: the machine-readable result of one app (verdicts plus where their evidence is)."""

from __future__ import annotations

from typing import Any

from exerciser import __version__
from exerciser.report.model import CATEGORY_TITLES, RunFolder


def app_summary(run: RunFolder) -> dict[str, Any]:
    cats: dict[str, Any] = {}
    for key, v in run.ordered_categories():
        ev = []
        for s in v.get("evidence_steps") or []:
            r = run.step(s) or {}
            ev.append(
                {
                    "step": s,
                    "screenshot": r.get("screenshot"),
                    "screenshot_sha256": r.get("screenshot_sha256"),
                    "xml": r.get("xml"),
                    "kinds": r.get("kinds") or [],
                    "probe": r.get("probe"),
                    "device_time_ms": r.get("device_time_ms"),
                    "note": r.get("note", ""),
                }
            )
        cats[key] = {
            "title": v.get("title") or CATEGORY_TITLES.get(key, ""),
            "verdict": v.get("verdict", "inconclusive"),
            "figure": v.get("figure"),
            "severity": v.get("severity"),
            "reason": v.get("reason", ""),
            "evidence_steps": v.get("evidence_steps") or [],
            "evidence": ev,
        }
    recs = run.records
    return {
        "format": "consent-exerciser/report/1",
        "tool": f"consent-exerciser {__version__}",
        "app": run.app,
        "counts": run.counts(),
        "categories": cats,
        "trace": {
            "file": "trace.jsonl",
            "lines": run.trace.count,
            "head": run.trace.head,
            "chain_ok": run.trace.chain_ok,
            "torn_tail_bytes": len(run.trace.torn_tail),
            "device_time_ms": [recs[0].get("device_time_ms"), recs[-1].get("device_time_ms")]
            if recs
            else None,
        },
    }
