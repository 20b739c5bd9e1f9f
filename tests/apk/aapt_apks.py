"""APK files made by Debian's `aapt package`, a real Android build tool, so the reader is not only tested
against the project's own AXML writer.

aapt needs the platform's resource table (`-I android.jar`) to compile `android:` attributes; Debian ships
no SDK platform, so `framework_stub` builds a tiny stand-in with aapt itself: a package "android" (package
id 0x01, `-x`) that defines just the attributes a manifest uses, pinned by public.xml to the resource ids of
the platform's public.xml.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

AAPT = shutil.which("aapt")

# android:attr ids, as in frameworks/base core/res/res/values/public.xml
PLATFORM_ATTRS = {
    "label": ("0x01010001", "string|reference"),
    "name": ("0x01010003", "string"),
    "enabled": ("0x0101000e", "boolean"),
    "exported": ("0x01010010", "boolean"),
    "minSdkVersion": ("0x0101020c", "integer|string"),
    "versionCode": ("0x0101021b", "integer"),
    "versionName": ("0x0101021c", "string"),
    "targetSdkVersion": ("0x01010270", "integer|string"),
    "maxSdkVersion": ("0x01010271", "integer"),
}


def _aapt(*args: str) -> None:
    r = subprocess.run([str(AAPT), *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"aapt {' '.join(args)}: {r.stderr}"


def framework_stub(work: Path) -> Path:
    """The stand-in for android.jar (an APK holding the attribute definitions)."""
    values = work / "fw" / "res" / "values"
    values.mkdir(parents=True, exist_ok=True)
    (work / "fw" / "AndroidManifest.xml").write_text(
        '<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="android"/>'
    )
    attrs = "".join(f'<attr name="{n}" format="{fmt}"/>' for n, (_, fmt) in PLATFORM_ATTRS.items())
    public = "".join(f'<public type="attr" name="{n}" id="{i}"/>' for n, (i, _) in PLATFORM_ATTRS.items())
    (values / "attrs.xml").write_text(f"<resources>{attrs}</resources>")
    (values / "public.xml").write_text(f"<resources>{public}</resources>")
    out = work / "framework-stub.apk"
    fw = work / "fw"
    _aapt("package", "-f", "-x", "-M", str(fw / "AndroidManifest.xml"), "-S", str(fw / "res"), "-F", str(out))
    return out


def aapt_apk(
    out: Path,
    manifest: str,
    *,
    framework: Path,
    strings: dict[str, str] | None = None,
    assets: dict[str, bytes] | None = None,
    qualified: dict[str, dict[str, str]] | None = None,
) -> Path:
    """`aapt package` of a plain-text manifest, with string resources (res/values/strings.xml, and
    res/values-<qualifier>/ for `qualified`) and assets (paths under assets/). Returns `out`."""
    src = out.with_suffix(".src")
    src.mkdir(parents=True, exist_ok=True)
    (src / "AndroidManifest.xml").write_text(manifest, encoding="utf-8")
    args = ["package", "-f", "-M", str(src / "AndroidManifest.xml"), "-I", str(framework), "-F", str(out)]
    folders = {"values": strings or {}} | {f"values-{q}": s for q, s in (qualified or {}).items()}
    for folder, table in folders.items():
        if not table:
            continue
        values = src / "res" / folder
        values.mkdir(parents=True, exist_ok=True)
        body = "".join(f'<string name="{k}">{v}</string>' for k, v in table.items())
        (values / "strings.xml").write_text(f"<resources>{body}</resources>", encoding="utf-8")
    if any(folders.values()):
        args += ["-S", str(src / "res")]
    if assets:
        for rel, data in assets.items():
            p = src / "assets" / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        args += ["-A", str(src / "assets")]
    _aapt(*args)
    return out
