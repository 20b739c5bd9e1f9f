"""Pre-release check of one app: resolve what the user named, run the default scenario, read back the verdicts.

Shared by `exerciser check` and the pytest plugin. A target is an APK file (run on a real device, or on the
virtual device when a sample model has its package), a scenario file, a sample id, an app model, or an
existing results folder (read, not run). Results are read from the app folder `exerciser run` writes
(`verdict.json` + `trace.jsonl` + `steps/`), so what the user sees is what the evidence says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exerciser import SAMPLES_DIR
from exerciser.apk.excess import ManifestWarning, manifest_excess
from exerciser.apk.reader import ApkInfo, read_apk
from exerciser.errors import UserError

CATEGORIES = ("consent", "5", "6", "7", "8")
TITLES = {
    "consent": "consent first",
    "5": "refusal blocks use",
    "6": "re-requests after refusal",
    "7": "permissions in advance / excess",
    "8": "account deletion",
}


class Verdict(str):
    """A verdict string ("violation", ...) that knows its category, so a failing comparison can explain."""

    owner: CategoryResult | None = None

    def __new__(cls, value: str, owner: CategoryResult | None = None) -> Verdict:
        obj = super().__new__(cls, value)
        obj.owner = owner
        return obj


def category_key(category: str | int) -> str:
    key = str(category).strip().lower()
    if key not in CATEGORIES:
        raise KeyError(f"unknown category {category!r}; one of {', '.join(CATEGORIES)}")
    return key


@dataclass(eq=False)
class CategoryResult:
    """One category's verdict of one app run, with the figure, the reason and the evidence files."""

    app: str
    category: str
    verdict: str  # "violation" | "compliant" | "inconclusive" | "not run"
    figure: float | int | None
    reason: str
    steps: tuple[int, ...]
    evidence: tuple[Path, ...]  # screenshots of the deciding steps (else their XML dumps)
    run_dir: Path

    def __post_init__(self) -> None:
        self.verdict = Verdict(self.verdict, self)

    @property
    def compliant(self) -> bool:
        return self.verdict == "compliant"

    @property
    def violation(self) -> bool:
        return self.verdict == "violation"

    @property
    def inconclusive(self) -> bool:
        return self.verdict in ("inconclusive", "not run")

    def explain(self) -> str:
        """Several lines: verdict, figure, reason, evidence paths (what a failing test should show)."""
        lines = [
            f"category {self.category} ({TITLES.get(self.category, '')}) of {self.app}: {self.verdict}",
            f"  figure:   {self.figure if self.figure is not None else '-'}",
            f"  reason:   {self.reason or '-'}",
            f"  steps:    {', '.join(map(str, self.steps)) or '-'}",
            "  evidence: " + (("\n            ".join(map(str, self.evidence))) if self.evidence else "-"),
            f"  run:      {self.run_dir}",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        ev = ", ".join(str(p) for p in self.evidence) or "no evidence files"
        return (
            f"<category {self.category} of {self.app}: {self.verdict}, figure={self.figure!r}, "
            f"reason={self.reason!r}, evidence=[{ev}]>"
        )


@dataclass(eq=False)
class CheckResult:
    """All categories of one app run, plus the manifest warnings (category 7 from the APK alone)."""

    app: str
    run_dir: Path
    categories: dict[str, CategoryResult]
    warnings: list[ManifestWarning] = field(default_factory=list)
    apk: ApkInfo | None = None
    device: str = ""
    scenario: Any = None

    def category(self, category: str | int) -> CategoryResult:
        """`result.category(6)`, `result.category("6")`, `result.category("consent")`."""
        key = category_key(category)
        if key in self.categories:
            return self.categories[key]
        return CategoryResult(self.app, key, "not run", None, f"category {key} was not run or not scored",
                              (), (), self.run_dir)

    @property
    def verdict(self) -> str:
        verdicts = {c.verdict for c in self.categories.values()}
        if "violation" in verdicts:
            return "violation"
        if verdicts & {"inconclusive", "not run"} or not verdicts:
            return "inconclusive"
        return "compliant"

    @property
    def exit_code(self) -> int:
        """0 nothing found, 1 a violation (inconclusive categories do not fail a build; they are printed)."""
        return 1 if self.verdict == "violation" else 0

    def __iter__(self):
        return iter(self.categories.values())

    def __repr__(self) -> str:
        cats = ", ".join(f"{k}={v.verdict}" for k, v in self.categories.items())
        return f"<exerciser result {self.app}: {cats}; {len(self.warnings)} manifest warning(s); {self.run_dir}>"

    @classmethod
    def from_run_dir(cls, run_dir: str | Path, **extra: Any) -> CheckResult:
        run_dir = Path(run_dir)
        vp = run_dir / "verdict.json"
        try:
            data = json.loads(vp.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(f"{run_dir}: not a results folder (no verdict.json)") from None
        except ValueError as exc:
            raise UserError(f"{vp}: not valid JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
            raise UserError(f"{vp}: has no `categories` object")
        app = str(data.get("app") or run_dir.name)
        screenshots = _screenshots(run_dir)
        cats = {}
        for key, raw in data["categories"].items():
            raw = raw or {}
            steps = tuple(int(s) for s in raw.get("evidence_steps") or ())
            evidence = tuple(screenshots[s] for s in steps if s in screenshots)
            cats[str(key)] = CategoryResult(app, str(key), str(raw.get("verdict", "inconclusive")),
                                            raw.get("figure"), str(raw.get("reason") or ""), steps, evidence,
                                            run_dir)
        ordered = {k: cats[k] for k in CATEGORIES if k in cats} | {k: v for k, v in cats.items()
                                                                  if k not in CATEGORIES}
        warnings = extra.pop("warnings", None)
        if warnings is None:
            warnings = [ManifestWarning(**w) for w in data.get("manifest_warnings") or []]
        return cls(app=app, run_dir=run_dir, categories=ordered, warnings=warnings, **extra)


def _screenshots(run_dir: Path) -> dict[int, Path]:
    """Step number -> evidence file, from the trace (else the steps/NNNN.png naming)."""
    out: dict[int, Path] = {}
    trace = run_dir / "trace.jsonl"
    if trace.exists():
        for line in trace.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
                n = int(rec["n"])
            except (ValueError, KeyError, TypeError):
                continue
            for key in ("screenshot", "xml"):
                if rec.get(key) and (run_dir / rec[key]).exists():
                    out[n] = run_dir / rec[key]
                    break
    steps = run_dir / "steps"
    if steps.is_dir():
        for p in sorted(steps.glob("*.png")):
            if p.stem.isdigit():
                out.setdefault(int(p.stem), p)
    return out


# --- targets -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    kind: str  # "apk" | "scenario" | "sample" | "model" | "results"
    value: str  # path (resolved) or sample id
    text: str  # as the user wrote it


def resolve_target(text: str, search: Sequence[Path] = ()) -> Target:
    """What the user named: an APK, a scenario file, a results folder, an app model, or a sample id.

    Relative paths are tried against the working directory, then each folder of `search`.
    """
    raw = Path(text).expanduser()
    candidates = [raw] if raw.is_absolute() else [raw, *(Path(b) / raw for b in search)]
    for p in candidates:
        if not p.exists():
            continue
        p = p.resolve()
        if p.is_dir():
            if (p / "verdict.json").exists():
                return Target("results", str(p), text)
            if (p / "app.yaml").exists():
                return Target("model", str(p / "app.yaml"), text)
            raise UserError(f"{text}: a folder that is neither a results folder nor an app model")
        if p.suffix.lower() in (".yaml", ".yml"):
            return Target("model" if _is_model(p) else "scenario", str(p), text)
        return Target("apk", str(p), text)  # anything else must be an APK; read_apk says what is wrong
    if "/" not in text and (SAMPLES_DIR / text / "app.yaml").is_file():
        return Target("sample", text, text)
    known = sorted(p.parent.name for p in SAMPLES_DIR.glob("*/app.yaml"))
    hint = f" (sample ids: {', '.join(known)})" if known else ""
    raise UserError(f"{text}: no such APK, scenario, results folder or sample id{hint}")


def _is_model(path: Path) -> bool:
    """An app behaviour model has `package` and `screens` at the top; a scenario has `app`."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # let the scenario loader report the error with its line
    return isinstance(data, dict) and "package" in data and "app" not in data


def sample_for_package(package: str) -> str | None:
    """Sample id whose model has `package`, so an APK of a sample app can run on the virtual device."""
    import yaml

    for app in sorted(SAMPLES_DIR.glob("*/app.yaml")):
        try:
            data = yaml.safe_load(app.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("package") == package:
            return app.parent.name
    return None


def parse_feature(text: str) -> dict[str, Any]:
    """`--feature "scan=camera,microphone"` -> scenario feature dict."""
    name, sep, perms = text.partition("=")
    items = [p.strip() for p in perms.split(",") if p.strip()]
    if not sep or not name.strip() or not items:
        raise UserError(f"--feature {text!r}: expected NAME=PERMISSION[,PERMISSION...], e.g. scan=camera")
    return {"name": name.strip(), "permissions": items}


def features_of(scenario: Any) -> list[Any]:
    return list(getattr(scenario, "features", ()) or ())


def warnings_for(apk: ApkInfo | None, features: Iterable[Any], api_level: int | None = None) -> list[ManifestWarning]:
    return manifest_excess(apk, features, api_level) if apk is not None else []


def read_target_apk(target: Target) -> ApkInfo:
    return read_apk(target.value)
