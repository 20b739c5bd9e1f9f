"""App behaviour models (sample_apks/<app-id>/app.yaml): YAML -> validated dataclasses.

Validation runs in two passes over the raw YAML: the JSON Schema (`app_schema.json`) for shapes and
types, then cross-references (screens, dialogs, permissions, state keys, one verb per action). Every
error names the file, the line of the offending node and the field path:

    sample_apks/x/app.yaml:12: screens.home.widgets[0].type: 'buton' is not one of [...]
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from exerciser import SAMPLES_DIR, yamlio
from exerciser.errors import UserError

SCHEMA_PATH = Path(__file__).with_name("app_schema.json")

VERBS = (
    "goto",
    "replace",
    "back",
    "dialog",
    "dismiss",
    "request",
    "quit",
    "crash",
    "set",
    "incr",
    "stamp",
    "if",
    "after",
    "open_settings",
    "open_url",
    "toast",
    "decr",
    "cancel",
    "sum",
    "load",
)
# Keys that only make sense next to their verb.
PARTNERS = {
    "on_granted": "request",
    "on_denied": "request",
    "then": "if",
    "else": "if",
    "do": "after",
    "name": "after",
    "into": "sum",
}
COND_KINDS = ("state", "since", "granted", "denied", "should_show_rationale", "checked", "all", "any", "not")
COND_OPS = ("equals", "gte", "lte")
BUILTIN_STATE = {"launches": 0}
# "跳过 {skip_left}" or "Scale: {scale:.2f}" (a Python format spec) in a widget's text
TEMPLATE = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)(?::([^{}]*))?\}")


class AppModelError(UserError):
    """A broken app model: `file:line: field.path: message`."""


# --- records -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cond:
    kind: str  # state | since | granted | denied | should_show_rationale | checked | all | any | not
    arg: Any = None  # state key, permission, widget id
    op: str = ""  # equals | gte | lte (state, since)
    value: Any = None
    items: tuple[Cond, ...] = ()  # all / any / not (one item)


@dataclass(frozen=True)
class Action:
    verb: str  # one of VERBS
    arg: Any = None  # the verb's value (screen, dialog, permissions tuple, seconds, ...)
    on_granted: tuple[Action, ...] = ()
    on_denied: tuple[Action, ...] = ()
    cond: Cond | None = None  # `if`
    then: tuple[Action, ...] = ()
    else_: tuple[Action, ...] = ()
    do: tuple[Action, ...] = ()  # `after`
    name: str = ""  # `after`: the timer's name, for `cancel`
    where: str = ""  # "file:line", for messages


@dataclass(frozen=True)
class Block:
    """One block of a web page: a paragraph, or a link (`on_tap`: an <a> Chrome reports clickable)."""

    text: str
    on_tap: tuple[Action, ...] = ()

    @property
    def link(self) -> bool:
        return bool(self.on_tap)


@dataclass(frozen=True)
class Page:
    """An H5 document a WebView loads (`load`): its <title> and blocks."""

    name: str
    title: str = ""
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Widget:
    type: str  # button | text | input | checkbox | switch | image | list_item | tab | link | webview
    id: str = ""
    text: str = ""
    hint: str = ""
    desc: str = ""
    subtitle: str = ""
    enabled: bool = True
    checked: bool = False
    selected: bool = False
    style: str = ""
    on_tap: tuple[Action, ...] = ()
    enabled_if: Cond | None = None  # enabled while this holds (e.g. a ticked checkbox), else disabled
    visible_if: Cond | None = None  # shown only while this holds (e.g. logged in)
    password: bool = False  # input: masked (password="true", text as dots)
    place: str = ""  # fill | top_left | top_right | bottom_left | bottom_right: out of the flow
    # webview: the page's blocks (<h1>, <p>), one node each in Chrome's tree; `text` is one block
    paragraphs: tuple[Block, ...] = ()
    page: str = ""  # webview: the H5 document it loads first (a key of the model's `pages`)
    blind: bool = True  # webview: no accessibility tree (words only in the pixels); false: Chrome's tree
    on_scroll_end: tuple[Action, ...] = ()  # webview: its page is scrolled to its end (or fits)
    strip: str = ""  # consecutive widgets naming one strip form a row that scrolls sideways
    zoom: Zoom | None = None  # pinch-to-zoom: a two-finger gesture scales this number


@dataclass(frozen=True)
class Zoom:
    """A transformable view (Compose detectTransformGestures): each move of a two-finger gesture
    multiplies `var` by its zoom change, clamped to [min, max]."""

    var: str
    min: float = 0.0
    max: float = float("inf")


@dataclass(frozen=True)
class Screen:
    name: str
    activity: str  # fully qualified
    title: str = ""
    blind: bool = False
    # a game engine's GL surface (Unity, Cocos): blind, and its painted page scrolls by drag although the
    # hierarchy never says so (a SurfaceView is not scrollable to accessibility)
    game: bool = False
    dark: bool = False
    widgets: tuple[Widget, ...] = ()
    on_enter: tuple[Action, ...] = ()
    on_back: tuple[Action, ...] | None = None  # None: default back (pop / finish at the root)
    list: bool = False  # a ListActivity: the widgets are the rows of android:id/list
    scroll: str = "page"  # page (ScrollView) | recycler (RecyclerView): the class shown once it overflows
    on_scroll_end: tuple[Action, ...] = ()  # the page is scrolled to its end (or fits the screen)


@dataclass(frozen=True)
class Dialog:
    name: str
    style: str = "dialog"  # dialog | bottom_sheet | fullscreen
    title: str = ""
    body: str = ""
    blind: bool = False
    dark: bool = False
    cancelable: bool = True
    widgets: tuple[Widget, ...] = ()
    buttons: tuple[Widget, ...] = ()  # type "button"
    on_back: tuple[Action, ...] | None = None
    on_scroll_end: tuple[Action, ...] = ()  # the body is scrolled to its end (or fits the card)


@dataclass(frozen=True)
class AppModel:
    package: str
    label: str
    screens: dict[str, Screen]
    dialogs: dict[str, Dialog] = field(default_factory=dict)
    language: str = "en"
    version: str = "1.0"
    target_sdk: int = 33
    permissions: tuple[str, ...] = ()
    state: dict[str, Any] = field(default_factory=dict)  # persistent defaults
    memory: dict[str, Any] = field(default_factory=dict)  # per-process defaults
    on_launch: tuple[Action, ...] = ()
    launch_screen: str = ""
    icon_color: str = ""
    pages: dict[str, Page] = field(default_factory=dict)  # H5 documents WebViews load
    source: str = ""  # file the model came from
    app_id: str = ""  # sample folder name, "" when not a sample

    @property
    def launch_activity(self) -> str:
        return self.screens[self.launch_screen].activity


# --- loading -------------------------------------------------------------------------------------


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _display(path: str | os.PathLike[str]) -> str:
    """The path as the user should see it: relative to the working directory when below it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _fmt_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top)"


class _Located:
    """Maps JSON paths of the parsed document to line numbers through the YAML node tree."""

    def __init__(self, root: yaml.Node | None, filename: str):
        self.root = root
        self.filename = filename

    def line(self, path: Iterable[Any], key: str | None = None) -> int:
        """Line of the node at `path`; with `key`, of that key inside the mapping at `path`."""
        node = self.root
        if node is None:
            return 1
        parts = [*path, key] if key is not None else list(path)
        for i, part in enumerate(parts):
            want_key = key is not None and i == len(parts) - 1
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == str(part):
                        nxt = k if want_key else v
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                nxt = node.value[part]
            if nxt is None:
                break
            node = nxt
        return node.start_mark.line + 1

    def error(self, path: list[Any], message: str, key: str | None = None) -> AppModelError:
        return AppModelError(f"{self.filename}:{self.line(path, key)}: {_fmt_path(path)}: {message}")


def _check_duplicates(node: yaml.Node | None, loc: _Located) -> None:
    """PyYAML keeps the last of duplicate keys silently; a model author wants to hear about it."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in seen:
                    raise AppModelError(f"{loc.filename}:{k.start_mark.line + 1}: duplicate key {k.value!r}")
                seen.add(k.value)
            _check_duplicates(v, loc)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            _check_duplicates(v, loc)


def load_app_model(path: str | os.PathLike[str]) -> AppModel:
    """Load and validate one app.yaml. Raises AppModelError naming file:line: field."""
    filename = _display(path)
    try:
        text = yamlio.read_text(path)
    except FileNotFoundError:
        raise AppModelError(f"{filename}: no such file") from None
    except yamlio.YamlLimitError as exc:
        raise AppModelError(exc.message) from None
    app_id = Path(path).resolve().parent.name if Path(path).name == "app.yaml" else ""
    return parse_app_model(text, filename, app_id=app_id)


def parse_app_model(text: str, filename: str = "<string>", app_id: str = "") -> AppModel:
    """Validate and build a model from YAML text (`filename` is used in messages)."""
    try:
        # One parse (libyaml when present): the node tree gives line numbers, the data is built from it.
        root = yamlio.compose(text, filename)
        data = yaml.SafeLoader("").construct_document(root) if root is not None else None
    except yamlio.YamlLimitError as exc:
        raise AppModelError(exc.message) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise AppModelError(f"{filename}:{line}: YAML syntax: {exc.problem or exc}") from None
    except yaml.reader.ReaderError as exc:  # a control character the YAML reader refuses
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        ch = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        raise AppModelError(f"{filename}:{line}: YAML: character #x{ch:04x} is not allowed") from None
    loc = _Located(root, filename)
    if not isinstance(data, dict):
        raise loc.error([], "an app model is a mapping (package, label, screens, ...)")
    _check_duplicates(root, loc)
    errors = sorted(
        _validator().iter_errors(data),
        key=lambda e: (loc.line(e.absolute_path), -len(e.absolute_path)),
    )
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        # best_match prefers the most relevant error; report it at its own location (an unknown field
        # at the line of its key).
        extra = _unknown_fields(best)
        raise loc.error(list(best.absolute_path), _schema_message(best), extra[0] if extra else None)
    _Checker(data, loc).check()
    return _build(data, loc, app_id)


def _unknown_fields(err: jsonschema.ValidationError) -> list[str]:
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = set(err.schema.get("properties") or {})
        return [str(k) for k in err.instance if k not in known]
    return []


def _schema_message(err: jsonschema.ValidationError) -> str:
    extra = _unknown_fields(err)
    if extra:
        known = sorted(err.schema.get("properties") or {})
        return f"unknown field(s) {', '.join(map(repr, extra))} (known: {', '.join(known)})"
    return err.message


def load_sample(app_id: str) -> AppModel:
    """The model of sample app `app_id` (sample_apks/<app_id>/app.yaml)."""
    path = Path(SAMPLES_DIR) / app_id / "app.yaml"
    if not path.exists():
        known = sorted(p.parent.name for p in Path(SAMPLES_DIR).glob("*/app.yaml"))
        raise AppModelError(f"unknown sample app {app_id!r} (known: {', '.join(known) or 'none'})")
    return load_app_model(path)


def resolve_model(arg: str) -> AppModel:
    """A path to an app.yaml (or its folder) or a sample app id."""
    p = Path(arg)
    if p.is_dir() and (p / "app.yaml").exists():
        return load_app_model(p / "app.yaml")
    if p.suffix in (".yaml", ".yml") or p.exists():
        return load_app_model(p)
    return load_sample(arg)


# --- cross-reference checks ----------------------------------------------------------------------


class _Checker:
    def __init__(self, data: dict[str, Any], loc: _Located):
        self.d = data
        self.loc = loc
        self.screens = set(data.get("screens") or {})
        self.dialogs = set(data.get("dialogs") or {})
        self.perms = set(data.get("permissions") or [])
        self.state = dict(BUILTIN_STATE) | dict(data.get("state") or {}) | dict(data.get("memory") or {})
        self.timers = set(_timer_names(data))
        self.pages = set(data.get("pages") or {})
        self.toggles: set[str] = set()
        self.inputs: set[str] = set()
        for kind in ("screens", "dialogs"):
            for obj in (data.get(kind) or {}).values():
                for w in (obj or {}).get("widgets") or []:
                    if w.get("type") in ("checkbox", "switch") and w.get("id"):
                        self.toggles.add(w["id"])
                    if w.get("type") == "input" and w.get("id"):
                        self.inputs.add(w["id"])

    def fail(self, path: list[Any], msg: str) -> AppModelError:
        return self.loc.error(path, msg)

    def check(self) -> None:
        d = self.d
        clash = set(d.get("state") or {}) & set(d.get("memory") or {})
        if clash:
            raise self.fail(["memory"], f"keys also in state: {', '.join(sorted(clash))}")
        if "launches" in (d.get("state") or {}) or "launches" in (d.get("memory") or {}):
            raise self.fail(["state"], "'launches' is built in and counted by the device")
        ls = d.get("launch_screen")
        if ls is not None and ls not in self.screens:
            raise self.fail(["launch_screen"], self._unknown("screen", ls, self.screens))
        self.actions(d.get("on_launch") or [], ["on_launch"])
        activities: dict[str, str] = {}
        for name, s in (d.get("screens") or {}).items():
            s = s or {}
            act = _activity_name(d["package"], name, s.get("activity"))
            if act in activities and not s.get("fragment"):
                raise self.fail(
                    ["screens", name, "activity"] if "activity" in s else ["screens", name],
                    f"activity {act} is also the activity of screen {activities[act]!r}"
                    " (a second screen of one activity says `fragment: true`)",
                )
            activities[act] = name
            self.widgets(s.get("widgets") or [], ["screens", name, "widgets"])
            for key in ("on_enter", "on_back", "on_scroll_end"):
                self.actions(s.get(key) or [], ["screens", name, key])
        for name, dg in (d.get("dialogs") or {}).items():
            dg = dg or {}
            self.widgets(dg.get("widgets") or [], ["dialogs", name, "widgets"])
            buttons = dg.get("buttons") or []
            self.unique_ids(buttons, ["dialogs", name, "buttons"])
            widget_ids = {w.get("id") for w in dg.get("widgets") or [] if w.get("id")}
            for i, b in enumerate(buttons):
                if b.get("id") in widget_ids:
                    raise self.fail(["dialogs", name, "buttons", i, "id"], f"duplicate widget id {b['id']!r}")
            for i, b in enumerate(buttons):
                self.actions(b.get("on_tap") or [], ["dialogs", name, "buttons", i, "on_tap"])
                if "enabled_if" in b:
                    self.cond(b["enabled_if"], ["dialogs", name, "buttons", i, "enabled_if"])
            for key in ("on_back", "on_scroll_end"):
                self.actions(dg.get(key) or [], ["dialogs", name, key])
        for name, pg in (d.get("pages") or {}).items():
            self.blocks((pg or {}).get("paragraphs") or [], ["pages", name, "paragraphs"])
        self.entry_loops()

    def blocks(self, blocks: list[Any], path: list[Any]) -> None:
        for j, b in enumerate(blocks):
            if isinstance(b, dict):
                self.actions(b.get("on_tap") or [], path + [j, "on_tap"])

    def entry_loops(self) -> None:
        """A screen whose on_enter opens, without a condition, a screen whose on_enter leads back to it
        never stops entering (the device would recurse to its end): a model error, found here."""
        screens = self.d.get("screens") or {}
        opens: dict[str, list[str]] = {}
        backs: set[str] = set()
        for name, s in screens.items():
            for a in (s or {}).get("on_enter") or []:
                if not isinstance(a, dict):
                    continue
                for verb in ("goto", "replace", "open_url"):
                    if verb in a:
                        opens.setdefault(name, []).append(a[verb])
                if "back" in a:
                    backs.add(name)
        edges = {n: list(v) for n, v in opens.items()}
        for parent, kids in opens.items():  # a screen that goes back at once resumes its opener
            for kid in kids:
                if kid in backs:
                    edges.setdefault(kid, []).append(parent)
        for start in edges:
            path, seen = [start], {start}
            stack = [iter(edges.get(start, []))]
            while stack:
                nxt = next(stack[-1], None)
                if nxt is None:
                    stack.pop()
                    seen.discard(path.pop())
                    continue
                if nxt == start:
                    loop = " -> ".join([*path, start])
                    raise self.fail(["screens", start, "on_enter"], f"entering it never ends: {loop}")
                if nxt not in seen:
                    path.append(nxt)
                    seen.add(nxt)
                    stack.append(iter(edges.get(nxt, [])))

    def unique_ids(self, items: list[dict[str, Any]], path: list[Any]) -> None:
        seen: set[str] = set()
        for i, w in enumerate(items):
            wid = w.get("id")
            if wid:
                if wid in seen:
                    raise self.fail(path + [i, "id"], f"duplicate widget id {wid!r}")
                seen.add(wid)

    def widgets(self, widgets: list[dict[str, Any]], path: list[Any]) -> None:
        self.unique_ids(widgets, path)
        for i, w in enumerate(widgets):
            self.actions(w.get("on_tap") or [], path + [i, "on_tap"])
            self.actions(w.get("on_scroll_end") or [], path + [i, "on_scroll_end"])
            self.blocks(w.get("paragraphs") or [], path + [i, "paragraphs"])
            if "page" in w and w["page"] not in self.pages:
                raise self.fail(path + [i, "page"], self._unknown("page", w["page"], self.pages))
            for key in ("paragraphs", "on_scroll_end", "blind", "page"):
                if key in w and w.get("type") != "webview":
                    what = f"'{key}' belongs to a webview, not to a {w.get('type')}"
                    raise self.fail(path + [i, key], what)
            if "strip" in w and (w.get("type") in ("tab", "webview") or "place" in w):
                raise self.fail(path + [i, "strip"], "a strip holds buttons, texts, links, images or rows")
            for key in ("enabled_if", "visible_if"):
                if key in w:
                    self.cond(w[key], path + [i, key])
            zoom = w.get("zoom")
            if zoom is not None:
                val = self.state.get(zoom["var"])
                if not isinstance(val, int | float) or isinstance(val, bool) or zoom["var"] == "launches":
                    raise self.fail(path + [i, "zoom", "var"], f"{zoom['var']!r} is not a number state key")
                if zoom.get("min", 0) > zoom.get("max", float("inf")):
                    raise self.fail(path + [i, "zoom"], "min is above max")
            for key in ("text", "subtitle"):
                for name, _ in TEMPLATE.findall(str(w.get(key) or "")):
                    if name not in self.state:
                        raise self.fail(
                            path + [i, key], self._unknown("state key {" + name + "}", name, set(self.state))
                        )

    def _unknown(self, what: str, name: Any, known: set[str]) -> str:
        return f"unknown {what} {name!r} (known: {', '.join(sorted(known)) or 'none'})"

    def actions(self, actions: list[dict[str, Any]], path: list[Any]) -> None:
        for i, a in enumerate(actions):
            self.action(a, path + [i])

    def action(self, a: dict[str, Any], path: list[Any]) -> None:
        verbs = [k for k in a if k in VERBS]
        if len(verbs) != 1:
            what = "no action verb" if not verbs else f"several verbs ({', '.join(verbs)})"
            raise self.fail(path, f"{what}: an action has exactly one of {', '.join(VERBS)}")
        verb = verbs[0]
        for k in a:
            if k in PARTNERS and PARTNERS[k] != verb:
                raise self.fail(path + [k], f"'{k}' belongs to '{PARTNERS[k]}', not to '{verb}'")
        v = a[verb]
        if verb in ("goto", "replace", "open_url") and v not in self.screens:
            raise self.fail(path + [verb], self._unknown("screen", v, self.screens))
        if verb == "load" and v not in self.pages:
            raise self.fail(path + [verb], self._unknown("page", v, self.pages))
        if verb == "dialog" and v not in self.dialogs:
            raise self.fail(path + [verb], self._unknown("dialog", v, self.dialogs))
        if verb == "request":
            perms = [v] if isinstance(v, str) else v
            for j, p in enumerate(perms):
                if p not in self.perms:
                    sub = [verb] if isinstance(v, str) else [verb, j]
                    raise self.fail(
                        path + sub, f"{p} is not declared in `permissions` (Android denies it at once)"
                    )
            self.actions(a.get("on_granted") or [], path + ["on_granted"])
            self.actions(a.get("on_denied") or [], path + ["on_denied"])
        if verb == "set":
            for k, val in v.items():
                if k not in self.state or k == "launches":
                    raise self.fail(path + ["set", k], self._unknown("state key", k, set(self.state)))
                if val is not None and self.state[k] is not None and type(val) is not type(self.state[k]):
                    raise self.fail(
                        path + ["set", k],
                        f"{val!r} is {_kind(val)}, {k!r} holds {_kind(self.state[k])}",
                    )
        if verb in ("incr", "decr") and (
            v not in self.state
            or v == "launches"
            or not isinstance(self.state[v], int)
            or isinstance(self.state[v], bool)
        ):
            raise self.fail(path + [verb], f"{v!r} is not an integer state key")
        if verb == "stamp" and not self._int_key(v):
            raise self.fail(path + ["stamp"], f"{v!r} is not an integer state key")
        if verb == "sum":
            if "into" not in a:
                raise self.fail(path, "'sum' needs 'into'")
            for j, wid in enumerate(v):
                if wid not in self.inputs:
                    raise self.fail(path + ["sum", j], self._unknown("input id", wid, self.inputs))
            if a["into"] not in self.inputs:
                raise self.fail(path + ["into"], self._unknown("input id", a["into"], self.inputs))
        if verb == "cancel" and v not in self.timers:
            raise self.fail(path + [verb], self._unknown("timer", v, self.timers))
        if verb == "if":
            if "then" not in a:
                raise self.fail(path, "'if' needs 'then'")
            self.cond(a["if"], path + ["if"])
            self.actions(a.get("then") or [], path + ["then"])
            self.actions(a.get("else") or [], path + ["else"])
        if verb == "after":
            if "do" not in a:
                raise self.fail(path, "'after' needs 'do'")
            self.actions(a["do"], path + ["do"])

    def _int_key(self, key: str) -> bool:
        v = self.state.get(key, "")
        return key != "launches" and isinstance(v, int) and not isinstance(v, bool)

    def cond(self, c: dict[str, Any], path: list[Any]) -> None:
        kinds = [k for k in c if k in COND_KINDS]
        if len(kinds) != 1:
            raise self.fail(path, f"a condition has exactly one of {', '.join(COND_KINDS)}")
        kind = kinds[0]
        ops = [k for k in c if k in COND_OPS]
        if kind == "state":
            if len(ops) != 1:
                raise self.fail(path, "a state condition has exactly one of equals, gte, lte")
            if c["state"] not in self.state:
                raise self.fail(path + ["state"], self._unknown("state key", c["state"], set(self.state)))
        elif kind == "since":
            if [k for k in ops if k != "equals"] != ops or len(ops) != 1:
                raise self.fail(path, "a since condition has exactly one of gte, lte (minutes)")
            if not self._int_key(c["since"]):
                raise self.fail(path + ["since"], f"{c['since']!r} is not an integer state key")
        elif ops:
            raise self.fail(path + [ops[0]], f"'{ops[0]}' only goes with 'state' or 'since'")
        if kind in ("granted", "denied", "should_show_rationale") and c[kind] not in self.perms:
            raise self.fail(path + [kind], f"{c[kind]} is not declared in `permissions`")
        if kind == "checked" and c["checked"] not in self.toggles:
            raise self.fail(
                path + ["checked"], self._unknown("checkbox/switch id", c["checked"], self.toggles)
            )
        if kind in ("all", "any"):
            for i, sub in enumerate(c[kind]):
                self.cond(sub, path + [kind, i])
        if kind == "not":
            self.cond(c["not"], path + ["not"])


def _timer_names(node: Any) -> list[str]:
    """Names given to `after` timers anywhere in the model."""
    if isinstance(node, dict):
        own = [node["name"]] if "after" in node and isinstance(node.get("name"), str) else []
        return own + [n for v in node.values() for n in _timer_names(v)]
    if isinstance(node, list):
        return [n for v in node for n in _timer_names(v)]
    return []


def _kind(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", str: "a string"}.get(type(v), type(v).__name__)


# --- building ------------------------------------------------------------------------------------


def _activity_name(package: str, screen: str, given: str | None) -> str:
    if given:
        return package + given if given.startswith(".") else given
    camel = "".join(part[:1].upper() + part[1:] for part in screen.split("_") if part)
    return f"{package}.{camel}Activity"


def _s(v: Any) -> str:
    return "" if v is None else str(v)


def _build(d: dict[str, Any], loc: _Located, app_id: str) -> AppModel:
    def cond(c: dict[str, Any]) -> Cond:
        kind = next(k for k in c if k in COND_KINDS)
        if kind in ("state", "since"):
            op = next(k for k in c if k in COND_OPS)
            return Cond(kind, c[kind], op, c[op])
        if kind in ("all", "any"):
            return Cond(kind, items=tuple(cond(x) for x in c[kind]))
        if kind == "not":
            return Cond("not", items=(cond(c["not"]),))
        return Cond(kind, c[kind])

    def actions(items: list[dict[str, Any]] | None, path: list[Any]) -> tuple[Action, ...]:
        out = []
        for i, a in enumerate(items or []):
            p = path + [i]
            verb = next(k for k in a if k in VERBS)
            arg = a[verb]
            if verb == "request":
                arg = (arg,) if isinstance(arg, str) else tuple(arg)
            if verb == "sum":  # (input ids to add, input id written)
                arg = (tuple(arg), a["into"])
            out.append(
                Action(
                    verb=verb,
                    arg=arg,
                    on_granted=actions(a.get("on_granted"), p + ["on_granted"]),
                    on_denied=actions(a.get("on_denied"), p + ["on_denied"]),
                    cond=cond(a["if"]) if verb == "if" else None,
                    then=actions(a.get("then"), p + ["then"]),
                    else_=actions(a.get("else"), p + ["else"]),
                    do=actions(a.get("do"), p + ["do"]),
                    name=a.get("name", ""),
                    where=f"{loc.filename}:{loc.line(p)}",
                )
            )
        return tuple(out)

    def blocks(items: list[Any] | None, path: list[Any]) -> tuple[Block, ...]:
        out = []
        for j, b in enumerate(items or []):
            if isinstance(b, dict):
                out.append(Block(_s(b.get("text")), actions(b.get("on_tap"), path + [j, "on_tap"])))
            else:
                out.append(Block(_s(b)))
        return tuple(out)

    def widgets(
        items: list[dict[str, Any]] | None, path: list[Any], default_type: str = ""
    ) -> tuple[Widget, ...]:
        out = []
        for i, w in enumerate(items or []):
            out.append(
                Widget(
                    type=w.get("type", default_type),
                    id=w.get("id", ""),
                    text=_s(w.get("text")),
                    hint=w.get("hint", ""),
                    desc=w.get("desc", ""),
                    subtitle=_s(w.get("subtitle")),
                    enabled=w.get("enabled", True),
                    checked=w.get("checked", False),
                    selected=w.get("selected", False),
                    style=w.get("style", ""),
                    on_tap=actions(w.get("on_tap"), path + [i, "on_tap"]),
                    enabled_if=cond(w["enabled_if"]) if "enabled_if" in w else None,
                    visible_if=cond(w["visible_if"]) if "visible_if" in w else None,
                    password=w.get("password", False),
                    place=w.get("place", ""),
                    zoom=Zoom(**w["zoom"]) if "zoom" in w else None,
                    paragraphs=blocks(w.get("paragraphs"), path + [i, "paragraphs"]),
                    page=w.get("page", ""),
                    blind=w.get("blind", True),
                    on_scroll_end=actions(w.get("on_scroll_end"), path + [i, "on_scroll_end"]),
                    strip=w.get("strip", ""),
                )
            )
        return tuple(out)

    pkg = d["package"]
    screens = {}
    for name, s in d["screens"].items():
        s = s or {}
        p = ["screens", name]
        screens[name] = Screen(
            name=name,
            activity=_activity_name(pkg, name, s.get("activity")),
            title=_s(s.get("title")),
            blind=s.get("blind", False) or s.get("game", False),
            game=s.get("game", False),
            dark=s.get("dark", False),
            list=s.get("list", False),
            widgets=widgets(s.get("widgets"), p + ["widgets"]),
            on_enter=actions(s.get("on_enter"), p + ["on_enter"]),
            on_back=actions(s["on_back"], p + ["on_back"]) if s.get("on_back") is not None else None,
            scroll=s.get("scroll", "page"),
            on_scroll_end=actions(s.get("on_scroll_end"), p + ["on_scroll_end"]),
        )
    dialogs = {}
    for name, dg in (d.get("dialogs") or {}).items():
        dg = dg or {}
        p = ["dialogs", name]
        dialogs[name] = Dialog(
            name=name,
            style=dg.get("style", "dialog"),
            title=_s(dg.get("title")),
            body=_s(dg.get("body")),
            blind=dg.get("blind", False),
            dark=dg.get("dark", False),
            cancelable=dg.get("cancelable", True),
            widgets=widgets(dg.get("widgets"), p + ["widgets"]),
            buttons=widgets(dg.get("buttons"), p + ["buttons"], default_type="button"),
            on_back=actions(dg["on_back"], p + ["on_back"]) if dg.get("on_back") is not None else None,
            on_scroll_end=actions(dg.get("on_scroll_end"), p + ["on_scroll_end"]),
        )
    return AppModel(
        package=pkg,
        label=d["label"],
        screens=screens,
        dialogs=dialogs,
        language=d.get("language", "en"),
        version=_s(d.get("version", "1.0")),
        target_sdk=int(d.get("target_sdk", 33)),
        permissions=tuple(d.get("permissions") or ()),
        state=dict(d.get("state") or {}),
        memory=dict(d.get("memory") or {}),
        on_launch=actions(d.get("on_launch"), ["on_launch"]),
        launch_screen=d.get("launch_screen") or next(iter(d["screens"])),
        icon_color=d.get("icon_color", ""),
        pages={
            name: Page(
                name,
                _s((pg or {}).get("title")),
                blocks((pg or {}).get("paragraphs"), ["pages", name, "paragraphs"]),
            )
            for name, pg in (d.get("pages") or {}).items()
        },
        source=loc.filename,
        app_id=app_id,
    )
