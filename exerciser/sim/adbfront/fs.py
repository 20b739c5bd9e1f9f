"""The part of the phone's file system that adb touches: /data/local/tmp, /sdcard, pushed and dumped files."""

from __future__ import annotations

import posixpath
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Entry:
    mode: int  # full st_mode, S_IFREG|0644 or S_IFDIR|0771
    data: bytes = b""
    mtime: int = field(default_factory=lambda: int(time.time()))

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.mode)


_DIRS = (
    "/",
    "/data",
    "/data/local",
    "/data/local/tmp",
    "/data/app",
    "/sdcard",
    "/storage",
    "/storage/emulated",
    "/storage/emulated/0",
    "/system",
    "/system/bin",
    "/proc",
)


class VirtualFS:
    """Flat map path -> Entry. `/sdcard` is an alias of `/storage/emulated/0`, as on a phone."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self.clock = clock  # the device's clock: file times are its time, not the host's
        now = int(clock())
        self._files: dict[str, Entry] = {d: Entry(stat.S_IFDIR | 0o771, mtime=now) for d in _DIRS}

    @staticmethod
    def norm(path: str, cwd: str = "/") -> str:
        p = posixpath.normpath(posixpath.join(cwd, path))
        if p == "/sdcard" or p.startswith("/sdcard/"):
            p = "/storage/emulated/0" + p[len("/sdcard") :]
        return p if p != "//" else "/"

    def get(self, path: str) -> Entry | None:
        with self._lock:
            return self._files.get(self.norm(path))

    def write(self, path: str, data: bytes, mode: int = 0o644, mtime: int | None = None) -> str | None:
        """Create or replace a file, creating parent directories (fixed_push_mkdir). Error text or None."""
        p = self.norm(path)
        now = int(self.clock())  # outside the lock: the clock may take the device's lock
        with self._lock:
            cur = self._files.get(p)
            if cur is not None and cur.is_dir:
                return f"{path}: Is a directory"
            parent = posixpath.dirname(p)
            chain = []
            while parent not in self._files:
                chain.append(parent)
                parent = posixpath.dirname(parent)
            if not self._files[parent].is_dir:
                return f"{path}: Not a directory"
            for d in chain:
                self._files[d] = Entry(stat.S_IFDIR | 0o771, mtime=now)
            self._files[p] = Entry(stat.S_IFREG | (mode & 0o7777), data, mtime or now)
        return None

    def mkdir(self, path: str, parents: bool = False) -> str | None:
        p = self.norm(path)
        now = int(self.clock())
        with self._lock:
            if p in self._files:
                return None if parents else f"mkdir: '{path}': File exists"
            parent = posixpath.dirname(p)
            if parent not in self._files and not parents:
                return f"mkdir: '{path}': No such file or directory"
            while p not in self._files:
                self._files[p] = Entry(stat.S_IFDIR | 0o771, mtime=now)
                p = posixpath.dirname(p)
        return None

    def remove(self, path: str, recursive: bool = False) -> str | None:
        p = self.norm(path)
        with self._lock:
            e = self._files.get(p)
            if e is None:
                return f"rm: {path}: No such file or directory"
            if e.is_dir:
                if not recursive:
                    return f"rm: {path}: is a directory"
                for k in [k for k in self._files if k == p or k.startswith(p + "/")]:
                    del self._files[k]
            else:
                del self._files[p]
        return None

    def chmod(self, path: str, mode: int) -> str | None:
        p = self.norm(path)
        with self._lock:
            e = self._files.get(p)
            if e is None:
                return f"chmod: {path}: No such file or directory"
            e.mode = (e.mode & ~0o7777) | (mode & 0o7777)
        return None

    def listdir(self, path: str) -> list[tuple[str, Entry]] | None:
        p = self.norm(path)
        with self._lock:
            e = self._files.get(p)
            if e is None or not e.is_dir:
                return None
            prefix = p.rstrip("/") + "/"
            return sorted(
                (k[len(prefix) :], v)
                for k, v in self._files.items()
                if k.startswith(prefix) and k != p and "/" not in k[len(prefix) :]
            )
