"""The reader on the real APKs in ../shared/real_apks (read in place), field by field against Debian's aapt.

Where aapt gives nothing (it stops at a table it cannot read, or a label it cannot resolve), the oracle is
what Android shows, derived from aapt's own parse of the manifest (`aapt dump xmltree`)
and of the table's strings.
Known, deliberate differences, each for Android's sake:
- no targetSdkVersion: aapt prints none, Android (and the reader) take the minSdkVersion, and 1 without one;
- a codename target ("VanillaIceCream"): aapt treats it as below 4 and implies the API-4 permissions; Android
  treats it as the preview level 10000, which implies none;
- implied permissions: the reader adds Android's platform.xml split permissions, a superset of aapt's.
"""

from __future__ import annotations

import re
import subprocess
import tracemalloc
from pathlib import Path

import pytest
from aapt_apks import AAPT

from exerciser.apk import groups, read_apk
from exerciser.errors import UserError

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "real_apks"
APKS = sorted(REAL.glob("*.apk")) if REAL.is_dir() else []
# Android's libziparchive refuses data before the first entry (CVE-2017-13156); aapt refuses it too
REFUSED = {"janus.apk": "Janus"}

pytestmark = [
    pytest.mark.skipif(not APKS, reason=f"no real APKs at {REAL}"),
    pytest.mark.skipif(AAPT is None, reason="Debian aapt not installed (apt install aapt)"),
]


def _aapt(*args: str) -> str:
    return subprocess.run([str(AAPT), *args], capture_output=True, text=True, timeout=60).stdout


def _one(pattern: str, text: str) -> str | None:
    m = re.search(pattern, text, re.M)
    return m.group(1) if m else None


class Node:
    def __init__(self, tag: str) -> None:
        self.tag, self.attrs, self.children = tag, {}, []


def _xmltree(apk: Path) -> Node:
    """aapt's parse of the binary manifest, as a tree of tags with their android: attributes."""
    root, stack = Node("#doc"), []
    for line in _aapt("dump", "xmltree", str(apk), "AndroidManifest.xml").splitlines():
        indent = len(line) - len(line.lstrip())
        body = line.strip()
        if body.startswith("E: "):
            node = Node(body[3:].split(" ", 1)[0])
            while stack and stack[-1][0] >= indent:
                stack.pop()
            (stack[-1][1] if stack else root).children.append(node)
            stack.append((indent, node))
        elif body.startswith("A: ") and stack:
            m = re.match(
                r"A: (?:[\w-]+:)?(\w+)(?:\(0x[0-9a-f]+\))?="
                r'(?:"(.*)" \(Raw|(@0x[0-9a-f]+)|\(type 0x(\w+)\)0x(\w+))',
                body,
            )
            if m:
                name, literal, ref, dtype, data = m.groups()
                stack[-1][1].attrs[name] = literal if literal is not None else ref or (dtype, data)
    return root


def _find(node: Node, *path: str) -> list[Node]:
    found = [node]
    for tag in path:
        found = [c for n in found for c in n.children if c.tag == tag]
    return found


def _qualify(package: str, name: str) -> str:
    return package + name if name.startswith(".") else name if "." in name else f"{package}.{name}"


@pytest.fixture(scope="module")
def aapt_facts():
    cache: dict[str, dict] = {}

    def facts(apk: Path) -> dict:
        if apk.name not in cache:
            badging = _aapt("dump", "badging", str(apk))
            implied = dict(
                re.findall(r"^uses-implied-permission: name='([^']*)' reason='([^']*)'", badging, re.M)
            )
            perms = _aapt("dump", "permissions", str(apk))
            cache[apk.name] = {
                "badging": badging,
                "declared": re.findall(r"^uses-permission(?:-sdk-23)?: name='([^']*)'", perms, re.M),
                "max_sdk": {
                    n: int(v)
                    for n, v in re.findall(
                        r"^uses-permission(?:-sdk-23)?: name='([^']*)' maxSdkVersion='(\d+)'", perms, re.M
                    )
                },
                "sdk23": re.findall(r"^uses-permission-sdk-23: name='([^']*)'", badging, re.M),
                "implied": implied,
                "tree": _xmltree(apk),
                "strings": _aapt("dump", "strings", str(apk)),
            }
        return cache[apk.name]

    return facts


@pytest.mark.parametrize("apk", APKS, ids=[p.name for p in APKS])
def test_real_apk_matches_aapt(apk, aapt_facts):
    if apk.name in REFUSED:
        with pytest.raises(UserError, match=REFUSED[apk.name]):
            read_apk(apk)
        assert "package:" not in _aapt("dump", "badging", str(apk))  # aapt reads nothing either
        return
    info = read_apk(apk)
    a = aapt_facts(apk)
    badging = a["badging"]
    m = re.search(r"^package: name='([^']*)' versionCode='([^']*)' versionName='([^']*)'", badging, re.M)
    assert m, badging[:300]
    assert info.package == m.group(1)
    assert str(info.version_code or "") == m.group(2)
    assert (info.version_name or "") == m.group(3)

    min_sdk = _one(r"^sdkVersion:'([^']*)'", badging) or "1"
    assert info.sdk_text("min") == min_sdk
    assert info.sdk_text("target") == (_one(r"^targetSdkVersion:'([^']*)'", badging) or min_sdk)

    # declared permissions: aapt lists repeats, Android requests each once
    assert list(info.permissions) == list(dict.fromkeys(a["declared"]))
    assert info.max_sdk == a["max_sdk"]
    assert set(a["sdk23"]) <= info.sdk23_only
    implied = {p: why for p, _, why in info.implied}
    if info.target_sdk_codename is None:
        assert a["implied"].items() <= implied.items()  # same permissions, same reasons
    else:
        assert not info.implied  # a preview target (10000) is above every split

    tree = a["tree"]
    app = (_find(tree, "manifest", "application") or [None])[0]
    launcher = _one(r"^launchable-activity: name='([^']*)'", badging)
    if launcher is None and app is not None and "application-label:" not in badging:
        # aapt stopped before the activities: Android's rule on aapt's own parse of the manifest
        for el in [c for c in app.children if c.tag in ("activity", "activity-alias")]:
            filters = [
                (
                    {x.attrs.get("name") for x in f.children if x.tag == "action"},
                    {x.attrs.get("name") for x in f.children if x.tag == "category"},
                )
                for f in _find(el, "intent-filter")
            ]
            if el.attrs.get("enabled") != ("12", "0") and any(
                "android.intent.action.MAIN" in acts and "android.intent.category.LAUNCHER" in cats
                for acts, cats in filters
            ):
                launcher = _qualify(info.package, el.attrs["name"])
                break
    assert info.launcher_activity == launcher

    label = _one(r"^application-label:'([^']*)'", badging) or _one(r"^application: label='([^']+)'", badging)
    raw = app.attrs.get("label") if app is not None else None
    if label is None and isinstance(raw, str) and not raw.startswith("@"):
        label = raw  # a literal label aapt did not print
    if label is None and isinstance(raw, str) and info.label != info.package:
        # a reference aapt could not resolve (compact entries): a string of the APK's own table
        assert re.search(rf"^String #\d+: {re.escape(info.label)}$", a["strings"], re.M), info.label
        label = info.label
    if label is None:  # no label, or one that resolves to nothing: the Application class, else the package
        name = app.attrs.get("name") if app is not None else None
        label = _qualify(info.package, name) if isinstance(name, str) else info.package
    assert info.label == label

    # dangerous groups from aapt's permission list (with its maxSdkVersion) and the implied ones
    perms = [(p, a["max_sdk"].get(p)) for p in dict.fromkeys(a["declared"])]
    perms += [
        (p, info.max_sdk.get(s) if s else None)
        for p, s, _ in info.implied
        if s is None or groups.is_dangerous(s)
    ]
    for level in (info.target_sdk, groups.newest_level()):
        perms_at = [(p, m) for p, m in perms if p not in info.sdk23_only] if level < 23 else perms
        assert info.dangerous_groups(level) == groups.by_group(perms_at, level, info.target_sdk)


def test_real_apks_peak_memory_and_every_field():
    """All of them in one go: Python's peak allocation while reading stays far under 300 MB."""
    tracemalloc.start()
    try:
        for apk in APKS:
            if apk.name not in REFUSED:
                read_apk(apk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 300 * 2**20, f"peak {peak / 2**20:.1f} MiB"
