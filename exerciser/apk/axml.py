"""Android binary XML (AXML) writer: turns a plain-text manifest into what aapt puts into an APK.

Only what a manifest needs: a UTF-16 string pool, the resource map for `android:` attribute names, namespace
chunks and elements with typed attributes (string, decimal integer, boolean). No text nodes (manifests have
none that matter). Layout follows frameworks/base libs/androidfw/include/androidfw/ResourceTypes.h.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

ANDROID_NS = "http://schemas.android.com/apk/res/android"

# ResChunk_header types
_RES_STRING_POOL = 0x0001
_RES_XML = 0x0003
_RES_XML_START_NAMESPACE = 0x0100
_RES_XML_END_NAMESPACE = 0x0101
_RES_XML_START_ELEMENT = 0x0102
_RES_XML_END_ELEMENT = 0x0103
_RES_XML_RESOURCE_MAP = 0x0180

# Res_value data types
TYPE_STRING = 0x03
TYPE_INT_DEC = 0x10
TYPE_INT_BOOLEAN = 0x12

_NO_INDEX = 0xFFFFFFFF

# android:attr resource ids (platform public.xml) of the attributes manifests commonly use.
_ATTR_IDS = {
    "theme": 0x01010000,
    "label": 0x01010001,
    "icon": 0x01010002,
    "name": 0x01010003,
    "permission": 0x01010006,
    "enabled": 0x0101000E,
    "debuggable": 0x0101000F,
    "exported": 0x01010010,
    "minSdkVersion": 0x0101020C,
    "versionCode": 0x0101021B,
    "versionName": 0x0101021C,
    "targetSdkVersion": 0x01010270,
    "maxSdkVersion": 0x01010271,
    "allowBackup": 0x01010280,
    "required": 0x0101028E,
    "compileSdkVersion": 0x01010572,
}
_INT_ATTRS = {"versionCode", "minSdkVersion", "targetSdkVersion", "maxSdkVersion", "compileSdkVersion"}
_BOOL_ATTRS = {"enabled", "debuggable", "exported", "allowBackup", "required"}


def _attr_id(name: str) -> int:
    if name in _ATTR_IDS:
        return _ATTR_IDS[name]
    # Any other platform attribute: the full public table shipped with pyaxmlparser.
    from pyaxmlparser.resources import public

    try:
        return public.SYSTEM_RESOURCES["attributes"]["forward"][name]
    except KeyError:
        raise ValueError(f"unknown android attribute: android:{name}") from None


def _chunk(kind: int, header_size: int, header_rest: bytes, body: bytes) -> bytes:
    size = 8 + len(header_rest) + len(body)
    assert 8 + len(header_rest) == header_size
    return struct.pack("<HHI", kind, header_size, size) + header_rest + body


class _Pool:
    """String pool; attribute names with resource ids come first so the resource map lines up."""

    def __init__(self, res_names: list[str]) -> None:
        self.strings: list[str] = list(res_names)
        self.index = {s: i for i, s in enumerate(self.strings)}

    def ref(self, s: str) -> int:
        if s not in self.index:
            self.index[s] = len(self.strings)
            self.strings.append(s)
        return self.index[s]

    def encode(self) -> bytes:
        data = bytearray()
        offsets = []
        for s in self.strings:
            offsets.append(len(data))
            units = s.encode("utf-16-le")
            n = len(units) // 2
            if n >= 0x8000:  # two-unit length form
                data += struct.pack("<HH", 0x8000 | (n >> 16), n & 0xFFFF)
            else:
                data += struct.pack("<H", n)
            data += units + b"\x00\x00"
        while len(data) % 4:
            data += b"\x00"
        count = len(self.strings)
        strings_start = 0x1C + 4 * count
        header_rest = struct.pack("<IIIII", count, 0, 0, strings_start, 0)  # flags 0: UTF-16
        body = struct.pack(f"<{count}I", *offsets) + bytes(data)
        return _chunk(_RES_STRING_POOL, 0x1C, header_rest, body)


def _typed(local: str, value: str) -> tuple[int, int | None]:
    """(data type, data) of an android: attribute; data None means 'the string itself'."""
    if local in _INT_ATTRS and value.lstrip("-").isdigit():
        return TYPE_INT_DEC, int(value) & 0xFFFFFFFF
    if local in _BOOL_ATTRS and value in ("true", "false"):
        return TYPE_INT_BOOLEAN, 0xFFFFFFFF if value == "true" else 0
    return TYPE_STRING, None


def _split(qname: str) -> tuple[str, str]:
    if qname.startswith("{"):
        ns, local = qname[1:].split("}", 1)
        return ns, local
    return "", qname


def encode(root: ET.Element) -> bytes:
    """AXML bytes of an element tree (attributes in the android namespace as `{ANDROID_NS}name`)."""
    elements = list(root.iter())
    res_names: list[str] = []
    for el in elements:
        for q in el.attrib:
            ns, local = _split(q)
            if ns == ANDROID_NS and local not in res_names:
                res_names.append(local)
            elif ns and ns != ANDROID_NS:
                raise ValueError(f"only the android namespace is supported, got {ns}")
    res_names.sort(key=_attr_id)  # aapt keeps attribute names in resource-id order
    pool = _Pool(res_names)
    ns_uri = pool.ref(ANDROID_NS)
    ns_prefix = pool.ref("android")
    body = bytearray()

    def node_header(line: int) -> bytes:
        return struct.pack("<II", line, _NO_INDEX)

    body += _chunk(_RES_XML_START_NAMESPACE, 0x10, node_header(1), struct.pack("<II", ns_prefix, ns_uri))
    line = 1

    def emit(el: ET.Element) -> None:
        nonlocal line
        line += 1
        attrs = []
        for q, value in el.attrib.items():
            ns, local = _split(q)
            if ns == ANDROID_NS:
                dtype, data = _typed(local, value)
                attrs.append((_attr_id(local), ns_uri, pool.ref(local), value, dtype, data))
            else:
                attrs.append((0, _NO_INDEX, pool.ref(local), value, TYPE_STRING, None))
        # Android's parser expects attributes sorted by resource id (plain ones, id 0, first).
        attrs.sort(key=lambda a: (a[0], a[2]))
        raw_attrs = bytearray()
        id_index = class_index = style_index = 0
        for i, (_rid, ans, name, value, dtype, data) in enumerate(attrs, start=1):
            if dtype == TYPE_STRING:
                raw = data = pool.ref(value)
            else:
                raw = _NO_INDEX
            raw_attrs += struct.pack("<IIIHBBI", ans, name, raw, 8, 0, dtype, data)
            if ans == _NO_INDEX:
                plain = pool.strings[name]
                id_index = i if plain == "id" else id_index
                class_index = i if plain == "class" else class_index
                style_index = i if plain == "style" else style_index
        tag_ns, tag_local = _split(el.tag)
        if tag_ns:
            raise ValueError(f"namespaced element names are not supported: {el.tag}")
        ext = struct.pack(
            "<IIHHHHHH",
            _NO_INDEX,
            pool.ref(tag_local),
            0x14,  # attributeStart
            0x14,  # attributeSize
            len(attrs),
            id_index,
            class_index,
            style_index,
        )
        body.extend(_chunk(_RES_XML_START_ELEMENT, 0x10, node_header(line), ext + bytes(raw_attrs)))
        for child in el:
            emit(child)
        line += 1
        end = struct.pack("<II", _NO_INDEX, pool.ref(tag_local))
        body.extend(_chunk(_RES_XML_END_ELEMENT, 0x10, node_header(line), end))

    emit(root)
    body += _chunk(_RES_XML_END_NAMESPACE, 0x10, node_header(line), struct.pack("<II", ns_prefix, ns_uri))

    res_map = _chunk(
        _RES_XML_RESOURCE_MAP, 8, b"", struct.pack(f"<{len(res_names)}I", *map(_attr_id, res_names))
    )
    payload = pool.encode() + res_map + bytes(body)
    return _chunk(_RES_XML, 8, b"", payload)


def encode_text(xml_text: str) -> bytes:
    """AXML bytes of a plain-text XML document (e.g. an AndroidManifest.xml as written in a project)."""
    return encode(ET.fromstring(xml_text))
