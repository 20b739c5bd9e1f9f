"""Logical UI of the virtual device: what the runtime builds and the renderer lays out, paints and dumps.

The runtime (`exerciser.sim.runtime`) turns app models and system UI (permission dialogs, launcher, crash
dialog, settings) into a `Frame` of `Window`s. The renderer (`exerciser.sim.render`) fills in every
node's `bounds`, paints the PNG and writes the `uiautomator dump` XML, and answers hit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal[
    "container",  # plain layout group (LinearLayout/FrameLayout)
    "toolbar",  # title bar of an activity
    "title",  # dialog or page title
    "message",  # dialog body text
    "text",
    "button",  # app button or dialog button
    "input",
    "checkbox",
    "switch",
    "radio",
    "image",
    "icon",
    "list_item",
    "tab",  # bottom navigation item
    "link",
    "webview",  # android.webkit.WebView: a blind region (painted words only) or Chrome's tree
    "launcher_icon",
    "grid",  # cells in rows of N (style "colsN offsetK": the first cell in column K), e.g. a month's days
]


@dataclass(frozen=True)
class Scroll:
    """A scroll container (ScrollView, RecyclerView, a dialog's message ScrollView): the runtime keeps
    its offset, the layout clamps it to the content and reports it scrollable only when it overflows."""

    handle: object  # routes a swipe back to the runtime: (activity token, dialog name, widget slot)
    offset: int = 0  # px scrolled from the top (from the left when horizontal), as the runtime holds it
    cls: str = "android.widget.ScrollView"  # class the dump shows once the content overflows
    horizontal: bool = False  # HorizontalScrollView, a horizontal RecyclerView: moves sideways
    page: bool = False  # a blind screen's one view: it scrolls in the content area, as a page does
    # AccessibilityNodeInfo.isScrollable when it can move: a game engine's SurfaceView never says so
    accessible: bool = True


# The density the layout's sizes are written for (a 1080x2340 phone at 440 dpi: 1 dp = 2.75 px); a frame of
# another density is laid out at this one and scaled, as Android converts dp to px.
REF_DENSITY = 440

WindowKind = Literal["activity", "dialog", "bottom_sheet", "fullscreen", "system_dialog", "launcher"]


@dataclass
class Node:
    role: Role
    cls: str  # Android class name as the dump shows it, e.g. "android.widget.Button"
    text: str = ""
    resource_id: str = ""  # full form "pkg:id/name", "" for none
    content_desc: str = ""
    clickable: bool = False
    checkable: bool = False
    checked: bool = False
    enabled: bool = True
    focusable: bool = False
    focused: bool = False  # the input that has the keyboard focus
    password: bool = False  # a masked input (its text is dots)
    # out of the vertical flow: "fill" takes the whole content area (a full-bleed advert), a corner
    # ("top_right", ...) floats there above the rest (the skip button on it)
    place: str = ""
    scrollable: bool = False
    selected: bool = False
    # Painted but absent from the hierarchy (WebView/Flutter/game text). On a blind node the dump shows
    # the node itself with empty text and no children.
    blind: bool = False
    # Painting hints: "primary" (filled accent button), "danger", "muted", "accent", "emphasis"
    style: str = ""
    children: list[Node] = field(default_factory=list)
    # Opaque handle the runtime uses to route a tap (e.g. ("widget", "btn_agree")). Not dumped.
    action: object = None
    bounds: tuple[int, int, int, int] | None = None  # filled by layout: x1, y1, x2, y2
    scroll: Scroll | None = None  # set on scroll containers
    # filled by layout on scroll containers: (range, offset) in px; range 0 = content fits
    scroll_extent: tuple[int, int] | None = None

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass
class Window:
    kind: WindowKind
    package: str
    root: Node
    dim_behind: bool = False  # dialogs dim the windows below them
    dark: bool = False  # dark theme (dialog card dark grey, white text)
    sheet: bool = False  # a system dialog drawn as a full-width bottom sheet with pill buttons (MIUI)
    bottom: bool = False  # a dialog card anchored above the navigation bar, not centred (One UI)


@dataclass
class Frame:
    """The whole screen, windows bottom to top. The top window is the one `uiautomator dump` shows."""

    width: int
    height: int
    windows: list[Window]
    clock_text: str = "12:00"  # status-bar clock
    # 0 = the system bars of this density: 24 dp and 48 dp-ish, 63 and 126 px at 440 dpi
    status_bar_height: int = 0
    nav_bar_height: int = 0
    density: int = REF_DENSITY  # dpi (wm density); 1 dp = density / 160 px
    # device px per layout unit: set by the layout on the reference-density frame it plans with, so that
    # a scroll offset the runtime holds in device px converts to layout units
    layout_scale: float = 1.0

    def __post_init__(self) -> None:
        s = self.density / REF_DENSITY
        if not self.status_bar_height:
            self.status_bar_height = round(63 * s)
        if not self.nav_bar_height:
            self.nav_bar_height = round(126 * s)

    @property
    def top(self) -> Window:
        return self.windows[-1]
