"""Reduced decoding of the project's own screenshots, one horizontal band at a time, each band once.

Every screenshot of the virtual device and of a phone (through `exerciser.device.png`) is written by
`exerciser.sim.render.PngEncoder`: no row filter, and the image data split into bands of rows, each an
independent raw-deflate segment ended by a full flush (an empty stored block, 00 00 FF FF). Screens of
a run share most of their bands (status bar, app bar, background, a list scrolled by a few rows), so
the video decodes each distinct band once, reduces it to the frame's width and keeps it: a new screen
costs the inflating of the bands that changed (a whole 1080x2340 PNG inflates 7.5 MB; a run of 44
distinct screens had 312 distinct bands out of 1364).

Anything else (another PNG writer, row filters, a band split we do not recognise) returns None and
the caller decodes the file as usual: this is a shortcut, never a second PNG reader to trust.
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

PNG_SIG = b"\x89PNG\r\n\x1a\n"
FLUSH = b"\x00\x00\xff\xff"  # what a full flush leaves between two bands
FINAL = b"\x03\x00"  # PngEncoder's empty final block, before the Adler-32
CACHE_BYTES = 32 << 20  # reduced bands kept (~30 KB each at 360 px wide)


def _chunks(data: bytes) -> tuple[bytes, bytes] | None:
    """(IHDR payload, joined IDAT payloads) of a PNG, None when it is not one."""
    if data[:8] != PNG_SIG:
        return None
    ihdr, idat, i = b"", [], 8
    while i + 8 <= len(data):
        n, tag = int.from_bytes(data[i : i + 4], "big"), data[i + 4 : i + 8]
        body = data[i + 8 : i + 8 + n]
        if tag == b"IHDR":
            ihdr = body
        elif tag == b"IDAT":
            idat.append(body)
        elif tag == b"IEND":
            break
        i += 12 + n
    return (ihdr, b"".join(idat)) if len(ihdr) == 13 and idat else None


class _Uneven(Exception):
    """A band whose rows the height factor does not divide."""


class BandDecoder:
    """Screenshots as BGR frames of `size` (width, height), from reduced bands kept across screens."""

    def __init__(self, size: tuple[int, int], cache_bytes: int = CACHE_BYTES):
        self.size = size
        self.cache_bytes = cache_bytes
        # (segment, width, height factor) -> its rows reduced (RGB)
        self._bands: OrderedDict[tuple[bytes, int, int], np.ndarray] = OrderedDict()
        self._unsplit: set[tuple[int, int]] = set()  # reductions whose factor does not divide the bands
        self._held = 0
        self._lock = threading.Lock()  # make_video decodes in a small thread pool
        self.inflated = 0  # bands decoded (the rest came from the cache)
        self.reused = 0

    def load(self, path: Path) -> np.ndarray | None:
        try:
            data = Path(path).read_bytes()
        except OSError:
            return None
        parts = _chunks(data)
        if parts is None:
            return None
        ihdr, z = parts
        w, h = int.from_bytes(ihdr[:4], "big"), int.from_bytes(ihdr[4:8], "big")
        depth, colour, interlace = ihdr[8], ihdr[9], ihdr[12]
        ow, oh = self.size
        # 8-bit RGB, not interlaced, the frame's aspect (else the caller letterboxes), a zlib stream
        # without preset dictionary ending in PngEncoder's final block
        if (depth, colour, interlace) != (8, 2, 0) or w < ow or max(2, round(h * ow / w) // 2 * 2) != oh:
            return None
        if len(z) < 8 or z[0] & 0x0F != 8 or z[1] & 0x20 or z[-6:-4] != FINAL:
            return None
        segments = z[2:-6].split(FLUSH)
        if segments and not segments[-1]:
            segments.pop()
        # an integer reduction whose factor divides every band: each band is reduced on its own (the
        # boxes of INTER_AREA never straddle two bands); else bands are narrowed, then stacked and
        # reduced in height
        fy = h // oh if w % ow == 0 and h % oh == 0 and (w // ow, h // oh) not in self._unsplit else 1
        try:
            img = self._stack(segments, w, ow, fy)
        except _Uneven:
            self._unsplit.add((w // ow, fy))
            fy = 1
            img = self._stack(segments, w, ow, fy)
        if img is None or img.shape[0] * fy != h:
            return None
        if img.shape[0] != oh:
            img = cv2.resize(img, (ow, oh), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(img, cv2.COLOR_RGB2BGR)

    def _stack(self, segments: list[bytes], w: int, ow: int, fy: int) -> np.ndarray | None:
        bands = []
        for seg in segments:
            band = self._band(seg, w, ow, fy)
            if band is None:
                return None
            bands.append(band)
        return np.concatenate(bands) if len(bands) > 1 else bands[0] if bands else None

    def _band(self, seg: bytes, w: int, ow: int, fy: int) -> np.ndarray | None:
        """One segment's rows narrowed to `ow` (and reduced `fy` times in height), from the cache if seen."""
        key = (seg, ow, fy)
        with self._lock:
            hit = self._bands.get(key)
            if hit is not None:
                self._bands.move_to_end(key)
                self.reused += 1
                return hit
        stride = 3 * w + 1
        d = zlib.decompressobj(-15)
        try:
            raw = d.decompress(seg + FLUSH)
        except zlib.error:
            return None  # not a band boundary after all
        n = len(raw) // stride
        if n == 0 or len(raw) % stride or d.unconsumed_tail or d.eof:
            return None
        if n % fy:
            raise _Uneven
        arr = np.frombuffer(raw, np.uint8).reshape(n, stride)
        if arr[:, 0].any():  # a row filter: not PngEncoder's output
            return None
        px = arr[:, 1:].reshape(n, w, 3)
        small = cv2.resize(px, (ow, n // fy), interpolation=cv2.INTER_AREA)
        with self._lock:
            self.inflated += 1
            self._bands[key] = small
            self._held += small.nbytes
            while self._held > self.cache_bytes and len(self._bands) > 1:
                self._held -= self._bands.popitem(last=False)[1].nbytes
        return small
