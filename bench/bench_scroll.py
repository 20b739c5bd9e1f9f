"""What scrolling costs: prints figures measured in this run, asserts nothing.

    python bench/bench_scroll.py [--apps A,B] [--probes 8] [--repeat 30]

1. A scroll step on the virtual device: `swipe` + `observe()` (dump + PNG) of a page at a new offset,
   median ms, next to a tap that opens a new screen; and the same through a runner Session (read,
   state, trace line, step files), scroll vs tap. The same for a WebView page with Chrome's tree, a
   blind WebView (its Session step reads the page by OCR) and a sideways tab strip.
2. The explorer on the sample suite: the steps a run of the given probes takes on every sample with
   scrolling and with it switched off (no scroll candidates, nothing revealed), the ratio of the two, and
   the verdicts that differ without scrolling (a deletion row below the fold reads as "no deletion").
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from exerciser import SCENARIOS_DIR  # noqa: E402
from exerciser.device.contract import Key  # noqa: E402
from exerciser.explore import explorer as explorer_mod  # noqa: E402
from exerciser.explore.explorer import scrollers  # noqa: E402
from exerciser.explore.selector import Selector, find  # noqa: E402
from exerciser.probes import common as common_mod  # noqa: E402
from exerciser.runner.app_run import default_reader, run_app  # noqa: E402
from exerciser.runner.parallel import virtual_device  # noqa: E402
from exerciser.runner.session import Session  # noqa: E402
from exerciser.scenario import load_scenario  # noqa: E402
from exerciser.sim import VirtualDevice, layout, load_sample  # noqa: E402

APP = "scroll_deletion_below_fold_en"


def _ms(xs: list[float]) -> str:
    return f"{statistics.median(xs):.1f} ms"


def device_step_cost(repeat: int) -> None:
    model = load_sample(APP)
    dev = VirtualDevice([model])
    dev.app_start(model.package)
    s = Session(dev, model.package, Path(tempfile.mkdtemp(prefix="bench-scroll-")), default_reader())
    step = s.observe()
    for label in ("Agree", "Me", "Settings"):
        step = s.tap(find(step.reading, Selector(text=label)), note="bench")
    box = scrollers(step)[0]
    x = (box.bounds[0] + box.bounds[2]) // 2
    scroll_ms = []
    for i in range(repeat):  # drags of changing length: every frame shows the page at a new offset
        y1, y2 = (1700, 1200 - 7 * i) if i % 2 == 0 else (1200 - 7 * i, 1700)
        t0 = time.perf_counter()
        dev.swipe(x, y1, x, y2, 1500)
        dev.observe()
        scroll_ms.append((time.perf_counter() - t0) * 1000)
    # the same for a tap that opens another page, its caches emptied first (a screen never seen before)
    tap_ms = []
    ren = dev._render()
    for _ in range(repeat // 3):
        dev.swipe(x, 1700, x, 300, 50)  # to the end: the deletion row shows
        row = next(n for n in dev.frame().top.root.walk() if n.resource_id.endswith("row_delete_account"))
        b = row.bounds or (0, 0, 0, 0)
        layout._PLANS.clear()
        ren._png_cache.clear()
        ren._layers.clear()
        t0 = time.perf_counter()
        dev.tap((b[0] + b[2]) // 2, (b[1] + b[3]) // 2)
        dev.observe()
        tap_ms.append((time.perf_counter() - t0) * 1000)
        dev.key(Key.BACK)
    print(
        f"device: swipe + observe at a new offset {_ms(scroll_ms)} (n={len(scroll_ms)}); "
        f"tap + observe of a new page {_ms(tap_ms)} (n={len(tap_ms)})"
    )
    # through a Session (read, state, trace line, step files): scroll to the end and back, against
    # opening the deletion page; every screen read afresh (the session's reading cache emptied)
    ss, st = [], []
    step = s.current
    for i in range(repeat // 3):
        s._readings.clear()
        t0 = time.perf_counter()
        step = s.scroll(scrollers(step)[0], forward=True, note="bench")
        ss.append((time.perf_counter() - t0) * 1000)
        row = find(step.reading, Selector(text="Delete account"))
        if row is not None:
            s._readings.clear()
            t0 = time.perf_counter()
            step = s.tap(row, note="bench")
            st.append((time.perf_counter() - t0) * 1000)
            step = s.key(Key.BACK, note="bench")
        s._readings.clear()
        t0 = time.perf_counter()
        step = s.scroll(scrollers(step)[0], forward=False, note="bench")
        ss.append((time.perf_counter() - t0) * 1000)
        del i
    print(f"session: scroll step {_ms(ss)} (n={len(ss)}); tap step {_ms(st)} (n={len(st)})")
    s.close()


# (label, sample, the text to tap to get past its consent dialog, if the container is behind it)
KINDS = (
    ("WebView with Chrome's tree (consent dialog)", "webview_agree_after_read_en", None),
    ("blind WebView, read by OCR (consent dialog)", "webview_blind_agree_zh", None),
    ("sideways tab strip (home)", "hscroll_tab_deletion_zh", "同意"),
)


def container_step_cost(repeat: int) -> None:
    """A scroll step of each new kind of container: swipe + observe on the device, and a runner Session
    scroll step (read afresh: a blind WebView's page is read by OCR)."""
    for label, app, past in KINDS:
        model = load_sample(app)
        dev = VirtualDevice([model], locale="zh-CN" if model.language == "zh" else "en-US")
        dev.app_start(model.package)
        s = Session(dev, model.package, Path(tempfile.mkdtemp(prefix="bench-scroll-")), default_reader())
        step = s.observe()
        if past:
            step = s.tap(find(step.reading, Selector(text=past)), note="bench")
        box = scrollers(step)[0]
        x1, y1, x2, y2 = box.bounds
        sideways = box.selector.role == explorer_mod.HSCROLL
        dev_ms = []
        forward = True
        for i in range(repeat):  # short drags of changing length, turning at the ends: a new offset each
            a, b = (0.6, 0.45 - 0.004 * i) if forward else (0.45 - 0.004 * i, 0.6)
            if sideways:
                cy = (y1 + y2) // 2
                pts = (int(x1 + (x2 - x1) * a), cy, int(x1 + (x2 - x1) * b), cy)
            else:
                cx = (x1 + x2) // 2
                pts = (cx, int(y1 + (y2 - y1) * a), cx, int(y1 + (y2 - y1) * b))
            _forget(dev)  # an offset seen before is cached: time a new one
            t0 = time.perf_counter()
            dev.swipe(*pts, 1500)
            dev.observe()
            dev_ms.append((time.perf_counter() - t0) * 1000)
            rng, off = next(n for n in dev.frame().top.root.walk() if n.scrollable).scroll_extent or (0, 0)
            forward = off < rng if forward else off == 0
        ss = []
        for i in range(max(repeat // 3, 2)):
            s._readings.clear()
            _forget(dev)
            t0 = time.perf_counter()
            step = s.scroll(scrollers(step)[0], forward=i % 4 < 2, note="bench")
            ss.append((time.perf_counter() - t0) * 1000)
        print(
            f"{label}: swipe + observe {_ms(dev_ms)} (n={len(dev_ms)}); "
            f"session scroll step {_ms(ss)} (n={len(ss)})"
        )
        s.close()


def _forget(dev: VirtualDevice) -> None:
    """Empty the layout and picture caches: the next frame is planned, painted and encoded afresh."""
    ren = dev._render()
    layout._PLANS.clear()
    ren._png_cache.clear()
    ren._layers.clear()


@contextmanager
def no_scrolling():
    """The explorer and the probes as they were before scrolling: no container is seen."""
    saved = (explorer_mod.scrollers, common_mod.scrollers)
    explorer_mod.scrollers = lambda step, **kw: []  # type: ignore[assignment]
    common_mod.scrollers = lambda step, **kw: []  # type: ignore[assignment]
    try:
        yield
    finally:
        explorer_mod.scrollers, common_mod.scrollers = saved


def suite_ratio(apps: list[str], probes: tuple[str, ...]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-scroll-suite-"))
    totals = {"on": 0, "off": 0}
    scroll_steps = 0
    head = "verdicts that differ without scrolling"
    print(f"{'app':40} {'steps':>6} {'no scroll':>9} {'scrolls':>7}  {head}")
    for app in apps:
        sc = dataclasses.replace(load_scenario(Path(SCENARIOS_DIR) / f"{app}.yaml"), probes=probes)
        on = run_app(sc, virtual_device(sc, "bench"), tmp / "on", finalize=False)
        with no_scrolling():
            off = run_app(sc, virtual_device(sc, "bench"), tmp / "off", finalize=False)
        trace = (tmp / "on" / app / "trace.jsonl").read_text()
        n_scroll = trace.count('"type": "scroll"')
        diff = []
        for k, c in on.categories.items():
            o = off.categories.get(k)
            if o is not None and (c.verdict, c.figure) != (o.verdict, o.figure):
                diff.append(f"{k}: {c.verdict} ({c.figure}) vs {o.verdict} ({o.figure})")
        totals["on"] += on.steps
        totals["off"] += off.steps
        scroll_steps += n_scroll
        print(f"{app:40} {on.steps:6d} {off.steps:9d} {n_scroll:7d}  {'; '.join(diff)}")
    ratio = totals["on"] / max(totals["off"], 1)
    print(
        f"suite: {totals['on']} steps with scrolling, {totals['off']} without: x{ratio:.2f} "
        f"({scroll_steps} of them scrolls)"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apps", default="")
    ap.add_argument("--probes", default="8", help="comma-separated probes per run (default: 8)")
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args(argv)
    device_step_cost(args.repeat)
    container_step_cost(args.repeat)
    samples = Path(SCENARIOS_DIR) / "samples.yaml"
    names = [ln.strip()[2:-5] for ln in samples.read_text().splitlines() if ln.strip().startswith("- ")]
    apps = [a for a in args.apps.split(",") if a] or names
    suite_ratio(apps, tuple(p.strip() for p in args.probes.split(",")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
