"""`exerciser check app.apk` without a device: what the manifest alone says, before any run.

The manifest facts, the dangerous permission groups at the app's target SDK and at the newest API level the
permission table covers, and the static category-7 findings: dangerous groups no declared feature justifies
(features from `--scenario` and `--feature`). Light on purpose: no run stack, no OpenCV, no device libraries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from exerciser import knowledge
from exerciser.apk import groups
from exerciser.apk.excess import ManifestWarning, manifest_excess
from exerciser.apk.reader import ApkInfo
from exerciser.errors import UserError


@dataclass(frozen=True)
class Feature:
    """A feature of the app and the permissions or groups it justifies (as a scenario's `features`)."""

    name: str
    permissions: tuple[str, ...]


@dataclass
class StaticCheck:
    apk: ApkInfo
    features: list[Feature]
    scenario: Path | None = None
    newest_api: int = field(default_factory=groups.newest_level)

    @property
    def granted_at_install(self) -> bool:
        """Target SDK below the runtime-permission level: Android grants the dangerous permissions unasked."""
        return self.apk.target_sdk < _rules()["runtime_permissions_from_target"]

    @property
    def target_level(self) -> int:
        """The level the target-SDK groups are read at: the target SDK, or the first runtime-permission level
        for an app granted everything at install (its groups are dangerous all the same)."""
        return max(self.apk.target_sdk, _rules()["runtime_permissions_from_target"])

    @property
    def installable_on_newest(self) -> bool:
        return not any(
            self.newest_api >= r["api"] and self.apk.target_sdk < r["target_sdk"]
            for r in _rules()["min_installable_target"]
        )

    @property
    def at_target(self) -> dict[str, tuple[str, ...]]:
        return self.apk.dangerous_groups(self.target_level)

    @property
    def at_newest(self) -> dict[str, tuple[str, ...]]:
        return self.apk.dangerous_groups(self.newest_api) if self.installable_on_newest else {}

    @property
    def findings(self) -> list[ManifestWarning]:
        """Category 7 at the target SDK, then what only the newest level adds (e.g. split permissions)."""
        out = manifest_excess(self.apk, self.features, self.target_level)
        seen = {w.group for w in out}
        level = self.newest_api
        for w in manifest_excess(self.apk, self.features, level) if self.installable_on_newest else ():
            if w.group not in seen:
                out.append(
                    ManifestWarning(w.category, w.group, w.permissions, f"{w.message} (on API {level})")
                )
        return out

    @property
    def exit_code(self) -> int:
        """0 no finding, 1 a category-7 finding (2, bad input, never gets here)."""
        return 1 if self.findings else 0

    def to_dict(self) -> dict[str, Any]:
        findings = self.findings
        return {
            "mode": "manifest",
            "apk": self.apk.to_dict(),
            "scenario": str(self.scenario) if self.scenario else None,
            "features": [{"name": f.name, "permissions": list(f.permissions)} for f in self.features],
            "dangerous": {
                "target_sdk": {g: list(p) for g, p in self.at_target.items()},
                "newest_api": {g: list(p) for g, p in self.at_newest.items()},
            },
            "granted_at_install": self.granted_at_install,
            "newest_api": self.newest_api,
            "installable_on_newest": self.installable_on_newest,
            "findings": [w.to_dict() for w in findings],
            "verdict": "findings" if findings else "compliant",
            "exit_code": self.exit_code,
        }


def parse_features(texts: tuple[str, ...] | list[str]) -> list[Feature]:
    """`--feature scan=camera,android.permission.RECORD_AUDIO`, checked against the permission table."""
    from exerciser.apk.check import parse_feature  # the same syntax as for a run

    out = []
    for text in texts:
        f = parse_feature(text)
        for p in f["permissions"]:
            if p not in groups.group_names() and not groups.is_dangerous(p):
                raise UserError(
                    f"feature {f['name']!r}: {p!r} is not a runtime permission or permission group"
                )
        out.append(Feature(f["name"], tuple(f["permissions"])))
    return out


def scenario_features(path: Path) -> list[Feature]:
    """The features a scenario file declares (loaded and validated as `exerciser run` does)."""
    from exerciser.scenario import load_scenario  # only when a scenario is given: jsonschema is not free

    sc = load_scenario(path)
    return [Feature(f.name, tuple(f.permissions)) for f in getattr(sc, "features", ()) or ()]


@cache
def _rules() -> dict[str, Any]:
    return knowledge.load("android/install_rules.yaml")


def _short(perms: tuple[str, ...]) -> str:
    return ", ".join(p.rsplit(".", 1)[-1] for p in perms)


def _group_lines(found: dict[str, tuple[str, ...]]) -> list[str]:
    return [f"    {g:<21} {_short(p)}" for g, p in found.items()] or ["    none"]


def summary_lines(chk: StaticCheck) -> list[str]:
    """The one-screen text of a deviceless check."""
    a = chk.apk
    version = a.version_name or "-"
    code = f" (code {a.version_code})" if a.version_code is not None else ""
    implied = (
        f", +{len(a.implied)} implied by Android at target SDK {a.sdk_text('target')}" if a.implied else ""
    )
    newest = chk.newest_api
    changed = {g: p for g, p in chk.at_newest.items() if chk.at_target.get(g) != p}
    gone = [g for g in chk.at_target if g not in chk.at_newest]
    lines = [
        f"exerciser check (manifest only, no device): {a.path}",
        "",
        f"  package      {a.package}  label {a.label!r}",
        f"  version      {version}{code}",
        f"  SDK          min {a.sdk_text('min')}, target {a.sdk_text('target')}",
        f"  launcher     {a.launcher_activity or '- (no launcher entry)'}",
        f"  permissions  {len(a.permissions)} requested{implied}",
        f"  dangerous permission groups at target SDK {a.sdk_text('target')}"
        + (
            f" (below {_rules()['runtime_permissions_from_target']}: granted at install, no dialog):"
            if chk.granted_at_install
            else ":"
        ),
        *_group_lines(chk.at_target),
    ]
    if not chk.installable_on_newest:
        floor = max(r["target_sdk"] for r in _rules()["min_installable_target"] if newest >= r["api"])
        lines.append(f"  on an API {newest} phone: not installable (it refuses apps targeting below {floor})")
    elif changed or gone:
        lines.append(f"  on an API {newest} phone (the newest level the table covers), instead:")
        lines += _group_lines(changed) if changed else []
        lines += [f"    {g:<21} (not requested there)" for g in gone]
    else:
        lines.append(f"  the same on an API {newest} phone (the newest level the table covers)")
    lines.append("")
    findings = chk.findings
    source = f"scenario {chk.scenario}" if chk.scenario else "--feature" if chk.features else "no scenario"
    if findings:
        lines.append(f"  category 7 from the manifest ({len(findings)}; features from {source}):")
        lines += [f"    ! {w.message}" for w in findings]
    else:
        lines.append(
            f"  category 7 from the manifest: every dangerous group is justified (features from {source})"
        )
    lines += ["", f"  verdict:  {'FINDINGS' if findings else 'OK'}  (exit {chk.exit_code})"]
    return lines


def write_junit(path: Path, chk: StaticCheck) -> Path:
    """JUnit XML: a testcase per dangerous group at the target SDK, failing when no feature justifies it."""
    import xml.etree.ElementTree as ET

    a = chk.apk
    cls = f"consent_exerciser.{a.package}.manifest"
    findings = {w.group: w for w in chk.findings}
    cases = [("manifest: readable", None)]
    cases += [(f"7 manifest: {g}", findings.get(g)) for g in dict.fromkeys([*chk.at_target, *findings])]
    ts = ET.Element("testsuite", {"name": f"exerciser check {a.package} (manifest)", "time": "0"})
    for name, warning in cases:
        tc = ET.SubElement(ts, "testcase", {"classname": cls, "name": name, "time": "0"})
        if warning is not None:
            ET.SubElement(
                tc, "failure", {"message": warning.message, "type": "category 7"}
            ).text = f"{warning.message}\npermissions: {', '.join(warning.permissions)}"
    counts = {"tests": str(len(cases)), "failures": str(len(findings)), "skipped": "0", "errors": "0"}
    for k, v in counts.items():
        ts.set(k, v)
    root = ET.Element("testsuites", {"name": f"exerciser check {a.package}", **counts})
    root.append(ts)
    return write_xml(root, path)


def write_xml(root: Any, path: str | Path) -> Path:
    """An indented XML document (an ElementTree element) at `path`, its folder made: a JUnit report."""
    import xml.etree.ElementTree as ET

    ET.indent(root)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
    return path
