"""What the served phone's system processes log on their own (`models/android/logcat_chatter.yaml`).

A phone's log never stands still: system_server, SystemUI and the telephony process log collections,
Wi-Fi scans and memory samples while nobody touches it, and clients count on that (adbutils' logcat
reader notices its stop signal only when a next line arrives). The lines are drawn per source and block
of device time from a seed of the phone, so every read of the same stretch of time sees the same lines;
they follow the device clock (a clock set forward brings no flood: logd keeps only the last
`retain_s`), and nothing is stored.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from exerciser import knowledge

if TYPE_CHECKING:
    from exerciser.sim.adbfront.phone import Phone

# (ms, buffer, pid, tid, level, tag, message): the shape of a logcat record
Line = tuple[int, str, int, int, str, str, str]
Keep = Callable[[str, str, str], bool]  # (buffer, tag, level) -> does the reader want such lines


@dataclass(frozen=True)
class Source:
    kind: str  # art_gc | text
    process: str  # system_server or a system package
    tag: str
    every_s: float
    thread: int
    api: tuple[int, int]
    buffer: str = "main"
    level: str = "I"
    text: str = ""
    values: tuple[tuple[str, float, float], ...] = ()
    collector: str = ""
    heap_mb: tuple[int, int] = (16, 32)


@cache
def _table() -> tuple[int, tuple[Source, ...]]:
    data = knowledge.load("android/logcat_chatter.yaml")
    out = []
    for s in data["sources"]:
        values = tuple((k, float(lo), float(hi)) for k, (lo, hi) in (s.get("values") or {}).items())
        out.append(
            Source(
                kind=s["kind"],
                process=s["process"],
                tag=s["tag"],
                every_s=float(s["every_s"]),
                thread=int(s["thread"]),
                api=(int(s["api"][0]), int(s["api"][1])),
                buffer=s.get("buffer", "main"),
                level=s.get("level", "I"),
                text=s.get("text", ""),
                values=values,
                collector=s.get("collector", ""),
                heap_mb=tuple(s.get("heap_mb", (16, 32))),
            )
        )
    return int(data["retain_s"]), tuple(out)


def _pretty_size(n: int) -> str:
    """ART's PrettySize: the unit below which the count would be under 10 of the next one."""
    if n < 10 * 1024:
        return f"{n}B"
    if n < 10 * 1024 * 1024:
        return f"{n // 1024}KB"
    return f"{n // (1024 * 1024)}MB"


def _gc_line(src: Source, rng: random.Random) -> str:
    lo, hi = src.heap_mb
    total = rng.randint(lo, hi) * 1024 * 1024
    used = int(total * rng.uniform(0.5, 0.8))
    objects = rng.randint(2_000, 120_000)
    freed = objects * rng.randint(40, 90)
    los = rng.randint(0, 12)
    los_bytes = los * rng.randint(12_000, 200_000)
    free_pct = (total - used) * 100 // total
    pause = rng.randint(40, 900)
    took = rng.uniform(8.0, 180.0)
    return (
        f"Background {src.collector} GC freed {objects}({_pretty_size(freed)}) AllocSpace objects, "
        f"{los}({_pretty_size(los_bytes)}) LOS objects, {free_pct}% free, "
        f"{_pretty_size(used)}/{_pretty_size(total)}, paused {pause}us total {took:.3f}ms"
    )


BLOCK_MS = 600_000  # the lines are drawn per source in blocks of ten device minutes


@lru_cache(maxsize=4096)
def _block(seed: int, index: int, block: int) -> tuple[tuple[int, str], ...]:
    """(ms, message with `{pid}` left open) of source `index` in one block: a Poisson process of its
    mean interval (exponential gaps, memoryless, so blocks drawn apart join seamlessly)."""
    src = _table()[1][index]
    rng = random.Random(f"{seed}:{index}:{block}")
    out = []
    t = block * BLOCK_MS
    while True:
        t += max(1, int(rng.expovariate(1.0 / src.every_s) * 1000))
        if t >= (block + 1) * BLOCK_MS:
            return tuple(out)
        if src.kind == "art_gc":
            msg = _gc_line(src, rng)
        else:
            vals = {k: rng.randint(int(lo), int(hi)) for k, lo, hi in src.values}
            msg = src.text.format(pid="{pid}", **vals)
        out.append((t, msg))


def lines(phone: Phone, since_ms: int, until_ms: int, keep: Keep | None = None) -> list[Line]:
    """The system's own log lines from `since_ms` to `until_ms` (device ms), oldest first; only the
    sources `keep` wants are drawn (a reader filtering by tag costs nothing)."""
    retain_s, sources = _table()
    start = max(since_ms, until_ms - retain_s * 1000, phone.boot_ms)
    api = phone.info.api_level
    seed = int(getattr(phone, "port", 0) or 0)
    out: list[Line] = []
    for i, src in enumerate(sources):
        if not src.api[0] <= api <= src.api[1] or (
            keep is not None and not keep(src.buffer, src.tag, src.level)
        ):
            continue
        pid = phone.pid_of("android" if src.process == "system_server" else src.process)
        if pid is None:
            continue
        for block in range(start // BLOCK_MS, until_ms // BLOCK_MS + 1):
            for ms, msg in _block(seed, i, block):
                if start <= ms <= until_ms:
                    out.append(
                        (
                            ms,
                            src.buffer,
                            pid,
                            pid + src.thread,
                            src.level,
                            src.tag,
                            msg.replace("{pid}", str(pid)),
                        )
                    )
    return sorted(out)
