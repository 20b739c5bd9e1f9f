"""Fast PNG writing for screenshots: no row filters, zlib level 1 (about 2.5x faster than libpng's
default on a 1080x2340 screen; zlib releases the GIL, so several devices encode in parallel)."""

from __future__ import annotations

import struct
import zlib

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


def jpeg_to_png(jpeg: bytes) -> bytes:
    """Decode a JPEG (the uiautomator server's screenshot) and write it as PNG."""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("not a JPEG image")
    return encode_rgb(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
