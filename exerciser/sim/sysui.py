"""System UI of the virtual device: permission dialog, launcher, crash dialog, app-info settings page.

Everything here is drawn from the profile's facts (models/android/permission_dialogs.yaml) and
`models/android/system_ui.yaml`. Tap handles are tuples the runtime interprets:
("perm", role) · ("launch", package) · ("crash", "close" | "info" | "ok") · ("settings", package, group).
"""

from __future__ import annotations

from dataclasses import dataclass

from exerciser.sim.profiles import Profile, dialog_facts, fmt, group_label, system_strings
from exerciser.sim.ui import Node, Window

TEXT = "android.widget.TextView"
BUTTON = "android.widget.Button"
FRAME = "android.widget.FrameLayout"
LINEAR = "android.widget.LinearLayout"

FOREGROUND_GROUPS = ("location", "camera", "microphone")


@dataclass(frozen=True)
class GrantView:
    """What one page of the permission dialog shows."""

    label: str  # app label
    group: str
    media: bool  # READ_MEDIA_* request (13+ message)
    page: int  # 1-based
    pages: int
    denied_before: bool  # the group was denied before (USER_SET, not fixed)
    checkbox_checked: bool
    background: bool  # ACCESS_BACKGROUND_LOCATION among the requested permissions (Android 10)
    fine: bool  # ACCESS_FINE_LOCATION requested (accuracy choice, 12+)
    precise: bool  # accuracy radio state


def grant_buttons(profile: Profile, view: GrantView) -> list[str]:
    """Roles of the buttons shown, top to bottom (buttons layout) or left to right (checkbox layout)."""
    if profile.layout == "checkbox":
        return ["deny", "allow"]
    sets = dialog_facts()["button_sets"][profile.button_set]
    roles = list(sets.get(view.group) or sets["default"])
    if profile.button_set == "aosp10" and view.group == "location" and not view.background:
        # Android 10 offers "Allow all the time" only when background location is requested too.
        roles = [r for r in roles if r != "allow_always"]
    if view.denied_before:
        if profile.button_set == "aosp10":
            # Android 10 keeps Deny and adds "Deny & don't ask again" below it; only a request that
            # includes background location drops the plain Deny (GrantPermissionsActivity, Q).
            i = roles.index("deny")
            roles[i : i + 1] = ["deny_repeat"] if view.background else ["deny", "deny_repeat"]
        else:
            # 11+: the same id replaces Deny, labelled Deny; pressing it is the permanent second denial.
            roles = ["deny_repeat" if r == "deny" else r for r in roles]
    return roles


def grant_window(profile: Profile, language: str, view: GrantView) -> Window:
    texts = profile.texts(language)
    rid = profile.rid
    message = profile.request_message(language, view.group, view.label, view.media)
    icon = Node("icon", "android.widget.ImageView", resource_id=rid("icon"))
    msg = Node("message", TEXT, text=message, resource_id=rid("message"))

    def label(role: str) -> str:
        t = texts.get(role) or texts.get("deny" if role == "deny_repeat" else "allow", role)
        return t.upper() if profile.uppercase_buttons else t

    def button(role: str) -> Node:
        return Node(
            "button",
            BUTTON,
            text=label(role),
            resource_id=rid(role),
            clickable=True,
            focusable=True,
            style="accent",
            action=("perm", role),
        )

    if profile.tree == "miui":
        return _miui_grant_window(profile, language, view, button, icon)
    if profile.tree == "harmony":
        return _harmony_grant_window(profile, view, button, icon, msg)
    if profile.layout == "checkbox":
        # 6-9 grant_permissions.xml: dialog_container > desc_container > perm_desc_root (icon | message),
        # the checkbox, and the ButtonBarLayout button_group: page counter, then DENY ALLOW in a row.
        desc = Node(
            "container",
            FRAME,
            resource_id=rid("desc_container"),
            children=[Node("container", LINEAR, resource_id=rid("desc_root"), children=[icon, msg])],
        )
        kids: list[Node] = [desc]
        if view.denied_before:
            kids.append(
                Node(
                    "checkbox",
                    "android.widget.CheckBox",
                    text=texts["checkbox"],
                    resource_id=rid("checkbox"),
                    clickable=True,
                    focusable=True,
                    checkable=True,
                    checked=view.checkbox_checked,
                    action=("perm", "checkbox"),
                )
            )
        bar: list[Node] = []
        if view.pages > 1:  # invisible (so not in the dump) for a single group
            page = fmt(texts["page"], str(view.page), str(view.pages))
            bar.append(Node("text", TEXT, text=page, resource_id=rid("page"), style="muted"))
        bar.append(Node("container", LINEAR, children=[button(r) for r in grant_buttons(profile, view)]))
        kids.append(Node("container", LINEAR, resource_id=rid("button_group"), children=bar))
        card = Node("container", LINEAR, resource_id=rid("dialog_container"), children=kids)
    else:
        # 10+: content_container (icon above message, centred; 12+ the accuracy choice), then the
        # button list below it; 11+ inside ScrollView > grant_singleton > grant_dialog.
        content: list[Node] = [Node("container", LINEAR, children=[icon, msg])]
        if view.group == "location" and view.fine and profile.api_level >= 31:
            content.append(
                Node(
                    "container",
                    "android.widget.RadioGroup",
                    resource_id=rid("accuracy_group"),
                    children=[
                        _radio(
                            rid("accuracy_fine"), texts.get("accuracy_fine", "Precise"), view.precise, "fine"
                        ),
                        _radio(
                            rid("accuracy_coarse"),
                            texts.get("accuracy_coarse", "Approximate"),
                            not view.precise,
                            "coarse",
                        ),
                    ],
                )
            )
        parts = [
            Node("container", LINEAR, resource_id=rid("content_container"), children=content),
            Node("container", LINEAR, children=[button(r) for r in grant_buttons(profile, view)]),
        ]
        if profile.tree == "vivo":
            # vivo: its own ScrollView id around the dialog; what it holds inside is not known
            inner = Node("container", LINEAR, children=parts)
            card = Node(
                "container",
                "android.widget.ScrollView",
                resource_id=_rom_id(profile, "grant_scroll"),
                children=[inner],
            )
        elif profile.api_level >= 30:
            dialog = Node("container", LINEAR, resource_id=rid("grant_dialog"), children=parts)
            single = Node("container", LINEAR, resource_id=rid("grant_singleton"), children=[dialog])
            card = Node("container", "android.widget.ScrollView", children=[single])
        else:
            card = Node("container", LINEAR, children=parts)
    return Window(
        "system_dialog",
        profile.controller_package,
        Node("container", FRAME, children=[card]),
        dim_behind=True,
        bottom=profile.position == "bottom",
    )


def _rom_id(profile: Profile, key: str) -> str:
    return profile.id_prefix + dialog_facts()["rom_ids"][key]


def _miui_grant_window(profile: Profile, language: str, view: GrantView, button, icon: Node) -> Window:
    """MIUI / HyperOS: a full-width bottom sheet; dialog_root_view > parentPanel (clickable) > the icon,
    the group description as title, the app label, and buttonPanel with id-less buttons, deny first."""
    facts = dialog_facts()
    desc = facts["group_descriptions"].get(language, {}).get(view.group)
    title = desc or profile.request_message(language, view.group, view.label, view.media)
    head = Node(
        "container",
        LINEAR,
        children=[icon, Node("title", TEXT, text=title), Node("text", TEXT, text=view.label, style="muted")],
    )
    roles = list(reversed(grant_buttons(profile, view)))  # deny at the top, the primary choice last
    buttons = []
    for k, role in enumerate(roles):
        b = button(role)
        b.resource_id = ""  # MIUI's sheet buttons carry no ids
        b.style = "primary" if k == len(roles) - 1 else "tonal"
        buttons.append(b)
    panel = Node("container", LINEAR, resource_id=_rom_id(profile, "button_panel"), children=buttons)
    parent = Node(
        "container",
        LINEAR,
        resource_id=_rom_id(profile, "parent_panel"),
        clickable=True,
        children=[head, panel],
    )
    root = Node("container", FRAME, resource_id=_rom_id(profile, "dialog_root_view"), children=[parent])
    return Window("system_dialog", profile.controller_package, root, dim_behind=True, sheet=True)


def _harmony_grant_window(profile: Profile, view: GrantView, button, icon: Node, msg: Node) -> Window:
    """HarmonyOS: LinearLayout > RelativeLayout > grant_dialog_container > [icon + message,
    perm_button_container > perm_button_root > buttons]."""
    buttons = [button(r) for r in grant_buttons(profile, view)]
    if len(buttons) == 2:  # 禁止 | 始终允许, deny on the left
        buttons.reverse()
    root_row = Node("container", LINEAR, resource_id=_rom_id(profile, "perm_button_root"), children=buttons)
    bar = Node("container", FRAME, resource_id=_rom_id(profile, "perm_button_container"), children=[root_row])
    desc = Node("container", LINEAR, children=[icon, msg])
    box = Node(
        "container", LINEAR, resource_id=_rom_id(profile, "grant_dialog_container"), children=[desc, bar]
    )
    rel = Node("container", "android.widget.RelativeLayout", children=[box])
    return Window(
        "system_dialog",
        profile.controller_package,
        Node("container", LINEAR, children=[rel]),
        dim_behind=True,
    )


def _radio(resource_id: str, text: str, checked: bool, which: str) -> Node:
    return Node(
        "radio",
        "android.widget.RadioButton",
        text=text,
        resource_id=resource_id,
        clickable=True,
        focusable=True,
        checkable=True,
        checked=checked,
        action=("perm", which),
    )


def launcher_window(profile: Profile, apps: list[tuple[str, str]]) -> Window:
    """Home screen: one icon (BubbleTextView, text = content-desc = label) per installed app."""
    lp = profile.launcher_package
    icons = [
        Node(
            "launcher_icon",
            TEXT,
            text=label,
            content_desc=label,
            clickable=True,
            focusable=True,
            action=("launch", pkg),
        )
        for pkg, label in apps
    ]
    workspace = Node("container", "android.view.ViewGroup", resource_id=f"{lp}:id/workspace", children=icons)
    return Window("launcher", lp, Node("container", FRAME, children=[workspace]))


def crash_window(profile: Profile, language: str, label: str) -> Window:
    """AppErrorDialog: "X keeps stopping" with App info / Close app (9+), "Unfortunately…" with OK before."""
    s = system_strings()["crash"]
    if profile.api_level >= 28:
        t = s["new"][language]
        kids = [
            Node("title", TEXT, text=fmt(t["title"], label), resource_id="android:id/alertTitle"),
            _sys_button("android:id/aerr_app_info", t["app_info"], ("crash", "info")),
            _sys_button("android:id/aerr_close", t["close"], ("crash", "close")),
        ]
    else:
        t = s["old"][language]
        ok = t["ok"].upper() if profile.uppercase_buttons else t["ok"]
        kids = [
            Node("message", TEXT, text=fmt(t["message"], label), resource_id="android:id/message"),
            Node(
                "container",
                LINEAR,
                resource_id="android:id/buttonPanel",
                children=[
                    _sys_button("android:id/button1", ok, ("crash", "ok")),
                ],
            ),
        ]
    return Window("system_dialog", "android", Node("container", FRAME, children=kids), dim_behind=True)


def _sys_button(resource_id: str, text: str, action: tuple[str, ...]) -> Node:
    return Node(
        "button", BUTTON, text=text, resource_id=resource_id, clickable=True, focusable=True, action=action
    )


@dataclass(frozen=True)
class GroupStatus:
    group: str
    granted: bool
    one_time: bool = False


def settings_window(
    profile: Profile, language: str, package: str, label: str, groups: list[GroupStatus]
) -> Window:
    """The app-info page (ACTION_APPLICATION_DETAILS_SETTINGS) with the app's permission groups."""
    t = system_strings()["settings"][language]
    sp = profile.settings_package
    header = Node(
        "container",
        LINEAR,
        resource_id=f"{sp}:id/entity_header",
        children=[
            Node("icon", "android.widget.ImageView", resource_id=f"{sp}:id/entity_header_icon"),
            Node("text", TEXT, text=label, resource_id=f"{sp}:id/entity_header_title", style="emphasis"),
        ],
    )
    rows: list[Node] = []
    for g in groups:
        status = t["ask_every_time"] if g.one_time else t["allowed"] if g.granted else t["denied"]
        rows.append(
            Node(
                "list_item",
                LINEAR,
                clickable=True,
                focusable=True,
                action=("settings", package, g.group),
                children=[
                    Node("text", TEXT, text=group_label(g.group, language), resource_id="android:id/title"),
                    Node("text", TEXT, text=status, resource_id="android:id/summary", style="muted"),
                ],
            )
        )
    if not rows:
        rows.append(Node("text", TEXT, text=t["none"], style="muted"))
    content = Node(
        "container",
        "androidx.recyclerview.widget.RecyclerView",
        resource_id=f"{sp}:id/recycler_view",
        scrollable=False,
        children=[header, Node("text", TEXT, text=t["permissions"], style="accent"), *rows],
    )
    return settings_page(sp, t["title"], content)


def settings_page(package: str, title: str, content: Node) -> Window:
    """A Settings activity: its action bar with the page title above the page's list."""
    toolbar = Node(
        "toolbar",
        "android.view.ViewGroup",
        resource_id=f"{package}:id/action_bar",
        children=[Node("title", TEXT, text=title)],
    )
    return Window("activity", package, Node("container", FRAME, children=[toolbar, content]))


def is_foreground_group(group: str) -> bool:
    return group in FOREGROUND_GROUPS
