"""The state abstraction: one id for one screen whatever its clock, counters, list contents and ads;
different ids for different screens and different dialogs. Real captures of a sample app on the
virtual device, read by the real screen reader; the variations are edits of the captured hierarchy."""

from __future__ import annotations

import copy

import pytest
from explore_helpers import device, edited, launch, nodes, parent_of, read, tap, tap_role

from exerciser.explore.state import state_of

PKG = "com.pocketledger.app"


@pytest.fixture(scope="module")
def app():
    """compliant_en walked once: its screens, dialogs and prompts, each as (observation, reading)."""
    dev = device("compliant_en")
    got = {}
    r = launch(dev, PKG)
    got["privacy"] = (dev.observe(), r)
    r = tap_role(dev, "refuse")
    got["second_chance"] = (dev.observe(), r)
    r = tap_role(dev, "agree")
    got["home"] = (dev.observe(), r)
    tap(dev, "Scan receipt")
    r = tap(dev, "Open camera")
    got["camera_prompt"] = (dev.observe(), r)
    tap_role(dev, "allow_foreground")
    dev.key("back")
    dev.wait(0.6)
    tap(dev, "Voice entry")
    r = tap(dev, "Hold to talk")
    got["microphone_prompt"] = (dev.observe(), r)
    tap_role(dev, "allow_foreground")
    dev.key("back")
    dev.wait(0.6)
    got["me"] = (dev.observe(), tap(dev, "Me"))
    got["settings"] = (dev.observe(), tap(dev, "Settings"))
    dev.wait(90)  # a minute and a half later: the status bar clock has moved
    got["settings_later"] = (dev.observe(), read(dev))
    return dev, got


def sid(reading):
    return state_of(reading).id


def test_captures_are_what_they_say(app):
    _, got = app
    assert got["privacy"][1].has("privacy_consent")
    assert got["second_chance"][1].has("consent_second_chance")
    assert got["camera_prompt"][1].kind("permission_prompt").permission_group == "camera"
    assert got["microphone_prompt"][1].kind("permission_prompt").permission_group == "microphone"
    assert got["home"][1].activity.endswith("MainActivity")


def test_same_state_later(app):
    _, got = app
    a, b = got["settings"], got["settings_later"]
    assert a[0].png != b[0].png  # the picture changed (clock) ...
    assert sid(a[1]) == sid(b[1])  # ... the state did not


def test_same_state_across_digits_clock_and_counters(app):
    _, got = app
    obs, r = got["home"]

    def edit(root):
        for n in root.iter("node"):
            t = n.get("text", "")
            if any(ch.isdigit() for ch in t):
                n.set("text", "".join("7" if ch.isdigit() else ch for ch in t) + " 3")

    r2 = _read(app, edited(obs, edit))
    assert [e.label for e in r2.elements if e.label] != [e.label for e in r.elements if e.label]
    assert sid(r2) == sid(r)
    assert state_of(r2).content != state_of(r).content  # the content hash tells the visits apart


def _read(app, obs):
    dev, _ = app
    return read(dev, obs)


def _rows(root):
    rows = nodes(root, ":id/item_recent_1") + nodes(root, ":id/item_recent_2")
    assert len(rows) == 2
    return rows


@pytest.mark.parametrize("extra", [1, 3])
def test_same_state_across_list_length_and_rows(app, extra):
    _, got = app
    obs, r = got["home"]

    def edit(root):
        rows = _rows(root)
        parent = parent_of(root, rows[-1])
        at = list(parent).index(rows[-1]) + 1
        for k in range(extra):
            row = copy.deepcopy(rows[0])
            row.set("resource-id", f"{PKG}:id/item_recent_{3 + k}")
            for i, n in enumerate(row.iter("node")):
                if n.get("text"):
                    n.set("text", f"Coffee #{k} · Café" if i == 1 else f"-$4.{k}0 Yesterday")
            parent.insert(at + k, row)
        # and the rows already there show other purchases
        for n in rows[0].iter("node"):
            if n.get("text"):
                n.set("text", "Groceries · Food")

    r2 = _read(app, edited(obs, edit))
    assert len(r2.elements) > len(r.elements)
    assert sid(r2) == sid(r)


def test_same_state_with_an_ad(app):
    _, got = app
    obs, r = got["home"]

    def edit(root):
        frame = nodes(root, ":id/content_frame")[0]
        ad = copy.deepcopy(frame[0])
        ad.set("resource-id", f"{PKG}:id/ad_banner")
        ad.set("class", "android.widget.FrameLayout")
        ad.set("clickable", "true")
        ad.set("text", "Sponsored: 50% off flights to Lisbon")
        frame.insert(0, ad)

    r2 = _read(app, edited(obs, edit))
    assert any("Sponsored" in (e.label or "") for e in r2.elements)
    assert sid(r2) == sid(r)


def test_a_real_new_control_is_a_new_state(app):
    """What the abstraction keeps: a new tappable control (not a list row, not an ad) changes the id."""
    _, got = app
    obs, r = got["home"]

    def edit(root):
        btn = nodes(root, ":id/btn_voice")[0]
        new = copy.deepcopy(btn)
        new.set("resource-id", f"{PKG}:id/btn_export")
        new.set("text", "Export")
        parent_of(root, btn).append(new)

    assert sid(_read(app, edited(obs, edit))) != sid(r)


def test_screens_and_dialogs_have_distinct_ids(app):
    _, got = app
    names = ["privacy", "second_chance", "home", "camera_prompt", "microphone_prompt", "me", "settings"]
    ids = {n: sid(got[n][1]) for n in names}
    assert len(set(ids.values())) == len(names), ids


def test_prompts_differ_only_by_group(app):
    """The two system prompts share layout and structure; the group asked for tells them apart."""
    _, got = app
    cam, mic = state_of(got["camera_prompt"][1]), state_of(got["microphone_prompt"][1])
    assert cam.structure == mic.structure
    assert cam.kinds != mic.kinds and cam.id != mic.id
