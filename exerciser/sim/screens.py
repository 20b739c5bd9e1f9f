"""App screens and app dialogs of a model, built as `ui.Window`s for the renderer.

Widgets map onto the Android classes the dump would show (Button, TextView, EditText, ...). A blind
screen or dialog puts its whole content under one `android.webkit.WebView` node marked `blind`: the
pixels show every word, the hierarchy none. Tap handles (`Node.action`) are `("w", token, dialog, index)`
tuples the runtime routes back to the widget.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from exerciser.sim.appmodel import AppModel, Dialog, Screen, Widget
from exerciser.sim.ui import Node, Window

WIDGET_CLASS = {
    "button": "android.widget.Button",
    "text": "android.widget.TextView",
    "input": "android.widget.EditText",
    "checkbox": "android.widget.CheckBox",
    "switch": "android.widget.Switch",
    "image": "android.widget.ImageView",
    "list_item": "android.widget.LinearLayout",
    "tab": "android.widget.FrameLayout",
    "link": "android.widget.TextView",
    "webview": "android.webkit.WebView",
}
TEXT = "android.widget.TextView"
FRAME = "android.widget.FrameLayout"
LINEAR = "android.widget.LinearLayout"
WEBVIEW = "android.webkit.WebView"

# Widget values kept by the runtime per activity: (dialog name or "", widget index) -> checked / typed text.
Values = dict[tuple[str, int], Any]


def widget_node(pkg: str, w: Widget, action: object, values: Values, key: tuple[str, int]) -> Node:
    rid = f"{pkg}:id/{w.id}" if w.id else ""
    common: dict[str, Any] = dict(
        cls=WIDGET_CLASS[w.type],
        resource_id=rid,
        content_desc=w.desc,
        enabled=w.enabled,
        style=w.style,
        action=action,
    )
    t = w.type
    if t == "button":
        return Node("button", text=w.text, clickable=True, focusable=True, **common)
    if t == "text":
        return Node("text", text=w.text, clickable=bool(w.on_tap), **common)
    if t == "link":
        return Node("link", text=w.text, clickable=True, focusable=True, **common)
    if t == "input":
        typed = values.get(key, w.text)
        # The dump reports the hint as text while the field is empty (TextView.getTextForAccessibility).
        return Node("input", text=typed or w.hint, clickable=True, focusable=True, **common)
    if t in ("checkbox", "switch"):
        checked = bool(values.get(key, w.checked))
        return Node(t, text=w.text, clickable=True, focusable=True, checkable=True, checked=checked, **common)
    if t == "image":
        return Node("image", clickable=bool(w.on_tap), **common)
    if t == "list_item":
        kids = [Node("text", TEXT, text=w.text)]
        if w.subtitle:
            kids.append(Node("text", TEXT, text=w.subtitle, style="muted"))
        return Node("list_item", clickable=True, focusable=True, children=kids, **common)
    if t == "tab":
        # BottomNavigationItemView: the item (a FrameLayout) carries the label as content-desc.
        common["content_desc"] = w.desc or w.text
        kids = [
            Node("icon", "android.widget.ImageView", resource_id=f"{pkg}:id/navigation_bar_item_icon_view"),
            Node("text", TEXT, text=w.text, resource_id=f"{pkg}:id/navigation_bar_item_large_label_view"),
        ]
        return Node("tab", clickable=True, focusable=True, selected=w.selected, children=kids, **common)
    if t == "webview":
        return Node("webview", text=w.text, blind=True, **common)
    raise ValueError(f"unknown widget type {t}")


def screen_window(model: AppModel, screen: Screen, token: int, values: Values) -> Window:
    pkg = model.package
    body: list[Node] = []
    tabs: list[Node] = []
    for i, w in enumerate(screen.widgets):
        node = widget_node(pkg, w, ("w", token, "", i), values, ("", i))
        (tabs if w.type == "tab" else body).append(node)
    if screen.blind:
        # Flutter/WebView/game screen: one opaque view; the title is painted inside it.
        painted: list[Node] = []
        if screen.title:
            painted.append(Node("title", TEXT, text=screen.title))
        painted.extend(body)
        painted.extend(tabs)
        root = Node("container", FRAME, children=[Node("webview", WEBVIEW, blind=True, children=painted)])
        return Window("activity", pkg, root, dark=screen.dark)
    children: list[Node] = []
    if screen.title:
        children.append(
            Node(
                "toolbar",
                "android.view.ViewGroup",
                resource_id=f"{pkg}:id/toolbar",
                children=[Node("title", TEXT, text=screen.title)],
            )
        )
    if screen.list:
        # ListActivity: a ListView android:id/list whose rows are simple_list_item_1 TextViews (text1)
        rows = [
            replace(n, resource_id=n.resource_id or "android:id/text1") if n.role == "text" else n
            for n in body
        ]
        children.append(
            Node("container", "android.widget.ListView", resource_id="android:id/list", children=rows)
        )
    else:
        children.append(Node("container", LINEAR, resource_id=f"{pkg}:id/content_frame", children=body))
    if tabs:
        children.append(Node("container", LINEAR, resource_id=f"{pkg}:id/bottom_navigation", children=tabs))
    root = Node("container", FRAME, children=children)
    return Window("activity", pkg, root, dark=screen.dark)


def dialog_window(model: AppModel, dialog: Dialog, token: int, values: Values) -> Window:
    pkg = model.package
    kids: list[Node] = []
    if dialog.title:
        kids.append(Node("title", TEXT, text=dialog.title, resource_id="android:id/alertTitle"))
    if dialog.body:
        kids.append(Node("message", TEXT, text=dialog.body, resource_id="android:id/message"))
    for i, w in enumerate(dialog.widgets):
        kids.append(widget_node(pkg, w, ("w", token, dialog.name, i), values, (dialog.name, i)))
    off = len(dialog.widgets)
    for j, b in enumerate(dialog.buttons):
        kids.append(widget_node(pkg, b, ("w", token, dialog.name, off + j), values, (dialog.name, off + j)))
    if dialog.blind:
        kids = [Node("webview", WEBVIEW, blind=True, children=kids)]
    kind = {"dialog": "dialog", "bottom_sheet": "bottom_sheet", "fullscreen": "fullscreen"}[dialog.style]
    root = Node("container", FRAME, children=kids)
    return Window(kind, pkg, root, dim_behind=kind != "fullscreen", dark=dialog.dark)


def dialog_widgets(dialog: Dialog) -> tuple[Widget, ...]:
    """Widgets then buttons, in the index order used by tap handles and values."""
    return dialog.widgets + dialog.buttons
