"""Errors the command line turns into one clear line and exit status 2, and where an unexpected error's
trace goes (a log file in the results folder of the command, when it has one)."""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from pathlib import Path

import click

CRASH_LOG = "exerciser-error.log"
_results_dir: Path | None = None


class UserError(click.ClickException):
    """Bad input from the user: a broken file, an unknown serial, a file that is not an APK."""

    exit_code = 2

    def format_message(self) -> str:
        return self.message


def note_results_dir(path: Path | str | None) -> None:
    """The folder the running command writes its results to: an unexpected error's trace goes there."""
    global _results_dir
    _results_dir = Path(path) if path is not None else None


def write_crash_log(exc: BaseException) -> Path | None:
    """The trace of `exc` appended to the results folder's log (else one in the temp folder)."""
    text = f"--- {time.strftime('%Y-%m-%dT%H:%M:%S%z')} pid {os.getpid()}\n" + "".join(
        traceback.format_exception(exc)
    )
    places = [_results_dir / CRASH_LOG] if _results_dir is not None else []
    places.append(Path(tempfile.gettempdir()) / f"exerciser-error-{os.getpid()}.log")
    for p in places:
        try:
            with open(p, "a", encoding="utf-8") as fh:
                fh.write(text)
            return p
        except OSError:  # read-only, full or gone: the next place
            continue
    return None
