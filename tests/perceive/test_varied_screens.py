"""The generated corpus of tests/perceive/varied.py: the labelled dialogs drawn on phones from 540 px at
240 dpi to 1440 px at 560 dpi and rewritten as real apps and dumps differ (obfuscated or no ids, TextView
buttons, clickable body text in a nested ScrollView, 1-2 px dividers, a dump without the dialog window, a
light card over a dark app)."""

from __future__ import annotations

import dataclasses

import pytest
import scoring
import varied

from exerciser.perceive import Reader


def _read(samples) -> list:
    reader = Reader()
    out = []
    for s in samples:
        if s.before is not None:
            reader.read(s.before, s.info)  # the app's screen just before the dialog appeared
        out.append((s, reader.read(s.obs, s.info)))
    return out


@pytest.fixture(scope="module")
def readings():
    return _read(varied.samples())


def test_there_are_at_least_a_hundred(readings):
    assert len(readings) >= 100
    assert {s.name.split("/")[-1].split("@")[0] for s, _ in readings} == set(
        varied.TREE_VARIANTS + varied.PIXEL_VARIANTS
    )
    assert len({s.info.width for s, _ in readings}) >= 5
    for width in (540, 720):  # the cheap phones: every variety, the OCR-only screens included
        at = [s for s, _ in readings if s.info.width == width]
        assert len(at) >= 20 and {s.name.split("/")[-1].split("@")[0] for s in at} == set(
            varied.TREE_VARIANTS + varied.PIXEL_VARIANTS
        )
        assert sum(1 for s in at if s.blind) >= 5


def test_every_variant_reads_like_the_original(readings):
    wrong = [f"{s.name}: {'; '.join(p)}" for s, r in readings if (p := scoring.problems(s, r))]
    assert not wrong, "\n".join(wrong)


def test_a_dialog_missing_from_the_dump_is_read_from_the_screenshot(readings):
    hidden = [(s, r) for s, r in readings if s.name.split("/")[-1].startswith("not_in_tree")]
    assert hidden and all(r.blind and r.kinds for _, r in hidden)


def test_an_unchanged_screen_under_an_unchanged_dump_is_not_decoded():
    """The hidden-dialog check costs nothing while the app's screen stays as it was."""
    s = next(s for s in varied.samples(tree_variants=(), pixel_variants=("not_in_tree",)))
    reader = Reader()
    reader.read(s.before, s.info)
    r = reader.read(s.before, s.info)
    assert not r.blind and not r.kinds and reader.stats["ocr_runs"] == 0


@pytest.fixture(scope="module")
def rom_readings():
    return _read(varied.rom_prompts())


def test_rom_prompts_are_read_without_their_ids_and_from_the_screenshot(rom_readings):
    """ColorOS, OriginOS and One UI prompts: by their labels alone, every choice; from the screenshot alone,
    the prompt, its group and every choice but AOSP 12's while-using one (a wide text-only button high in
    the card, read as a body line: AOSP's own layout, not the ROMs'; api33 reads it the same way)."""
    assert {s.name.split("@")[1].split("/")[0] for s, _ in rom_readings} == set(varied.ROM_PROMPT_PROFILES)
    wrong = []
    for s, r in rom_readings:
        if s.blind:
            told = {role: label for role, label in s.targets.items() if role != "allow_foreground"}
            p = scoring.problems(dataclasses.replace(s, targets=told), r)
            p += [] if r.blind else ["not read from the screenshot"]
        else:
            p = scoring.problems(s, r)
        if p:
            wrong.append(f"{s.name}: {'; '.join(p)}")
    assert not wrong, "\n".join(wrong)
