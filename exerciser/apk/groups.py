"""Dangerous (runtime) permissions by our group names, per API level.

The data is models/android/permission_groups.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from exerciser import knowledge

# Android 13 (API 33): an app targeting 33+ gets no storage access (and no dialog) from these on a 33+
# device; it must use READ_MEDIA_*. (developer.android.com "Granular media permissions".)
_LEGACY_STORAGE = {"android.permission.READ_EXTERNAL_STORAGE", "android.permission.WRITE_EXTERNAL_STORAGE"}


@dataclass(frozen=True)
class _Entry:
    group: str
    since: int
    phone_group_before: int | None


@cache
def group_names() -> tuple[str, ...]:
    """Our group names in the data file's order (the order reports list them in)."""
    return tuple(knowledge.load("android/permission_groups.yaml")["groups"])


@cache
def _table() -> dict[str, _Entry]:
    data = knowledge.load("android/permission_groups.yaml")["groups"]
    table = {}
    for group, perms in data.items():
        for p in perms:
            table[p["name"]] = _Entry(group, int(p["since"]), p.get("phone_group_before"))
    return table


@cache
def newest_level() -> int:
    """The newest API level the table covers (the latest level where a runtime permission appeared)."""
    return max(e.since for e in _table().values())


def is_dangerous(permission: str) -> bool:
    """True for a permission that is a runtime permission on some API level."""
    return permission in _table()


def group_of(permission: str, api_level: int, target_sdk: int | None = None) -> str | None:
    """Our group name of a runtime permission on a device of `api_level`, None if it asks nothing there.

    None when the permission is not dangerous, not yet a runtime permission on that level (e.g.
    POST_NOTIFICATIONS below 33), or without effect for the app's target SDK (legacy storage for apps
    targeting 33+ on 33+ devices). Call-log permissions belong to "phone" below API 28.
    """
    entry = _table().get(permission)
    if entry is None or api_level < entry.since:
        return None
    if permission in _LEGACY_STORAGE and api_level >= 33 and (target_sdk or 0) >= 33:
        return None
    if entry.phone_group_before is not None and api_level < entry.phone_group_before:
        return "phone"
    return entry.group


def by_group(
    permissions: Iterable[str | tuple[str, int | None]], api_level: int, target_sdk: int | None = None
) -> dict[str, tuple[str, ...]]:
    """{group: permissions} of the dangerous ones on `api_level`, groups in `group_names()` order.

    A permission may come as `(name, maxSdkVersion)`; above its maxSdkVersion the app does not request it.
    """
    found: dict[str, list[str]] = {}
    for p in permissions:
        name, max_sdk = (p, None) if isinstance(p, str) else p
        if max_sdk is not None and api_level > max_sdk:
            continue
        group = group_of(name, api_level, target_sdk)
        if group is not None and name not in found.setdefault(group, []):
            found[group].append(name)
    order = group_names()
    return {g: tuple(found[g]) for g in order if g in found} | {
        g: tuple(v) for g, v in found.items() if g not in order
    }
