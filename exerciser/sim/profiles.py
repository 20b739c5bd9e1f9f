"""Device profiles of the virtual device: API level, ROM, system packages and the permission-dialog facts.

The facts themselves are data (`models/android/permission_dialogs.yaml`, `permission_groups.yaml`); this
module turns them into typed records and answers the questions the runtime asks: which group does a
permission belong to at this API level, is it a runtime permission here, what does the dialog say.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from exerciser import knowledge

LANGUAGES = ("en", "zh")
LOCALES = ("en-US", "zh-CN")


@dataclass(frozen=True)
class Profile:
    """One device profile (a row of permission_dialogs.yaml plus what the system UI needs)."""

    name: str
    api_level: int
    release: str
    rom: str
    controller_package: str  # package of the runtime-permission dialog
    grant_activity: str  # fully qualified GrantPermissionsActivity
    id_prefix: str  # "com.android.permissioncontroller:id/"
    launcher_package: str
    launcher_activity: str
    settings_package: str
    settings_activity: str
    layout: str  # "checkbox" (API 23-28) or "buttons" (29+)
    uppercase_buttons: bool
    one_time: bool
    second_denial_fixes: bool
    button_ids: dict[str, str]  # per-profile id overrides (role -> id name)
    text_keys: dict[str, str]  # language -> texts key
    tree: str = "aosp"  # shape of the grant dialog's view tree: aosp | miui | harmony | vivo
    position: str = "center"  # where the grant dialog's card sits: center | bottom (One UI)
    manufacturer: str = ""  # ro.product.manufacturer of the ROM's phones ("" = the emulator's)

    @property
    def button_set(self) -> str:
        """Which `button_sets` entry the buttons layout uses: Android 10 differs from 11+."""
        return "aosp10" if self.api_level == 29 else "aosp11"

    def rid(self, role: str) -> str:
        """Full resource-id of a dialog role: rid("deny") -> "...:id/permission_deny_button"."""
        ids = dialog_facts()["ids"]
        name = self.button_ids.get(role) or ids.get(role) or role
        return self.id_prefix + name

    def texts(self, language: str) -> dict[str, str]:
        return dialog_facts()["texts"][self.text_keys[language]]

    def request_message(self, language: str, group: str, label: str, media: bool = False) -> str:
        """The dialog message for `group` with the app label filled in."""
        facts = dialog_facts()
        texts = self.texts(language)
        if self.layout == "checkbox":
            desc = facts["group_descriptions"][language].get(group) or facts["group_descriptions"]["en"].get(
                group, group
            )
            return fmt(texts["message"], label, desc)
        messages = facts["request_messages"][texts["messages"]]
        key = "storage_media" if media and "storage_media" in messages else group
        template = messages.get(key) or facts["request_messages"]["aosp_requests_en"].get(key)
        if template is None:  # a group the data has no message for: Android falls back to the label
            template = "Allow %1$s to access " + group.replace("_", " ") + "?"
        return fmt(template, label)


def fmt(template: str, *args: str) -> str:
    """Android's positional `%1$s` formatting."""
    out = template
    for i, a in enumerate(args, 1):
        out = out.replace(f"%{i}$s", a)
    return out


def dialog_facts() -> dict[str, Any]:
    return knowledge.load("android/permission_dialogs.yaml")


def group_facts() -> dict[str, Any]:
    return knowledge.load("android/permission_groups.yaml")


@cache
def system_strings() -> dict[str, Any]:
    """Texts of the system UI the runtime draws besides the permission dialog (crash dialog, settings)."""
    return knowledge.load("android/system_ui.yaml")


def _launcher_activity(rom: str, api: int) -> str:
    if rom == "miui":
        return "com.miui.home.launcher.Launcher"
    if rom == "harmony":  # Huawei's launcher (C)
        return "com.huawei.android.launcher.unihome.UniHomeLauncher"
    # Launcher3 QuickStep's activity from Android 11 on; the plain Launcher before.
    return (
        "com.android.launcher3.uioverride.QuickstepLauncher"
        if api >= 30
        else "com.android.launcher3.Launcher"
    )


def _settings_activity(api: int) -> str:
    # ACTION_APPLICATION_DETAILS_SETTINGS resolves to InstalledAppDetailsTop from Android 8.
    return (
        "com.android.settings.applications.InstalledAppDetailsTop"
        if api >= 26
        else "com.android.settings.applications.InstalledAppDetails"
    )


@cache
def _load_profiles() -> dict[str, Profile]:
    out: dict[str, Profile] = {}
    for name, p in dialog_facts()["profiles"].items():
        out[name] = Profile(
            name=name,
            api_level=int(p["api_level"]),
            release=str(p["release"]),
            rom=p["rom"],
            controller_package=p["controller_package"],
            grant_activity=p["activity"],
            id_prefix=p["id_prefix"],
            launcher_package=p["launcher_package"],
            launcher_activity=p.get("launcher_activity") or _launcher_activity(p["rom"], int(p["api_level"])),
            settings_package=p["settings_package"],
            settings_activity=_settings_activity(int(p["api_level"])),
            layout=p["layout"],
            uppercase_buttons=bool(p["uppercase_buttons"]),
            one_time=bool(p["one_time"]),
            second_denial_fixes=bool(p["second_denial_fixes"]),
            button_ids=dict(p.get("button_ids") or {}),
            text_keys=dict(p["texts"]),
            tree=str(p.get("tree", "aosp")),
            position=str(p.get("position", "center")),
            manufacturer=str(p.get("manufacturer", "")),
        )
    return out


PROFILES: dict[str, Profile] = _load_profiles()


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r} (known: {', '.join(PROFILES)})") from None


# --- permission groups ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PermInfo:
    name: str
    group: str
    since: int
    phone_group_before: int = 0


@cache
def _perm_table() -> dict[str, PermInfo]:
    table: dict[str, PermInfo] = {}
    for group, perms in group_facts()["groups"].items():
        for p in perms:
            table[p["name"]] = PermInfo(
                p["name"], group, int(p["since"]), int(p.get("phone_group_before", 0))
            )
    return table


def perm_info(permission: str) -> PermInfo | None:
    """The dangerous-permission facts of `permission`, None for a normal (install-time) permission."""
    return _perm_table().get(permission)


def is_dangerous(permission: str) -> bool:
    return permission in _perm_table()


def group_of(permission: str, api_level: int) -> str | None:
    """The permission group at `api_level` (CALL_LOG was part of PHONE before API 28)."""
    info = perm_info(permission)
    if info is None:
        return None
    if info.phone_group_before and api_level < info.phone_group_before:
        return "phone"
    return info.group


def is_runtime(permission: str, api_level: int, target_sdk: int) -> bool:
    """Does the system ask the user for `permission` on this device (else it is granted at install)?"""
    info = perm_info(permission)
    return info is not None and api_level >= 23 and target_sdk >= 23 and api_level >= info.since


def group_label(group: str, language: str) -> str:
    labels = system_strings()["group_labels"]
    return labels[language].get(group) or labels["en"].get(group) or group
