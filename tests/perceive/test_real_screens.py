"""Recognition on screens nobody here drew: `../shared/real_screens` (QQ Music, Weibo, DingTalk, Amap,
Baidu, a Samsung phone, MIUI, Android 11-13), read in place as `exerciser classify` reads them, scored
against the labels their collectors wrote. Skipped when the folder is absent (CI puts it beside the clone).

Targets (issue 15): exact kinds >= 44/46, permission group >= 13/14, target roles >= 47/51.
"""

from __future__ import annotations

import pytest
import real_screens as R

from exerciser.perceive import Reader, ppocr

pytestmark = pytest.mark.skipif(not R.available(), reason=f"no real screens at {R.REAL_DIR}")


@pytest.fixture(scope="module")
def real() -> R.Measure:
    return R.measure(Reader())


def _why(m: R.Measure) -> str:
    return m.score.summary() + "\n" + "\n".join(m.score.wrong)


def test_the_corpus_is_the_labelled_one():
    names = [s.name for s in R.screens()]
    assert len(names) >= 46 and all((R.REAL_DIR / f"{n}.xml").is_file() for n in names)


def test_exact_kinds(real):
    assert real.score.kinds_exact >= 44, _why(real)


def test_permission_groups(real):
    assert real.score.groups >= 13, _why(real)


def test_target_roles(real):
    assert real.score.targets >= 47, _why(real)


def test_ocr_only_screens_are_read_from_the_screenshot(real):
    """Screenshot-only stems carry an empty WebView: whatever was found there came from OCR."""
    # (a launcher is known by its package alone)
    blind = [s for s in R.screens() if s.screenshot_only and s.kinds - {"launcher"}]
    assert blind
    for s in blind:
        r = real.readings[s.name]
        assert r.blind and all(k.source == "ocr" for k in r.kinds), s.name


def test_a_dialog_missing_from_the_dump_is_read_from_the_screenshot(real):
    """001: the dump holds only the empty activity behind QQ Music's consent dialog."""
    r = real.readings["001_qqmusic_privacy_consent_zh_dialog_not_in_tree"]
    assert r.has("privacy_consent") and r.blind
    assert r.target("agree") is not None and r.target("agree").text == "确定"


def test_one_button_consent_refuses_with_its_unlabelled_close(real):
    r = real.readings["000_qqmusic_privacy_consent_zh"]
    close = r.target("close")
    assert r.has("privacy_consent") and close is not None and not close.text
    agree = r.target("agree")
    assert agree is not None and close.bounds[1] < agree.bounds[1]  # the × sits above the button


@pytest.mark.skipif(not ppocr.available(), reason="rapidocr-onnxruntime not installed")
def test_ppocr_reads_more_real_screens_than_tesseract(real):
    """The backend kept is the one that wins on accuracy (bench/bench_perceive.py prints both)."""
    tess = R.measure(Reader(backend="tesseract")).score
    got = real.score
    assert got.kinds_exact + got.groups + got.targets > tess.kinds_exact + tess.groups + tess.targets
