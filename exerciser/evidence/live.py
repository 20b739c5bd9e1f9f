"""Evidence made while an app's run goes, so that little is left to do when it ends.

`run_app` starts one `LiveEvidence` per app and hands `on_step` to its Session, which calls it after
every trace line; it calls `end_input` once the last step is recorded. It drives the live video
(`video.LiveVideo`: a worker process draws the frames and feeds ffmpeg, on another core), the small
step pictures of the HTML report (made from the screenshots the video decodes anyway), and on a real
phone its own screen recording (`screenrecord.DeviceScreenRecorder`).
`exerciser.evidence.bundle.finalize_app(app_dir, live=...)` collects the results.

Nothing here may cost the run: every failure becomes a note in the bundle, never an exception.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exerciser.evidence.screenrecord import DeviceScreenRecorder, ScreenRecording, supports_screenrecord
from exerciser.evidence.video import LiveVideo, VideoError, VideoStats
from exerciser.report.thumbs import Thumbs

LIVE_VIDEO = True  # module switches, for the benchmark's before/after figures
SCREENRECORD = True


class LiveEvidence:
    def __init__(self, app_dir: Path, device: Any = None, video: bool | None = None):
        self.app_dir = Path(app_dir)
        self.errors: list[str] = []
        self.thumbs = Thumbs()  # pictures of every distinct screen, from the video worker
        self.video: LiveVideo | None = None
        if LIVE_VIDEO if video is None else video:
            self.video = LiveVideo(self.app_dir)
        self.recorder: DeviceScreenRecorder | None = None
        if SCREENRECORD and device is not None and supports_screenrecord(device):
            self.recorder = DeviceScreenRecorder(device, self.app_dir)
            self.recorder.start()
        self.steps = 0
        self._closed = False

    def on_step(self, record: Any) -> None:
        """Called by the Session right after a step's trace line is written. Cheap: queues the step."""
        self.steps += 1
        if self.video is not None:
            self.video.add(record)
        if self.recorder is not None:
            try:
                self.recorder.tick()
            except Exception as exc:  # a phone that stops recording must not stop the run
                self.errors.append(f"screenrecord: {type(exc).__name__}: {exc}")
                self.recorder = None

    def end_input(self) -> None:
        """The run has ended: let the video worker close the file while the caller does other work."""
        if self.video is not None:
            self.video.end_input()

    def finish_video(self, keep: bool = True) -> VideoStats | None:
        """Wait for the live video; VideoError when it failed (the caller may make it from the bundle).
        `keep=False` drops it instead."""
        if self.video is None:
            return None
        v, self.video = self.video, None
        if not keep:
            v.abort()
            return None
        stats = v.finish()
        self.thumbs.by_sha.update(v.thumbs)
        return stats

    def finish_recording(self) -> ScreenRecording | None:
        if self.recorder is None:
            return None
        r, self.recorder = self.recorder, None
        try:
            rec = r.stop()
        except Exception as exc:
            self.errors.append(f"screenrecord: {type(exc).__name__}: {exc}")
            return None
        self.errors += [f"screenrecord: {e}" for e in rec.errors + rec.gaps]
        return rec

    def abort(self) -> None:
        """The device is gone or the run failed: stop the encoder, leave no half-made file."""
        if self.video is not None:
            self.video.abort()
            self.video = None
        if self.recorder is not None:
            self.recorder.abort()
            self.recorder = None


def start_live(app_dir: Path, device: Any = None) -> LiveEvidence | None:
    """A LiveEvidence for the app folder, or None when it cannot start (the run then goes on, and
    `finalize_app` makes the video from the bundle afterwards)."""
    try:
        return LiveEvidence(app_dir, device)
    except (OSError, VideoError, TypeError, RuntimeError):
        return None
