"""The Celery app of the cluster and the broker's Redis, configured for jobs that must survive faults.

acks_late + reject_on_worker_lost: a job's message is acknowledged only when the job finished, so a
worker killed mid-job leaves it unacknowledged; the Redis transport gives it back to the queue once its
visibility timeout passed. A running job's worker keeps touching its message (see `keys.touch_message`),
so the timeout can be short (fast recovery) without handing live jobs out twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from exerciser.errors import UserError

SCHEMES = ("redis", "rediss")


@dataclass(frozen=True)
class Timing:
    visibility_timeout: float = 120.0  # s an abandoned job waits before it is handed out again
    lease_seconds: float = 60.0  # s a job stays claimed by a worker that stopped renewing it
    beat_seconds: float = 5.0  # renew the claim, touch the message, copy partial evidence
    restore_interval: float = 5.0  # how often idle workers look for abandoned jobs
    broker_patience: float = 120.0  # s a worker's broker commands wait out a broker restart

    @property
    def beat(self) -> float:
        return max(0.2, min(self.beat_seconds, self.visibility_timeout / 4, self.lease_seconds / 4))


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from kombu.utils.url import maybe_sanitize_url

    return maybe_sanitize_url(url)


def redis_client(url: str, timeout: float = 5.0, ride_out: float = 0.0):
    """A Redis client for the broker URL; one clear UserError when the URL is bad or Redis is down.

    `ride_out` > 0 (workers): once connected, a command that finds the broker away (restarting, loading
    its append-only file) is sent again with backoff for about that many seconds instead of failing, so a
    job that finishes during a broker restart records its completion rather than running again."""
    import redis

    if urlsplit(url or "").scheme not in SCHEMES:
        raise UserError(
            f"--broker: expected redis://HOST[:PORT][/DB] or rediss://..., got {safe_url(url or '')!r} "
            "(the job state lives in the broker's Redis)"
        )
    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout * 2, decode_responses=True
        )
        client.ping()
    except ValueError as exc:
        raise UserError(f"--broker {safe_url(url)}: {exc}") from None
    except redis.RedisError as exc:
        raise UserError(f"broker {safe_url(url)} not reachable: {exc}") from None
    if ride_out > 0:  # only after the first ping: a broker that is not there at all is said at once
        client.set_retry(patient_retry(ride_out))
    return client


def patient_retry(seconds: float):
    """redis-py's Retry for connection errors (refused, reset, timed out, LOADING) over about `seconds`:
    backoff doubling from 0.1 s up to 2 s between tries."""
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    cap, base = 2.0, 0.1
    tries, waited = 0, 0.0
    while waited < seconds:
        waited += min(cap, base * 2**tries)
        tries += 1
    return Retry(ExponentialBackoff(cap=cap, base=base), tries)


def require_persistence(client, url: str, allow: bool) -> str | None:
    """A Redis that does not log every write (appendonly yes) loses queued jobs and their state on a
    restart: refused (UserError) unless `allow`; then the warning is returned for the caller to show."""
    import redis

    try:
        aof = client.config_get("appendonly").get("appendonly")
    except redis.RedisError as exc:  # CONFIG disabled (managed Redis): cannot tell
        why = f"cannot tell whether it persists its data (CONFIG GET refused: {exc})"
    else:
        if aof == "yes":
            return None
        why = "it runs without appendonly: a restart loses the queued jobs and their state"
    msg = f"broker {safe_url(url)}: {why}"
    if not allow:
        raise UserError(
            f"{msg}; run Redis with --appendonly yes (or CONFIG SET appendonly yes), or pass "
            "--allow-volatile-broker to accept the loss"
        )
    return f"warning: {msg} (--allow-volatile-broker)"


def make_app(broker: str, backend: str | None = None, timing: Timing | None = None):
    from celery import Celery

    t = timing or Timing()
    app = Celery("exerciser", broker=broker, backend=backend or broker, set_as_current=False)
    transport = {
        "visibility_timeout": t.visibility_timeout,
        "unacked_restore_interval": t.restore_interval,
        "unacked_restore_throttle": 1,
        "socket_timeout": 30,
        "socket_connect_timeout": 10,
        "health_check_interval": 10,
        "queue_order_strategy": "priority",  # a worker's queues in the order given: its device's first
    }
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # one job per device: never hold a second one back from others
        task_track_started=True,
        result_extended=True,
        result_expires=30 * 86400,
        broker_transport_options=transport,
        result_backend_transport_options={"socket_timeout": 30, "socket_connect_timeout": 10},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a broker restart: wait for it
        worker_cancel_long_running_tasks_on_connection_loss=False,  # a running job rides out a broker blip
        task_create_missing_queues=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
    )
    return app
