"""APK reader on APK files the suite builds itself, good and broken: with zipfile and our AXML writer, and
with Debian's aapt (a real Android build tool, independent of our writer)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile

import pytest
from aapt_apks import AAPT, aapt_apk, framework_stub

from exerciser.apk import axml, read_apk
from exerciser.apk.build import build_apk, manifest_xml, write_apk
from exerciser.errors import UserError

PERMS = [
    "android.permission.INTERNET",  # normal: never a group
    "android.permission.CAMERA",
    "android.permission.ACCESS_FINE_LOCATION",
    "android.permission.ACCESS_COARSE_LOCATION",
    "android.permission.READ_CONTACTS",
    "android.permission.READ_CALL_LOG",
    "android.permission.POST_NOTIFICATIONS",
    ("android.permission.READ_EXTERNAL_STORAGE", 32),
    "android.permission.READ_MEDIA_IMAGES",
]


@pytest.fixture(scope="module")
def good_apk(tmp_path_factory):
    path = tmp_path_factory.mktemp("apk") / "notes.apk"
    return build_apk(
        path,
        "com.example.notes",
        version_code=42,
        version_name="2.1.0",
        min_sdk=24,
        target_sdk=33,
        permissions=PERMS,
        launcher_activity=".ui.LaunchActivity",
        activities=["com.example.notes.SettingsActivity"],
        label="Good Notes",
    )


def test_reads_manifest_facts(good_apk):
    info = read_apk(good_apk)
    assert info.package == "com.example.notes"
    assert info.label == "Good Notes"
    assert info.launcher_activity == "com.example.notes.ui.LaunchActivity"
    assert (info.version_name, info.version_code) == ("2.1.0", 42)
    assert (info.min_sdk, info.target_sdk) == (24, 33)
    assert info.permissions[0] == "android.permission.INTERNET"
    assert len(info.permissions) == len(PERMS)
    assert info.max_sdk == {"android.permission.READ_EXTERNAL_STORAGE": 32}
    assert "com.example.notes.SettingsActivity" in info.activities


def test_dangerous_groups_at_target_sdk(good_apk):
    info = read_apk(good_apk)
    assert info.dangerous == {
        "location": ("android.permission.ACCESS_FINE_LOCATION", "android.permission.ACCESS_COARSE_LOCATION"),
        "camera": ("android.permission.CAMERA",),
        "contacts": ("android.permission.READ_CONTACTS",),
        "call_log": ("android.permission.READ_CALL_LOG",),
        # READ_EXTERNAL_STORAGE has maxSdkVersion 32: not requested at 33
        "storage": ("android.permission.READ_MEDIA_IMAGES",),
        "notifications": ("android.permission.POST_NOTIFICATIONS",),
    }


def test_dangerous_groups_follow_the_api_level(good_apk):
    info = read_apk(good_apk)
    old = info.dangerous_groups(27)
    # call log was part of the phone group before API 28; notifications and media permissions did not exist
    assert old["phone"] == ("android.permission.READ_CALL_LOG",)
    assert "call_log" not in old and "notifications" not in old
    assert old["storage"] == ("android.permission.READ_EXTERNAL_STORAGE",)


def test_legacy_storage_is_ignored_for_apps_targeting_33(tmp_path):
    perms = ["android.permission.READ_EXTERNAL_STORAGE", "android.permission.WRITE_EXTERNAL_STORAGE"]
    new = read_apk(build_apk(tmp_path / "a.apk", "a.b", target_sdk=33, permissions=perms))
    old = read_apk(build_apk(tmp_path / "b.apk", "a.c", target_sdk=30, permissions=perms))
    assert "storage" not in new.dangerous
    assert old.dangerous["storage"] == tuple(perms)
    assert new.dangerous_groups(30)["storage"] == tuple(perms)  # same APK on an Android 11 phone


def test_no_launcher_and_no_target_sdk(tmp_path):
    text = (
        f'<manifest xmlns:android="{axml.ANDROID_NS}" package="com.x.svc">'
        '<uses-sdk android:minSdkVersion="19"/></manifest>'
    )
    info = read_apk(write_apk(tmp_path / "svc.apk", axml.encode_text(text)))
    assert info.launcher_activity is None
    assert (info.min_sdk, info.target_sdk) == (19, 19)
    assert not info.runtime_prompts  # below 23 Android grants dangerous permissions at install


def test_disabled_launcher_is_skipped_and_alias_found(tmp_path):
    text = (
        f'<manifest xmlns:android="{axml.ANDROID_NS}" package="com.x"><application>'
        '<activity android:name=".Old" android:enabled="false"><intent-filter>'
        '<action android:name="android.intent.action.MAIN"/>'
        '<category android:name="android.intent.category.LAUNCHER"/>'
        "</intent-filter></activity>"
        '<activity-alias android:name="com.x.Alias"><intent-filter>'
        '<action android:name="android.intent.action.MAIN"/>'
        '<category android:name="android.intent.category.LAUNCHER"/>'
        "</intent-filter></activity-alias></application></manifest>"
    )
    assert read_apk(write_apk(tmp_path / "x.apk", axml.encode_text(text))).launcher_activity == "com.x.Alias"


# --- broken files: one line naming the file and what is wrong ---------------------------------------------


def _error(path) -> str:
    with pytest.raises(UserError) as exc:
        read_apk(path)
    msg = exc.value.message
    assert "\n" not in msg
    assert str(path) in msg
    return msg


def test_not_a_zip(tmp_path):
    p = tmp_path / "notes.apk"
    p.write_bytes(b"<html>404 Not Found</html>\n" * 20)
    assert "not a zip" in _error(p)


def test_zip_without_manifest(tmp_path):
    p = tmp_path / "lib.apk"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("classes.dex", b"dex\n035\x00")
    assert "no AndroidManifest.xml" in _error(p)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (["base/manifest/AndroidManifest.xml", "base/dex/classes.dex"], "an Android App Bundle (.aab)"),
        (["toc.pb", "splits/base-master.apk"], "give the base APK inside (e.g. splits/base-master.apk)"),
    ],
)
def test_other_android_package_formats(tmp_path, entries, message):
    p = tmp_path / "app.apk"
    with zipfile.ZipFile(p, "w") as zf:
        for name in entries:
            zf.writestr(name, b"\x0a\x00")
    assert message in _error(p)


def test_truncated_file(good_apk, tmp_path):
    data = good_apk.read_bytes()
    p = tmp_path / "cut.apk"
    p.write_bytes(data[: len(data) * 2 // 3])
    assert "truncated" in _error(p)


def test_corrupted_manifest_entry(tmp_path):
    # zip directory intact, but the stored manifest bytes damaged: CRC check fails on extraction
    p = tmp_path / "crc.apk"
    body = axml.encode_text(manifest_xml("com.x.crc"))
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("AndroidManifest.xml", body)
    raw = bytearray(p.read_bytes())
    at = raw.index(body[40:60])
    raw[at : at + 8] = b"\xde\xad\xbe\xef" * 2
    p.write_bytes(bytes(raw))
    assert "damaged" in _error(p)


def test_garbage_manifest(tmp_path):
    p = write_apk(tmp_path / "garbage.apk", os.urandom(512))
    assert "not valid binary XML" in _error(p)


def test_binary_manifest_with_broken_string_pool(tmp_path):
    body = bytearray(axml.encode_text(manifest_xml("com.x.pool")))
    body[8:12] = b"\x01\x00\x99\x00"  # string pool chunk with a header size of 0x99
    assert "not valid binary XML" in _error(write_apk(tmp_path / "pool.apk", bytes(body)))


def test_plain_text_manifest(tmp_path):
    p = write_apk(tmp_path / "src.apk", manifest_xml("com.x.src").encode())
    assert "plain-text XML" in _error(p)


def test_manifest_without_package(tmp_path):
    p = write_apk(tmp_path / "nopkg.apk", axml.encode_text("<manifest/>"))
    assert "no package name" in _error(p)


def test_missing_file_and_directory(tmp_path):
    assert "no such file" in _error(tmp_path / "nope.apk")
    assert "directory" in _error(tmp_path)


def test_empty_manifest_entry(tmp_path):
    assert "AndroidManifest.xml is empty" in _error(write_apk(tmp_path / "hollow.apk", b""))


def test_empty_file(tmp_path):
    p = tmp_path / "empty.apk"
    p.write_bytes(b"")
    assert "empty" in _error(p)


# --- the writer checked by an independent reader: Debian's aapt ---------------------------------------------


@pytest.mark.skipif(shutil.which("aapt") is None, reason="aapt not installed")
def test_aapt_reads_the_built_apk(good_apk):
    badging = subprocess.run(
        ["aapt", "dump", "badging", str(good_apk)], capture_output=True, text=True, check=True
    ).stdout
    assert "package: name='com.example.notes' versionCode='42' versionName='2.1.0'" in badging
    assert "sdkVersion:'24'" in badging and "targetSdkVersion:'33'" in badging
    assert "launchable-activity: name='com.example.notes.ui.LaunchActivity'" in badging
    assert "uses-permission: name='android.permission.READ_EXTERNAL_STORAGE' maxSdkVersion='32'" in badging
    tree = subprocess.run(
        ["aapt", "dump", "xmltree", str(good_apk), "AndroidManifest.xml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # resource ids and value types as the platform defines them
    assert "A: android:versionCode(0x0101021b)=(type 0x10)0x2a" in tree
    assert "A: android:targetSdkVersion(0x01010270)=(type 0x10)0x21" in tree
    assert "A: android:exported(0x01010010)=(type 0x12)0xffffffff" in tree
    assert 'A: android:label(0x01010001)="Good Notes"' in tree


# --- APKs made by aapt itself: what a real build tool writes, resources.arsc included ----------------------

AAPT_MANIFEST = """<manifest xmlns:android="http://schemas.android.com/apk/res/android"
    package="org.example.scanner" android:versionCode="1203" android:versionName="@string/version">
  <uses-sdk android:minSdkVersion="23" android:targetSdkVersion="30"/>
  <uses-permission android:name="android.permission.INTERNET"/>
  <uses-permission android:name="android.permission.CAMERA"/>
  <uses-permission android:name="android.permission.WRITE_EXTERNAL_STORAGE" android:maxSdkVersion="28"/>
  <uses-permission-sdk-23 android:name="android.permission.ACCESS_FINE_LOCATION"/>
  <application android:label="@string/app_name">
    <activity android:name=".settings.SettingsActivity" android:exported="false"/>
    <activity android:name=".ScanActivity" android:exported="true">
      <intent-filter>
        <action android:name="android.intent.action.MAIN"/>
        <category android:name="android.intent.category.LAUNCHER"/>
      </intent-filter>
    </activity>
  </application>
</manifest>
"""


@pytest.fixture(scope="module")
def aapt_built(tmp_path_factory):
    if AAPT is None:
        pytest.skip("Debian aapt not installed (apt install aapt)")
    work = tmp_path_factory.mktemp("aapt")
    strings = {"app_name": "Doc Scanner", "version": "12.3"}
    return aapt_apk(work / "scanner.apk", AAPT_MANIFEST, framework=framework_stub(work), strings=strings)


def test_reads_an_apk_built_by_aapt(aapt_built):
    with zipfile.ZipFile(aapt_built) as zf:
        assert {"AndroidManifest.xml", "resources.arsc"} <= set(zf.namelist())
    info = read_apk(aapt_built)
    assert info.package == "org.example.scanner"
    # label and versionName are @string references, resolved through resources.arsc
    assert (info.label, info.version_name, info.version_code) == ("Doc Scanner", "12.3", 1203)
    assert (info.min_sdk, info.target_sdk) == (23, 30)
    assert info.launcher_activity == "org.example.scanner.ScanActivity"
    assert info.activities == ("org.example.scanner.settings.SettingsActivity", info.launcher_activity)
    assert info.permissions == (
        "android.permission.INTERNET",
        "android.permission.CAMERA",
        "android.permission.WRITE_EXTERNAL_STORAGE",
        "android.permission.ACCESS_FINE_LOCATION",
    )


def test_aapt_apk_groups_follow_max_sdk_and_sdk23(aapt_built):
    info = read_apk(aapt_built)
    assert info.dangerous == {
        "location": ("android.permission.ACCESS_FINE_LOCATION",),
        "camera": ("android.permission.CAMERA",),
    }
    # WRITE_EXTERNAL_STORAGE is requested up to API 28 (maxSdkVersion), and with it READ_EXTERNAL_STORAGE,
    # which Android adds to every app requesting WRITE (platform.xml split permission)
    assert info.dangerous_groups(28)["storage"] == (
        "android.permission.WRITE_EXTERNAL_STORAGE",
        "android.permission.READ_EXTERNAL_STORAGE",
    )
    # target 30: the media permissions Android 13+ splits from storage are implied as well
    assert [p for p, _, _ in info.implied][:2] == [
        "android.permission.READ_EXTERNAL_STORAGE",
        "android.permission.READ_MEDIA_AUDIO",
    ]
    # <uses-permission-sdk-23>: not requested at all below API 23
    assert "location" not in info.dangerous_groups(22)


def test_truncated_aapt_apk(aapt_built, tmp_path):
    p = tmp_path / "scanner-partial.apk"
    p.write_bytes(aapt_built.read_bytes()[:-100])  # the download stopped before the zip directory ended
    assert "truncated" in _error(p)


# --- Android's rules the reader follows -----------------------------------------------------------------


def _retag_attribute_namespaces(data: bytes, tag: str, ns_index: int) -> bytes:
    """The AXML with every attribute of every <tag> given namespace string `ns_index` (0xFFFFFFFF: none)."""
    import struct

    from exerciser.apk.axmlread import StringPool

    out = bytearray(data)
    pool = StringPool(out, 8)
    pos = 8
    while pos < len(out):
        kind, hsize, size = struct.unpack_from("<HHI", out, pos)
        if kind == 0x0102:
            ext = pos + hsize
            name, a_start, a_size, a_count = struct.unpack_from("<4xIHHH", out, ext)
            if pool.get(name) == tag:
                for i in range(a_count):
                    struct.pack_into("<I", out, ext + a_start + i * a_size, ns_index)
        pos += size
    return bytes(out)


@pytest.mark.parametrize("ns", ["prefix as namespace", "no namespace"])
def test_attributes_are_found_by_resource_id_whatever_the_namespace(tmp_path, ns):
    """Godot's exporter writes <uses-permission> with the namespace `android` instead of the schema URI;
    Android and aapt find android:name by its resource id 0x01010003 all the same."""
    from exerciser.apk.axmlread import StringPool

    data = axml.encode_text(manifest_xml("org.example.game", permissions=["android.permission.CAMERA"]))
    strings = StringPool(data, 8)
    index = (
        next(i for i in range(strings.count) if strings.get(i) == "android")
        if ns.startswith("prefix")
        else None
    )
    data = _retag_attribute_namespaces(data, "uses-permission", 0xFFFFFFFF if index is None else index)
    info = read_apk(write_apk(tmp_path / "game.apk", data))
    assert info.permissions == ("android.permission.CAMERA",)
    assert info.dangerous == {"camera": ("android.permission.CAMERA",)}


@pytest.mark.parametrize(
    ("permission", "group", "since"),
    [
        ("android.permission.RECEIVE_WAP_PUSH", "sms", 23),
        ("android.permission.ACCEPT_HANDOVER", "phone", 28),
        ("android.permission.ACCESS_MEDIA_LOCATION", "storage", 29),
        ("android.permission.UWB_RANGING", "nearby_devices", 31),
        ("android.permission.BODY_SENSORS_BACKGROUND", "sensors", 33),
        ("android.permission.READ_MEDIA_VISUAL_USER_SELECTED", "storage", 34),
    ],
)
def test_runtime_permissions_added_to_the_table(permission, group, since):
    from exerciser.apk import groups

    assert groups.group_of(permission, since) == group
    assert groups.group_of(permission, since - 1) is None  # not yet a runtime permission there


def test_codename_sdk_is_the_preview_level(tmp_path):
    text = manifest_xml("org.example.preview").replace(
        'android:minSdkVersion="21"', 'android:minSdkVersion="Baklava"'
    )
    text = text.replace('android:targetSdkVersion="33"', 'android:targetSdkVersion="Baklava"')
    info = read_apk(write_apk(tmp_path / "preview.apk", axml.encode_text(text)))
    assert (info.min_sdk, info.target_sdk) == (10000, 10000)
    assert (info.sdk_text("min"), info.sdk_text("target")) == ("Baklava", "Baklava")


def test_label_without_a_default_value_is_the_english_one(tmp_path):
    """A table with the label only in values-zh and values-en: an en-US phone shows the English one."""
    if AAPT is None:
        pytest.skip("Debian aapt not installed (apt install aapt)")
    manifest = AAPT_MANIFEST.replace('android:versionName="@string/version"', 'android:versionName="1"')
    apk = aapt_apk(
        tmp_path / "locales.apk",
        manifest,
        framework=framework_stub(tmp_path),
        qualified={
            "zh": {"app_name": "扫描仪"},
            "en": {"app_name": "Scanner"},
            "fr": {"app_name": "Scanneur"},
        },
    )
    assert read_apk(apk).label == "Scanner"
