"""The video's band decoder: the project's own PNGs (sim/render.PngEncoder) reduced band by band equal
OpenCV's full decode and INTER_AREA; anything else is left to OpenCV."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from exerciser.evidence.pngbands import BandDecoder
from exerciser.evidence.video import _load, video_geometry
from exerciser.sim.render import PngEncoder


def _screen(w: int, h: int, seed: int) -> Image.Image:
    """A phone-like screen: flat bars, text-like strokes, a gradient (nothing a codec finds trivial)."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (w, h), (250, 250, 250))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, w, h // 20], fill=(30, 60, 200))
    for i in range(40):
        y = h // 10 + i * h // 48
        x = int(rng.integers(10, w // 3))
        d.text((x, y), f"line {seed}-{i} Agree / Refuse", fill=(20, 20, 20))
        d.line([x, y + 14, x + int(rng.integers(50, w // 2)), y + 14], fill=(200, 30, 60), width=2)
    arr = np.asarray(img).copy()
    arr[-h // 8 :] = np.linspace(0, 255, w, dtype=np.uint8)[None, :, None]
    return Image.fromarray(arr)


def _reference(path: Path, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(cv2.imread(str(path)), size, interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize(
    "w,h",
    [
        (1080, 2340),  # the usual profile: a 3x reduction whose factor divides the 78-row bands
        (720, 1600),  # 2x, the last band shorter
        (1440, 3200),  # 4x does not divide 78: narrowed bands, stacked, then reduced in height
        (1000, 2000),  # not an integer ratio at all
    ],
)
def test_banded_png_equals_a_full_decode(tmp_path: Path, w: int, h: int) -> None:
    p = tmp_path / "s.png"
    p.write_bytes(PngEncoder().encode(_screen(w, h, 1)))
    size, _ = video_geometry(p, 360)
    got = BandDecoder(size).load(p)
    assert got is not None and got.shape == (size[1], size[0], 3)
    diff = np.abs(got.astype(int) - _reference(p, size))
    assert diff.max() <= 1 and diff.mean() < 0.2


def test_a_band_seen_before_is_not_inflated_again(tmp_path: Path) -> None:
    enc = PngEncoder()
    first = _screen(1080, 2340, 1)
    second = np.asarray(first).copy()
    second[1000:1100, 100:900] = (200, 30, 60)  # a dialog button: rows 1000-1099, bands 12 to 14 of 78 rows
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(enc.encode(first))
    b.write_bytes(enc.encode(Image.fromarray(second)))
    dec = BandDecoder((360, 780))
    dec.load(a)
    inflated, reused = dec.inflated, dec.reused
    assert inflated + reused == 30 and inflated > 20  # blank bands repeat within a screen too
    got = dec.load(b)
    assert (dec.inflated - inflated, dec.reused - reused) == (3, 27)
    assert got is not None and np.abs(got.astype(int) - _reference(b, (360, 780))).max() <= 1


def test_other_pngs_are_left_to_opencv(tmp_path: Path) -> None:
    img = np.asarray(_screen(1080, 2340, 2))[:, :, ::-1]
    other = tmp_path / "opencv.png"  # libpng's own filters and one zlib stream
    cv2.imwrite(str(other), img)
    dec = BandDecoder((360, 780))
    assert dec.load(other) is None
    assert dec.load(tmp_path / "missing.png") is None
    broken = tmp_path / "broken.png"
    data = PngEncoder().encode(_screen(1080, 2340, 3))
    broken.write_bytes(data[: len(data) // 2] + bytes(64) + data[len(data) // 2 :])
    assert dec.load(broken) is None
    landscape = tmp_path / "landscape.png"  # another aspect than the video's: letterboxed by _load
    landscape.write_bytes(PngEncoder().encode(_screen(2340, 1080, 4)))
    assert dec.load(landscape) is None
    # and the frame the video gets is still right in each case
    assert np.abs(_load(other, (360, 780), dec).astype(int) - _reference(other, (360, 780))).mean() < 1
    assert (_load(tmp_path / "missing.png", (360, 780), dec) == 96).all()
    boxed = _load(landscape, (360, 780), dec)
    assert boxed.shape == (780, 360, 3) and (boxed[:100] == 0).all() and boxed[390].any()
