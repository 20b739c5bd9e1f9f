"""A job's state in the broker's Redis: who holds it (lease), how many attempts began, whether it is done.

exerciser:suite:<sid>                    suite record (JSON)      exerciser:suites  zset of suite ids
exerciser:job:<sid>:<app>:attempts       attempt counter (INCR)
exerciser:job:<sid>:<app>:lease          the running attempt's claim, renewed while it runs (PX)
exerciser:job:<sid>:<app>:done           the verdict summary; SET NX: one completion per job, ever
exerciser:job:<sid>:<app>:log            one JSON line per attempt event
exerciser:job:<sid>:<app>:progress       what the running attempt is doing (expires)
exerciser:job:<sid>:<app>:parked         the park a delayed task resumes: token, attempt, until (JSON)
exerciser:parked                         resume messages by the wall time they are due (see parking)
exerciser:worker:<hostname>              a live worker process: its device and queues (expires)
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from exerciser.cluster.jobs import SuiteRecord, now_iso
from exerciser.errors import UserError

NS = "exerciser"
SUITES = f"{NS}:suites"
KEEP_SECONDS = 30 * 86400  # suite and job state outlive any sensible collect
UNACKED_INDEX = "unacked_index"  # kombu's Redis transport: delivery tag -> time it was handed out

# Renew a claim; one that lapsed while nobody took it (the broker was away) is simply taken back.
_RENEW = """
local v = redis.call('get', KEYS[1])
if v == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if not v then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0
"""
# Sent again after a lost reply (see config.patient_retry), the same summary finds itself: still ours.
_CLAIM_DONE = """
local v = redis.call('get', KEYS[1])
if v == ARGV[1] then return 1 end
if v then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[3])
if ARGV[2] ~= '' then redis.call('rpush', KEYS[2], ARGV[2]) redis.call('expire', KEYS[2], ARGV[3]) end
return 1
"""
_IF_MINE_DEL = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def suite_key(suite: str) -> str:
    return f"{NS}:suite:{suite}"


def save_suite(r, rec: SuiteRecord) -> None:
    r.set(suite_key(rec.id), json.dumps(rec.to_json(), ensure_ascii=False), ex=KEEP_SECONDS)
    r.zadd(SUITES, {rec.id: time.time()})


def load_suite(r, suite: str) -> SuiteRecord:
    raw = r.get(suite_key(suite))
    if raw is None:
        raise UserError(f"unknown suite id: {suite} (not on this broker, or expired)")
    return SuiteRecord.from_json(json.loads(raw))


class JobState:
    def __init__(self, r, suite: str, app: str) -> None:
        self.r = r
        self.base = f"{NS}:job:{suite}:{app}"

    def _k(self, name: str) -> str:
        return f"{self.base}:{name}"

    # --- completion ---------------------------------------------------------------------------
    def done(self) -> dict[str, Any] | None:
        raw = self.r.get(self._k("done"))
        return json.loads(raw) if raw else None

    def claim_done(self, summary: dict[str, Any], **event: Any) -> bool:
        """True for the one attempt that completes the job; False when another already did. The
        `event` goes to the log in the same step, so no reader sees a done job without it."""
        line = json.dumps(_stamp(event), ensure_ascii=False) if event else ""
        keys = (self._k("done"), self._k("log"))
        return bool(
            self.r.eval(_CLAIM_DONE, 2, *keys, json.dumps(summary, ensure_ascii=False), line, KEEP_SECONDS)
        )

    # --- attempts -----------------------------------------------------------------------------
    def next_attempt(self) -> int:
        n = int(self.r.incr(self._k("attempts")))
        self.r.expire(self._k("attempts"), KEEP_SECONDS)
        return n

    def attempts(self) -> int:
        return int(self.r.get(self._k("attempts")) or 0)

    def log(self, **event: Any) -> None:
        self.r.rpush(self._k("log"), json.dumps(_stamp(event), ensure_ascii=False))
        self.r.expire(self._k("log"), KEEP_SECONDS)

    def history(self) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self.r.lrange(self._k("log"), 0, -1)]

    # --- lease --------------------------------------------------------------------------------
    def acquire(self, info: dict[str, Any], ttl: float) -> str | None:
        """Claim the job for one attempt; None while another attempt holds a live claim."""
        token = secrets.token_hex(8)
        value = json.dumps({"token": token} | info, ensure_ascii=False)
        if self.r.set(self._k("lease"), value, nx=True, px=int(ttl * 1000)):
            return value
        return None

    def renew(self, claim: str, ttl: float) -> bool:
        """False only when another attempt holds the job now."""
        return bool(self.r.eval(_RENEW, 1, self._k("lease"), claim, int(ttl * 1000)))

    def release(self, claim: str) -> None:
        self.r.eval(_IF_MINE_DEL, 1, self._k("lease"), claim)

    def lease(self) -> dict[str, Any] | None:
        raw = self.r.get(self._k("lease"))
        return json.loads(raw) if raw else None

    # --- parking (see exerciser.cluster.parking) -----------------------------------------------
    def park(self, info: dict[str, Any], pipe=None) -> None:
        (pipe or self.r).set(self._k("parked"), json.dumps(info, ensure_ascii=False), ex=KEEP_SECONDS)

    def parked(self) -> dict[str, Any] | None:
        raw = self.r.get(self._k("parked"))
        return json.loads(raw) if raw else None

    def unpark(self) -> None:
        self.r.delete(self._k("parked"))

    # --- progress -----------------------------------------------------------------------------
    def set_progress(self, note: str, ttl: float) -> None:
        self.r.set(self._k("progress"), note[:200], ex=max(1, int(ttl)))

    def progress(self) -> str:
        return self.r.get(self._k("progress")) or ""


def _stamp(event: dict[str, Any]) -> dict[str, Any]:
    """An event line: `t` to read, `at` (epoch seconds) to order events finer than a second."""
    return {"t": now_iso(), "at": round(time.time(), 3)} | event


def touch_message(r, delivery_tag: str | None) -> None:
    """Keep a running job's message out of the visibility-timeout sweep (only if still unacked)."""
    if delivery_tag:
        r.zadd(UNACKED_INDEX, {delivery_tag: time.time()}, xx=True)


def worker_key(hostname: str) -> str:
    return f"{NS}:worker:{hostname}"


def register_worker(r, hostname: str, info: dict[str, Any], ttl: float) -> None:
    r.set(worker_key(hostname), json.dumps(info, ensure_ascii=False), ex=max(1, int(ttl)))


def unregister_worker(r, hostname: str) -> None:
    r.delete(worker_key(hostname))


def live_workers(r) -> list[dict[str, Any]]:
    keys = sorted(r.scan_iter(match=worker_key("*"), count=500))
    vals = r.mget(keys) if keys else []
    return [json.loads(v) for v in vals if v]
