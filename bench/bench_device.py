"""Benchmark of the virtual device: median observe() (XML + PNG) and tap() on a typical screen.

Target: observe <= 40 ms median on one core. Run pinned to one core:

    taskset -c 0 .venv/bin/python bench/bench_device.py [--rounds 60] [--app compliant_en]

Every observed state is new content (a character is typed into a field, or a checkbox toggled, before
each capture), so the figures include building the frame, layout, the dump and PNG encoding, not a
cached answer. A typical screen: toolbar, text, a field, a checkbox, several buttons, bottom tabs.

Each line gives wall time and the thread's CPU time: on a shared, loaded machine the wall figure
includes waiting for a core, the CPU figure is what one idle core would take.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from exerciser.sim import VirtualDevice, load_app_model, load_sample, uixml

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "sim" / "fixtures" / "testapp.yaml"
PKG = "com.example.simtest"


def _centre(dev: VirtualDevice, rid_suffix: str) -> tuple[int, int]:
    node = next(n for n in dev.frame().top.root.walk() if n.resource_id.endswith(":id/" + rid_suffix))
    x1, y1, x2, y2 = node.bounds
    return (x1 + x2) // 2, (y1 + y2) // 2


class Timer:
    """Wall and thread-CPU samples of repeated calls."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Timer:
        self._w, self._c = time.perf_counter(), time.thread_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu.append(time.thread_time() - self._c)
        self.wall.append(time.perf_counter() - self._w)

    def __str__(self) -> str:
        q = statistics.quantiles(self.wall, n=10)
        return (
            f"median {statistics.median(self.wall) * 1000:6.1f} ms   p90 {q[-1] * 1000:6.1f} ms   "
            f"cpu median {statistics.median(self.cpu) * 1000:6.1f} ms   n={len(self.wall)}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--profile", default="api33")
    ap.add_argument("--app", help="also time a cold start + observe of this sample app")
    args = ap.parse_args()

    dev = VirtualDevice([load_app_model(FIXTURE)], profile=args.profile)
    dev.app_start(PKG)
    dev.tap(*_centre(dev, "btn_agree"))
    dev.tap(*_centre(dev, "btn_more"))  # toolbar, input, checkbox, 7 buttons and a link
    dev.tap(*_centre(dev, "name"))
    dev.observe()

    observe_new, observe_same, xml_only, taps = Timer(), Timer(), Timer(), Timer()
    box = _centre(dev, "agree")
    for i in range(args.rounds):
        dev.type_text("abcdefghij"[i % 10])  # new content: nothing cached matches
        with observe_new:
            obs = dev.observe()
        with observe_same:
            dev.observe()
        with taps:
            dev.tap(*box)  # toggles the checkbox: hit test, state change
        dev.type_text(" ")
        with xml_only:
            uixml.dump(dev.frame())
    assert obs.png[:8] == b"\x89PNG\r\n\x1a\n"

    print(
        f"virtual device, profile {args.profile}, screen 'more' of the test app ({len(obs.xml)} B xml, "
        f"{len(obs.png)} B png)"
    )
    print(f"observe()  new state   {observe_new}   (target <= 40 ms)")
    print(f"observe()  same state  {observe_same}")
    print(f"frame+dump only        {xml_only}")
    print(f"tap()                  {taps}")

    if args.app:
        model = load_sample(args.app)
        starts = Timer()
        for _ in range(max(args.rounds // 6, 3)):
            d = VirtualDevice([model], profile=args.profile)
            with starts:
                d.app_start(model.package)
                d.observe()
        print(f"cold start + observe of {args.app}: {starts}")


if __name__ == "__main__":
    main()
