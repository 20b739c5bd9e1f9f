"""The results store: where workers put evidence bundles, named by a URL and reached through fsspec.

A plain or network path (`/mnt/share/results`), `file://...`, or any fsspec URL whose backend is
installed (`s3://bucket/results` with s3fs, `sftp://host/path` with paramiko, ...). Layout, the same as
`exerciser run` writes, one folder per suite:

    <root>/<suite>/<app>/                 the final evidence bundle (sealed by its manifest)
    <root>/<suite>/<app>/attempts/<n>/    a lost attempt's partial evidence (attempt.json says why)
    <root>/<suite>/.done/<app>.json       written last: the bundle is complete (its verdict summary)
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exerciser.errors import UserError
from exerciser.paths import under


def normalize_url(url: str) -> str:
    """A plain path becomes absolute, so the URL means the same to every process on this host."""
    if "://" in url or "::" in url:
        return url
    return str(Path(url).expanduser().resolve())


def done_marker(rel: str) -> str:
    """`<suite>/<app>` -> `<suite>/.done/<app>.json`: outside the bundle, which its manifest seals."""
    suite, app = rel.split("/", 1)
    return f"{suite}/.done/{app}.json"


class Store:
    def __init__(self, url: str) -> None:
        import fsspec

        self.url = normalize_url(url)
        try:
            self.fs, self.root = fsspec.core.url_to_fs(self.url)
        except (ImportError, ValueError) as exc:
            raise UserError(f"results store {self.url}: {exc}") from None
        self.local = "file" in (
            self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        )

    def path(self, *parts: str) -> str:
        """`root/parts...`; a part that would lead out of the root (`..`, an absolute path) is refused."""
        p = posixpath.normpath(posixpath.join(self.root, *parts))
        root = posixpath.normpath(self.root)
        if p != root and not p.startswith(root.rstrip("/") + "/"):
            raise UserError(f"results store {self.url}: {'/'.join(parts)} leads out of the store; refused")
        return p

    def check_writable(self) -> None:
        probe = self.path(".exerciser-probe")
        try:
            self.fs.makedirs(self.root, exist_ok=True)
            self.fs.pipe_file(probe, b"ok")
            self.fs.rm_file(probe)
        except Exception as exc:  # any backend's error: the store is not usable
            raise UserError(f"results store {self.url}: not writable: {exc}") from None

    # --- small files --------------------------------------------------------------------------
    def write_json(self, rel: str, data: Any) -> None:
        p = self.path(rel)
        self.fs.makedirs(posixpath.dirname(p), exist_ok=True)
        self.fs.pipe_file(p, json.dumps(data, ensure_ascii=False, indent=1).encode())

    def read_json(self, rel: str) -> Any | None:
        try:
            return json.loads(self.fs.cat_file(self.path(rel)))
        except (FileNotFoundError, ValueError):
            return None

    def exists(self, rel: str) -> bool:
        return self.fs.exists(self.path(rel))

    # --- trees --------------------------------------------------------------------------------
    def put_file(self, local: Path, rel: str) -> None:
        p = self.path(rel)
        self.fs.makedirs(posixpath.dirname(p), exist_ok=True)
        self.fs.put_file(str(local), p)

    def files(self, rel: str) -> list[str]:
        """Every file under `rel`, as paths relative to it."""
        base = self.path(rel)
        if not self.fs.isdir(base):
            return []
        return sorted(posixpath.relpath(p, base) for p in self.fs.find(base))

    def subdirs(self, rel: str) -> list[str]:
        base = self.path(rel)
        if not self.fs.isdir(base):
            return []
        return sorted(
            posixpath.basename(e["name"].rstrip("/"))
            for e in self.fs.ls(base, detail=True)
            if e.get("type") == "directory"
        )

    def get_tree(self, rel: str, local: Path, skip: tuple[str, ...] = ()) -> int:
        """Copy `rel` into the local folder `local`; returns the number of files."""
        n = 0
        for f in self.files(rel):
            if f.startswith(skip):
                continue
            dst = under(local, f)  # a name from the store never leads out of the local folder
            dst.parent.mkdir(parents=True, exist_ok=True)
            self.fs.get_file(self.path(rel, f), str(dst))
            n += 1
        return n

    def move_tree(self, src_rel: str, dst_rel: str) -> None:
        """File by file, so a move cut short can be finished by running it again."""
        for f in self.files(src_rel):
            dst = self.path(dst_rel, f)
            self.fs.makedirs(posixpath.dirname(dst), exist_ok=True)
            with contextlib.suppress(FileNotFoundError):  # moved meanwhile by another finisher
                self.fs.mv(self.path(src_rel, f), dst)
        if self.fs.isdir(self.path(src_rel)):
            self.fs.rm(self.path(src_rel), recursive=True)


@dataclass
class Mirror:
    """Copies what changed in a local folder to the store: a running attempt's evidence, so that what it
    recorded survives its worker being killed."""

    store: Store
    local: Path
    rel: str
    skip: tuple[str, ...] = ("attempts/",)
    seen: dict[str, tuple[int, int]] = field(default_factory=dict)
    # Written a line per step after that step's files: copied as it was when the round began (whole
    # lines) and after every other file, so each line in the store names files copied whole already.
    last: tuple[str, ...] = ("trace.jsonl",)

    def sync(self, final: bool = False) -> int:
        """Copy what changed; `final`: nothing writes any more, the files go as they are."""
        snaps = {rel: _whole_lines(self.local / rel, final) for rel in self.last}
        n = self._sync_files(set(snaps))
        for rel, data in snaps.items():
            if data is None or self.seen.get(rel) == (len(data), -1):
                continue
            p = self.store.path(self.rel, rel)
            self.store.fs.makedirs(posixpath.dirname(p), exist_ok=True)
            self.store.fs.pipe_file(p, data)
            self.seen[rel] = (len(data), -1)
            n += 1
        return n

    def _sync_files(self, later: set[str]) -> int:
        n = 0
        for root, dirs, files in os.walk(self.local):
            dirs.sort()
            for name in sorted(files):
                p = Path(root, name)
                rel = p.relative_to(self.local).as_posix()
                if rel.startswith(self.skip) or name.endswith(".tmp") or rel in later:
                    continue
                try:
                    st = p.stat()
                except FileNotFoundError:  # replaced meanwhile (atomic writes): next round
                    continue
                sig = (st.st_size, st.st_mtime_ns)
                if self.seen.get(rel) == sig:
                    continue
                try:
                    self.store.put_file(p, posixpath.join(self.rel, rel))
                except FileNotFoundError:
                    continue
                self.seen[rel] = sig
                n += 1
        return n

    def prune(self) -> None:
        """Remove from the store what this mirror copied and the folder no longer has (temp files)."""
        for rel in [r for r in self.seen if not (self.local / r).exists()]:
            with contextlib.suppress(FileNotFoundError):
                self.store.fs.rm_file(self.store.path(self.rel, rel))
            del self.seen[rel]


def _whole_lines(path: Path, everything: bool = False) -> bytes | None:
    """The file's bytes up to its last newline (a line being written is left for the next round)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return data if everything else data[: data.rfind(b"\n") + 1]
