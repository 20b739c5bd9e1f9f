"""Tesseract, resident: one `tesserocr` engine per language set, loaded once per process.

A pytesseract call starts a process and loads the models each time (≈ 0.24 s here); the resident engine
reads a short button label in a few milliseconds. `pytesseract` remains the fallback when the binding is
missing. `OMP_THREAD_LIMIT=1` is set before tesseract loads: with OpenMP threads it was 5× slower on this
machine for the same output (../shared/android-facts.md §9).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

TESSDATA_DIRS = (
    os.environ.get("TESSDATA_PREFIX", ""),
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)
PSM_AUTO = 3  # page layout analysis (a whole screenshot: what the benchmark compares against)
PSM_BLOCK = 6  # a uniform block of text (a wrapped button label)
PSM_LINE = 7  # one text line
WORD_GAP = 0.3  # a gap between two letters wider than this share of the line height separates words


class OcrUnavailable(RuntimeError):
    """Neither tesserocr nor the tesseract binary with the wanted languages is available."""


def tessdata_dir(lang: str) -> str:
    for d in TESSDATA_DIRS:
        if d and all((Path(d) / f"{part}.traineddata").is_file() for part in lang.split("+")):
            return d
    raise OcrUnavailable(
        f"no tessdata directory with {lang} (looked in {', '.join(filter(None, TESSDATA_DIRS))})"
    )


@dataclass(frozen=True)
class OcrText:
    text: str
    confidence: float  # 0..100, tesseract's mean word confidence


class Engine:
    """One resident tesseract. Not re-entrant: calls are serialised by a lock."""

    def __init__(self, lang: str = "chi_sim+eng"):
        self.lang = lang
        self.calls = 0
        self._lock = threading.Lock()
        self._api = None
        self.backend = "tesserocr"
        path = tessdata_dir(lang)
        try:
            import tesserocr

            # LSTM only; no inverted second pass (crops are already dark-on-white).
            self._api = tesserocr.PyTessBaseAPI(path=path, lang=lang, oem=tesserocr.OEM.LSTM_ONLY)
            self._api.SetVariable("tessedit_do_invert", "0")
            self._psm = {
                PSM_AUTO: tesserocr.PSM.AUTO,
                PSM_BLOCK: tesserocr.PSM.SINGLE_BLOCK,
                PSM_LINE: tesserocr.PSM.SINGLE_LINE,
            }
        except ImportError:
            import pytesseract

            self.backend = "pytesseract"
            self._pyt = pytesseract
            self._path = path

    def read(self, gray: np.ndarray, psm: int = PSM_LINE) -> OcrText:
        """Text of a dark-on-white uint8 image."""
        gray = np.ascontiguousarray(gray, dtype=np.uint8)
        h, w = gray.shape[:2]
        with self._lock:
            self.calls += 1
            if self._api is not None:
                self._api.SetPageSegMode(self._psm[psm])
                self._api.SetImageBytes(gray.tobytes(), w, h, 1, w)
                self._api.Recognize()
                text = self._text()
                conf = float(self._api.MeanTextConf())
                return OcrText(text.strip(), conf)
            from PIL import Image

            img = Image.fromarray(gray)
            cfg = f"--psm {psm} --tessdata-dir {self._path} -c tessedit_do_invert=0"
            text = self._pyt.image_to_string(img, lang=self.lang, config=cfg)
            return OcrText(text.strip(), 0.0)

    def _text(self) -> str:
        """The recognised text, symbol by symbol, with the word spaces the image shows.

        The eng LSTM model sometimes joins two words ("Turn on" → "Turnon") although the symbol boxes it
        reports are far apart; a gap between two Latin symbols wider than `WORD_GAP` of the line height
        is a space.
        """
        import tesserocr

        it = self._api.GetIterator()
        if it is None:
            return ""
        sym, word, line = tesserocr.RIL.SYMBOL, tesserocr.RIL.WORD, tesserocr.RIL.TEXTLINE
        out: list[str] = []
        prev: tuple[str, int] | None = None  # last symbol and its right edge
        line_h = 0
        while True:
            try:
                ch = it.GetUTF8Text(sym)
            except RuntimeError:  # "No text returned": an empty symbol / result
                ch = ""
            box = it.BoundingBox(sym)
            if ch and box:
                if it.IsAtBeginningOf(line):
                    lb = it.BoundingBox(line)
                    line_h = (lb[3] - lb[1]) if lb else box[3] - box[1]
                    if out:
                        out.append("\n")
                elif it.IsAtBeginningOf(word):
                    out.append(" " * min(1, it.BlanksBeforeWord()))  # 0 between ideographs
                elif prev and _latin(prev[0]) and _latin(ch) and box[0] - prev[1] > WORD_GAP * line_h:
                    out.append(" ")
                out.append(ch)
                prev = (ch, box[2])
            if not it.Next(sym):
                break
        return "".join(out)

    def close(self) -> None:
        if self._api is not None:
            self._api.End()
            self._api = None


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def engine(lang: str = "chi_sim+eng") -> Engine:
    """The process-wide resident engine for `lang`."""
    with _ENGINES_LOCK:
        e = _ENGINES.get(lang)
        if e is None:
            e = _ENGINES[lang] = Engine(lang)
        return e


# a line break too: a wrapped label (two lines of Latin) goes to eng like a one-line one
_LATIN_ONLY = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?'\"&-/()+%@#*’‘“”\n"
)


class Engines:
    """The engines one reader uses. `lang="auto"` (default): chi_sim and eng both resident, chosen by script.

    chi_sim reads Chinese and passable Latin; eng reads Latin better and about twice as fast. A segment with
    no script hint is read with chi_sim and, when the result is Latin only, read again with eng (a button
    label costs a few ms); once the buttons tell the dialog's script, its text lines go straight to the
    right engine. Any other `lang` (e.g. "chi_sim+eng") uses that one engine for everything.
    """

    def __init__(self, lang: str = "auto"):
        self.lang = lang
        if lang == "auto":
            self.cjk = engine("chi_sim")
            self.latin = engine("eng")
        else:
            self.cjk = self.latin = engine(lang)

    @property
    def calls(self) -> int:
        return self.cjk.calls + (self.latin.calls if self.latin is not self.cjk else 0)

    def read(self, gray: np.ndarray, psm: int = PSM_LINE, script: str | None = None) -> OcrText:
        if script == "latin":
            return self.latin.read(gray, psm)
        out = self.cjk.read(gray, psm)
        if script is None and self.latin is not self.cjk and out.text and set(out.text) <= _LATIN_ONLY:
            return self.latin.read(gray, psm)
        return out


def _latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def script_of(texts: list[str]) -> str | None:
    """ "cjk" when any text has an ideograph, "latin" when there are letters but none, else None."""
    joined = "".join(texts)
    if any("\u3400" <= ch <= "\u9fff" for ch in joined):
        return "cjk"
    if any(ch.isalpha() for ch in joined):
        return "latin"
    return None
