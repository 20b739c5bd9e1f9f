"""Writes minimal APK files (zip + binary manifest) for tests and fixtures. Not installable: unsigned, no dex.

build_apk(tmp_path / "app.apk", package="com.example.notes", permissions=["android.permission.CAMERA"])
"""

from __future__ import annotations

import zipfile
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
