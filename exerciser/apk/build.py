"""Writes minimal APK files (zip + binary manifest) for tests and fixtures. Not installable: unsigned, no dex.

build_apk(tmp_path / "app.apk", package="com.example.notes", permissions=["android.permission.CAMERA"])

`raw_zip` writes a zip field by field, so tests and benchmarks can forge any header (zip bombs, lying sizes).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import quoteattr

from exerciser.apk import axml

_LAUNCHER_FILTER = (
    "<intent-filter>"
    '<action android:name="android.intent.action.MAIN"/>'
    '<category android:name="android.intent.category.LAUNCHER"/>'
    "</intent-filter>"
)


def manifest_xml(
    package: str,
    *,
    version_code: int = 1,
    version_name: str = "1.0",
    min_sdk: int = 21,
    target_sdk: int = 33,
    permissions: Iterable[str | tuple[str, int]] = (),
    launcher_activity: str | None = ".MainActivity",
    activities: Iterable[str] = (),
    label: str = "App",
) -> str:
    """Plain-text AndroidManifest.xml. A permission may be `(name, maxSdkVersion)`."""
    q = quoteattr
    perms = []
    for p in permissions:
        name, max_sdk = (p, None) if isinstance(p, str) else p
        extra = f" android:maxSdkVersion={q(str(max_sdk))}" if max_sdk is not None else ""
        perms.append(f"<uses-permission android:name={q(name)}{extra}/>")
    acts = []
    if launcher_activity:
        acts.append(
            f'<activity android:name={q(launcher_activity)} android:exported="true">'
            f"{_LAUNCHER_FILTER}</activity>"
        )
    acts += [f'<activity android:name={q(a)} android:exported="false"/>' for a in activities]
    return (
        f'<manifest xmlns:android="{axml.ANDROID_NS}" package={q(package)}'
        f" android:versionCode={q(str(version_code))} android:versionName={q(version_name)}>"
        f"<uses-sdk android:minSdkVersion={q(str(min_sdk))} android:targetSdkVersion={q(str(target_sdk))}/>"
        + "".join(perms)
        + f"<application android:label={q(label)}>"
        + "".join(acts)
        + "</application></manifest>"
    )


def write_apk(path: str | Path, manifest: bytes, extra: dict[str, bytes] | None = None) -> Path:
    """Zip `manifest` (AXML bytes, or anything, for broken samples) as AndroidManifest.xml plus `extra`."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("AndroidManifest.xml", manifest)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def build_apk(path: str | Path, package: str, **manifest_fields) -> Path:
    """A minimal APK at `path` whose binary manifest has the given fields (see `manifest_xml`)."""
    return write_apk(path, axml.encode_text(manifest_xml(package, **manifest_fields)))


def raw_zip(entries: list[dict], prefix: bytes = b"", total: int | None = None, cd_shift: int = 0) -> bytes:
    """A zip written field by field, so that every header can lie. An entry: name, data (as stored), and
    optionally method, crc, csize, usize, flags (default: the honest values of a stored entry)."""
    body, cd = bytearray(prefix), bytearray()
    for e in entries:
        name = e["name"].encode()
        data = e["data"]
        method, flags = e.get("method", 0), e.get("flags", 0)
        crc = e.get("crc", zlib.crc32(data) if method == 0 else 0)
        csize, usize = e.get("csize", len(data)), e.get("usize", len(data))
        offset = len(body)
        body += struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 0, crc, csize, usize, len(name), 0
        )
        body += name + data
        cd += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            20,
            20,
            flags,
            method,
            0,
            0,
            crc,
            csize,
            usize,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        cd += name
    n = len(entries) if total is None else total
    cd_at = len(body) + cd_shift
    tail = b""
    if n > 0xFFFF:  # zip64 end records carry the real count
        at = len(body) + len(cd)
        tail = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, len(cd), cd_at)
        tail += struct.pack("<4sIQI", b"PK\x06\x07", 0, at, 1)
    small = min(n, 0xFFFF)
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, small, small, len(cd), cd_at, 0)
    return bytes(body + cd + tail + eocd)


def deflated_zeros(mib: int) -> bytes:
    """A raw deflate stream of `mib` MiB of zeros, about 1 KiB per MiB: one fully flushed block repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    return block * mib + c.flush()
