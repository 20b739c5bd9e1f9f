"""Reads what the exerciser needs from an APK's binary manifest (pyaxmlparser), with one-line errors."""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from exerciser.apk import groups
from exerciser.errors import UserError

MANIFEST = "AndroidManifest.xml"
_NS = "{http://schemas.android.com/apk/res/android}"


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

    def dangerous_groups(self, api_level: int | None = None) -> dict[str, tuple[str, ...]]:
        """{group: permissions} of the dangerous permissions the app requests on a device of `api_level`.

        Default level: the target SDK (the platform the app was built for).
        """
        level = self.target_sdk if api_level is None else api_level
        perms = [
            (p, self.max_sdk.get(p)) for p in self.permissions if not (p in self.sdk23_only and level < 23)
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
            "permissions": list(self.permissions),
            "dangerous": {g: list(p) for g, p in self.dangerous.items()},
        }


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def _quiet() -> Iterator[list[str]]:
    """pyaxmlparser logs every oddity; keep its errors (for our one line) and print none of them."""
    log = logging.getLogger("pyaxmlparser")
    handler = _Collect()
    old_level, old_propagate = log.level, log.propagate
    log.setLevel(logging.ERROR)
    log.propagate = False
    log.addHandler(handler)
    try:
        yield handler.messages
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        log.propagate = old_propagate


def _fail(path: Path, what: str) -> UserError:
    return UserError(f"{path}: {what}")


def _read_manifest_bytes(path: Path) -> bytes:
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
    if not zipfile.is_zipfile(path):
        if head == b"PK\x03\x04":
            raise _fail(
                path, "truncated or damaged APK (zip central directory missing; incomplete download?)"
            )
        raise _fail(path, "not an APK (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            try:
                info = zf.getinfo(MANIFEST)
            except KeyError:
                raise _fail(path, _not_an_apk(zf.namelist())) from None
            return zf.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise _fail(path, f"damaged APK: {MANIFEST} cannot be extracted ({exc})") from None


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


def _launcher(xml, package: str) -> str | None:
    """First enabled activity/alias (manifest order) with action MAIN and category LAUNCHER."""
    for el in xml.iter("activity", "activity-alias"):
        if el.get(_NS + "enabled") == "false" or not el.get(_NS + "name"):
            continue
        for flt in el.iter("intent-filter"):
            actions = {a.get(_NS + "name") for a in flt.iter("action")}
            cats = {c.get(_NS + "name") for c in flt.iter("category")}
            if "android.intent.action.MAIN" in actions and "android.intent.category.LAUNCHER" in cats:
                return _resolve(package, el.get(_NS + "name"))
    return None


_REF = re.compile(r"@([0-9A-Fa-f]{8})")


def _resolver(apk) -> Callable[[str | None], str | None]:
    """Turns "@7F0B0001" (how pyaxmlparser prints a reference such as @string/app_name) into the value of
    the default configuration in resources.arsc; anything else, and what cannot be resolved, as it is."""
    cache: list = []

    def resolve(value: str | None) -> str | None:
        m = _REF.fullmatch(value or "")
        if m is None or int(m.group(1), 16) >> 24 == 0x01:  # framework resources are not in the APK
            return value
        if not cache:
            try:
                cache.append(apk.get_android_resources())
            except Exception:  # a damaged resources.arsc costs the label, not the manifest
                cache.append(None)
        if cache[0] is None:
            return value
        from pyaxmlparser.arscutil import ARSCResTableConfig

        try:
            found = cache[0].get_resolved_res_configs(
                int(m.group(1), 16), ARSCResTableConfig.default_config()
            )
        except Exception:
            return value
        return str(found[0][1]) if found and found[0][1] is not None else value

    return resolve


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value, 16) if value.lower().startswith("0x") else int(value)
    except ValueError:
        return None  # a codename such as "S" or a resource reference


def read_apk(path: str | Path) -> ApkInfo:
    """Manifest facts of the APK at `path`; `UserError` with one line naming the file for a bad file."""
    path = Path(path)
    data = _read_manifest_bytes(path)
    if not data:
        raise _fail(path, f"{MANIFEST} is empty")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"<?xml", b"<manifest")):
        raise _fail(path, f"{MANIFEST} is plain-text XML, not the compiled binary form (not a built APK)")
    from pyaxmlparser.core import APK  # deferred: pyaxmlparser parses its resource tables at import

    try:
        with _quiet() as errors:
            apk = APK(str(path))
    except Exception as exc:  # pyaxmlparser raises anything from struct.error to IndexError on garbage
        raise _fail(path, f"{MANIFEST} is not valid binary XML ({type(exc).__name__}: {exc})") from None
    xml = apk.xml.get(MANIFEST)
    if xml is None:
        why = f" ({errors[0]})" if errors else ""
        raise _fail(path, f"{MANIFEST} is not valid binary XML{why}")
    if xml.tag != "manifest":
        raise _fail(path, f"{MANIFEST} has <{xml.tag}> at the root, not <manifest>")
    with _quiet():
        return _facts(path, apk, xml)


def _facts(path: Path, apk, xml) -> ApkInfo:
    resolve = _resolver(apk)
    package = xml.get("package") or ""
    if not package:
        raise _fail(path, f"{MANIFEST} has no package name")

    permissions: list[str] = []
    max_sdk: dict[str, int] = {}
    sdk23: set[str] = set()
    for el in xml.iter("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m"):
        name = el.get(_NS + "name") or el.get("name")
        if not name:
            continue
        if name not in permissions:
            permissions.append(name)
        limit = _int(resolve(el.get(_NS + "maxSdkVersion")))
        if limit is not None:
            max_sdk[name] = limit
        if el.tag != "uses-permission":
            sdk23.add(name)

    uses_sdk = xml.find("uses-sdk")
    min_sdk = _int(resolve(uses_sdk.get(_NS + "minSdkVersion"))) if uses_sdk is not None else None
    target = _int(resolve(uses_sdk.get(_NS + "targetSdkVersion"))) if uses_sdk is not None else None
    min_sdk = min_sdk or 1
    app = xml.find("application")
    launcher = _launcher(xml, package)
    label = app.get(_NS + "label") if app is not None else None
    if label is None and launcher is not None:  # as Android: the launcher entry's own label
        label = next(
            (
                el.get(_NS + "label")
                for el in xml.iter("activity", "activity-alias")
                if el.get(_NS + "name") and _resolve(package, el.get(_NS + "name")) == launcher
            ),
            None,
        )
    activities = tuple(
        _resolve(package, el.get(_NS + "name")) for el in xml.iter("activity") if el.get(_NS + "name")
    )
    return ApkInfo(
        path=path,
        package=package,
        label=resolve(label) or "",
        launcher_activity=launcher,
        version_name=resolve(xml.get(_NS + "versionName")),
        version_code=_int(resolve(xml.get(_NS + "versionCode"))),
        min_sdk=min_sdk,
        target_sdk=target or min_sdk,
        permissions=tuple(permissions),
        max_sdk=max_sdk,
        sdk23_only=frozenset(sdk23),
        activities=activities,
    )
