"""Pre-release check of one app: resolve the target, run the default scenario, read back the verdicts.

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
    error: str | None = None  # tool error noted by the run (its categories are then inconclusive)
    summary_json: Path | None = None  # <out>/<app-id>.check.json: verdicts, APK facts, manifest warnings

    def category(self, category: str | int) -> CategoryResult:
        """`result.category(6)`, `result.category("6")`, `result.category("consent")`."""
        key = category_key(category)
        if key in self.categories:
            return self.categories[key]
        return CategoryResult(
            self.app, key, "not run", None, f"category {key} was not run or not scored", (), (), self.run_dir
        )

    @property
    def verdict(self) -> str:
        """ "violation" | "compliant" | "inconclusive" | "error" (a tool error and no verdict at all)."""
        verdicts = {c.verdict for c in self.categories.values()}
        if "violation" in verdicts:
            return "violation"
        if not verdicts:
            return "error" if self.error else "inconclusive"
        if verdicts & {"inconclusive", "not run"} or self.error:
            return "inconclusive"
        return "compliant"

    @property
    def exit_code(self) -> int:
        """As `exerciser run`: 0 all compliant, 1 a violation, 2 otherwise (compliance not established)."""
        return {"compliant": 0, "violation": 1}.get(self.verdict, 2)

    def __iter__(self):
        return iter(self.categories.values())

    def __repr__(self) -> str:
        cats = ", ".join(f"{k}={v.verdict}" for k, v in self.categories.items())
        return (
            f"<exerciser result {self.app}: {cats}; {len(self.warnings)} manifest warning(s); {self.run_dir}>"
        )

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
            # the run's copies of the deciding screenshots, else the step files themselves
            evidence = tuple(run_dir / s for s in raw.get("screenshots") or () if (run_dir / s).exists())
            evidence = evidence or tuple(screenshots[s] for s in steps if s in screenshots)
            cats[str(key)] = CategoryResult(
                app,
                str(key),
                str(raw.get("verdict", "inconclusive")),
                raw.get("figure"),
                str(raw.get("reason") or ""),
                steps,
                evidence,
                run_dir,
            )
        ordered = {k: cats[k] for k in CATEGORIES if k in cats} | {
            k: v for k, v in cats.items() if k not in CATEGORIES
        }
        warnings = extra.pop("warnings", None)
        if warnings is None:  # a folder summarised later: the warnings `exerciser check` wrote beside it
            side = run_dir.parent / f"{app}.check.json"
            try:
                saved = json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
                warnings = [ManifestWarning(**w) for w in saved.get("manifest_warnings") or []]
            except (ValueError, TypeError):
                warnings = []
        extra.setdefault("error", data.get("error"))
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
    for given in candidates:
        if not given.exists():
            continue
        p = given.resolve()
        if p.is_dir():
            if (p / "verdict.json").exists():
                return Target("results", str(p), text)
            if (p / "app.yaml").exists():
                return Target("model", str(p / "app.yaml"), text)
            raise UserError(f"{text}: a folder that is neither a results folder nor an app model")
        if p.suffix.lower() in (".yaml", ".yml"):
            return Target("model" if _is_model(p) else "scenario", str(p), text)
        # anything else must be an APK; read_apk says what is wrong, naming it by the path the user gave
        # (absolute, its symlinks kept: a shared folder linked in reads as the user knows it)
        return Target("apk", str(given.absolute()), text)
    if "/" not in text and (SAMPLES_DIR / text / "app.yaml").is_file():
        return Target("sample", text, text)
    known = sorted(p.parent.name for p in SAMPLES_DIR.glob("*/app.yaml"))
    hint = f" (sample ids: {', '.join(known)})" if known else ""
    raise UserError(f"{text}: no such APK, scenario, results folder or sample id{hint}")


def _is_model(path: Path) -> bool:
    """An app behaviour model has `package` and `screens` at the top; a scenario has `app`."""
    import yaml

    from exerciser import yamlio

    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False  # let the scenario loader report the error with its line
    return isinstance(data, dict) and "package" in data and "app" not in data


def _yaml(text: str) -> Any:
    from exerciser import yamlio

    return yamlio.safe_load(text)


def sample_for_package(package: str) -> str | None:
    """Sample id whose model has `package`, so an APK of a sample app can run on the virtual device."""
    import re

    import yaml

    # models are large: parse only those whose text names the package at the top level
    line = re.compile(rf"^package:\s*[\"']?{re.escape(package)}[\"']?\s*(#.*)?$", re.M)
    for app in sorted(SAMPLES_DIR.glob("*/app.yaml")):
        try:
            text = app.read_text(encoding="utf-8")
            if not line.search(text):
                continue
            data = _yaml(text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("package") == package:
            return app.parent.name
    return None


def sample_of_model(model_path: str | Path) -> str | None:
    """Sample id of a model file inside sample_apks/ (so its project scenario applies), else None."""
    path = Path(model_path).resolve()
    samples = SAMPLES_DIR.resolve()
    if path.name == "app.yaml" and path.parent.parent == samples:
        return path.parent.name
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


def warnings_for(
    apk: ApkInfo | None, features: Iterable[Any], api_level: int | None = None
) -> list[ManifestWarning]:
    return manifest_excess(apk, features, api_level) if apk is not None else []


def read_target_apk(target: Target) -> ApkInfo:
    return read_apk(target.value)


# --- running ---------------------------------------------------------------------------------------------

EMBEDDED_MODEL = "assets/exerciser/app.yaml"  # what the virtual device's `pm install` runs (sim.adbfront)


def model_apk_info(model_path: str | Path) -> ApkInfo:
    """The manifest facts an app behaviour model stands for (its package, label, SDK and permissions)."""
    path = Path(model_path)
    data = _yaml(path.read_text(encoding="utf-8")) or {}
    target = int(data.get("target_sdk", 33))
    return ApkInfo(
        path=path,
        package=str(data.get("package", "")),
        label=str(data.get("label", "")),
        launcher_activity=None,
        version_name=str(data.get("version", "1.0")),
        version_code=None,
        min_sdk=min(21, target),
        target_sdk=target,
        permissions=tuple(data.get("permissions") or ()),
    )


def _embedded_model(apk_path: Path) -> str | None:
    from exerciser.apk.ziparc import Archive, ZipProblem, limits

    try:
        with Archive(apk_path, (EMBEDDED_MODEL,)) as zf:
            if EMBEDDED_MODEL in zf.entries:
                return zf.read(EMBEDDED_MODEL, limits().max_manifest_bytes).decode("utf-8", "replace")
    except ZipProblem as exc:
        raise UserError(f"{apk_path}: {exc}") from None
    return None


def runs_on_virtual_device(apk_path: Path, apk: ApkInfo) -> bool:
    """True when the virtual device runs this APK: it embeds an app model, or a sample has its package."""
    return _embedded_model(apk_path) is not None or sample_for_package(apk.package) is not None


def default_scenario_file(sample_id: str) -> Path | None:
    """The project's scenario for a sample (scenarios/*.yaml whose app.sample is the id): it declares the
    app's features, locale and profile."""
    import yaml

    from exerciser import SCENARIOS_DIR

    for p in sorted(Path(SCENARIOS_DIR).glob("*.yaml")):
        try:
            text = p.read_text(encoding="utf-8")
            if sample_id not in text:
                continue
            data = _yaml(text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if (
            isinstance(data, dict)
            and isinstance(data.get("app"), dict)
            and data["app"].get("sample") == sample_id
        ):
            return p
    return None


def _feature_objects(features: Iterable[dict[str, Any]]) -> tuple[Any, ...]:
    from exerciser.probes.groups import group_of
    from exerciser.scenario import Feature

    out = []
    for f in features:
        for p in f["permissions"]:
            if group_of(p) is None:
                raise UserError(
                    f"feature {f['name']!r}: {p!r} is not a runtime permission or permission group"
                )
        out.append(Feature(f["name"], tuple(f["permissions"])))
    return tuple(out)


def _scenario_for(target: Target, apk: ApkInfo | None, real: bool, work: Path, base: Path | None) -> Any:
    """The scenario to run: the target's own file, else the base scenario (`--scenario`, or the project's
    scenario of a sample), else a default one built from the package and manifest."""
    from exerciser.scenario import load_scenario, load_yaml_with_lines, scenario_from_dict

    if target.kind == "scenario":
        return load_scenario(Path(target.value))
    if target.kind == "sample" and base is None:
        base = default_scenario_file(target.value)
        if base is not None:
            return load_scenario(base)
    if target.kind == "model" and base is None and (sample := sample_of_model(target.value)):
        # a sample's model file: the project's scenario of that sample declares its features
        base = default_scenario_file(sample)
    if target.kind == "apk" and base is None and apk is not None:
        # an APK of a sample app: the project's scenario of that sample declares its features
        sample = sample_for_package(apk.package)
        base = default_scenario_file(sample) if sample else None
    data: dict[str, Any] = {}
    if base is not None:
        load_scenario(base)  # validates, with file:line errors
        data, _ = load_yaml_with_lines(base)
        data = {k: v for k, v in data.items() if k not in ("app", "id", "notes")}
    if target.kind == "sample":
        data["app"] = {"sample": target.value}
    elif target.kind == "model":
        data["app"] = {"model": target.value}
    else:  # apk
        assert apk is not None
        embedded = None if real else _embedded_model(Path(target.value))
        if real:
            data["app"] = {"package": apk.package, "label": apk.label}
        elif embedded is not None:
            model = work / f"{apk.package}.app.yaml"
            model.parent.mkdir(parents=True, exist_ok=True)
            model.write_text(embedded, encoding="utf-8")
            data["app"] = {"model": str(model)}
        elif (sample := sample_for_package(apk.package)) is not None:
            data["app"] = {"sample": sample}
        else:
            raise UserError(
                f"{target.text}: the virtual device runs app behaviour models, and no sample app has "
                f"package {apk.package}; give --device SERIAL to check this APK on a phone"
            )
        data.setdefault("id", apk.package)
    return scenario_from_dict(data, base or Path("exerciser-check.yaml"))


def virtual_device(scenario: Any = None, profile: str | None = None, locale: str | None = None) -> Any:
    """A virtual device with the scenario's app model installed (profile/locale: arguments, else scenario)."""
    from exerciser.device.contract import DeviceError
    from exerciser.sim import VirtualDevice, load_app_model

    profile = profile or (scenario.profile if scenario is not None else "api33")
    locale = locale or (scenario.locale if scenario is not None else "en-US")
    apps = []
    if scenario is not None:
        if scenario.app.model_path is None:
            raise UserError(f"{scenario.id}: app.{scenario.app.kind} needs a real device (--device SERIAL)")
        apps.append(load_app_model(scenario.app.model_path))
    try:
        return VirtualDevice(apps=apps, profile=profile, locale=locale)
    except DeviceError as exc:
        raise UserError(str(exc)) from None


def real_device(serial: str) -> Any:
    from exerciser.device.u2driver import U2Device

    return U2Device(serial)


def _install(device: Any, apk_path: Path, package: str) -> bool:
    """Install on a real device; True when the package was not there before (so we remove it after)."""
    from exerciser.device.contract import DeviceError

    fresh = package not in device.installed_packages()
    try:
        device.install(apk_path)
    except DeviceError as exc:
        raise UserError(f"{apk_path}: install failed: {exc}") from None
    return fresh


def _uninstall(device: Any, package: str) -> None:
    import contextlib
    import shlex

    with contextlib.suppress(Exception):  # best effort: the verdicts are already on disk
        device.sh(f"pm uninstall {shlex.quote(package)}")


def run_check(
    target: Target | str,
    *,
    out_dir: str | Path,
    device: Any = None,
    serial: str | None = None,
    profile: str | None = None,
    locale: str | None = None,
    probes: Sequence[str] | None = None,
    features: Sequence[dict[str, Any]] | None = None,
    scenario_file: str | Path | None = None,
    keep_installed: bool = False,
    progress: Any = None,
) -> CheckResult:
    """Run the target's scenario (virtual device unless `device`/`serial`), write `out_dir/<app-id>/`
    and return its verdicts with the manifest warnings. APKs are installed first and removed after
    (unless they were already installed or `keep_installed`)."""
    from exerciser.runner.app_run import run_app

    t = target if isinstance(target, Target) else resolve_target(str(target))
    if t.kind == "results":
        return CheckResult.from_run_dir(t.value)
    out_dir = Path(out_dir)
    real = device is not None or serial is not None
    apk = read_apk(t.value) if t.kind == "apk" else None
    base = Path(scenario_file).resolve() if scenario_file else None
    sc = _scenario_for(t, apk, real, out_dir / ".check", base)
    if sc.app.kind == "apk":  # a scenario naming an APK file
        apk = read_apk(sc.app.value)
        t = Target("apk", sc.app.value, sc.app.value)
        if real:
            from exerciser.scenario import AppRef

            sc = sc.with_overrides(app=AppRef("package", apk.package, sc.app.label or apk.label))
        else:
            sc = _scenario_for(t, apk, False, out_dir / ".check", sc.source)
    sc = sc.with_overrides(
        profile=profile,
        locale=locale,
        probes=tuple(p for p in ("consent", "5", "6", "7", "8") if p in set(map(str, probes)))
        if probes
        else None,
        features=_feature_objects(features) if features else None,
    )
    if apk is None and sc.app.model_path is not None:
        apk = model_apk_info(sc.app.model_path)

    dev = (device if device is not None else real_device(str(serial))) if real else virtual_device(sc)
    installed_here = False
    if real and t.kind == "apk":
        installed_here = _install(dev, Path(t.value), apk.package)
    elif real and sc.app.model_path is not None:
        pkg = model_apk_info(sc.app.model_path).package
        if pkg not in dev.installed_packages():  # a sample on a served virtual device: install its model
            from exerciser.sim.adbfront.install import model_apk

            built = model_apk(sc.app.model_path, out_dir / ".check" / f"{pkg}.apk")
            installed_here = _install(dev, built, pkg)
    try:
        app_result = run_app(sc, dev, out_dir, progress=progress)
    finally:
        if installed_here and not keep_installed:
            _uninstall(dev, apk.package if apk else "")
    api_level = dev.info.api_level
    warnings = warnings_for(apk, features_of(sc), api_level)
    result = CheckResult.from_run_dir(
        app_result.out_dir, warnings=warnings, apk=apk, device=dev.info.serial, scenario=sc
    )
    summary = {
        "app": result.app,
        "verdict": result.verdict,
        "exit_code": result.exit_code,
        "device": {"serial": dev.info.serial, "api_level": api_level},
        "apk": apk.to_dict() if apk else None,
        # the dynamic findings (what the run saw) and, apart, what the manifest alone says about category 7
        "categories": {
            k: {
                "verdict": str(c.verdict),
                "figure": c.figure,
                "reason": c.reason,
                "evidence": [str(p) for p in c.evidence],
            }
            for k, c in result.categories.items()
        },
        "manifest_warnings": [w.to_dict() for w in warnings],
        "results": str(app_result.out_dir),
    }
    result.summary_json = out_dir / f"{result.app}.check.json"
    result.summary_json.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return result
