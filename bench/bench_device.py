"""Benchmark of the virtual device: median observe() (XML + PNG) and tap() on a typical screen.

Target: observe <= 40 ms median on one core. Run pinned to one core:

    taskset -c 0 .venv/bin/python bench/bench_device.py [--rounds 60] [--app compliant_en]

Every observed state is new content (a character is typed into a field, or a checkbox toggled, before
each capture), so the figures include building the frame, layout, the dump and PNG encoding, not a
cached answer. A typical screen: toolbar, text, a field, a checkbox, several buttons, bottom tabs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from exerciser.sim import VirtualDevice, load_app_model, load_sample

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "sim" / "fixtures" / "testapp.yaml"
PKG = "com.example.simtest"


def _centre(dev: VirtualDevice, rid_suffix: str) -> tuple[int, int]:
    node = next(n for n in dev.frame().top.root.walk() if n.resource_id.endswith(":id/" + rid_suffix))
    x1, y1, x2, y2 = node.bounds
    return (x1 + x2) // 2, (y1 + y2) // 2


def _ms(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=10)
    return (
        f"median {statistics.median(samples) * 1000:6.1f} ms   p90 {q[-1] * 1000:6.1f} ms   n={len(samples)}"
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

    observe_new: list[float] = []
    observe_same: list[float] = []
    xml_only: list[float] = []
    taps: list[float] = []
    box = _centre(dev, "agree")
    for i in range(args.rounds):
        dev.type_text("abcdefghij"[i % 10])  # new content: nothing cached matches
        t0 = time.perf_counter()
        obs = dev.observe()
        observe_new.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        dev.observe()
        observe_same.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        dev.tap(*box)  # toggles the checkbox: hit test, state change
        taps.append(time.perf_counter() - t0)
        dev.type_text(" ")
        from exerciser.sim import uixml

        t0 = time.perf_counter()
        uixml.dump(dev.frame())
        xml_only.append(time.perf_counter() - t0)
    assert obs.png[:8] == b"\x89PNG\r\n\x1a\n"

    print(
        f"virtual device, profile {args.profile}, screen 'more' of the test app ({len(obs.xml)} B xml, "
        f"{len(obs.png)} B png)"
    )
    print(f"observe()  new state   {_ms(observe_new)}   (target <= 40 ms)")
    print(f"observe()  same state  {_ms(observe_same)}")
    print(f"frame+dump only        {_ms(xml_only)}")
    print(f"tap()                  {_ms(taps)}")

    if args.app:
        model = load_sample(args.app)
        starts: list[float] = []
        for _ in range(max(args.rounds // 6, 3)):
            d = VirtualDevice([model], profile=args.profile)
            t0 = time.perf_counter()
            d.app_start(model.package)
            d.observe()
            starts.append(time.perf_counter() - t0)
        print(f"cold start + observe of {args.app}: {_ms(starts)}")


if __name__ == "__main__":
    main()
