"""The `sync:` service (adb push/pull/ls): STAT/STA2/LST2, LIST/LIS2, SEND, RECV, QUIT."""

from __future__ import annotations

import stat
import struct

from exerciser.sim.adbfront.fs import VirtualFS
from exerciser.sim.adbfront.wire import Stream, StreamClosed

_REQ = struct.Struct("<4sI")
_STAT_V1 = struct.Struct("<4sIII")
_STAT_V2 = struct.Struct("<4sIQQIIIIQqqq")
_DENT_V1 = struct.Struct("<4sIIII")
_DENT_V2 = struct.Struct("<4sIQQIIIIQqqqI")
_CHUNK = 64 * 1024  # SYNC_DATA_MAX
_ENOENT = 2
_SHELL_UID = 2000


def _fail(stream: Stream, message: str) -> None:
    msg = message.encode()
    stream.write(b"FAIL" + struct.pack("<I", len(msg)) + msg)


def serve_sync(stream: Stream, fs: VirtualFS) -> None:
    while True:
        try:
            ident, length = _REQ.unpack(stream.read_exact(8))
        except StreamClosed:
            return
        if ident == b"QUIT":
            return
        path = stream.read_exact(length).decode("utf-8", "replace") if length else ""
        if ident == b"STAT":
            e = fs.get(path)
            stream.write(
                _STAT_V1.pack(b"STAT", e.mode, len(e.data), e.mtime) if e else _STAT_V1.pack(b"STAT", 0, 0, 0)
            )
        elif ident in (b"STA2", b"LST2"):
            e = fs.get(path)
            if e is None:
                stream.write(_STAT_V2.pack(ident, _ENOENT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            else:
                ino = hash(fs.norm(path)) & 0xFFFFFFFF
                stream.write(
                    _STAT_V2.pack(
                        ident,
                        0,
                        0xFD00,
                        ino,
                        e.mode,
                        1,
                        _SHELL_UID,
                        _SHELL_UID,
                        len(e.data),
                        e.mtime,
                        e.mtime,
                        e.mtime,
                    )
                )
        elif ident == b"LIST":
            for name, e in fs.listdir(path) or []:
                raw = name.encode()
                stream.write(_DENT_V1.pack(b"DENT", e.mode, len(e.data), e.mtime, len(raw)) + raw)
            stream.write(_DENT_V1.pack(b"DONE", 0, 0, 0, 0))
        elif ident == b"LIS2":
            for name, e in fs.listdir(path) or []:
                raw = name.encode()
                stream.write(
                    _DENT_V2.pack(
                        b"DNT2",
                        0,
                        0xFD00,
                        0,
                        e.mode,
                        1,
                        _SHELL_UID,
                        _SHELL_UID,
                        len(e.data),
                        e.mtime,
                        e.mtime,
                        e.mtime,
                        len(raw),
                    )
                    + raw
                )
            stream.write(_DENT_V2.pack(b"DONE", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        elif ident == b"SEND":
            _receive_file(stream, fs, path)
        elif ident == b"RECV":
            e = fs.get(path)
            if e is None or e.is_dir:
                _fail(
                    stream,
                    f"remote object '{path}' does not exist" if e is None else f"'{path}': Is a directory",
                )
                continue
            for i in range(0, len(e.data), _CHUNK):
                part = e.data[i : i + _CHUNK]
                stream.write(b"DATA" + struct.pack("<I", len(part)) + part)
            stream.write(b"DONE" + struct.pack("<I", 0))
        else:
            _fail(stream, f"unknown sync command {ident!r}")
            return


def _receive_file(stream: Stream, fs: VirtualFS, spec: str) -> None:
    path, _, mode_text = spec.rpartition(",")
    if not path:
        path, mode_text = spec, "33188"
    try:
        mode = int(mode_text)
    except ValueError:
        mode = stat.S_IFREG | 0o644
    chunks = []
    while True:
        ident, value = _REQ.unpack(stream.read_exact(8))
        if ident == b"DATA":
            chunks.append(stream.read_exact(value))
        elif ident == b"DONE":
            err = fs.write(path, b"".join(chunks), mode & 0o7777, mtime=value)
            if err:
                _fail(stream, f"couldn't create file: {err}")
            else:
                stream.write(b"OKAY" + struct.pack("<I", 0))
            return
        else:
            _fail(stream, f"invalid data message {ident!r}")
            return
