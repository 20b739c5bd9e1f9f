"""Names and paths that come from outside (files, jobs, the network): checked before any path is built.

An id names one folder: it cannot be `.` or `..`, hold a separator, or start with a dot or a dash (a
hidden folder, an option). Every path built from such an id is resolved and checked to lie under its
root before anything is written or deleted there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from exerciser.errors import UserError

# first character a letter, digit or underscore: excludes ".", "..", hidden names and "-option" names
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"
_ID = re.compile(ID_PATTERN)


def is_safe_id(value: object) -> bool:
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def as_id(name: str) -> str:
    """A file or folder name made into an id (a default one, e.g. `My App.apk` -> `My_App`): what cannot
    be in an id becomes `_`, leading dots and dashes go; "" when nothing is left."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".-")[:128]


def safe_id(value: object, what: str = "id") -> str:
    """`value` when it can name one folder; UserError otherwise."""
    if not is_safe_id(value):
        raise UserError(f"{what} {value!r}: not a valid name (letters, digits, . _ -; no leading dot)")
    return str(value)


def under(root: Path | str, *parts: str) -> Path:
    """`root/parts...` resolved, refused (UserError) unless it lies inside `root` and is not `root`."""
    base = Path(root).resolve()
    p = base.joinpath(*parts).resolve()
    if p == base or not p.is_relative_to(base):
        raise UserError(f"{'/'.join(parts)}: leaves {base}; refused")
    return p


def writable_dir(path: Path | str, option: str = "--out") -> Path:
    """Create `path` (and its parents) and prove a file can be written there; UserError otherwise, before
    anything runs: a read-only file system, a path under a file, no permission."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / f".exerciser-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"{option} {p}: cannot write there: {exc.strerror or exc}") from None
    return p
