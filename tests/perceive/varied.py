"""A generated corpus that varies what real screens vary (issue 15): the labelled dialogs of the corpus
apps (corpus.BLIND_DIALOGS, labels in labels_sim.yaml) drawn on phones from 540 px at 240 dpi to 1440 px at
560 dpi (DISPLAYS: the layout is in dp, so a 540 px screen has the same dialog in smaller text) and
rewritten the way real apps and dumps differ from the sim's tidy tree:

- `obfuscated`: R8-shrunk resource-ids (`ehi`, `v0`), `no_ids`: none at all;
- `textviews`: buttons that are clickable TextViews, `clickable_body`: the body text in a clickable
  TextView inside a nested ScrollView, `dividers`: 1-2 px divider Views between the buttons;
- `not_in_tree`: a dump with only the activity behind the dialog (the screenshot must be read);
- `dark_behind`: a light card over a dark app, read from the screenshot alone (blind dialog).

`rom_prompts` adds the system permission prompts of the ColorOS, OriginOS and One UI profiles (issue 15):
a foreground group per locale, with the ROM's ids stripped (`no_ids`: read by its labels) and missing from
the dump's words (`screenshot_only`: read from the screenshot).

Nothing is written to disk; every screen is made at test time from the app models.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator

from corpus import (
    BLIND_DIALOGS,
    LOCALES,
    Sample,
    _button_bounds,
    _host,
    _obs,
    app_models,
    labels,
    prompt_frame,
)
from lxml import etree

from exerciser.device.contract import Observation
from exerciser.sim import PROFILES, VirtualDevice, uixml
from exerciser.sim.ui import Frame

# Panels of phones testers hold, cheap to flagship (width, height, dpi); screens take them in turn, so
# every width gets every variant, the OCR-only ones included.
DISPLAYS = (
    (540, 1170, 240),
    (720, 1600, 320),
    (1080, 1920, 420),
    (1080, 2340, 440),
    (1220, 2712, 480),
    (1440, 3120, 560),
)
TREE_VARIANTS = ("obfuscated", "no_ids", "textviews", "clickable_body", "dividers")
PIXEL_VARIANTS = ("not_in_tree", "dark_behind")
ROM_PROMPT_PROFILES = ("coloros12", "originos3", "oneui1", "oneui5")
ROM_PROMPT_GROUPS = {"zh": "location", "en": "camera"}  # foreground groups: the ROMs' while-using wording
ROM_PROMPT_VARIANTS = ("no_ids", "screenshot_only")


def samples(
    tree_variants: tuple[str, ...] = TREE_VARIANTS, pixel_variants: tuple[str, ...] = PIXEL_VARIANTS
) -> Iterator[Sample]:
    models = app_models()
    n = 0
    for app_id, dname in BLIND_DIALOGS:
        m = models[app_id]
        loc = "zh-CN" if m.language == "zh" else "en-US"
        entry = labels().get(app_id) or {}
        meta = {
            "kinds": frozenset((entry.get("kinds") or {}).get(dname) or ()),
            "group": (entry.get("groups") or {}).get(dname),
            "targets": dict((entry.get("targets") or {}).get(dname) or {}),
            "obstacles": tuple((entry.get("obstacles") or {}).get(dname) or ()),
        }
        activity = m.screens[m.launch_screen].activity
        for variant in tree_variants + pixel_variants:
            w, h, dpi = DISPLAYS[n % len(DISPLAYS)]
            n += 1
            # tree variants rewrite text nodes: the dialog is drawn with them (some models draw it blind)
            mm = dataclasses.replace(
                m, dialogs={**m.dialogs, dname: dataclasses.replace(m.dialogs[dname], blind=False)}
            )
            if variant == "dark_behind":  # a dark app, the dialog a light blind card over it
                d = dataclasses.replace(m.dialogs[dname], blind=True, dark=False)
                base = dataclasses.replace(m.screens[m.launch_screen], dark=True)
                mm = dataclasses.replace(
                    m, dialogs={**m.dialogs, dname: d}, screens={**m.screens, m.launch_screen: base}
                )
            dev = VirtualDevice([mm], profile="api33", locale=loc, width=w, height=h, density=dpi)
            frame = dev.frame_for(mm.package, screen=mm.launch_screen, dialog=dname)
            pixels = variant in PIXEL_VARIANTS
            obs = _obs(dev, frame, mm.package, activity, pixels)
            before = None
            if variant == "not_in_tree":  # the app's screen, then the dialog over it that the dump misses
                behind = Frame(frame.width, frame.height, frame.windows[:1], density=frame.density)
                obs = dataclasses.replace(obs, xml=uixml.dump(behind))
                before = dataclasses.replace(obs, png=dev.render_png(behind))
            elif not pixels:
                obs = dataclasses.replace(obs, xml=rewrite(obs.xml, variant, mm.package))
            yield Sample(
                name=f"varied:{app_id}/{dname}/{variant}@{w}x{h}@{dpi}",
                source="varied",
                obs=obs,
                info=dev.info,
                truth=_button_bounds(frame),
                blind=pixels,
                before=before,
                **meta,
            )


def rom_prompts(profiles: tuple[str, ...] = ROM_PROMPT_PROFILES) -> Iterator[Sample]:
    """The ROM profiles' permission prompts, their ids stripped or their window missing from the dump."""
    n = 0
    for prof_name in profiles:
        prof = PROFILES[prof_name]
        for loc in LOCALES:
            lang = loc.split("-")[0]
            host = _host(lang)
            group = ROM_PROMPT_GROUPS[lang]
            for variant in ROM_PROMPT_VARIANTS:
                w, h, dpi = DISPLAYS[n % len(DISPLAYS)]
                n += 1
                dev = VirtualDevice([host], profile=prof_name, locale=loc, width=w, height=h, density=dpi)
                base = dev.frame_for(host.package, screen=host.launch_screen)
                made = prompt_frame(dev, base, prof_name, lang, group, repeat=False)
                assert made is not None, (prof_name, lang, group)
                frame, targets = made
                pixels = variant == "screenshot_only"
                obs = _obs(dev, frame, prof.controller_package, prof.grant_activity, pixels)
                if pixels:  # the dump holds the prompt's window without a word of it (as real_screens 023)
                    top = frame.windows[-1]
                    blank = dataclasses.replace(top, root=dataclasses.replace(top.root, blind=True))
                    dumped = Frame(frame.width, frame.height, [*frame.windows[:-1], blank], density=dpi)
                    obs = dataclasses.replace(obs, xml=uixml.dump(dumped))
                else:
                    obs = dataclasses.replace(obs, xml=rewrite(obs.xml, variant, prof.controller_package))
                yield Sample(
                    name=f"rom_prompt:{group}@{prof_name}/{loc}/{variant}@{w}x{h}@{dpi}",
                    source="varied",
                    obs=obs,
                    info=dev.info,
                    kinds=frozenset({"permission_prompt"}),
                    group=group,
                    targets=targets,
                    truth=_button_bounds(frame) if pixels else {},
                    blind=pixels,
                )


def rewrite(xml: str, variant: str, package: str) -> str:
    """The dump of the sim rewritten as `variant` (see the module docstring)."""
    root = etree.fromstring(xml.encode("utf-8"))
    nodes = list(root.iter("node"))
    if variant in ("obfuscated", "no_ids"):
        for n in nodes:
            rid = n.get("resource-id", "")
            if rid.startswith(f"{package}:id/"):
                n.set("resource-id", "" if variant == "no_ids" else f"{package}:id/{_short(rid)}")
    elif variant == "textviews":
        for n in nodes:
            if n.get("class") == "android.widget.Button":
                n.set("class", "android.widget.TextView")
    elif variant == "clickable_body":
        for n in nodes:
            if n.get("class") == "android.widget.TextView" and len(n.get("text", "")) > 24:
                n.set("clickable", "true")
                n.set("focusable", "true")
                parent = n.getparent()
                scroll = etree.Element("node", dict(n.attrib))
                scroll.set("text", "")
                scroll.set("resource-id", "")
                scroll.set("class", "android.widget.ScrollView")
                scroll.set("clickable", "false")
                scroll.set("scrollable", "true")
                parent.replace(n, scroll)
                scroll.append(n)
    elif variant == "dividers":
        for n in nodes:
            kids = [c for c in n if c.get("class") == "android.widget.Button"]
            for b in kids:
                x1, y1, x2, _ = _bounds(b.get("bounds", ""))
                line = etree.Element("node", dict(b.attrib))
                for k, v in (("text", ""), ("resource-id", ""), ("class", "android.view.View")):
                    line.set(k, v)
                line.set("clickable", "false")
                line.set("focusable", "false")
                line.set("bounds", f"[{x1},{y1}][{x2},{y1 + 1}]")
                b.addprevious(line)
    return etree.tostring(root, encoding="unicode")


def _short(rid: str) -> str:
    """An R8-style short name, stable per original id (ehi, v0, ...)."""
    d = hashlib.sha1(rid.encode()).digest()
    letters = "abcdefghijklmnopqrstuvwxyz"
    return letters[d[0] % 26] + (letters[d[1] % 26] if d[2] % 2 else str(d[1] % 10)) + letters[d[3] % 26]


def _bounds(s: str) -> tuple[int, int, int, int]:
    a, b = s[1:-1].split("][")
    x1, y1 = a.split(",")
    x2, y2 = b.split(",")
    return int(x1), int(y1), int(x2), int(y2)


def observation(sample: Sample) -> Observation:
    return sample.obs
