"""`Reader`: one observation in, one `ScreenReading` out. Hierarchy first; OCR only for blind screens.

OCR runs when the hierarchy cannot tell what is on screen: no text at all, a blind surface (WebView,
Flutter, Unity) with nothing recognised, or a dialog window without text nodes. It reads the dialog card
(from the hierarchy's dialog window, else found by OpenCV) or, without a card, the blind region, one
segment at a time in priority order: buttons, then the title, then body lines; it stops as soon as more
text could not change the reading (`_settled`: a second chance or a wall is known, a long first-run consent
dialog named its policy, a rationale its group with a way back and a settings button; a deletion dialog is
read to the end). Results are cached by image hash, so an unchanged screen is never OCR'd twice.

Where the time goes (bench/bench_perceive.py, one core): tesseract's LSTM costs ≈ 2.6 ms per Chinese and
≈ 0.7 ms per Latin character, whatever the crop's scale (it rescales every line to the model's height), plus
≈ 1.5 ms per call; decoding the PNG ≈ 11 ms; segmenting, crops and hashing a few ms. Reading fewer
characters is what saves time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from exerciser.device.contract import DeviceInfo, Observation
from exerciser.perceive import hierarchy, ppocr, vision
from exerciser.perceive.lexicon import classify_label
from exerciser.perceive.ocr import PSM_BLOCK, PSM_LINE, Engines, OcrUnavailable, script_of
from exerciser.perceive.reading import Bounds, Element, ScreenReading
from exerciser.perceive.recognise import Result, View, page_title, rationale_settled, recognise
from exerciser.perceive.text import compact, has_cjk, is_prose, normalise, text_len

# Kinds that settle a screen without OCR even when part of it is blind.
_SETTLED = frozenset({"permission_prompt", "crash_dialog", "launcher"})
# Kinds whose dialogs OCR reads to the end: the obstacles they name are evidence.
_DELETION = frozenset({"deletion_entry", "deletion_confirm", "deletion_obstacle"})
PAGE_ROW_CJK = 3.0  # text_len of the longest row label on a blind page: 6 ideographs...
PAGE_ROW_WORDS = 6.0  # ... or 6 Latin words
PAGE_TITLE_BAND = 0.12  # share of the screen height: a blind page's title sits in the toolbar band
TAB_BAR = 0.06  # share of a blind page's height at its bottom where a tab bar's labels sit
TINT = 60  # HSV saturation of a label's ink above which it is coloured (the current tab), not grey
DEFAULT_LANG = "auto"  # chi_sim and eng resident, chosen per segment by script (ocr.Engines)


@dataclass
class OcrOutcome:
    elements: list[Element]
    card: vision.Card | None
    segments: int  # segments found
    read: int  # segments OCR'd
    ms: float


class Reader:
    """Reads screens; keeps the resident OCR engine and an OCR cache keyed by image hash.

    `ocr=False` gives hierarchy-only readings (fast, and enough for every screen with text nodes).
    `max_segments` bounds the OCR work on a blind full page. `settle=False` reads every segment of a dialog
    instead of stopping once the reading is settled (a full transcript; tests compare the two).
    """

    def __init__(
        self,
        ocr: bool = True,
        lang: str = DEFAULT_LANG,
        cache_size: int = 256,
        max_segments: int = 40,
        settle: bool = True,
        backend: str = "auto",
    ):
        self.ocr = ocr
        # "ppocr": PP-OCR recognition on the segments (more accurate on real screenshots); "tesseract";
        # "auto": PP-OCR when rapidocr-onnxruntime is installed
        self.backend = ("ppocr" if ppocr.available() else "tesseract") if backend == "auto" else backend
        self.settle = settle
        self.lang = lang
        self.cache_size = cache_size
        self.max_segments = max_segments
        self._cache: OrderedDict[tuple, OcrOutcome] = OrderedDict()
        self._lock = threading.Lock()
        self.stats = {"reads": 0, "ocr_runs": 0, "ocr_cache_hits": 0, "ocr_segments": 0}
        self._engine: Engines | ppocr.PPRec | None = None
        self._last: dict[str, tuple[bytes, bytes]] = {}  # package -> digests of its last dump, screenshot
        self._cards: dict[bytes, bool] = {}  # screenshot digest -> a dialog card is drawn on it
        self.ocr_error: str | None = None

    # --- public ---------------------------------------------------------------------------------
    def read(self, obs: Observation, info: DeviceInfo | None = None) -> ScreenReading:
        self.stats["reads"] += 1
        screen = (info.width, info.height) if info else (hierarchy.png_size(obs.png) or (0, 0))
        tree = hierarchy.parse(obs.xml, screen if screen != (0, 0) else None)
        view = View(
            elements=tree.elements,
            owner=tree.owner,
            package=obs.package,
            window_package=tree.package,
            activity=obs.activity,
            screen=tree.screen,
            dialog_bounds=tree.dialog_bounds,
            source="hierarchy",
            info=info,
        )
        res = recognise(view)
        reading = ScreenReading(
            package=obs.package,
            activity=obs.activity,
            elements=list(tree.elements),
            kinds=list(res.kinds),
            targets=list(res.targets),
            dialog_bounds=tree.dialog_bounds,
            screen=tree.screen,
        )
        if self.ocr and obs.png and (self._needs_ocr(tree, res) or self._hidden_dialog(obs, tree, res)):
            out = self._ocr(obs, tree, info)
            if out is not None and out.elements:
                self._merge(reading, out, obs, tree, info)
        if (
            reading.blind
            and tree.dialog_bounds is None  # the hierarchy's word (OCR may take a filled button for a card)
            and not any(k.kind in _DIALOGS for k in reading.kinds)
        ):
            _surface_may_scroll(reading)
        return reading

    @property
    def engine_calls(self) -> int:
        """Tesseract calls made so far by this reader's (process-wide, resident) engines."""
        return self._engine.calls if self._engine is not None else 0

    def clear_cache(self) -> None:
        """Forget every OCR result (benchmarks time cold reads with it)."""
        with self._lock:
            self._cache.clear()

    # --- decisions ------------------------------------------------------------------------------
    @staticmethod
    def _needs_ocr(tree: hierarchy.Tree, res: Result) -> bool:
        if any(k.kind in _SETTLED for k in res.kinds):
            return False
        if not tree.has_text:
            return True
        if tree.blind_regions and not res.kinds:
            return True
        if tree.dialog_bounds is not None:
            d = tree.dialog_bounds
            labelled = [
                e
                for e in tree.elements
                if e.label
                and e.bounds[0] >= d[0]
                and e.bounds[1] >= d[1]
                and e.bounds[2] <= d[2]
                and e.bounds[3] <= d[3]
            ]
            if not labelled:
                return True
        return False

    def _hidden_dialog(self, obs: Observation, tree: hierarchy.Tree, res: Result) -> bool:
        """A dialog drawn on screen that the dump does not show (real dumps may hold only the activity
        behind it): the dump is the one of the previous observation of this app while the screenshot
        changed, and the screenshot shows a card over a dimmed backdrop. Comparing digests costs well
        under a millisecond; only a changed screenshot under an unchanged dump is decoded."""
        if res.kinds or tree.dialog_bounds is not None or tree.blind_regions:
            return False
        xd, pd = _digest(obs.xml.encode("utf-8")), _digest(obs.png)
        with self._lock:
            prev = self._last.get(obs.package)
            self._last[obs.package] = (xd, pd)
            known = self._cards.get(pd)
        if prev is None or prev[0] != xd or prev[1] == pd:
            return False
        if known is None:
            try:
                known = vision.find_card(vision.decode(obs.png)) is not None
            except ValueError:
                known = False
            with self._lock:
                self._cards[pd] = known
                while len(self._cards) > self.cache_size:
                    self._cards.pop(next(iter(self._cards)))
        return known

    # --- OCR ------------------------------------------------------------------------------------
    def _get_engine(self) -> Engines | ppocr.PPRec | None:
        if self._engine is None and self.ocr_error is None:
            try:
                self._engine = ppocr.engine() if self.backend == "ppocr" else Engines(self.lang)
            except OcrUnavailable as exc:
                self.ocr_error = str(exc)
        return self._engine

    def _ocr(self, obs: Observation, tree: hierarchy.Tree, info: DeviceInfo | None) -> OcrOutcome | None:
        """OCR the screen, unless it was read before. Two keys: the PNG bytes (free), and the pixels the
        reading depends on: the dialog window's, or all between the status and navigation bars (a new
        clock time does not make a new screen)."""
        hint = self._hint(tree)
        ctx = (hint, self.lang, self.backend, obs.package)
        key = ("png", _digest(obs.png), *ctx)
        hit = self._cached(key)
        if hit is not None:
            return hit
        eng = self._get_engine()
        if eng is None:
            return None
        try:
            img = vision.decode(obs.png)
        except ValueError:
            return None  # not an image: nothing to read
        region = hint[1] if hint is not None and hint[0] == "dialog" else None
        content = ("pixels", _digest(vision.content_rows(img, region)), *ctx)
        hit = self._cached(content)
        if hit is None:
            hit = self.ocr_image(img, hint, eng, obs=obs, tree=tree, info=info)
            with self._lock:
                self.stats["ocr_runs"] += 1
                self.stats["ocr_segments"] += hit.read
        self._store(content, hit)
        self._store(key, hit)
        return hit

    def _cached(self, key: tuple) -> OcrOutcome | None:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                self.stats["ocr_cache_hits"] += 1
            return hit

    def _store(self, key: tuple, out: OcrOutcome) -> None:
        with self._lock:
            self._cache[key] = out
            self._cache.move_to_end(key)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    @staticmethod
    def _hint(tree: hierarchy.Tree) -> tuple[str, Bounds] | None:
        """Where to read, as far as the hierarchy knows: its dialog window, or its blind surfaces."""
        if tree.dialog_bounds is not None:
            return ("dialog", tree.dialog_bounds)
        if tree.blind_regions:
            b = tree.blind_regions
            union = (min(r[0] for r in b), min(r[1] for r in b), max(r[2] for r in b), max(r[3] for r in b))
            return ("region", union)
        return None

    def ocr_image(
        self,
        img: np.ndarray,
        hint: tuple[str, Bounds] | None,
        eng: Engines | ppocr.PPRec,
        obs: Observation | None = None,
        tree: hierarchy.Tree | None = None,
        info: DeviceInfo | None = None,
    ) -> OcrOutcome:
        """Read a decoded (BGR) screenshot: find the card, segment it, OCR segments until settled."""
        t0 = time.perf_counter()
        H = img.shape[0]
        card: vision.Card | None = None
        segs: list[vision.Segment] = []
        if hint is not None and hint[0] == "dialog":
            card = vision.card_from_bounds(img, hint[1])
        if card is None:
            card = vision.find_card(img)
        if card is not None:
            segs = vision.segment(img, card, H)
        if not segs:  # no card, or an empty one (an image placeholder on a dark page is no dialog)
            card = vision.page_region(img, hint[1] if hint else None)
            segs = vision.segment(img, card, H)
        order = _priority(segs, card)
        page_title = _page_title(segs, card, img.shape[1], H)
        elements: list[Element | None] = [None] * len(segs)
        n_read = 0
        buttons = {k for k in order if _button_like(segs[k], card, segs)}
        # lines of wrapped paragraphs are text, no controls; a web link is one wherever it stands
        links = {k for k, sg in enumerate(segs) if card.kind == "page" and vision.is_link(img, sg)}
        prose = vision.paragraph_lines(segs, card) - links
        body_total = len(segs) - len(buttons)
        order = order[: self.max_segments]
        crops: dict[int, np.ndarray] = {}

        def crop(k: int) -> np.ndarray:
            if k not in crops:
                crops[k] = vision.ocr_crop(img, segs[k])
            return crops[k]

        # batch 1: every button (on a page: everything); then one text line at a time, re-reading the
        # screen after each. Batch 1 starts with its narrowest label: read while the script is unknown, it
        # may be read twice (chi_sim, then eng when it is Latin), and "Agree" costs less than "Disagree".
        first = max(1, len(buttons)) if card.kind != "page" else len(order)
        words = [k for k in order[:first] if crop(k).shape[1] >= crop(k).shape[0]]  # not a chevron
        if words:
            narrow = min(words, key=lambda k: crop(k).shape[1])
            order.remove(narrow)
            order.insert(0, narrow)
        pos = 0
        script: str | None = None  # the dialog's script, known once something was read
        while pos < len(order):
            step = max(1, len(buttons)) if pos == 0 else 1
            for k in order[pos : pos + step]:
                elements[k] = _read_segment(
                    eng,
                    crop(k),
                    segs[k],
                    card,
                    segs,
                    script,
                    label=k != page_title and k not in prose,
                    prose=k in prose,
                    link=k in links,
                )
                n_read += 1
                if script is None:  # known after the first legible segment: no more double reads
                    script = script_of([e.text for e in elements if e is not None])
            pos += step
            if card.kind == "page" or obs is None or not self.settle:
                continue
            els = [e for e in elements if e is not None and e.label]
            view = self._ocr_view(els, card, obs, tree, info, unread=len(segs) - n_read)
            res = recognise(view)
            body_read = sum(1 for k in order[:pos] if k not in buttons)
            tops = [segs[k].bounds[1] for k in order[:pos] if k not in buttons]
            below = bool(tops) and any(segs[k].bounds[1] > min(tops) for k in order[pos:])
            if _settled(res, view, body_read=body_read, body_total=body_total, unread_below=below):
                break
        if card.kind == "page":
            _mark_selected_tab(img, segs, elements, card)
        found = [e for e in elements if e is not None and e.label]
        return OcrOutcome(found, card, len(segs), n_read, (time.perf_counter() - t0) * 1000)

    @staticmethod
    def _ocr_view(
        els: list[Element],
        card: vision.Card | None,
        obs: Observation,
        tree: hierarchy.Tree | None,
        info: DeviceInfo | None,
        unread: int = 0,
    ) -> View:
        screen = tree.screen if tree else ((info.width, info.height) if info else (0, 0))
        dialog = card.bounds if card is not None and card.kind in ("dialog", "sheet") else None
        # a blind region inside a page with text nodes: the page title is the hierarchy's (its toolbar)
        title = ""
        if dialog is None and tree is not None and tree.has_text:
            title = page_title(tree.elements, tree.owner, screen[1])
        return View(
            elements=els,
            owner=[-1] * len(els),
            package=obs.package,
            window_package=tree.package if tree else "",
            activity=obs.activity,
            screen=screen,
            dialog_bounds=dialog,
            source="ocr",
            info=info,
            title_hint=title,
            unread=unread,
        )

    def _merge(
        self,
        reading: ScreenReading,
        out: OcrOutcome,
        obs: Observation,
        tree: hierarchy.Tree,
        info: DeviceInfo | None,
    ) -> None:
        res = recognise(
            self._ocr_view(out.elements, out.card, obs, tree, info, unread=out.segments - out.read)
        )
        reading.blind = True
        reading.ocr_ms = out.ms
        reading.elements.extend(out.elements)
        have = {k.kind for k in reading.kinds}
        reading.kinds.extend(k for k in res.kinds if k.kind not in have)
        roles = {t.role for t in reading.targets}
        reading.targets.extend(t for t in res.targets if t.role not in roles)
        if reading.dialog_bounds is None and out.card is not None and out.card.kind in ("dialog", "sheet"):
            reading.dialog_bounds = out.card.bounds


# kinds that are a dialog, a prompt or a wall, drawn blind or not: nothing below a fold to swipe to
_DIALOGS = {
    "permission_prompt",
    "permission_rationale",
    "privacy_consent",
    "consent_second_chance",
    "blocking_wall",
    "crash_dialog",
    "launcher",
}
SURFACE_SHARE = 0.6  # of the screen's height (and 0.9 of its width): a blind view that is the whole page


def _surface_may_scroll(reading: ScreenReading) -> None:
    """A blind surface that is the whole page (a game engine's SurfaceView, a WebView without a tree)
    may hold a page longer than the screen whatever the hierarchy says: a SurfaceView never reports
    itself scrollable. It is read as a container that may scroll; whether it does is for its pixels to
    tell (the explorer swipes it until they stop changing)."""
    w, h = reading.screen
    if not w or not h:
        return
    for i, e in enumerate(reading.elements):
        b = e.bounds
        if e.source != "hierarchy" or e.scrollable or not e.cls.endswith(hierarchy.BLIND_CLASS_SUFFIXES):
            continue
        if b[2] - b[0] >= 0.9 * w and b[3] - b[1] >= SURFACE_SHARE * h:
            reading.elements[i] = dataclasses.replace(e, scrollable=True)


def _digest(data: bytes | memoryview) -> bytes:
    """Cache key of a screenshot. SHA-1 runs on the CPU's SHA extensions: 7 MB of pixels hash in ≈ 4 ms,
    a third of blake2b's time; a key needs no resistance to attack, only no accidental collision."""
    return hashlib.sha1(data, usedforsecurity=False).digest()


def _button_like(s: vision.Segment, card: vision.Card, segs: list[vision.Segment]) -> bool:
    """Pills, and short text lines that stand apart from the body above (text buttons: 取消  确定, a
    centred 暂不同意 link). The short last line of a paragraph is left-aligned and close: not a button."""
    if s.kind == "pill":
        return True
    if card.kind == "page":
        return False
    x1, y1, x2, y2 = card.bounds
    cw = x2 - x1
    if s.width >= 0.45 * cw or s.bounds[1] < y1 + 0.4 * (y2 - y1):
        return False
    lines = [t for t in segs if t.kind == "line"]
    wide = [t for t in lines if t.width >= 0.45 * cw]
    if not wide:
        return True
    if s.bounds[1] < max(t.bounds[3] for t in wide) - 2:
        return False
    same_row = [t for t in segs if t is not s and abs(t.bounds[1] - s.bounds[1]) < 0.5 * s.height]
    if same_row:
        return True
    body_left = min(t.bounds[0] for t in wide)
    above = [t for t in lines if t.bounds[3] <= s.bounds[1]]
    gap = s.bounds[1] - max((t.bounds[3] for t in above), default=y1)
    left_aligned = abs(s.bounds[0] - body_left) <= 0.03 * cw
    return not (left_aligned and gap <= 1.0 * s.height)


def _title(segs: list[vision.Segment], card: vision.Card) -> int | None:
    """Index of the card's title: a first line set apart from the body (taller, or a wider gap below)."""
    lines = [k for k, s in enumerate(segs) if s.kind == "line"]
    if card.kind == "page" or len(lines) < 2:
        return None
    a, b = segs[lines[0]], segs[lines[1]]
    heights = sorted(segs[k].height for k in lines[1:])
    med_h = heights[len(heights) // 2]
    gap = b.bounds[1] - a.bounds[3]
    gaps = [segs[j].bounds[1] - segs[i].bounds[3] for i, j in zip(lines[1:], lines[2:], strict=False)]
    med_gap = sorted(gaps)[len(gaps) // 2] if gaps else gap
    if a.height > 1.1 * med_h or gap > 1.5 * max(1, med_gap):
        return lines[0]
    return None


def _page_title(segs: list[vision.Segment], card: vision.Card, w: int, h: int) -> int | None:
    """Index of a blind page's title: the first line, in the toolbar band, larger than the body or centred.
    It names the page (注销账号, 我的); it is not a control."""
    lines = [k for k, s in enumerate(segs) if s.kind == "line"]
    if card.kind != "page" or len(lines) < 2:
        return None
    first = segs[lines[0]]
    if first.bounds[3] > PAGE_TITLE_BAND * h:
        return None
    heights = sorted(segs[k].height for k in lines[1:])
    taller = first.height >= 1.15 * heights[len(heights) // 2]
    centred = abs((first.bounds[0] + first.bounds[2]) / 2 - w / 2) <= 0.05 * w
    return lines[0] if taller or centred else None


def _mark_selected_tab(
    img: np.ndarray, segs: list[vision.Segment], elements: list[Element | None], card: vision.Card
) -> None:
    """In a tab bar the current tab is the one tinted: of the labels in the bottom band, exactly one with
    coloured ink among grey ones is `selected` (what the hierarchy says of a real tab)."""
    y2 = card.bounds[3]
    band = [
        k
        for k, s in enumerate(segs)
        if (e := elements[k]) is not None
        and len(compact(e.label)) >= 2  # a label, not an icon read as one glyph
        and s.bounds[1] >= y2 - TAB_BAR * (y2 - card.bounds[1])
    ]
    if len(band) < 3:
        return
    tinted = [k for k in band if vision.ink_saturation(img, segs[k]) >= TINT]
    if len(tinted) == 1:
        k = tinted[0]
        elements[k] = dataclasses.replace(elements[k], selected=True, clickable=True)


def _priority(segs: list[vision.Segment], card: vision.Card) -> list[int]:
    """Buttons first, then the title (short, and it often names the dialog: 用户协议与隐私政策, 权限申请),
    then the body top to bottom."""
    if card.kind == "page":
        # the tab bar first: its 我的 / Me is the way on, and a long page may not be read to its end
        y2 = card.bounds[3]
        tabs = [k for k, s in enumerate(segs) if s.bounds[1] >= y2 - TAB_BAR * (y2 - card.bounds[1])]
        return tabs + [k for k in range(len(segs)) if k not in tabs]
    buttons = [k for k, s in enumerate(segs) if _button_like(s, card, segs)]
    title = _title(segs, card)
    body = [k for k in range(len(segs)) if k not in buttons and k != title]
    return buttons + ([title] if title is not None else []) + body


def _settled(res: Result, view: View, body_read: int, body_total: int, unread_below: bool = False) -> bool:
    """`unread_below`: a segment below the first body line read is still unread."""
    if not res.kinds:
        return False
    kinds = {k.kind for k in res.kinds}
    if kinds & {"consent_second_chance", "blocking_wall", "crash_dialog"}:
        return True
    prompt = next((k for k in res.kinds if k.kind == "permission_prompt"), None)
    if prompt is not None:  # its message names the group; its choices sit below the message
        # (a choice that does not look like a button, e.g. AOSP's text-only "While using the app", is read
        # as a body line after the message)
        return (prompt.permission_group is not None and not unread_below) or body_read >= body_total
    if body_read >= body_total:
        return True
    if kinds & _DELETION:
        return False  # an obstacle (人工审核, a hotline) may be named in any line: read to the end
    if rationale_settled(view, res):
        return True
    # Long dialogs are first-run consent dialogs / ordinary rationales: the rest cannot change the kind.
    return body_total >= 5 and body_read >= 1


def _read_segment(
    eng: Engines | ppocr.PPRec,
    crop: np.ndarray,
    seg: vision.Segment,
    card: vision.Card,
    segs: list[vision.Segment],
    script: str | None = None,
    label: bool = True,
    prose: bool = False,
    link: bool = False,
) -> Element:
    out = eng.read(crop, PSM_BLOCK if seg.kind == "pill" and seg.lines > 1 else PSM_LINE, script)
    text = normalise(out.text.replace("\n", " "))
    if seg.kind == "pill" and seg.lines > 1 and not any("a" <= ch.lower() <= "z" for ch in text):
        text = text.replace(" ", "")
    # On a blind page a short line may be a row or a tab; not the page title, nor a line of a wrapped
    # paragraph or a piece of a sentence (a body line mentioning "delete your account" is no entry).
    # Chinese rows are short (设置与隐私, 个人基本信息): a longer line without punctuation is prose that the
    # recogniser read without its commas
    longest = PAGE_ROW_CJK if has_cjk(text) else PAGE_ROW_WORDS
    n = text_len(text)
    row = card.kind == "page" and label and n > 0 and not is_prose(text)
    row = row and (n <= longest or (n <= PAGE_ROW_WORDS and bool(classify_label(text))))  # 拒绝且不再询问
    clickable = row or link or _button_like(seg, card, segs)
    return Element(
        text=text,
        bounds=seg.bounds,
        source="ocr",
        # a line of a wrapped paragraph is "ocr.prose": words to read, nothing to tap
        cls="ocr.pill" if seg.kind == "pill" else "ocr.prose" if prose and not clickable else "ocr.line",
        clickable=clickable,
    )
