"""Category 7 from the manifest alone: dangerous permission groups no declared scenario feature justifies.

This is a warning, separate from the dynamic category-7 finding: a declared permission the app never asks
for at run time still says what the app could ask for (and what Android grants at install below API 23).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from exerciser.apk import groups
from exerciser.apk.reader import ApkInfo


class _Feature(Protocol):
    """What we need of `exerciser.scenario.Feature`."""

    name: str
    permissions: tuple[str, ...]  # manifest names or group names


@dataclass(frozen=True)
class ManifestWarning:
    category: str  # always "7"
    group: str
    permissions: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:  # what pytest shows for `assert not result.warnings`
        return f"<manifest warning (category {self.category}): {self.message}>"

    def to_dict(self) -> dict:
        return {
            "category": self.category,
            "group": self.group,
            "permissions": list(self.permissions),
            "message": self.message,
        }


def _justified(features: list[_Feature]) -> tuple[set[str], set[str]]:
    """(groups, single permissions) the features name."""
    grp, perms = set(), set()
    for f in features:
        for p in f.permissions:
            if p in groups.group_names():
                grp.add(p)
            else:
                perms.add(p)
                # A feature naming one permission of a group justifies the group (Android grants by group).
                entry = groups.group_of(p, 10_000)
                if entry:
                    grp.add(entry)
    return grp, perms


def manifest_excess(
    apk: ApkInfo, declared_features: Iterable[_Feature], api_level: int | None = None
) -> list[ManifestWarning]:
    """One warning per dangerous group the APK declares (on `api_level`, default its target SDK) that no
    feature justifies, in group order."""
    features = list(declared_features)
    just_groups, just_perms = _justified(features)
    level = apk.target_sdk if api_level is None else api_level
    out = []
    for group, perms in apk.dangerous_groups(level).items():
        # A call-log permission sits in "phone" below API 28; a feature naming either group covers it.
        unjustified = tuple(
            p
            for p in perms
            if p not in just_perms
            and group not in just_groups
            and groups.group_of(p, 10_000) not in just_groups
        )
        if not unjustified:
            continue
        short = ", ".join(p.rsplit(".", 1)[-1] for p in unjustified)
        why = "no declared feature needs it" if features else "the scenario declares no features"
        out.append(ManifestWarning("7", group, unjustified, f"manifest declares {group} ({short}) but {why}"))
    return out
