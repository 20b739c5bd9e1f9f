"""App screens and app dialogs of a model, built as `ui.Window`s for the renderer.

Widgets map onto the Android classes the dump would show (Button, TextView, EditText, ...). A blind
screen or dialog puts its whole content under one `android.webkit.WebView` node marked `blind`: the
pixels show every word, the hierarchy none. Tap handles (`Node.action`) are `("w", token, dialog, index)`
tuples the runtime routes back to the widget.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from exerciser.sim.appmodel import TEMPLATE, AppModel, Block, Cond, Dialog, Page, Screen, Widget
from exerciser.sim.ui import Node, Scroll, Window

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

VIEW = "android.view.View"
SURFACE = "android.view.SurfaceView"
HSCROLL = "android.widget.HorizontalScrollView"

# Widget values kept by the runtime per activity: (dialog name or "", widget index) -> checked / typed text;
# index SCROLL holds the scroll offset of the screen's page or the dialog's body, ("scroll", i) that of
# widget i (a WebView, a strip).
Values = dict[tuple[str, Any], Any]
SCROLL = -1
SCROLL_END = -2  # on_scroll_end has run for this page / body
SCROLL_CLASS = {"page": "android.widget.ScrollView", "recycler": "androidx.recyclerview.widget.RecyclerView"}


def scroll_key(name: str, slot: int | None, end: bool = False) -> tuple[str, Any]:
    """Where an activity keeps a container's offset (or that its on_scroll_end ran): the page or dialog
    body (slot None), or the WebView / strip that starts at widget `slot`."""
    if slot is None:
        return (name, SCROLL_END if end else SCROLL)
    return (name, ("scroll_end" if end else "scroll", slot))


def history_key(name: str, slot: int) -> tuple[str, Any]:
    """Where an activity keeps the pages its WebView at widget `slot` loaded (its back/forward list)."""
    return (name, ("history", slot))


def web_page(w: Widget, name: str, slot: int, values: Values, env: Env) -> Page | None:
    """The H5 document the WebView shows: the last one it loaded, else its first `page`, else None
    (its own `paragraphs` / `text`)."""
    history = values.get(history_key(name, slot)) or ()
    current = history[-1] if history else w.page
    return env.pages.get(current) if current else None


def web_blocks(w: Widget, name: str, slot: int, values: Values, env: Env) -> tuple[Block, ...]:
    page = web_page(w, name, slot, values, env)
    if page is not None:
        return page.blocks
    return w.paragraphs or ((Block(w.text),) if w.text else ())


def scroll_of(
    token: int,
    name: str,
    values: Values,
    cls: str = SCROLL_CLASS["page"],
    slot: int | None = None,
    horizontal: bool = False,
) -> Scroll:
    return Scroll((token, name, slot), int(values.get(scroll_key(name, slot), 0)), cls, horizontal)


PASSWORD_DOT = "\u2022"  # a password field's text as accessibility reports it


@dataclass(frozen=True)
class Env:
    """What the runtime lends the window builder: its condition check and the app's variables."""

    cond: Callable[[Cond], bool] = lambda c: True
    vars: Mapping[str, Any] = field(default_factory=dict)
    pages: Mapping[str, Page] = field(default_factory=dict)  # the model's H5 documents

    def holds(self, c: Cond | None) -> bool:
        return c is None or self.cond(c)

    def text(self, s: str) -> str:
        if "{" not in s:
            return s
        return TEMPLATE.sub(lambda m: _fill(m, self.vars), s)


NO_ENV = Env()


def _fill(m: re.Match, values: Mapping[str, Any]) -> str:
    """One `{key}` / `{key:spec}` of a text: the value (formatted by the spec), or the braces as they are
    for an unknown key or a spec the value does not take."""
    if m[1] not in values:
        return m[0]
    try:
        return format(values[m[1]], m[2]) if m[2] else str(values[m[1]])
    except (TypeError, ValueError):
        return m[0]


def widget_node(
    pkg: str, w: Widget, action: object, values: Values, key: tuple[str, int], env: Env = NO_ENV
) -> Node:
    node = _widget_node(pkg, w, action, values, key, env)
    node.place = w.place
    return node


def _widget_node(pkg: str, w: Widget, action: object, values: Values, key: tuple[str, int], env: Env) -> Node:
    rid = f"{pkg}:id/{w.id}" if w.id else ""
    enabled = w.enabled and env.holds(w.enabled_if)
    common: dict[str, Any] = dict(
        cls=WIDGET_CLASS[w.type],
        resource_id=rid,
        content_desc=w.desc,
        enabled=enabled,
        style=w.style,
        action=action,
    )
    t = w.type
    text = env.text(w.text)
    if t == "button":
        return Node("button", text=text, clickable=True, focusable=True, **common)
    if t == "text":
        return Node("text", text=text, clickable=bool(w.on_tap), **common)
    if t == "link":
        return Node("link", text=text, clickable=True, focusable=True, **common)
    if t == "input":
        typed = values.get(key, w.text)
        if w.password and typed:  # PasswordTransformationMethod: dots on screen and in the dump
            typed = PASSWORD_DOT * len(typed)
        # The dump reports the hint as text while the field is empty (TextView.getTextForAccessibility).
        node = Node("input", text=typed or w.hint, clickable=True, focusable=True, **common)
        node.password = w.password
        return node
    if t in ("checkbox", "switch"):
        checked = bool(values.get(key, w.checked))
        return Node(t, text=text, clickable=True, focusable=True, checkable=True, checked=checked, **common)
    if t == "image":
        return Node("image", clickable=bool(w.on_tap), **common)
    if t == "list_item":
        kids = [Node("text", TEXT, text=text)]
        if w.subtitle:
            kids.append(Node("text", TEXT, text=env.text(w.subtitle), style="muted"))
        return Node("list_item", clickable=True, focusable=True, children=kids, **common)
    if t == "tab":
        # BottomNavigationItemView: the item (a FrameLayout) carries the label as content-desc.
        common["content_desc"] = w.desc or text
        kids = [
            Node("icon", "android.widget.ImageView", resource_id=f"{pkg}:id/navigation_bar_item_icon_view"),
            Node("text", TEXT, text=text, resource_id=f"{pkg}:id/navigation_bar_item_large_label_view"),
        ]
        return Node("tab", clickable=True, focusable=True, selected=w.selected, children=kids, **common)
    if t == "webview":
        return _webview(w, action, values, env, common)
    raise ValueError(f"unknown widget type {t}")


def _webview(w: Widget, action: object, values: Values, env: Env, common: dict[str, Any]) -> Node:
    """A WebView page that scrolls inside the view. Blind: the view alone in the dump (scrollable once
    its page overflows), its blocks only painted. Otherwise Chrome's tree as uiautomator dumps it
    (real dumps: ../shared/real_screens/008_qqmusic_user_agreement_page_zh.xml and
    017_weibo_privacy_summary_page_zh.xml): the app's WebView (not scrollable) holds the document node,
    an `android.webkit.WebView` with the page title as text, focused and scrollable, whose children are
    the blocks as `android.view.View`s with their text. Blocks scrolled out of view are not dumped
    (uiautomator skips nodes not visible to the user; Chromium marks nodes scrolled out of view
    offscreen, ui/accessibility/ax_offscreen_result.h); a block cut by the edge has its visible bounds."""
    _, token, dname, index = action  # type: ignore[misc]
    page = scroll_of(token, dname, values, WEBVIEW, slot=index)
    blocks = [
        _block_node(b, k, action, env, w.style)
        for k, b in enumerate(web_blocks(w, dname, index, values, env))
    ]
    if w.blind:
        return Node("webview", text=env.text(w.text), blind=True, children=blocks, scroll=page, **common)
    pg = web_page(w, dname, index, values, env)
    title = env.text(pg.title) if pg is not None else ""
    doc = Node("webview", WEBVIEW, text=title, focusable=True, focused=True, children=blocks, scroll=page)
    return Node("webview", children=[doc], **common)


def _block_node(b: Block, k: int, action: tuple, env: Env, style: str) -> Node:
    """A block of a web page: a paragraph (`android.view.View` with its text), or a link, which Chrome
    reports clickable and focusable (real dump: ../shared/real_screens/018_weibo_customer_service_zh.xml,
    the rows of a help centre). A link's tap handle names its block: ("w", token, dialog, widget, k)."""
    if b.link:
        return Node("link", VIEW, text=env.text(b.text), clickable=True, focusable=True, action=(*action, k))
    return Node("text", VIEW, text=env.text(b.text), style=style)


def _titled(nodes: list[Node], title: str) -> None:
    """The document node of a WebView with a tree reports the page's <title>: a loaded page's own, else
    the screen's."""
    for n in nodes:
        if n.role == "webview" and not n.blind and n.children:
            n.children[0].text = n.children[0].text or title


def page_title(widgets: tuple[Widget, ...], name: str, values: Values, env: Env) -> str:
    """The <title> of the first H5 document a WebView of these widgets shows ("" for none): an H5
    container activity shows it in its toolbar (WebChromeClient.onReceivedTitle -> setTitle)."""
    for i, w in enumerate(widgets):
        if w.type == "webview":
            page = web_page(w, name, i, values, env)
            if page is not None and page.title:
                return env.text(page.title)
    return ""


def _strips(
    items: list[tuple[Widget, int, Node]], token: int, name: str, values: Values, pkg: str
) -> list[Node]:
    """Consecutive widgets naming one `strip` become a row that scrolls sideways: a
    HorizontalScrollView (TabLayout is one) > horizontal LinearLayout > the widgets, left to right."""
    out: list[Node] = []
    k = 0
    while k < len(items):
        w, i, node = items[k]
        if not w.strip:
            out.append(node)
            k += 1
            continue
        j = k
        while j < len(items) and items[j][0].strip == w.strip:
            j += 1
        row = Node("container", LINEAR, children=[n for _, _, n in items[k:j]])
        scroll = scroll_of(token, name, values, HSCROLL, slot=i, horizontal=True)
        rid = f"{pkg}:id/{w.strip}"
        out.append(Node("container", HSCROLL, resource_id=rid, children=[row], scroll=scroll))
        k = j
    return out


def screen_window(model: AppModel, screen: Screen, token: int, values: Values, env: Env = NO_ENV) -> Window:
    pkg = model.package
    items: list[tuple[Widget, int, Node]] = []
    tabs: list[Node] = []
    for i, w in enumerate(screen.widgets):
        if not env.holds(w.visible_if):
            continue  # View.GONE: neither drawn nor in the dump
        node = widget_node(pkg, w, ("w", token, "", i), values, ("", i), env)
        if w.type == "tab":
            tabs.append(node)
        else:
            items.append((w, i, node))
    body = _strips(items, token, "", values, pkg)
    title = page_title(screen.widgets, "", values, env) or env.text(screen.title)
    _titled(body, title)
    if screen.blind:
        # Flutter/WebView/game screen: one opaque view; the title is painted inside it.
        painted: list[Node] = []
        if title:
            painted.append(Node("title", TEXT, text=title))
        painted.extend(body)
        painted.extend(tabs)
        # its painted page scrolls under a drag once taller than the screen: a WebView says so in the
        # dump, a game engine's SurfaceView (Unity's UnityPlayer is a FrameLayout around it) never does
        cls = SURFACE if screen.game else WEBVIEW
        sc = scroll_of(token, "", values, cls)
        sc = replace(sc, page=True, accessible=not screen.game)
        view = Node("webview", cls, blind=True, children=painted, scroll=sc)
        root = Node("container", FRAME, children=[view])
        return Window("activity", pkg, root, dark=screen.dark)
    children: list[Node] = []
    if title:
        children.append(
            Node(
                "toolbar",
                "android.view.ViewGroup",
                resource_id=f"{pkg}:id/toolbar",
                children=[Node("title", TEXT, text=title)],
            )
        )
    # The page scrolls when its content is taller than the screen (a ScrollView, a RecyclerView for
    # `scroll: recycler`, a ListActivity's ListView); while it fits, the dump shows the plain layout it is.
    if screen.list:
        # ListActivity: a ListView android:id/list whose rows are simple_list_item_1 TextViews (text1)
        rows = [
            replace(n, resource_id=n.resource_id or "android:id/text1") if n.role == "text" else n
            for n in body
        ]
        page = scroll_of(token, "", values, "android.widget.ListView")
        children.append(
            Node(
                "container",
                "android.widget.ListView",
                resource_id="android:id/list",
                children=rows,
                scroll=page,
            )
        )
    else:
        page = scroll_of(token, "", values, SCROLL_CLASS[screen.scroll])
        children.append(
            Node("container", LINEAR, resource_id=f"{pkg}:id/content_frame", children=body, scroll=page)
        )
    if tabs:
        children.append(Node("container", LINEAR, resource_id=f"{pkg}:id/bottom_navigation", children=tabs))
    root = Node("container", FRAME, children=children)
    return Window("activity", pkg, root, dark=screen.dark)


def dialog_window(model: AppModel, dialog: Dialog, token: int, values: Values, env: Env = NO_ENV) -> Window:
    pkg = model.package
    kids: list[Node] = []
    if dialog.title:
        kids.append(Node("title", TEXT, text=dialog.title, resource_id="android:id/alertTitle"))
    if dialog.body:
        # AlertDialog: the message sits in android:id/scrollView > LinearLayout, and scrolls when long.
        msg = Node("message", TEXT, text=env.text(dialog.body), resource_id="android:id/message")
        inner = Node("container", LINEAR, children=[msg])
        kids.append(
            Node(
                "container",
                SCROLL_CLASS["page"],
                resource_id="android:id/scrollView",
                children=[inner],
                scroll=scroll_of(token, dialog.name, values),
            )
        )
    items = [
        (w, i, widget_node(pkg, w, ("w", token, dialog.name, i), values, (dialog.name, i), env))
        for i, w in enumerate(dialog.widgets)
        if env.holds(w.visible_if)
    ]
    widgets = _strips(items, token, dialog.name, values, pkg)
    _titled(widgets, env.text(dialog.title))
    kids.extend(widgets)
    off = len(dialog.widgets)
    for j, b in enumerate(dialog.buttons):
        key = (dialog.name, off + j)
        if env.holds(b.visible_if):
            kids.append(widget_node(pkg, b, ("w", token, dialog.name, off + j), values, key, env))
    if dialog.blind:
        kids = [Node("webview", WEBVIEW, blind=True, children=kids)]
    kind = {"dialog": "dialog", "bottom_sheet": "bottom_sheet", "fullscreen": "fullscreen"}[dialog.style]
    root = Node("container", FRAME, children=kids)
    return Window(kind, pkg, root, dim_behind=kind != "fullscreen", dark=dialog.dark)


def dialog_widgets(dialog: Dialog) -> tuple[Widget, ...]:
    """Widgets then buttons, in the index order used by tap handles and values."""
    return dialog.widgets + dialog.buttons
