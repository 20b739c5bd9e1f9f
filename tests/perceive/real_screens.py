"""The real screens of `../shared/real_screens` (captured by people outside the project), read in place.

Each stem `NNN_name` has a label `.json` (kinds, permission_group, targets {role: button text}), a `.xml`
dump (real, or a stand-in empty WebView for screenshot-only stems) and usually a `.png`. They are read the
way `exerciser classify --xml X --png P` reads them: the package from the dump, the size from the
screenshot. Nothing is copied into the repository; when the folder is absent the callers skip.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from exerciser.device.contract import DeviceInfo, Observation
from exerciser.perceive import Reader, hierarchy
from exerciser.perceive.reading import GROUP_KINDS, ScreenReading
from exerciser.perceive.text import compact

REPO = Path(__file__).resolve().parents[2]
# CI puts `shared/` beside the clone; EXERCISER_REAL_SCREENS points elsewhere.
REAL_DIR = Path(os.environ.get("EXERCISER_REAL_SCREENS", REPO.parent / "shared" / "real_screens"))


@dataclass
class RealScreen:
    name: str
    obs: Observation
    info: DeviceInfo | None
    kinds: frozenset[str]
    group: str | None
    targets: dict[str, str]  # role -> label; "(…)" = an unlabelled control (any text)
    screenshot_only: bool = False
    note: str = ""


def available() -> bool:
    return REAL_DIR.is_dir() and any(REAL_DIR.glob("*.json"))


def screens() -> Iterator[RealScreen]:
    for label in sorted(REAL_DIR.glob("*.json")):
        meta = json.loads(label.read_text(encoding="utf-8"))
        xml = label.with_suffix(".xml").read_text(encoding="utf-8")
        png_path = label.with_suffix(".png")
        png = png_path.read_bytes() if png_path.is_file() else b""
        tree = hierarchy.parse(xml)
        size = hierarchy.png_size(png) if png else None
        info = None
        if size is not None:
            info = DeviceInfo(
                serial="real", api_level=0, release="", rom="", locale="", width=size[0], height=size[1]
            )
        yield RealScreen(
            name=label.stem,
            obs=Observation(xml=xml, png=png, package=tree.package, activity="", time_ms=0),
            info=info,
            kinds=frozenset(meta.get("kinds") or ()),
            group=meta.get("permission_group"),
            targets=dict(meta.get("targets") or {}),
            screenshot_only="stand-in" in str(meta.get("hierarchy", "")),
            note=str(meta.get("note", "")),
        )


def expected_kinds(s: RealScreen) -> set[str]:
    """The labelled kinds in the project's vocabulary: a second-chance dialog is a consent dialog too and
    carries both kinds (reading.KINDS, tests/perceive/labels_sim.yaml); the outside labels name one."""
    kinds = set(s.kinds)
    if "consent_second_chance" in kinds:
        kinds.add("privacy_consent")
    return kinds


def label_matches(got: str, want: str) -> bool:
    """A target's text against its label: word for word (case and spacing aside); "(X icon …)" = any."""
    if want.startswith("("):
        return True
    return compact(got).lower() == compact(want).lower()


@dataclass
class Score:
    """How many labels of the real screens a reader reproduces."""

    screens: int = 0
    kinds_exact: int = 0
    groups: int = 0
    groups_total: int = 0
    targets: int = 0
    targets_total: int = 0
    wrong: list[str] = field(default_factory=list)

    def add(self, s: RealScreen, r: ScreenReading) -> None:
        self.screens += 1
        bad: list[str] = []
        got = {k.kind for k in r.kinds}
        if got == expected_kinds(s):
            self.kinds_exact += 1
        else:
            bad.append(f"kinds {sorted(got)} != {sorted(expected_kinds(s))}")
        if s.group:
            self.groups_total += 1
            groups = [k.permission_group for k in r.kinds if k.kind in GROUP_KINDS]
            if s.group in groups:
                self.groups += 1
            else:
                bad.append(f"group {groups} != {s.group}")
        for role, want in s.targets.items():
            self.targets_total += 1
            cands = r.targets_for(role)
            if any(label_matches(t.text, want) for t in cands):
                self.targets += 1
            else:
                bad.append(f"{role} {[t.text for t in cands]} != {want!r}")
        if bad:
            self.wrong.append(f"{s.name}: {'; '.join(bad)}")

    def summary(self) -> str:
        return (
            f"exact kinds {self.kinds_exact}/{self.screens}, permission group {self.groups}/"
            f"{self.groups_total}, target roles {self.targets}/{self.targets_total}"
        )


@dataclass
class Measure:
    score: Score
    ocr_only_cpu_ms: list[float]  # CPU time per screenshot-only screen (cold OCR cache)
    readings: dict[str, ScreenReading]

    @property
    def ocr_only_median(self) -> float:
        return statistics.median(self.ocr_only_cpu_ms) if self.ocr_only_cpu_ms else float("nan")


def measure(reader: Reader) -> Measure:
    """Read every real screen with `reader` (cache cleared before each), score it against its labels."""
    score, cpu, readings = Score(), [], {}
    for s in screens():
        reader.clear_cache()
        c = time.process_time()
        r = reader.read(s.obs, s.info)
        if s.screenshot_only:
            cpu.append((time.process_time() - c) * 1000)
        score.add(s, r)
        readings[s.name] = r
    return Measure(score, cpu, readings)
