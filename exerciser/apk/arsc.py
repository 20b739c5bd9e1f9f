"""resources.arsc lookups: the value of one resource id (e.g. @string/app_name) in the default configuration.

Reads what AAPT2 writes today as well as older tables: compact entries (AAPT2 since 2023, ResTable_entry
FLAG_COMPACT), sparse types (FLAG_SPARSE) and 16-bit offsets (FLAG_OFFSET16). Only the chunks on the way to
the wanted entry are read. Layout: frameworks/base libs/androidfw/include/androidfw/ResourceTypes.h.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from exerciser.apk.axmlread import (
    RES_STRING_POOL,
    TYPE_DYNAMIC_REFERENCE,
    TYPE_REFERENCE,
    TYPE_STRING,
    AxmlError,
    StringPool,
)

RES_TABLE = 0x0002
RES_TABLE_PACKAGE = 0x0200
RES_TABLE_TYPE = 0x0201
FLAG_COMPLEX, FLAG_COMPACT = 0x0001, 0x0008
TYPE_FLAG_SPARSE, TYPE_FLAG_OFFSET16 = 0x01, 0x02


class ArscError(ValueError):
    """A resource table Android could not read."""


def _config_rank(cfg: bytes) -> tuple[int, int, int]:
    """Lower is a better match for a plain en-US device: (has a locale or mcc/mnc, not English, count of
    other qualifiers). A table without a default value then gives the English one, as such a phone shows.

    ResTable_config: size, imsi (mcc, mnc), locale (language, country), then screen, input, size, version...
    The sdk-version qualifier (bytes 20..23) alone does not lower a config: every modern device matches it.
    """
    imsi_locale = cfg[4:12]
    rest = cfg[12:20] + cfg[24:]
    english = cfg[8:10] in (b"en", b"\x00\x00")
    return (1 if any(imsi_locale) else 0, 0 if english else 1, sum(1 for b in rest if b))


class ResourceTable:
    """Values of resource ids in one resources.arsc (the APK's own packages)."""

    def __init__(self, buf: bytes | bytearray | memoryview) -> None:
        self.buf = buf
        if len(buf) < 12:
            raise ArscError("shorter than its header")
        kind, hsize, size = struct.unpack_from("<HHI", buf, 0)
        if kind != RES_TABLE or hsize < 12 or size > len(buf) or size < hsize:
            raise ArscError("not a resource table")
        self.strings: StringPool | None = None
        # package id -> its package chunks as (start, header size, size); type chunks are walked per lookup,
        # not listed: a forged table of millions of tiny chunks would cost more memory than it takes to read
        self.packages: dict[int, list[tuple[int, int, int]]] = {}
        pos = hsize
        while pos + 8 <= size:
            kind, h, csize = struct.unpack_from("<HHI", buf, pos)
            if csize < 8 or h < 8 or pos + csize > size:
                raise ArscError(f"chunk at byte {pos} has a bad size")
            if kind == RES_STRING_POOL and self.strings is None:
                self.strings = StringPool(buf, pos)
            elif kind == RES_TABLE_PACKAGE and pos + 12 <= size:
                (pkg_id,) = struct.unpack_from("<I", buf, pos + 8)
                self.packages.setdefault(pkg_id, []).append((pos, h, csize))
            pos += csize

    def _types(self, packages: list[tuple[int, int, int]], type_id: int) -> Iterator[tuple[int, int]]:
        """(offset, header size) of each type chunk of `type_id` in the packages."""
        for start, hsize, size in packages:
            pos, end = start + hsize, start + size
            while pos + 8 <= end:
                kind, h, csize = struct.unpack_from("<HHI", self.buf, pos)
                if csize < 8 or h < 8 or pos + csize > end:
                    raise ArscError(f"package chunk at byte {pos} has a bad size")
                if kind == RES_TABLE_TYPE and h >= 20 and self.buf[pos + 8] == type_id:
                    yield pos, h
                pos += csize

    def value(self, res_id: int) -> tuple[int, int] | None:
        """(data type, data) of `res_id` in the best configuration for a plain device, None if absent."""
        pkg, type_id, entry = res_id >> 24, (res_id >> 16) & 0xFF, res_id & 0xFFFF
        packages = self.packages.get(pkg)
        if packages is None and len(self.packages) == 1:
            packages = next(iter(self.packages.values()))  # a shared library's table is built with id 0
        best: tuple[tuple[int, int, int], tuple[int, int]] | None = None
        for pos, hsize in self._types(packages or [], type_id):
            found = self._entry(pos, hsize, entry)
            if found is None:
                continue
            (cfg_size,) = struct.unpack_from("<I", self.buf, pos + 20)
            rank = _config_rank(bytes(self.buf[pos + 20 : pos + 20 + min(cfg_size, hsize - 20)]))
            if best is None or rank < best[0]:
                best = (rank, found)
        return best[1] if best else None

    def _entry(self, pos: int, hsize: int, entry: int) -> tuple[int, int] | None:
        buf = self.buf
        (size,) = struct.unpack_from("<I", buf, pos + 4)
        flags = buf[pos + 9]
        count, entries_start = struct.unpack_from("<II", buf, pos + 12)
        index_at, end = pos + hsize, pos + size
        if flags & TYPE_FLAG_SPARSE:
            offset = None
            for i in range(min(count, (end - index_at) // 4)):
                idx, off16 = struct.unpack_from("<HH", buf, index_at + 4 * i)
                if idx == entry:
                    offset = off16 * 4
                    break
            if offset is None:
                return None
        elif entry >= count:
            return None
        elif flags & TYPE_FLAG_OFFSET16:
            if index_at + 2 * entry + 2 > end:
                return None
            (off16,) = struct.unpack_from("<H", buf, index_at + 2 * entry)
            if off16 == 0xFFFF:
                return None
            offset = off16 * 4
        else:
            if index_at + 4 * entry + 4 > end:
                return None
            (offset,) = struct.unpack_from("<I", buf, index_at + 4 * entry)
            if offset == 0xFFFFFFFF:
                return None
        at = pos + entries_start + offset
        if at + 8 > end:
            raise ArscError(f"entry {entry:#x} lies outside its type chunk")
        e_size, e_flags = struct.unpack_from("<HH", buf, at)
        if e_flags & FLAG_COMPACT:  # key index in `size`, data type in the high byte of flags, data inline
            (data,) = struct.unpack_from("<I", buf, at + 4)
            return e_flags >> 8, data
        if e_flags & FLAG_COMPLEX:
            return None  # a bag (style, plural...), never a label
        if e_size < 8 or at + e_size + 8 > end:
            raise ArscError(f"entry {entry:#x} has a bad size")
        _vsize, _res0, dtype, data = struct.unpack_from("<HBBI", buf, at + e_size)
        return dtype, data

    def string(self, res_id: int, max_depth: int = 8) -> str | None:
        """The string `res_id` stands for, following references; None when it is not a string or absent."""
        for _ in range(max_depth):
            found = self.value(res_id)
            if found is None:
                return None
            dtype, data = found
            if dtype == TYPE_STRING:
                try:
                    return self.strings.get(data) if self.strings is not None else None
                except AxmlError as exc:
                    raise ArscError(str(exc)) from None
            if dtype not in (TYPE_REFERENCE, TYPE_DYNAMIC_REFERENCE) or data == 0:
                return None
            res_id = data
        return None
