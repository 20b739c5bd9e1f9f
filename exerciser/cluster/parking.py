"""Parked jobs in the cluster: a long wait on a phone that allows no clock change ends the attempt with a
checkpoint, and a delayed task resumes the job on the same device once the phone's clock is past it.

    worker (job A, long wait)  -> checkpoint.json to the store, job "parked until <device time>",
                                  resume message due at <wall time> in the broker's Redis; worker free
    any worker, every beat     -> due resume messages go to their device's queue (`wake_due`)
    the device's worker        -> takes its device queue first (consumed first, in a fixed order), resumes A

Why not Celery's own countdown/eta: over Redis a worker takes an eta message at once and holds it
unacknowledged until it is due; a wait longer than the visibility timeout (minutes, while parks last
hours) hands it out again and again. The resume message is therefore held in a sorted set
(`exerciser:parked`, due time as score) and only sent once due; sending before removing it, any number
of workers may wake it: a copy carries the same park token and runs nothing twice (see `execute`).
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from exerciser.cluster.keys import NS
from exerciser.device.contract import Device
from exerciser.rack.park import HAND_OVER_S, clock_rate, wait_device_time
from exerciser.runner.checkpoint import Parked

PARKED = f"{NS}:parked"  # zset: resume message (JSON: queue, payload) -> wall time it is due
log = logging.getLogger("exerciser.cluster")


def device_queue(serial: str, host: str | None = None) -> str:
    """The queue only this device's worker consumes: a parked job comes back to its own phone."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in serial)
    return f"{NS}.device.{host or socket.gethostname()}.{safe}"


def stop_at_long_waits(device: Device, hand_over_s: float = HAND_OVER_S) -> Callable[[float], None]:
    """The session's `park`: a wait too short to hand the device over (under `hand_over_s` wall seconds
    at the phone's measured pace) is waited out on the phone's clock; a longer one stops the run."""

    def park(seconds: float) -> None:
        rate = clock_rate(device)
        if seconds / rate >= hand_over_s:
            raise Parked(seconds, rate)
        wait_device_time(device, seconds, rate=rate)

    return park


def schedule(r, queue: str, payload: dict[str, Any], due: float, pipe=None) -> None:
    """Hold the resume message until wall time `due` (then `wake_due` sends it to `queue`)."""
    member = json.dumps({"queue": queue, "payload": payload}, sort_keys=True)
    (pipe or r).zadd(PARKED, {member: due})


def wake_due(r, send: Callable[[str, dict[str, Any]], None], now: float | None = None) -> int:
    """Send every due resume message to its queue; returns how many this caller sent."""
    n = 0
    for member in r.zrangebyscore(PARKED, 0, now or time.time()):
        msg = json.loads(member)
        send(msg["queue"], msg["payload"])  # sent, then removed: a crash in between sends it twice
        if r.zrem(PARKED, member):
            n += 1
    return n


def due_at(device: Device, until_ms: int, rate: float) -> float:
    """Wall time at which the device's clock reaches `until_ms`, at its measured pace."""
    return time.time() + max(0.0, (until_ms - device.now_ms()) / 1000 / max(rate, 1e-3))
