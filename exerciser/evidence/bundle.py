"""Turns an app's results folder into the evidence bundle, and a suite's folders into a suite report.

`finalize_app(app_dir, live=...)` (called by `exerciser run` after each app): video.mp4 (made during the
run by `live`, or now), the phone's screenrecord.mp4 when it made one, report.json, report.html,
junit.xml, then manifest.json over everything (so the manifest seals the reports too). Each artefact
is best-effort after the first: a failing video (no ffmpeg) never costs the manifest.

`finalize_suite(out_dir, app_dirs)`: report.html (index) and junit.xml for the whole suite.
"""

from __future__ import annotations

import errno
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from exerciser import atomic
from exerciser.evidence.live import LiveEvidence
from exerciser.evidence.manifest import DERIVED, FileHashes, write_manifest
from exerciser.evidence.screenrecord import RECORD_NAME
from exerciser.evidence.trace import TRACE_NAME
from exerciser.evidence.video import VIDEO_NAME, VideoError, VideoStats, make_video
from exerciser.report.html import new_thumbs, render_app_html, render_suite_html
from exerciser.report.junit import write_junit
from exerciser.report.model import load_run
from exerciser.report.summary import app_summary

DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
# written (again) by finalize_app itself: hashed when sealing, not before
REWRITTEN = DERIVED | {RECORD_NAME}


@dataclass
class FinalizeStats:
    seconds: dict[str, float] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    video: VideoStats | None = None


_write_text = atomic.write_text


def finalize_app(
    app_dir: Path,
    video: bool = True,
    private_key_pem: bytes | None = None,
    stats: FinalizeStats | None = None,
    live: LiveEvidence | None = None,
) -> None:
    """Write video.mp4, report.json, report.html, junit.xml and manifest.json into `app_dir`.

    With `live` (the run's LiveEvidence) the video made during the run is only waited for, and its
    pictures feed the report; without it, or when it failed, the video is made from the bundle now.
    The live worker draws its last steps and closes the file on the other core while this process
    loads the run, hashes the files the run left (the manifest takes those hashes) and writes the
    JUnit file: none of those need the video or its pictures."""
    app_dir = Path(app_dir)
    st = stats if stats is not None else FinalizeStats()
    t = time.perf_counter()
    if live is not None and video:
        live.end_input()
    hashes = FileHashes()
    # hashlib lets go of the GIL: the run's files are hashed on the other core while this thread loads
    # the run and writes the JUnit file
    hashing = threading.Thread(target=hashes.add_tree, args=(app_dir, REWRITTEN), daemon=True)
    hashing.start()
    trace_stat = (app_dir / TRACE_NAME).stat() if (app_dir / TRACE_NAME).exists() else None
    run = load_run(app_dir)
    if trace_stat is not None and run.trace.path == app_dir / TRACE_NAME:
        hashes.remember_trace(run.trace.path, trace_stat, run.trace)  # parsed once, for both
    thumbs = new_thumbs(run)
    summary = app_summary(run)
    write_junit(app_dir / "junit.xml", [run], name=run.app)
    hashing.join()
    st.seconds["beside the video"] = time.perf_counter() - t

    t = time.perf_counter()
    made = False
    failed: OSError | None = None  # a full disk: sealed all the same, then told to the caller
    if live is not None:
        try:
            vs = live.finish_video(keep=video)
            made = vs is not None
            if vs is not None:
                st.video = vs
        except (VideoError, OSError) as exc:
            st.errors.append(f"live video: {exc} (made again from the bundle)")
            if isinstance(exc, OSError) and exc.errno in DISK_FULL:
                failed = exc
        thumbs.merge(live.thumbs)
        live.finish_recording()
        st.errors += live.errors
    if video and not made:
        try:
            vs = make_video(app_dir, records=run.records, on_frame=thumbs.add)
            if vs is not None:
                st.video = vs
        except (VideoError, OSError) as exc:
            st.errors.append(f"video: {exc}")
            if isinstance(exc, OSError) and exc.errno in DISK_FULL:
                failed = failed or exc
    st.seconds["video"] = time.perf_counter() - t

    t = time.perf_counter()
    if st.errors:  # what the evidence could not make (the video made again, a phone that stopped recording)
        summary["evidence_notes"] = list(st.errors)
    for name, make in (
        ("report.json", lambda: json.dumps(summary, indent=1, ensure_ascii=False) + "\n"),
        ("report.html", lambda: render_app_html(run, thumbs, VIDEO_NAME)),  # the video linked when present
    ):
        try:
            _write_text(app_dir / name, make())
        except OSError as exc:  # a full disk: the evidence is still sealed, without this report
            failed = failed or exc
            st.errors.append(f"{name}: {exc.strerror or exc}")
    st.seconds["reports"] = time.perf_counter() - t

    t = time.perf_counter()
    write_manifest(app_dir, private_key_pem, hashes=hashes)
    st.seconds["manifest"] = time.perf_counter() - t
    if failed is not None:  # sealed, but the bundle is not whole: the caller must hear it
        raise failed
    for name in (VIDEO_NAME, RECORD_NAME, "report.html", "report.json", "junit.xml", "manifest.json"):
        p = app_dir / name
        if p.exists():
            st.bytes[name] = p.stat().st_size


def finalize_suite(out_dir: Path, app_dirs: list[Path]) -> None:
    """Suite index `out_dir/report.html` (links to each app's report) and `out_dir/junit.xml`."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [load_run(Path(d)) for d in app_dirs if (Path(d) / "trace.jsonl").exists()]
    _write_text(out_dir / "report.html", render_suite_html(out_dir, runs))
    write_junit(out_dir / "junit.xml", runs, name=f"consent-exerciser {out_dir.name}")
