"""Permission names -> permission groups, from models/android/permission_groups.yaml (data, not code)."""

from __future__ import annotations

from functools import cache

from exerciser import knowledge
from exerciser.perceive.reading import PERMISSION_GROUPS


@cache
def _by_name() -> dict[str, str]:
    data = knowledge.load("android/permission_groups.yaml")
    return {p["name"]: g for g, perms in data["groups"].items() for p in perms}


def group_of(permission: str) -> str | None:
    """Group of a manifest permission (android.permission.CAMERA -> camera); a group name maps to itself."""
    if permission in PERMISSION_GROUPS:
        return permission
    return _by_name().get(permission)


@cache
def group_words(group: str) -> tuple[str, ...]:
    """Words that name the group in app texts (both languages), lower case."""
    names = knowledge.load("android/permission_groups.yaml").get("names", {}).get(group, {})
    return tuple(w.lower() for lang in names.values() for w in lang)
