"""The system packages of the served device (`models/android/system_packages.yaml`): uid, APK path and
ApplicationInfo flags, for `pm list packages -f -U`, `pm path`, `dumpsys package` and `ps`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from exerciser import knowledge

# ApplicationInfo.FLAG_* bit order (core/java/android/content/pm/ApplicationInfo.java); `dumpsys
# package` prints set flags lowest bit first (ApplicationInfo.flagsToString via DebugUtils).
FLAG_BITS = {
    "SYSTEM": 0,
    "DEBUGGABLE": 1,
    "HAS_CODE": 2,
    "PERSISTENT": 3,
    "FACTORY_TEST": 4,
    "ALLOW_TASK_REPARENTING": 5,
    "ALLOW_CLEAR_USER_DATA": 6,
    "UPDATED_SYSTEM_APP": 7,
    "TEST_ONLY": 8,
    "SUPPORTS_SMALL_SCREENS": 9,
    "SUPPORTS_NORMAL_SCREENS": 10,
    "SUPPORTS_LARGE_SCREENS": 11,
    "RESIZEABLE_FOR_SCREENS": 12,
    "SUPPORTS_SCREEN_DENSITIES": 13,
    "VM_SAFE_MODE": 14,
    "ALLOW_BACKUP": 15,
}


@dataclass(frozen=True)
class SysPkg:
    package: str
    uid: int
    path: str
    flags: tuple[str, ...]
    process: str


def flags_text(flags: list[str] | tuple[str, ...]) -> str:
    """`[ A B ]` in bit order, `[ ]` for none (PackageSetting dump prints the brackets either way)."""
    names = sorted(set(flags), key=lambda f: FLAG_BITS.get(f, 99))
    return "[ " + "".join(f"{n} " for n in names) + "]"


@cache
def _table() -> dict:
    return knowledge.load("android/system_packages.yaml")["packages"]


def system_package(package: str, roles: dict[str, str]) -> SysPkg | None:
    """The entry for `package`; `roles` maps launcher/controller/settings to this profile's packages."""
    table = _table()
    entry = table.get(package)
    if entry is None:
        role = next((r for r, p in roles.items() if p == package), None)
        base = next((v for v in table.values() if v.get("role") == role), None) if role else None
        if base is None:
            return None
        name = package.rsplit(".", 1)[-1].capitalize()
        entry = dict(base, path=f"/system/priv-app/{name}/{name}.apk")
    return SysPkg(
        package,
        int(entry["uid"]),
        str(entry["path"]),
        tuple(entry.get("flags") or ()),
        str(entry.get("process", package)),
    )


def system_packages(roles: dict[str, str]) -> list[str]:
    """Every system package of a profile: the fixed ones, the role holders of this profile."""
    fixed = {p for p, v in _table().items() if "role" not in v}
    return sorted(fixed | set(roles.values()))
