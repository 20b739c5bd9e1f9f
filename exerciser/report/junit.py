"""JUnit XML for CI: one testsuite per app, one testcase per category; a violation is a failure (reason,
figure, evidence steps), inconclusive is skipped, compliant passes."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

from exerciser import atomic
from exerciser.report.model import CATEGORY_TITLES, RunFolder


def _duration_s(run: RunFolder) -> float:
    recs = run.records
    if len(recs) < 2:
        return 0.0
    return max(0.0, float(recs[-1].get("wall_time", 0)) - float(recs[0].get("wall_time", 0)))


def _failure_text(run: RunFolder, key: str, v: dict) -> str:
    lines = [
        f"category {key}: {v.get('title') or CATEGORY_TITLES.get(key, '')}",
        f"verdict: {v.get('verdict')}",
        f"figure: {v.get('figure')}",
        f"severity: {v.get('severity')}",
        f"reason: {v.get('reason', '')}",
        f"evidence steps: {', '.join(map(str, v.get('evidence_steps') or [])) or 'none'}",
    ]
    for s in v.get("evidence_steps") or []:
        r = run.step(s)
        if r is not None:
            lines.append(
                f"  step {s}: {r.get('screenshot', '')} kinds={','.join(r.get('kinds') or [])} "
                f"{r.get('note', '')}".rstrip()
            )
    lines.append(f"bundle: {run.path}")
    return "\n".join(lines)


def app_testsuite(run: RunFolder) -> ET.Element:
    cats = run.ordered_categories()
    counts = run.counts()
    ts = ET.Element(
        "testsuite",
        {
            "name": run.app,
            "tests": str(len(cats)),
            "failures": str(counts.get("violation", 0)),
            "errors": "0",
            "skipped": str(counts.get("inconclusive", 0)),
            "time": f"{_duration_s(run):.3f}",
            "timestamp": dt.datetime.fromtimestamp(
                float(run.records[0].get("wall_time", 0)) if run.records else 0, dt.UTC
            ).isoformat(timespec="seconds"),
        },
    )
    props = ET.SubElement(ts, "properties")
    for name, value in (
        ("bundle", str(run.path)),
        ("trace_head", run.trace.head),
        ("trace_lines", str(run.trace.count)),
    ):
        ET.SubElement(props, "property", {"name": name, "value": value})
    for key, v in cats:
        title = v.get("title") or CATEGORY_TITLES.get(key, "")
        tc = ET.SubElement(
            ts,
            "testcase",
            {"classname": f"consent_exerciser.{run.app}", "name": f"{key}: {title}", "time": "0"},
        )
        verdict = v.get("verdict", "inconclusive")
        msg = str(v.get("reason", ""))
        if verdict == "violation":
            f = ET.SubElement(tc, "failure", {"message": msg, "type": f"violation:{v.get('severity') or ''}"})
            f.text = _failure_text(run, key, v)
        elif verdict != "compliant":
            ET.SubElement(tc, "skipped", {"message": f"{verdict}: {msg}"})
        out = ET.SubElement(tc, "system-out")
        out.text = f"figure={v.get('figure')} evidence_steps={v.get('evidence_steps') or []}"
    return ts


def write_junit(path: Path, runs: list[RunFolder], name: str = "consent-exerciser") -> Path:
    root = ET.Element("testsuites", {"name": name})
    tests = failures = skipped = 0
    for run in runs:
        ts = app_testsuite(run)
        tests += int(ts.get("tests", 0))
        failures += int(ts.get("failures", 0))
        skipped += int(ts.get("skipped", 0))
        root.append(ts)
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("skipped", str(skipped))
    root.set("errors", "0")
    ET.indent(root)
    atomic.write_bytes(path, ET.tostring(root, encoding="utf-8", xml_declaration=True))
    return Path(path)
