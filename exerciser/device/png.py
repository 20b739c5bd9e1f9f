"""Screenshots of the on-device server (JPEG) as the PNG the contract asks for, cheaply.

`ScreenshotPng` keeps one device's recent conversions: a screen shown again (back on a known screen, the
same dialog) is served from the cache, and a new screen re-deflates only the horizontal bands that changed
since the last one (the virtual device's own band-splicing `PngEncoder`). A full 1080x2340 conversion
costs ~90 ms (JPEG decode + deflate of 7.5 MB); a repeat costs a hash, a clock tick a band.
"""

from __future__ import annotations

import hashlib
import struct
import threading
import zlib
from collections import OrderedDict

import numpy as np


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def encode_rgb(rgb: np.ndarray, level: int = 1) -> bytes:
    """PNG (8-bit RGB) of an HxWx3 uint8 array in RGB order."""
    h, w, _ = rgb.shape
    raw = np.empty((h, w * 3 + 1), np.uint8)
    raw[:, 0] = 0  # filter type None on every row
    raw[:, 1:] = rgb.reshape(h, w * 3)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(memoryview(raw).cast("B"), level)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def decode_jpeg(jpeg: bytes) -> np.ndarray:
    """HxWx3 RGB of a JPEG; ValueError when it is not one."""
    import cv2

    rgb_flag = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV 4.10+: no BGR pass to swap
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR if rgb_flag is None else rgb_flag)
    if img is None:
        raise ValueError("not a JPEG image")
    return img if rgb_flag is not None else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def jpeg_to_png(jpeg: bytes) -> bytes:
    """Decode a JPEG (the uiautomator server's screenshot) and write it as PNG."""
    return encode_rgb(decode_jpeg(jpeg))


class ScreenshotPng:
    """JPEG -> PNG for one device's screenshots, with a cache of recent screens (thread-safe)."""

    def __init__(self, keep: int = 8) -> None:
        from exerciser.sim.render import PngEncoder

        self._encoder = PngEncoder()
        self._cache: OrderedDict[bytes, bytes] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def convert(self, jpeg: bytes) -> bytes:
        key = hashlib.blake2b(jpeg, digest_size=16).digest()
        with self._lock:
            png = self._cache.get(key)
            if png is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return png
        png = self._encoder.encode(decode_jpeg(jpeg))
        with self._lock:
            self.misses += 1
            self._cache[key] = png
            while len(self._cache) > self._keep:
                self._cache.popitem(last=False)
        return png
