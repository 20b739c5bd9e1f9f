"""Zip reading as Android's libziparchive does it, for the few entries the APK reader needs, bounded.

Why not `zipfile`: it builds an object per entry (a forged central directory costs gigabytes), refuses entries
whose "encrypted" flag is set although Android ignores that flag (an anti-analysis trick), takes the last of
two entries with one name, and decompresses without a size cap. Here the central directory is streamed,
only wanted names are kept, and an entry is inflated into a buffer of its declared size, never beyond the caps
of models/android/apk_limits.yaml. Layout: PKWARE APPNOTE 4.3; checks: libziparchive zip_archive.cc.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

from exerciser import knowledge

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_CDH = b"PK\x01\x02"
_LFH = b"PK\x03\x04"
_CHUNK = 1 << 16
STORED, DEFLATED = 0, 8  # the only methods Android extracts


class ZipProblem(Exception):
    """Why an archive or entry cannot be read; the message is the part after "<file>: "."""


@dataclass(frozen=True)
class Limits:
    max_entries: int
    max_manifest_bytes: int
    max_resources_bytes: int
    max_compression_ratio: int
    ratio_floor_bytes: int
    max_reference_depth: int


@cache
def limits() -> Limits:
    data = knowledge.load("android/apk_limits.yaml")
    return Limits(**{k: int(v) for k, v in data.items()})


@dataclass(frozen=True)
class Entry:
    name: str
    method: int
    flags: int
    crc: int
    compressed: int
    size: int
    header_offset: int


def _u64_extra(extra: bytes, want: list[bool]) -> list[int]:
    """The zip64 extra field's values, in APPNOTE order, for the fields that were 0xFFFFFFFF."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 1:
            vals, off = [], pos + 4
            for needed in want:
                if needed:
                    if off + 8 > pos + 4 + size:
                        raise ZipProblem("damaged APK (zip64 extra field too short)")
                    vals.append(struct.unpack_from("<Q", extra, off)[0])
                    off += 8
            return vals
        pos += 4 + size
    raise ZipProblem("damaged APK (zip64 sizes announced but missing)")


class Archive:
    """The wanted entries of one zip file (by exact name), with how often each name occurs."""

    def __init__(self, path: Path, wanted: Iterable[str]) -> None:
        self.path = path
        self.fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by close()/__exit__
        try:
            self.file_size = self.fh.seek(0, 2)
            self.entries: dict[str, Entry] = {}
            self.counts: dict[str, int] = {}
            self.names_sample: list[str] = []  # a few names, to tell what a zip without a manifest is
            self.total = 0
            self._scan(set(wanted))
        except BaseException:
            self.fh.close()
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.fh.close()

    def _read_at(self, offset: int, n: int) -> bytes:
        if offset < 0 or offset >= self.file_size:  # forged offsets (zip64 fields reach 2**64)
            return b""
        self.fh.seek(offset)
        return self.fh.read(n)

    def _end_record(self) -> tuple[int, int, int]:
        """(entries, central directory size, its offset) from the end-of-central-directory record(s)."""
        tail_len = min(self.file_size, 22 + 0xFFFF)
        tail = self._read_at(self.file_size - tail_len, tail_len)
        pos = tail.rfind(_EOCD)
        while pos >= 0 and pos + 22 > len(tail):
            pos = tail.rfind(_EOCD, 0, pos)
        if pos < 0:
            raise ZipProblem("no end record")
        eocd_at = self.file_size - tail_len + pos
        _, disk, cd_disk, _, total, cd_size, cd_offset, _ = struct.unpack_from("<4sHHHHIIH", tail, pos)
        if disk != 0 or cd_disk != 0:
            raise ZipProblem("a multi-part (spanned) zip, not an APK")
        if 0xFFFF in (total,) or 0xFFFFFFFF in (cd_size, cd_offset):
            loc = self._read_at(eocd_at - 20, 20) if eocd_at >= 20 else b""
            if len(loc) == 20 and loc[:4] == _EOCD64_LOCATOR:
                at = struct.unpack_from("<Q", loc, 8)[0]
                rec = self._read_at(at, 56)
                if len(rec) == 56 and rec[:4] == _EOCD64:
                    total, cd_size, cd_offset = struct.unpack_from("<QQQ", rec, 32)
                    eocd_at = at
        if cd_offset + cd_size > eocd_at:
            raise ZipProblem("damaged APK (the central directory lies outside the file)")
        return total, cd_size, cd_offset

    def _scan(self, wanted: set[str]) -> None:
        total, cd_size, cd_offset = self._end_record()
        cap = limits().max_entries
        if total > cap:
            raise ZipProblem(f"holds {total} zip entries, more than the {cap} the reader accepts")
        # libziparchive refuses data before the first entry (the Janus trick, CVE-2017-13156)
        if total and self._read_at(0, 4) != _LFH:
            raise ZipProblem(
                "data before the first zip entry (the Janus trick, CVE-2017-13156); Android refuses the file"
            )
        by_bytes = {n.encode(): n for n in wanted}
        self.fh.seek(cd_offset)
        buf, pos, left = b"", 0, cd_size
        for _ in range(total):
            if len(buf) - pos < 46:
                more = self.fh.read(min(left, _CHUNK))
                left -= len(more)
                buf, pos = buf[pos:] + more, 0
            if len(buf) - pos < 46 or buf[pos : pos + 4] != _CDH:
                raise ZipProblem("damaged APK (central directory entry broken)")
            (flags, method, crc, csize, usize, n_len, x_len, c_len, offset) = struct.unpack_from(
                "<8xHH4xIIIHHH8xI", buf, pos
            )
            need = 46 + n_len + x_len + c_len
            while len(buf) - pos < need:
                more = self.fh.read(min(left, _CHUNK))
                if not more:
                    raise ZipProblem("damaged APK (central directory cut short)")
                left -= len(more)
                buf, pos = buf[pos:] + more, 0
            raw_name = buf[pos + 46 : pos + 46 + n_len]
            self.total += 1
            if len(self.names_sample) < 64:
                self.names_sample.append(raw_name.decode("utf-8", "replace"))
            name = by_bytes.get(raw_name)  # names compared as bytes, as libziparchive does
            if name is not None:
                self.counts[name] = self.counts.get(name, 0) + 1
                if 0xFFFFFFFF in (csize, usize, offset):
                    extra = buf[pos + 46 + n_len : pos + 46 + n_len + x_len]
                    want = [usize == 0xFFFFFFFF, csize == 0xFFFFFFFF, offset == 0xFFFFFFFF]
                    vals = iter(_u64_extra(extra, want))
                    usize = next(vals) if want[0] else usize
                    csize = next(vals) if want[1] else csize
                    offset = next(vals) if want[2] else offset
                self.entries.setdefault(name, Entry(name, method, flags, crc, csize, usize, offset))
            pos += need

    def read(self, name: str, cap: int) -> bytes | bytearray:
        """The entry's bytes, checked against its CRC; ZipProblem beyond `cap` or the compression ratio."""
        e = self.entries[name]
        lim = limits()
        if e.size > cap:
            raise ZipProblem(f"{name} would unpack to {e.size} bytes, more than the {cap} the reader accepts")
        if e.size > lim.ratio_floor_bytes and e.size > e.compressed * lim.max_compression_ratio:
            raise ZipProblem(
                f"{name} is packed {e.size // max(e.compressed, 1)}:1, beyond the "
                f"{lim.max_compression_ratio}:1 the reader accepts (a zip bomb?)"
            )
        head = self._read_at(e.header_offset, 30)
        if len(head) < 30 or head[:4] != _LFH:
            raise ZipProblem(f"damaged APK ({name}: local header missing)")
        n_len, x_len = struct.unpack_from("<HH", head, 26)
        start = e.header_offset + 30 + n_len + x_len
        if start + e.compressed > self.file_size:
            raise ZipProblem(f"truncated or damaged APK ({name} runs past the end of the file)")
        self.fh.seek(start)
        if e.method == STORED:
            if e.compressed != e.size:
                raise ZipProblem(f"damaged APK ({name}: stored, but its two sizes differ)")
            data = self.fh.read(e.size)
        elif e.method == DEFLATED:
            data = self._inflate(e)
        else:
            raise ZipProblem(f"{name} uses zip compression method {e.method}, which Android cannot unpack")
        if zlib.crc32(data) != e.crc:
            raise ZipProblem(f"damaged APK ({name} fails its CRC check)")
        return data

    def _inflate(self, e: Entry) -> bytearray:
        """Inflate into a buffer of the declared size: more output than declared is an error, not growth."""
        out = bytearray(e.size)
        filled, left = 0, e.compressed
        d = zlib.decompressobj(-15)
        try:
            while left > 0 and not d.eof:
                chunk = self.fh.read(min(left, _CHUNK))
                if not chunk:
                    break
                left -= len(chunk)
                while chunk:
                    part = d.decompress(chunk, e.size - filled + 1)
                    if filled + len(part) > e.size:
                        raise ZipProblem(f"damaged APK ({e.name} unpacks to more than its declared size)")
                    out[filled : filled + len(part)] = part
                    filled += len(part)
                    chunk = d.unconsumed_tail
                    if d.eof:
                        break
        except zlib.error as exc:
            raise ZipProblem(f"damaged APK ({e.name} cannot be inflated: {exc})") from None
        if filled != e.size or not d.eof:
            raise ZipProblem(f"damaged APK ({e.name} unpacks to {filled} of its {e.size} declared bytes)")
        return out  # not bytes(out): no second copy of a table of up to the cap
