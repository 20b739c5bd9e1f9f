"""`pm install` on the virtual device: what it can run is an app behaviour model, not dex code.

Accepted: an APK (zip) carrying its model at `assets/exerciser/app.yaml`, a bare `app.yaml` pushed as
the package file, or a known automation helper APK (`helpers.py`). Anything else fails the way Android
fails a package it cannot parse.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from exerciser.sim.adbfront.phone import Phone

MODEL_ENTRY = "assets/exerciser/app.yaml"


def _model_text(data: bytes) -> tuple[str | None, str]:
    """(model yaml, failure reason)."""
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = set(zf.namelist())
                if "AndroidManifest.xml" not in names:
                    return None, "INSTALL_PARSE_FAILED_NOT_APK: Failed to parse: AndroidManifest.xml missing"
                if MODEL_ENTRY not in names:
                    return None, (
                        "INSTALL_FAILED_INVALID_APK: no app behaviour model "
                        f"({MODEL_ENTRY}); the virtual device cannot run dex code"
                    )
                return zf.read(MODEL_ENTRY).decode("utf-8"), ""
        except zipfile.BadZipFile:
            return None, "INSTALL_PARSE_FAILED_NOT_APK: Failed to parse: not a zip archive"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "INSTALL_PARSE_FAILED_NOT_APK: Failed to parse"
    if "package:" in text:
        return text, ""
    return None, "INSTALL_PARSE_FAILED_NOT_APK: Failed to parse"


def install_blob(phone: Phone, data: bytes, name: str) -> str:
    """Install; returns Android's one-line answer: "Success" or "Failure [CODE: message]"."""
    text, reason = _model_text(data)
    if text is None and reason.startswith("INSTALL_FAILED_INVALID_APK"):
        # an automation client's helper APK: its behaviour is the device's own (helpers.py)
        from exerciser.sim.adbfront.helpers import apk_package, install_helper

        answer = install_helper(phone, apk_package(data))
        if answer is not None:
            return answer
    if text is None:
        return f"Failure [{reason}]"
    from exerciser.sim.appmodel import parse_app_model

    try:
        model = parse_app_model(text, filename=name)
    except Exception as exc:  # a broken model is a broken package
        return f"Failure [INSTALL_PARSE_FAILED_MANIFEST_MALFORMED: {exc}]"
    installer = getattr(phone.device, "install", None)
    if not callable(installer):
        return "Failure [INSTALL_FAILED_INTERNAL_ERROR: this virtual device cannot install apps]"
    try:
        phone.call("install", model)
    except Exception as exc:
        return f"Failure [INSTALL_FAILED_INTERNAL_ERROR: {exc}]"
    phone.last_installed = model.package
    return "Success"


def model_apk(model_path: str | Path, out: str | Path) -> Path:
    """An APK the virtual device installs: a binary manifest from the model plus the model itself."""
    from exerciser import yamlio
    from exerciser.apk import axml
    from exerciser.apk.build import manifest_xml, write_apk

    text = Path(model_path).read_text(encoding="utf-8")
    data = yamlio.safe_load(text, str(model_path))
    manifest = manifest_xml(
        data["package"],
        version_name=str(data.get("version", "1.0")),
        target_sdk=int(data.get("target_sdk", 33)),
        permissions=list(data.get("permissions") or []),
        label=str(data.get("label", data["package"])),
    )
    return write_apk(out, axml.encode_text(manifest), {MODEL_ENTRY: text.encode("utf-8")})
