"""Android binary XML (AXML) reader: start/end element events, as Android's ResXMLParser sees them.

An `android:` attribute is known by its resource id (the resource map entry of its name), whatever namespace
URI or prefix it carries: that is how Android (`obtainAttributes`) and aapt (`indexOfAttribute`) find
android:name 0x01010003 and the others.
Layout: frameworks/base libs/androidfw/include/androidfw/ResourceTypes.h.
Every offset is checked against the chunk it lies in; a broken file raises `AxmlError` with the reason.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

RES_STRING_POOL = 0x0001
RES_XML = 0x0003
XML_START_NAMESPACE, XML_END_NAMESPACE = 0x0100, 0x0101
XML_START_ELEMENT, XML_END_ELEMENT = 0x0102, 0x0103
XML_RESOURCE_MAP = 0x0180
UTF8_FLAG = 0x100

# Res_value data types
TYPE_REFERENCE = 0x01
TYPE_STRING = 0x03
TYPE_DYNAMIC_REFERENCE = 0x07
TYPE_FIRST_INT, TYPE_LAST_INT = 0x10, 0x1F
TYPE_INT_BOOLEAN = 0x12
NO_INDEX = 0xFFFFFFFF


class AxmlError(ValueError):
    """The bytes are not binary XML Android would read; the message says where it breaks."""


def _len8(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    n = buf[pos]
    return ((n & 0x7F) << 8 | buf[pos + 1], pos + 2) if n & 0x80 else (n, pos + 1)


def _len16(buf: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    (n,) = struct.unpack_from("<H", buf, pos)
    if n & 0x8000:
        (low,) = struct.unpack_from("<H", buf, pos + 2)
        return (n & 0x7FFF) << 16 | low, pos + 4
    return n, pos + 2


class StringPool:
    """ResStringPool over `buf[start:start+size]`; strings decoded on first use (pools can be large)."""

    def __init__(self, buf: bytes | bytearray | memoryview, start: int) -> None:
        if start + 28 > len(buf):
            raise AxmlError("string pool header cut short")
        _, hsize, size, count, _styles, flags, strings_start, _ = struct.unpack_from("<HHIIIIII", buf, start)
        self.end = start + size
        if hsize < 28 or size < hsize or self.end > len(buf):
            raise AxmlError("string pool size out of bounds")
        self.buf, self.utf8, self.count = buf, bool(flags & UTF8_FLAG), count
        self.index_at = start + hsize
        self.base = start + strings_start
        if self.index_at + 4 * count > self.end or (count and self.base > self.end):
            raise AxmlError(f"string pool of {count} strings does not fit its chunk")
        self._cache: dict[int, str] = {}

    def get(self, i: int) -> str | None:
        """String `i`, None for "no string" (0xFFFFFFFF) or an index past the pool."""
        if i >= self.count:
            return None
        s = self._cache.get(i)
        if s is None:
            s = self._cache[i] = self._decode(i)
        return s

    def _decode(self, i: int) -> str:
        (off,) = struct.unpack_from("<I", self.buf, self.index_at + 4 * i)
        pos = self.base + off
        try:
            if self.utf8:
                _, pos = _len8(self.buf, pos)  # length in UTF-16 units, unused
                n, pos = _len8(self.buf, pos)
                raw = bytes(self.buf[pos : pos + n])
                if pos + n > self.end:
                    raise AxmlError(f"string {i} runs past its pool")
                return raw.decode("utf-8", "replace")
            n, pos = _len16(self.buf, pos)
            if pos + 2 * n > self.end:
                raise AxmlError(f"string {i} runs past its pool")
            return bytes(self.buf[pos : pos + 2 * n]).decode("utf-16-le", "replace")
        except (IndexError, struct.error):
            raise AxmlError(f"string {i} lies outside its pool") from None


@dataclass(frozen=True)
class Attr:
    ns: str | None
    name: str | None
    res_id: int  # 0 when the name has no resource id (e.g. the manifest's `package`)
    dtype: int  # Res_value data type
    data: int
    string: str | None  # the value when it is a string (TYPE_STRING), else None

    @property
    def is_reference(self) -> bool:
        return self.dtype in (TYPE_REFERENCE, TYPE_DYNAMIC_REFERENCE)


@dataclass(frozen=True)
class Start:
    depth: int  # the root element is depth 1
    tag: str
    attrs: tuple[Attr, ...]

    def attr(self, res_id: int) -> Attr | None:
        """The attribute with this android: resource id (first, as Android's lookup), whatever its prefix."""
        return next((a for a in self.attrs if a.res_id == res_id), None)

    def plain(self, name: str) -> Attr | None:
        """An attribute without a resource id, by name (how Android reads the manifest's `package`)."""
        return next((a for a in self.attrs if a.res_id == 0 and a.name == name), None)


@dataclass(frozen=True)
class End:
    depth: int
    tag: str


def events(buf: bytes | bytearray | memoryview) -> Iterator[Start | End]:
    """Element events of one AXML document, in document order."""
    if len(buf) < 8:
        raise AxmlError("shorter than a chunk header")
    kind, hsize, size = struct.unpack_from("<HHI", buf, 0)
    if kind != RES_XML or hsize < 8 or size > len(buf) or size < hsize:
        raise AxmlError(f"not an XML chunk (type 0x{kind:04x}, size {size} of {len(buf)} bytes)")
    pos, end = hsize, size
    pool: StringPool | None = None
    res_ids: array[int] | tuple[int, ...] = ()
    depth = 0
    while pos + 8 <= end:
        kind, hsize, csize = struct.unpack_from("<HHI", buf, pos)
        if csize < 8 or hsize < 8 or hsize > csize or pos + csize > end:
            raise AxmlError(f"chunk at byte {pos} has a bad size ({csize})")
        if kind == RES_STRING_POOL and pool is None:
            pool = StringPool(buf, pos)
        elif kind == XML_RESOURCE_MAP:
            n = (csize - hsize) // 4
            res_ids = array(
                "I", bytes(buf[pos + hsize : pos + hsize + 4 * n])
            )  # 4 bytes an id, not an int object
            if sys.byteorder == "big":
                res_ids.byteswap()
        elif kind in (XML_START_ELEMENT, XML_END_ELEMENT):
            if pool is None:
                raise AxmlError("element before the string pool")
            if kind == XML_START_ELEMENT:
                depth += 1
                yield _start(buf, pos, hsize, csize, depth, pool, res_ids)
            else:
                if depth == 0:
                    raise AxmlError(f"end tag without a start at byte {pos}")
                if pos + hsize + 8 > pos + csize:
                    raise AxmlError(f"end tag at byte {pos} cut short")
                (name,) = struct.unpack_from("<I", buf, pos + hsize + 4)
                yield End(depth, pool.get(name) or "")
                depth -= 1
        pos += csize
    if pool is None:
        raise AxmlError("no string pool")


def _start(buf, pos: int, hsize: int, csize: int, depth: int, pool: StringPool, res_ids) -> Start:
    ext = pos + hsize
    if ext + 20 > pos + csize:
        raise AxmlError(f"start tag at byte {pos} cut short")
    _ns, name, a_start, a_size, a_count = struct.unpack_from("<IIHHH", buf, ext)
    if a_count and (a_size < 20 or ext + a_start + a_count * a_size > pos + csize):
        raise AxmlError(f"attributes of the start tag at byte {pos} run past it")
    tag = pool.get(name)
    if tag is None:
        raise AxmlError(f"start tag at byte {pos} has no name")
    attrs = []
    for i in range(a_count):
        at = ext + a_start + i * a_size
        a_ns, a_name, raw, _vsize, _res0, dtype, data = struct.unpack_from("<IIIHBBI", buf, at)
        string = pool.get(data) if dtype == TYPE_STRING else None
        if dtype == TYPE_STRING and string is None and raw != NO_INDEX:
            string = pool.get(raw)
        attrs.append(
            Attr(
                pool.get(a_ns) if a_ns != NO_INDEX else None,
                pool.get(a_name),
                res_ids[a_name] if a_name < len(res_ids) else 0,
                dtype,
                data,
                string,
            )
        )
    return Start(depth, tag, tuple(attrs))
