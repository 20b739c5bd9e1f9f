"""PP-OCR text-line recognition (PP-OCRv4 rec, through `rapidocr-onnxruntime`), resident, one thread.

Only the recogniser runs: the reader's own OpenCV segmentation finds the lines (a few ms), and PP-OCR's
detector would cost ≈ 2 s per full screen on one core. On the real screens of `../shared/real_screens`
it reads what tesseract garbles (white-on-blue buttons, 540 px screenshots, mixed Chinese/Latin lines),
see bench/bench_perceive.py. The model ships inside the wheel; without the package the tesseract path
(`ocr.Engines`) is used.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from exerciser.perceive.ocr import OcrText, OcrUnavailable

REC_HEIGHT = 48  # PP-OCRv4 rec input height


def available() -> bool:
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class PPRec:
    """One resident PP-OCRv4 recogniser. Same `read` contract as `ocr.Engines` (dark-on-white uint8)."""

    def __init__(self) -> None:
        try:
            import rapidocr_onnxruntime
            from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
        except ImportError as exc:
            raise OcrUnavailable(f"rapidocr-onnxruntime not installed: {exc}") from None
        root = Path(rapidocr_onnxruntime.__file__).parent
        self._rec = TextRecognizer(
            {
                "model_path": str(root / "models" / "ch_PP-OCRv4_rec_infer.onnx"),
                # inputs at least 2 heights wide (the package pads every crop to 320 px, 6.7): a short
                # label costs a third less, read the same (real screens, bench_perceive)
                "rec_img_shape": [3, REC_HEIGHT, 2 * REC_HEIGHT],
                "rec_batch_num": 6,
                # one core: a reader runs beside other apps' readers (runner --jobs, one per core)
                "intra_op_num_threads": 1,
                "inter_op_num_threads": 1,
                "use_cuda": False,
                "use_dml": False,
            }
        )
        self._lock = threading.Lock()
        self.calls = 0

    def read(self, gray: np.ndarray, psm: int = 7, script: str | None = None) -> OcrText:
        """Text of one crop. A wrapped crop (several rows) is cut at its blank rows and read row by row."""
        rows = _row_crops(gray) if psm != 7 else [gray]
        texts, confs = [], []
        for g in rows:
            text, conf = self._rec_one(g)
            text = self._spaced(g, text)
            if text:
                texts.append(text)
                confs.append(conf)
        return OcrText("\n".join(texts), 100.0 * (sum(confs) / len(confs)) if confs else 0.0)

    def _rec_one(self, g: np.ndarray) -> tuple[str, float]:
        bgr = cv2.cvtColor(np.ascontiguousarray(g, dtype=np.uint8), cv2.COLOR_GRAY2BGR)
        with self._lock:
            self.calls += 1
            res, _ = self._rec([bgr])
        text, conf = res[0]
        return text.strip(), float(conf)

    def _spaced(self, g: np.ndarray, text: str) -> str:
        """PP-OCR's recogniser often drops the space between Latin words, the more so the smaller the text
        (a 540 px phone's "Go to" reads "Goto"). When the row shows more word gaps than the text has
        spaces, the words are read one by one; their letters must be the same, only spaces are added."""
        if not text or not text.isascii() or not any(ch.isalpha() for ch in text):
            return text
        cuts = word_cuts(g)
        if len(cuts) <= text.count(" "):
            return text
        edges = [0, *cuts, g.shape[1]]
        words = [self._rec_one(g[:, a:b])[0] for a, b in zip(edges, edges[1:], strict=False) if b - a > 2]
        joined = " ".join(w for w in words if w)
        return joined if joined.replace(" ", "") == text.replace(" ", "") else text


WORD_GAP = 0.25  # a blank column run wider than this share of the ink height separates two words


def word_cuts(gray: np.ndarray) -> list[int]:
    """Columns in the middle of the word gaps of one dark-on-white text row."""
    dark = gray < 128
    rows = np.flatnonzero(dark.any(axis=1))
    cols = dark.any(axis=0).astype(np.int8)
    if rows.size == 0:
        return []
    h = rows[-1] - rows[0] + 1
    d = np.diff(np.concatenate(([0], cols, [0])))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    gaps = zip(ends[:-1].tolist(), starts[1:].tolist(), strict=True)
    return [(e + s) // 2 for e, s in gaps if s - e > WORD_GAP * h]


def _row_crops(gray: np.ndarray) -> list[np.ndarray]:
    """The text rows of a dark-on-white crop, split at fully blank rows (with a little margin)."""
    dark = (gray < 128).any(axis=1).astype(np.int8)
    d = np.diff(np.concatenate(([0], dark, [0])))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    if len(starts) <= 1:
        return [gray]
    h = max(e - s for s, e in zip(starts, ends, strict=True))
    runs: list[list[int]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if runs and s - runs[-1][1] < 0.12 * h:  # a gap inside one glyph row
            runs[-1][1] = e
        else:
            runs.append([s, e])
    pad = max(4, h // 4)
    return [gray[max(0, s - pad) : min(gray.shape[0], e + pad)] for s, e in runs]


_ENGINE: PPRec | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> PPRec:
    """The process-wide resident recogniser (loading the model takes ≈ 0.2 s)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = PPRec()
        return _ENGINE
