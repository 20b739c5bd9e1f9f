"""Reads what the exerciser needs from an APK's binary manifest, as Android reads it, with one-line errors.

Android's rules followed here (frameworks/base ParsingPackageUtils, PackageItemInfo): `android:` attributes
are found by resource id whatever their namespace; <uses-permission> and <uses-sdk> count as children of
<manifest> wherever they stand among them; a codename SDK ("VanillaIceCream") means the preview level 10000;
an unresolvable label falls back to the Application class name, then the package name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from exerciser import knowledge
from exerciser.apk import groups
from exerciser.apk.arsc import ArscError, ResourceTable
from exerciser.apk.axmlread import (
    TYPE_FIRST_INT,
    TYPE_INT_BOOLEAN,
    TYPE_LAST_INT,
    TYPE_STRING,
    Attr,
    AxmlError,
    End,
    Start,
    events,
)
from exerciser.apk.ziparc import Archive, ZipProblem, limits
from exerciser.errors import UserError

MANIFEST = "AndroidManifest.xml"
RESOURCES = "resources.arsc"
CUR_DEVELOPMENT = 10000  # Build.VERSION_CODES.CUR_DEVELOPMENT: what a codename SDK stands for

# android:attr resource ids (frameworks/base core/res/res/values/public.xml)
LABEL, NAME, ENABLED = 0x01010001, 0x01010003, 0x0101000E
MIN_SDK, TARGET_SDK, MAX_SDK = 0x0101020C, 0x01010270, 0x01010271
VERSION_CODE, VERSION_NAME = 0x0101021B, 0x0101021C
_MAIN, _LAUNCHER = "android.intent.action.MAIN", "android.intent.category.LAUNCHER"
_PERMISSION_TAGS = ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m")


@dataclass(frozen=True)
class ApkInfo:
    """The facts of one APK's manifest. `target_sdk` is the effective one (minSdk, else 1, when unset)."""

    path: Path
    package: str
    label: str
    launcher_activity: str | None  # fully qualified, None for an app without a launcher entry
    version_name: str | None
    version_code: int | None
    min_sdk: int
    target_sdk: int
    permissions: tuple[str, ...]  # every <uses-permission>/<uses-permission-sdk-23>, manifest order
    # maxSdkVersion per permission that has one (the app stops requesting it above that level)
    max_sdk: dict[str, int] = field(default_factory=dict)
    # permissions from <uses-permission-sdk-23>: requested on API 23+ only
    sdk23_only: frozenset[str] = frozenset()
    activities: tuple[str, ...] = ()
    # a preview codename given as min/target SDK (their level is then CUR_DEVELOPMENT)
    min_sdk_codename: str | None = None
    target_sdk_codename: str | None = None
    # what Android adds to the requested permissions for this target SDK: (permission, source or None, reason)
    implied: tuple[tuple[str, str | None, str], ...] = ()

    def dangerous_groups(self, api_level: int | None = None) -> dict[str, tuple[str, ...]]:
        """{group: permissions} of the dangerous permissions the app requests on a device of `api_level`.

        Default level: the target SDK (the platform the app was built for).
        """
        level = self.target_sdk if api_level is None else api_level
        perms = [
            (p, self.max_sdk.get(p)) for p in self.permissions if not (p in self.sdk23_only and level < 23)
        ]
        # an implied permission inherits its source's grant: split from a normal permission (BLUETOOTH) it is
        # granted at install and never asked for, so only those split from a dangerous one count
        # (and above its source's maxSdkVersion the source is not requested, so neither is the split)
        perms += [
            (p, self.max_sdk.get(src) if src else None)
            for p, src, _ in self.implied
            if src is None or (groups.is_dangerous(src) and not (src in self.sdk23_only and level < 23))
        ]
        return groups.by_group(perms, level, self.target_sdk)

    @property
    def dangerous(self) -> dict[str, tuple[str, ...]]:
        """Dangerous permissions by group at the target SDK."""
        return self.dangerous_groups()

    @property
    def runtime_prompts(self) -> bool:
        """False for apps targeting below 23: Android grants their dangerous permissions at install."""
        return self.target_sdk >= 23

    def sdk_text(self, which: str) -> str:
        """ "33", or the codename as the manifest gives it ("VanillaIceCream")."""
        code = self.min_sdk_codename if which == "min" else self.target_sdk_codename
        return code or str(self.min_sdk if which == "min" else self.target_sdk)

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "package": self.package,
            "label": self.label,
            "launcher_activity": self.launcher_activity,
            "version_name": self.version_name,
            "version_code": self.version_code,
            "min_sdk": self.min_sdk,
            "target_sdk": self.target_sdk,
            "min_sdk_codename": self.min_sdk_codename,
            "target_sdk_codename": self.target_sdk_codename,
            "permissions": list(self.permissions),
            "implied_permissions": [{"name": p, "reason": why} for p, _, why in self.implied],
            "max_sdk": dict(self.max_sdk),
            "dangerous": {g: list(p) for g, p in self.dangerous.items()},
        }


def _fail(path: Path, what: str) -> UserError:
    return UserError(f"{path}: {what}")


def _open(path: Path) -> Archive:
    if not path.exists():
        raise _fail(path, "no such file")
    if path.is_dir():
        raise _fail(path, "is a directory, not an APK file")
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror})") from None
    if not head:
        raise _fail(path, "empty file, not an APK")
    try:
        return Archive(path, (MANIFEST, RESOURCES))
    except ZipProblem as exc:
        if str(exc) != "no end record":
            raise _fail(path, str(exc)) from None
        if head == b"PK\x03\x04":
            raise _fail(
                path, "truncated or damaged APK (zip central directory missing; incomplete download?)"
            ) from None
        raise _fail(path, "not an APK (not a zip archive)") from None
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror or exc})") from None


def _not_an_apk(names: list[str]) -> str:
    """What a zip without a manifest is, when it is one of the other Android package formats."""
    if "base/manifest/AndroidManifest.xml" in names:
        return (
            "an Android App Bundle (.aab), not an APK; "
            "build an APK from it (bundletool build-apks --mode=universal)"
        )
    apks = [n for n in names if n.endswith(".apk")]
    if apks:
        return f"a set of APKs (.apks/.xapk), not an APK; give the base APK inside (e.g. {apks[0]})"
    return f"not an APK (the zip holds no {MANIFEST})"


def _resolve(package: str, name: str) -> str:
    if name.startswith("."):
        return package + name
    return name if "." in name else f"{package}.{name}"


class _Values:
    """Turns attributes into strings and numbers; references go through resources.arsc (read on first use)."""

    def __init__(self, path: Path, archive: Archive) -> None:
        self.path, self.archive = path, archive
        self._table: ResourceTable | None = None
        self._loaded = False

    def table(self) -> ResourceTable | None:
        if not self._loaded:
            self._loaded = True
            if RESOURCES in self.archive.entries:
                try:
                    self._table = ResourceTable(self.archive.read(RESOURCES, limits().max_resources_bytes))
                except ZipProblem as exc:
                    raise _fail(self.path, str(exc)) from None
                except (ArscError, AxmlError):
                    self._table = None  # a damaged table costs the labels, as on a phone, not the manifest
        return self._table

    def text(self, a: Attr | None) -> str | None:
        if a is None:
            return None
        if a.dtype == TYPE_STRING:
            return a.string
        if a.is_reference:
            table = self.table()
            try:
                return table.string(a.data, limits().max_reference_depth) if table else None
            except (ArscError, AxmlError, IndexError):
                return None
        return None

    def number(self, a: Attr | None) -> int | str | None:
        """An integer attribute; a string that is not a number comes back as the string (a codename)."""
        if a is None:
            return None
        if TYPE_FIRST_INT <= a.dtype <= TYPE_LAST_INT:
            return a.data - (1 << 32) if a.data >= 1 << 31 else a.data
        if a.is_reference and (table := self.table()) is not None:
            try:
                found = table.value(a.data)
            except (ArscError, AxmlError, IndexError):
                found = None
            if found and TYPE_FIRST_INT <= found[0] <= TYPE_LAST_INT:
                return found[1]
        text = self.text(a)
        if text is None:
            return None
        text = text.strip()
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            return text or None


def read_apk(path: str | Path) -> ApkInfo:
    """Manifest facts of the APK at `path`; `UserError` with one line naming the file for a bad file."""
    path = Path(path)
    with _open(path) as archive:
        count = archive.counts.get(MANIFEST, 0)
        if count == 0:
            raise _fail(path, _not_an_apk(archive.names_sample))
        if count > 1:  # aapt refuses it; which one a tool reads differs, so the facts would be ambiguous
            raise _fail(path, f"{count} {MANIFEST} entries in one zip; Android's tools refuse such a file")
        try:
            data = archive.read(MANIFEST, limits().max_manifest_bytes)
        except ZipProblem as exc:
            raise _fail(path, str(exc)) from None
        if not data:
            raise _fail(path, f"{MANIFEST} is empty")
        if bytes(data[:64]).lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"<?xml", b"<manifest")):
            raise _fail(path, f"{MANIFEST} is plain-text XML, not the compiled binary form (not a built APK)")
        try:
            return _facts(path, data, _Values(path, archive))
        except (AxmlError, ArscError) as exc:
            raise _fail(path, f"{MANIFEST} is not valid binary XML ({exc})") from None
        except (IndexError, ValueError, OverflowError) as exc:  # struct.error is a ValueError
            raise _fail(path, f"{MANIFEST} is not valid binary XML ({type(exc).__name__}: {exc})") from None


@dataclass
class _Component:
    name: str | None
    enabled: bool
    is_activity: bool  # else an activity-alias
    launcher: bool = False


def _facts(path: Path, data: bytes | bytearray, values: _Values) -> ApkInfo:
    root: Start | None = None
    permissions: list[str] = []
    max_sdk: dict[str, int] = {}
    sdk23: set[str] = set()
    uses_sdk: Start | None = None
    app: Start | None = None
    activities: list[_Component] = []
    comp: _Component | None = None
    actions: set[str] = set()
    categories: set[str] = set()
    for ev in events(data):
        if isinstance(ev, End):
            if ev.depth == 4 and comp is not None and ev.tag == "intent-filter":
                # one filter must hold both: that is what the launcher's MAIN/LAUNCHER query matches
                comp.launcher |= _MAIN in actions and _LAUNCHER in categories
            elif ev.depth == 3:
                comp = None
            continue
        if ev.depth == 1:
            if root is not None:
                raise AxmlError("a second root element")
            root = ev
            if ev.tag != "manifest":
                raise AxmlError(f"<{ev.tag}> at the root, not <manifest>")
        elif ev.depth == 2:
            if ev.tag in _PERMISSION_TAGS:
                name = values.text(ev.attr(NAME))
                if not name:
                    continue
                if name not in permissions:
                    permissions.append(name)
                limit = values.number(ev.attr(MAX_SDK))
                if isinstance(limit, int):
                    max_sdk[name] = limit
                if ev.tag != "uses-permission":
                    sdk23.add(name)
            elif ev.tag == "uses-sdk":
                uses_sdk = ev
            elif ev.tag == "application" and app is None:
                app = ev
        elif ev.depth == 3 and app is not None and ev.tag in ("activity", "activity-alias"):
            enabled = ev.attr(ENABLED)
            comp = _Component(
                values.text(ev.attr(NAME)),
                not (enabled is not None and enabled.dtype == TYPE_INT_BOOLEAN and enabled.data == 0),
                ev.tag == "activity",
            )
            activities.append(comp)
        elif ev.depth == 4 and comp is not None and ev.tag == "intent-filter":
            actions, categories = set(), set()
        elif ev.depth == 5 and comp is not None and ev.tag in ("action", "category"):
            name = values.text(ev.attr(NAME)) or ""
            (actions if ev.tag == "action" else categories).add(name)
    if root is None:
        raise AxmlError("no root element")
    pkg_attr = root.plain("package")
    package = (pkg_attr.string if pkg_attr is not None else None) or ""
    if not package:
        raise _fail(path, f"{MANIFEST} has no package name")

    min_raw = values.number(uses_sdk.attr(MIN_SDK)) if uses_sdk is not None else None
    target_raw = values.number(uses_sdk.attr(TARGET_SDK)) if uses_sdk is not None else None
    if target_raw is None:  # as Android: no targetSdkVersion means the minSdkVersion (number or codename)
        target_raw = min_raw
    min_sdk, min_code = _sdk(min_raw)
    target_sdk, target_code = _sdk(target_raw)

    launcher = next((c for c in activities if c.launcher and c.enabled and c.name), None)
    launcher_name = _resolve(package, launcher.name) if launcher and launcher.name else None
    app_name = values.text(app.attr(NAME)) if app is not None else None
    label = values.text(app.attr(LABEL)) if app is not None else None
    if not label:
        # PackageItemInfo.loadUnsafeLabel: nonLocalizedLabel, else labelRes, else `name` (the Application
        # class), else the package name
        label = _resolve(package, app_name) if app_name else package
    version_code = values.number(root.attr(VERSION_CODE))
    return ApkInfo(
        path=path,
        package=package,
        label=label.strip(),
        launcher_activity=launcher_name,
        version_name=values.text(root.attr(VERSION_NAME)),
        version_code=version_code if isinstance(version_code, int) else None,
        min_sdk=min_sdk,
        target_sdk=target_sdk,
        permissions=tuple(permissions),
        max_sdk=max_sdk,
        sdk23_only=frozenset(sdk23),
        activities=tuple(_resolve(package, c.name) for c in activities if c.name and c.is_activity),
        min_sdk_codename=min_code,
        target_sdk_codename=target_code,
        implied=implied_permissions(permissions, target_sdk),
    )


def implied_permissions(requested: list[str], target_sdk: int) -> tuple[tuple[str, str | None, str], ...]:
    """(permission, source, reason) Android adds for an app of `target_sdk`
    (models/android/implied_permissions.yaml), until nothing changes: a rule sees what earlier ones added."""
    have = set(requested)
    out: list[tuple[str, str | None, str]] = []
    changed = True
    while changed:
        changed = False
        for rule in knowledge.load("android/implied_permissions.yaml")["implied"]:
            src = rule.get("from")
            if target_sdk >= int(rule["below_target"]) or (src is not None and src not in have):
                continue
            for p in rule["to"]:
                if p not in have:
                    have.add(p)
                    out.append((p, src, str(rule["reason"])))
                    changed = True
    return tuple(out)


def _sdk(raw: int | str | None) -> tuple[int, str | None]:
    """(level, codename): an absent value is level 1, a codename the preview level CUR_DEVELOPMENT."""
    if raw is None:
        return 1, None
    if isinstance(raw, str):
        return CUR_DEVELOPMENT, raw
    return max(raw, 1), None
