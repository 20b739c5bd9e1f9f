"""The system packages of the served device (`models/android/system_packages.yaml`): uid, APK path and
ApplicationInfo flags, for `pm list packages -f -U`, `pm path`, `dumpsys package` and `ps`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from exerciser import knowledge


@cache
def flag_bits() -> dict:
    """`models/android/package_flags.yaml`: application and permission flag bit positions."""
    return knowledge.load("android/package_flags.yaml")


@dataclass(frozen=True)
class SysPkg:
    package: str
    uid: int
    path: str
    flags: tuple[str, ...]
    process: str


def flags_text(flags: list[str] | tuple[str, ...]) -> str:
    """ApplicationInfo flags as `[ A B ]`, lowest bit first; `[ ]` for none (the package dump prints
    the brackets either way)."""
    bits = flag_bits()["application"]
    names = sorted(set(flags), key=lambda f: bits.get(f, 99))
    return "[ " + "".join(f"{n} " for n in names) + "]"


def permission_flags_text(flags: frozenset[str] | set[str]) -> str:
    """`, flags=[ A|B]` lowest bit first, or "" when none is set (permissionFlagsToString)."""
    if not flags:
        return ""
    bits = flag_bits()["permission"]
    return ", flags=[ " + "|".join(sorted(flags, key=lambda f: (bits.get(f, 99), f))) + "]"


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
