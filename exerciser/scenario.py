"""Scenario and suite files: what app to exercise, how, and with which budgets (scenarios/schema.json).

Errors name the file, the line and the field: `scenarios/x.yaml:7: features[0].permissions: ...`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from exerciser import SAMPLES_DIR, SCENARIOS_DIR, yamlio
from exerciser.errors import UserError
from exerciser.paths import as_id, is_safe_id

PROBES = ("consent", "5", "6", "7", "8")
# Sized for a phone: about a second per captured step (hierarchy dump ~1 s, screenshot ~0.3 s), 111-209
# steps and a few minutes of the protocol's own watches per sample app: ~10 min; wall time spent parked
# (a wait the phone's clock could not skip) does not count. The virtual device needs a few seconds.
DEFAULT_BUDGETS = {"actions": 1500, "explore_actions": 120, "device_seconds": 6 * 3600, "wall_seconds": 1800}


@dataclass(frozen=True)
class Feature:
    name: str
    permissions: tuple[str, ...]  # as written: manifest names or group names
    entry: tuple[str, ...] = ()  # labels of controls opening the feature
    screens: tuple[str, ...] = ()  # activities of the feature

    @property
    def groups(self) -> frozenset[str]:
        from exerciser.probes.groups import group_of

        return frozenset(g for p in self.permissions if (g := group_of(p)))


@dataclass(frozen=True)
class AppRef:
    kind: str  # "sample" | "model" | "package" | "apk"
    value: str  # sample id, model path, package or apk path (paths resolved)
    label: str = ""

    @property
    def model_path(self) -> Path | None:
        if self.kind == "sample":
            return SAMPLES_DIR / self.value / "app.yaml"
        if self.kind == "model":
            return Path(self.value)
        return None

    @property
    def expected_path(self) -> Path | None:
        mp = self.model_path
        return mp.parent / "expected.yaml" if mp else None


@dataclass(frozen=True)
class Budgets:
    actions: int = DEFAULT_BUDGETS["actions"]  # all actions of one app run, every probe together
    explore_actions: int = DEFAULT_BUDGETS["explore_actions"]  # actions of one exploration (per goal)
    device_seconds: float = DEFAULT_BUDGETS["device_seconds"]  # device clock, deliberate clock jumps excluded
    wall_seconds: float = DEFAULT_BUDGETS["wall_seconds"]


@dataclass(frozen=True)
class Scenario:
    id: str
    app: AppRef
    locale: str = "en-US"
    profile: str = "api33"
    display: str = ""  # virtual device: WIDTHxHEIGHT@DPI ("" = 1080x2340@440)
    features: tuple[Feature, ...] = ()
    login: tuple[dict[str, Any], ...] = ()
    budgets: Budgets = field(default_factory=Budgets)
    probes: tuple[str, ...] = PROBES
    test_account: bool = False
    dont_ask_again: bool = False
    rules: dict[str, float] = field(default_factory=dict)
    source: Path | None = None

    @property
    def declared_groups(self) -> frozenset[str]:
        return frozenset().union(*(f.groups for f in self.features)) if self.features else frozenset()

    def with_overrides(self, **kw: Any) -> Scenario:
        return replace(self, **{k: v for k, v in kw.items() if v is not None})

    def to_json(self) -> dict[str, Any]:
        """The resolved scenario as JSON: `scenario.json` of a run, and a queued job's scenario."""
        return {
            "id": self.id,
            "app": asdict(self.app),
            "locale": self.locale,
            "profile": self.profile,
            "display": self.display,
            "features": [asdict(f) for f in self.features],
            "login": [dict(x) for x in self.login],
            "budgets": asdict(self.budgets),
            "probes": list(self.probes),
            "test_account": self.test_account,
            "dont_ask_again": self.dont_ask_again,
            "rules": dict(self.rules),
            "source": str(self.source) if self.source else None,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Scenario:
        """The inverse of `to_json`; fields an older run did not write take their defaults.

        Raises KeyError, TypeError or ValueError on a malformed document."""
        app = d["app"]
        if not is_safe_id(d["id"]):
            raise ValueError(f"scenario id {d['id']!r} is not a folder name")
        return cls(
            id=d["id"],
            app=AppRef(app["kind"], app["value"], app.get("label", "")),
            locale=d.get("locale", "en-US"),
            profile=d.get("profile", "api33"),
            display=d.get("display", ""),
            features=tuple(
                Feature(
                    f["name"], tuple(f["permissions"]), tuple(f.get("entry", ())), tuple(f.get("screens", ()))
                )
                for f in d.get("features", [])
            ),
            login=tuple(d.get("login", ())),
            budgets=Budgets(**d.get("budgets", {})),
            probes=tuple(d.get("probes", PROBES)),
            test_account=bool(d.get("test_account", False)),
            dont_ask_again=bool(d.get("dont_ask_again", False)),
            rules=dict(d.get("rules", {})),
            source=Path(d["source"]) if d.get("source") else None,
        )


# --- YAML with line numbers --------------------------------------------------------------------------


def _lines(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """JSON path (tuple of keys/indexes) -> 1-based line of the node, for error messages."""
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            out[path + (key,)] = k.start_mark.line + 1
            _lines(v, path + (key,), out)
            out[path + (key,)] = k.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, path + (i,), out)
    return out


def _fmt_path(path: tuple) -> str:
    s = ""
    for p in path:
        s += f"[{p}]" if isinstance(p, int) else (f".{p}" if s else str(p))
    return s or "(top)"


def load_yaml_with_lines(path: Path) -> tuple[Any, dict[tuple, int]]:
    try:
        text = yamlio.read_text(path)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read: {exc}") from None
    try:
        # one parse: the node tree gives the line numbers, the data is built from it
        node = yamlio.compose(text, str(path))
        data = yaml.SafeLoader("").construct_document(node) if node is not None else None
    except yamlio.YamlLimitError:
        raise
    except yaml.reader.ReaderError as exc:  # a control character the YAML reader refuses
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise UserError(f"{path}:{line}: yaml: {exc.reason} (character #x{exc.character:04x})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise UserError(f"{path}:{line}: yaml: {getattr(exc, 'problem', None) or exc}") from None
    return data, (_lines(node) if node is not None else {})


@cache
def _schema() -> dict:
    return json.loads((SCENARIOS_DIR / "schema.json").read_text(encoding="utf-8"))


def _validate(data: Any, kind: str, path: Path, lines: dict[tuple, int]) -> None:
    schema = _schema()
    sub = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{kind}"}
    validator = jsonschema.Draft202012Validator(sub)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.path))))
    if not errors:
        return
    err = jsonschema.exceptions.best_match(errors) or errors[0]
    where = tuple(err.absolute_path)
    line = lines.get(where)
    probe = where
    while line is None and probe:
        probe = probe[:-1]
        line = lines.get(probe)
    msg = err.message
    if err.validator == "oneOf" and where and where[-1] == "app" or err.validator == "oneOf" and not where:
        msg = "give exactly one of sample, model, package, apk"
    raise UserError(f"{path}:{line or 1}: {_fmt_path(where)}: {msg}")


# --- loading -------------------------------------------------------------------------------------------


def is_suite(data: Any) -> bool:
    return isinstance(data, dict) and "scenarios" in data


def _app_ref(raw: dict, base: Path, path: Path, lines: dict) -> AppRef:
    label = raw.get("label", "")
    if "sample" in raw:
        if not (SAMPLES_DIR / raw["sample"] / "app.yaml").is_file():
            raise UserError(
                f"{path}:{lines.get(('app', 'sample'), 1)}: app.sample: no sample app "
                f"'{raw['sample']}' in {SAMPLES_DIR}"
            )
        return AppRef("sample", raw["sample"], label)
    if "model" in raw:
        mp = (base / raw["model"]).resolve()
        if not mp.is_file():
            raise UserError(f"{path}:{lines.get(('app', 'model'), 1)}: app.model: file not found: {mp}")
        return AppRef("model", str(mp), label)
    if "apk" in raw:
        return AppRef("apk", str((base / raw["apk"]).resolve()), label)
    return AppRef("package", raw["package"], label)


def scenario_from_dict(
    data: dict, path: Path, lines: dict | None = None, defaults: dict | None = None
) -> Scenario:
    lines = lines or {}
    defaults = defaults or {}
    path = Path(path)
    app = _app_ref(data["app"], path.parent, path, lines)
    default_id = (
        app.value
        if app.kind == "sample"
        else (
            Path(app.value).parent.name
            if app.kind == "model"
            else Path(app.value).stem
            if app.kind == "apk"
            else app.value
        )
    )
    budgets = dict(DEFAULT_BUDGETS) | defaults.get("budgets", {}) | data.get("budgets", {})
    feats = tuple(
        Feature(f["name"], tuple(f["permissions"]), tuple(f.get("entry", ())), tuple(f.get("screens", ())))
        for f in data.get("features", [])
    )
    from exerciser.probes.groups import group_of

    for i, f in enumerate(data.get("features", [])):
        for j, p in enumerate(f["permissions"]):
            if group_of(p) is None:
                line = lines.get(("features", i, "permissions", j), 1)
                raise UserError(
                    f"{path}:{line}: features[{i}].permissions[{j}]: '{p}' is not a runtime "
                    "permission or permission group"
                )
    sid = data.get("id", as_id(default_id))
    if not is_safe_id(sid):
        where = f"{path}:{lines.get(('id',), 1)}: id" if "id" in data else f"{path}:1: (top)"
        raise UserError(
            f"{where}: app id {sid!r} names the results folder: letters, digits, . _ - (no leading dot); "
            "give `id:`"
        )
    return Scenario(
        id=sid,
        app=app,
        locale=data.get("locale", defaults.get("locale", "en-US")),
        profile=data.get("profile", defaults.get("profile", "api33")),
        display=str(data.get("display", defaults.get("display", ""))),
        features=feats,
        login=tuple(data.get("login", ())),
        budgets=Budgets(**budgets),
        probes=tuple(p for p in PROBES if p in data.get("probes", defaults.get("probes", PROBES))),
        test_account=bool(data.get("test_account", False)),
        dont_ask_again=bool(data.get("dont_ask_again", False)),
        rules=dict(defaults.get("rules", {})) | dict(data.get("rules", {})),
        source=path,
    )


def load_scenario(path: Path, defaults: dict | None = None) -> Scenario:
    data, lines = load_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise UserError(f"{path}:1: (top): a scenario is a mapping with at least `app`")
    if is_suite(data):
        raise UserError(f"{path}:1: (top): this is a suite, not a scenario")
    _validate(data, "scenario", path, lines)
    return scenario_from_dict(data, path, lines, defaults)


@dataclass
class Suite:
    name: str
    scenarios: list[Scenario]
    source: Path


def load_suite_or_scenario(path: Path) -> Suite:
    """A suite file, or a single scenario wrapped as a suite of one."""
    path = Path(path)
    data, lines = load_yaml_with_lines(path)
    if not isinstance(data, dict):
        raise UserError(f"{path}:1: (top): expected a scenario (with `app`) or a suite (with `scenarios`)")
    if not is_suite(data):
        _validate(data, "scenario", path, lines)
        return Suite(str(data.get("id") or path.stem), [scenario_from_dict(data, path, lines)], path)
    _validate(data, "suite", path, lines)
    defaults = data.get("defaults", {})
    scs: list[Scenario] = []
    seen: dict[str, Path] = {}
    for i, rel in enumerate(data["scenarios"]):
        sp = (path.parent / rel).resolve()
        if not sp.is_file():
            raise UserError(f"{path}:{lines.get(('scenarios', i), 1)}: scenarios[{i}]: file not found: {rel}")
        sc = load_scenario(sp, defaults)
        if sc.id in seen:
            raise UserError(
                f"{path}:{lines.get(('scenarios', i), 1)}: scenarios[{i}]: duplicate app id "
                f"'{sc.id}' (also in {seen[sc.id]})"
            )
        seen[sc.id] = sp
        scs.append(sc)
    return Suite(str(data.get("name") or path.stem), scs, path)
