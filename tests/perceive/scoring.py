"""Scoring a reader against the labelled corpus: per-kind counts, and what is wrong on one screen.

Shared by tests/perceive and bench/bench_perceive.py, so that both judge a reading the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from exerciser.perceive.reading import GROUP_KINDS, KINDS, ScreenReading, center
from exerciser.perceive.text import normalise


@dataclass
class Tally:
    """True / false positives and false negatives per kind, over many screens."""

    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    screens: int = 0

    def add(self, expected: frozenset[str], got: set[str]) -> None:
        self.screens += 1
        for k in expected | got:
            if k in expected and k in got:
                self.tp[k] += 1
            elif k in got:
                self.fp[k] += 1
            else:
                self.fn[k] += 1

    def precision(self, kind: str) -> float:
        n = self.tp[kind] + self.fp[kind]
        return self.tp[kind] / n if n else 1.0

    def recall(self, kind: str) -> float:
        n = self.tp[kind] + self.fn[kind]
        return self.tp[kind] / n if n else 1.0

    def below(self, target: float) -> list[str]:
        return [k for k in KINDS if self.precision(k) < target or self.recall(k) < target]

    def table(self) -> str:
        rows = [f"{'kind':24s} {'n':>5s} {'tp':>5s} {'fp':>4s} {'fn':>4s} {'precision':>9s} {'recall':>7s}"]
        for k in KINDS:
            n = self.tp[k] + self.fn[k]
            rows.append(
                f"{k:24s} {n:5d} {self.tp[k]:5d} {self.fp[k]:4d} {self.fn[k]:4d} "
                f"{self.precision(k):9.3f} {self.recall(k):7.3f}"
            )
        rows.append(f"{self.screens} screens")
        return "\n".join(rows)


def kinds_of(reading: ScreenReading) -> set[str]:
    return {k.kind for k in reading.kinds}


def problems(sample, reading: ScreenReading, check_kinds: bool = True) -> list[str]:
    """Everything about `reading` that contradicts the labels of `sample` (a corpus.Sample)."""
    out: list[str] = []
    got = kinds_of(reading)
    if check_kinds and got != set(sample.kinds):
        out.append(f"kinds {sorted(got)} != {sorted(sample.kinds)}")
    if sample.group:
        groups = [k.permission_group for k in reading.kinds if k.kind in GROUP_KINDS]
        if sample.group not in groups:
            out.append(f"group {groups} != {sample.group}")
    for role, label in sample.targets.items():
        t = reading.target(role)
        if t is None:
            out.append(f"no {role} target")
        elif label is not None and normalise(t.text) != normalise(label):
            out.append(f"{role} label {t.text!r} != {label!r}")
    if sample.obstacles:
        hit = reading.kind("deletion_obstacle")
        found = set(hit.detail.get("obstacle", "").split(",")) - {""} if hit else set()
        if found != set(sample.obstacles):
            out.append(f"obstacles {sorted(found)} != {sorted(sample.obstacles)}")
    return out


def _inside(point: tuple[int, int], b: tuple[int, int, int, int]) -> bool:
    return b[0] <= point[0] <= b[2] and b[1] <= point[1] <= b[3]


def button_problems(sample, reading: ScreenReading) -> list[str]:
    """Every button of a blind screen must be read, word for word, as a tappable element inside it."""
    out: list[str] = []
    ocr = [e for e in reading.elements if e.source == "ocr"]
    for label, b in sample.truth.items():
        near = [e for e in ocr if _inside(center(e.bounds), b)]
        if not any(normalise(e.text) == normalise(label) and e.clickable for e in near):
            out.append(f"button {label!r} read as {[e.text for e in near]}")
    return out
