"""Automation clients' helper APKs (`models/android/helper_apks.yaml`): installed from the real file,
their input method and broadcast receiver provided by the virtual device.

uiautomator2's AdbKeyboard (com.github.uiautomator/.AdbKeyboard) answers ADB_KEYBOARD_* broadcasts
while it is the current input method: INPUT_TEXT commits base64-decoded text into the focused field,
the others act on the field or the keyboard; each sets the result code RESULT_OK (-1).
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from exerciser import knowledge
from exerciser.sim.adbfront.phone import KEYCODES, Phone

RESULT_OK = -1


@dataclass(frozen=True)
class Helper:
    package: str
    label: str
    version_name: str
    ime: str
    broadcasts: tuple[str, ...]


@cache
def helpers() -> dict[str, Helper]:
    table = knowledge.load("android/helper_apks.yaml")["helpers"]
    return {
        pkg: Helper(
            pkg,
            str(v["label"]),
            str(v["version_name"]),
            str(v.get("ime", "")),
            tuple(v.get("broadcasts") or ()),
        )
        for pkg, v in table.items()
    }


def apk_package(data: bytes) -> str:
    """The manifest package of an APK blob ("" when it is not a readable APK)."""
    from exerciser.apk.reader import read_apk
    from exerciser.errors import UserError

    with tempfile.NamedTemporaryFile(suffix=".apk") as fh:
        fh.write(data)
        fh.flush()
        try:
            return read_apk(Path(fh.name)).package
        except (UserError, OSError):
            return ""


def install_helper(phone: Phone, package: str) -> str | None:
    """Install a known helper; None when `package` is no helper."""
    helper = helpers().get(package)
    if helper is None:
        return None
    phone.helpers[package] = helper
    phone.last_installed = package
    return "Success"


def available_imes(phone: Phone) -> list[str]:
    return [h.ime for h in phone.helpers.values() if h.ime]


def broadcast(phone: Phone, action: str, extras: dict[str, str]) -> int:
    """The result code a broadcast ends with (0 when no receiver sets one)."""
    current = phone.state.settings.get("secure", {}).get("default_input_method", "")
    helper = next((h for h in phone.helpers.values() if h.ime == current), None)
    if helper is None or action not in helper.broadcasts:
        return 0
    if action == "ADB_KEYBOARD_INPUT_TEXT":
        try:
            text = base64.b64decode(extras.get("text", ""), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return 0
        phone.type_text(text)
    elif action == "ADB_KEYBOARD_CLEAR_TEXT":
        clear = getattr(phone.device, "clear_text", None)
        if not callable(clear):
            return 0  # the device offers no way to edit the field
        phone.call("clear_text")
    elif action == "ADB_KEYBOARD_SMART_ENTER":
        phone.press_keycode(KEYCODES["ENTER"])
    elif action == "ADB_KEYBOARD_INPUT_KEYCODE":
        code = extras.get("code", "")
        if code.isdigit():
            phone.press_keycode(int(code))
    return RESULT_OK
