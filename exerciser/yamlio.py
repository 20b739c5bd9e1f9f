"""The one way YAML from a file, a job or the network is read: safe (plain data only) and bounded.

Before anything is built the event stream is walked once (libyaml's parser when present, no recursion)
and refused when the text is too large, nests too deep (the composer and the schema check recurse) or
its aliases expand to too many nodes (an alias bomb is a few lines that stand for billions of nodes).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from exerciser.errors import UserError

# libyaml's loader when present (about 14x faster): models and scenarios load in every process, workers too.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Bounds far above any real scenario, app model or rule file (the largest in the repo: 16 KB, depth 14,
# 2,000 nodes), far below what costs seconds or a traceback.
MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000  # after alias expansion


class YamlLimitError(UserError, yaml.YAMLError):
    """A YAML text past a limit: one line naming the file and the limit."""

    problem_mark = None
    problem = None

    def __init__(self, message: str) -> None:
        UserError.__init__(self, message)
        self.problem = message


def check_limits(text: str | bytes, origin: str = "<yaml>") -> None:
    """Raise YamlLimitError when `text` is too large, too deep or expands too far. Syntax errors are left
    to the loader that follows (it names the line)."""
    if len(text) > MAX_BYTES:
        raise YamlLimitError(f"{origin}: {len(text)} bytes, more than the {MAX_BYTES} a YAML input may have")
    frames: list[list[Any]] = []  # [anchor, expanded node count] per open collection
    sizes: dict[str, int] = {}  # anchor -> expanded node count
    total = 0
    try:
        for ev in yaml.parse(text, Loader=YAML_LOADER):
            if isinstance(ev, yaml.CollectionStartEvent):
                frames.append([ev.anchor, 1])
                if len(frames) > MAX_DEPTH:
                    raise YamlLimitError(f"{origin}: nested more than {MAX_DEPTH} levels deep")
                continue
            if isinstance(ev, yaml.CollectionEndEvent):
                anchor, n = frames.pop()
                if anchor:
                    sizes[anchor] = n
            elif isinstance(ev, yaml.ScalarEvent):
                n = 1
                if ev.anchor:
                    sizes[ev.anchor] = 1
            elif isinstance(ev, yaml.AliasEvent):
                n = sizes.get(ev.anchor, 1)
            else:
                continue
            if frames:
                frames[-1][1] += n
                n = frames[-1][1]
            else:
                total += n
                n = total
            if n > MAX_NODES:
                raise YamlLimitError(f"{origin}: aliases expand to more than {MAX_NODES} nodes")
    except yaml.YAMLError as exc:
        if isinstance(exc, YamlLimitError):
            raise
        return  # a syntax error: the loader reports it with its line


def read_text(path: str | os.PathLike[str]) -> str:
    """A YAML file's text: a regular file within MAX_BYTES (a device, a FIFO or a huge file is refused
    before it is read). FileNotFoundError, IsADirectoryError and UnicodeDecodeError go up."""
    p = Path(path)
    st = p.stat()
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(p))
    if not stat.S_ISREG(st.st_mode):
        raise YamlLimitError(f"{p}: not a regular file")
    if st.st_size > MAX_BYTES:
        raise YamlLimitError(f"{p}: {st.st_size} bytes, more than the {MAX_BYTES} a YAML input may have")
    return p.read_text(encoding="utf-8")


def safe_load(text: str | bytes, origin: str = "<yaml>") -> Any:
    check_limits(text, origin)
    return yaml.load(text, Loader=YAML_LOADER)


def compose(text: str | bytes, origin: str = "<yaml>", loader: Any = YAML_LOADER) -> yaml.Node | None:
    check_limits(text, origin)
    return yaml.compose(text, Loader=loader)
