"""Parsers for what `dumpsys` prints on a phone: runtime permissions and the focused window."""

from __future__ import annotations

import re

from exerciser.device.contract import PermissionState

_PERM = re.compile(r"^\s+([\w.]+): granted=(true|false)(?:, flags=\[\s*([^\]]*)\])?", re.M)
_FOCUS = re.compile(r"mCurrentFocus=Window\{\S+ u\d+ ([^}]*)\}")
_FOCUSED_APP = re.compile(r"mFocusedApp=.*?ActivityRecord\{\S+ u\d+ (\S+)/(\S+)")
# Windows that are not an activity: the keyguard/status bar (systemui), the crash and ANR dialogs (system).
_SYSTEMUI_WINDOWS = ("NotificationShade", "StatusBar", "Keyguard", "NavigationBar", "ScreenDecorOverlay")
# The system's crash / ANR dialogs: window title -> the dialog class (what the virtual device reports too).
ERROR_DIALOG = "com.android.server.am.AppErrorDialog"
ANR_DIALOG = "com.android.server.am.AppNotRespondingDialog"
_SYSTEM_DIALOGS = {
    "Application Error": ERROR_DIALOG,
    "Application Not Responding": ANR_DIALOG,
    "Application Is Not Responding": ANR_DIALOG,
}


# Flags Android 10+ sets on every runtime permission of an app (whether a grant or denial is worth a
# notification): bookkeeping of the system, no decision of the user; not part of the contract's flags.
_BOOKKEEPING = frozenset({"USER_SENSITIVE_WHEN_GRANTED", "USER_SENSITIVE_WHEN_DENIED"})


def parse_runtime_permissions(text: str) -> dict[str, PermissionState]:
    """The `runtime permissions:` block of the first `User N:` section of `dumpsys package PKG`.

    Lines look like `android.permission.CAMERA: granted=false, flags=[ USER_SET|USER_FIXED]`.
    """
    out: dict[str, PermissionState] = {}
    start = text.find("runtime permissions:")
    if start < 0:
        return out
    block = text[start + len("runtime permissions:") :]
    # the block ends at the first line that is not indented deeper than the header
    header_indent = len(text[:start].rsplit("\n", 1)[-1])
    lines = []
    for line in block.split("\n")[1:]:
        if not line.strip():
            break
        indent = len(line) - len(line.lstrip())
        if indent <= header_indent:
            break
        lines.append(line)
    for m in _PERM.finditer("\n" + "\n".join(lines)):
        flags = frozenset(f for f in re.split(r"[|\s]+", m.group(3) or "") if f and f not in _BOOKKEEPING)
        out[m.group(1)] = PermissionState(m.group(1), m.group(2) == "true", flags)
    return out


def _qualify(package: str, activity: str) -> str:
    return package + activity if activity.startswith(".") else activity


def parse_focus(text: str) -> tuple[str, str]:
    """(package, fully qualified activity) of `dumpsys window windows`. Windows that are not an activity:
    the keyguard -> (com.android.systemui, ""); the crash / ANR dialog -> (android, its dialog class)."""
    m = _FOCUS.search(text)
    if m:
        title = m.group(1).strip()
        if "/" in title and " " not in title:
            pkg, act = title.split("/", 1)
            return pkg, _qualify(pkg, act)
        for prefix, cls in _SYSTEM_DIALOGS.items():
            if title.startswith(prefix):
                return "android", cls
        if title.split(":")[0] in _SYSTEMUI_WINDOWS:
            return "com.android.systemui", ""
        if re.fullmatch(r"[\w.]+", title) and "." in title:  # a window titled by its package (popup)
            return title, ""
    m = _FOCUSED_APP.search(text)
    if m:
        return m.group(1), _qualify(m.group(1), m.group(2))
    return "", ""


def dialog_owner(text: str) -> str:
    """The app a focused crash / ANR dialog is about ("Application Error: com.x" -> "com.x"), else ""."""
    m = _FOCUS.search(text)
    if m:
        title = m.group(1).strip()
        for prefix in _SYSTEM_DIALOGS:
            if title.startswith(prefix + ":"):
                return title[len(prefix) + 1 :].strip()
    return ""
