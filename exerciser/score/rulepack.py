"""The rule pack (models/rules/rulepack.yaml): thresholds with their sources, and the rules per category.

Regulation numbers are fixed; conventions and protocol parameters can be overridden from a scenario's
`rules:` mapping or a `--rules FILE` (same shape as the pack's `thresholds:`, or a flat name: value map).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from exerciser import MODELS_DIR, yamlio
from exerciser.errors import UserError

RULEPACK_PATH = MODELS_DIR / "rules" / "rulepack.yaml"
OVERRIDABLE = ("convention", "protocol")


@dataclass(frozen=True)
class Threshold:
    name: str
    value: float
    kind: str  # regulation | convention | protocol
    source: str
    meaning: str = ""
    overridden_from: float | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    severity: str
    kind: str
    source: str
    text: str
    threshold: str | None = None
    window: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class RulePack:
    version: int
    thresholds: dict[str, Threshold]
    rules: list[Rule]
    sources: dict[str, Any]
    path: Path

    def value(self, name: str) -> float:
        return self.thresholds[name].value

    def int(self, name: str) -> int:
        return int(self.thresholds[name].value)

    def rule(self, rid: str) -> Rule:
        return next(r for r in self.rules if r.id == rid)

    def for_category(self, cat: str) -> list[Rule]:
        return [r for r in self.rules if r.category == cat]

    def with_overrides(self, overrides: dict[str, Any], origin: str = "scenario") -> RulePack:
        th = dict(self.thresholds)
        for name, v in overrides.items():
            if name not in th:
                raise UserError(f"{origin}: rules.{name}: no such threshold (known: {', '.join(sorted(th))})")
            t = th[name]
            if isinstance(v, (int, float)) and float(v) == t.value:
                continue  # a copy of the pack's own value changes nothing
            if t.kind not in OVERRIDABLE:
                raise UserError(
                    f"{origin}: rules.{name}: {t.value:g} is regulation ({t.source}); only "
                    "conventions and protocol parameters can be changed"
                )
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                raise UserError(f"{origin}: rules.{name}: expected a non-negative number, got {v!r}")
            th[name] = Threshold(name, float(v), t.kind, t.source, t.meaning, t.value)
        return RulePack(self.version, th, self.rules, self.sources, self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "path": str(self.path),
            "thresholds": {
                n: {"value": t.value, "kind": t.kind, "source": t.source}
                | ({"default": t.overridden_from} if t.overridden_from is not None else {})
                for n, t in self.thresholds.items()
            },
        }


def load_rulepack(path: Path | None = None) -> RulePack:
    path = Path(path or RULEPACK_PATH)
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise UserError(f"{path}: rule pack not found") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {exc}") from None
    try:
        ths = {
            n: Threshold(n, float(d["value"]), d["kind"], d["source"], d.get("meaning", ""))
            for n, d in data["thresholds"].items()
        }
        rules = [
            Rule(
                r["id"],
                str(r["category"]),
                r["severity"],
                r["kind"],
                r["source"],
                r["text"],
                r.get("threshold"),
                r.get("window"),
                r,
            )
            for r in data["rules"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: malformed rule pack: {exc!r}") from None
    for r in rules:
        for ref in (r.threshold, r.window):
            if ref and ref not in ths:
                raise UserError(f"{path}: rule {r.id}: unknown threshold {ref}")
    return RulePack(int(data.get("version", 1)), ths, rules, data.get("sources", {}), path)


def load_overrides_file(path: Path) -> dict[str, Any]:
    """A --rules FILE: either {thresholds: {name: {value: V}}} or a flat {name: V}."""
    try:
        data = yamlio.safe_load(yamlio.read_text(path), str(path))
    except FileNotFoundError:
        raise UserError(f"{path}: rules file not found") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}:1: expected a mapping of threshold names to values")
    if "thresholds" in data:
        data = data["thresholds"]
    return {k: (v.get("value") if isinstance(v, dict) else v) for k, v in data.items()}
