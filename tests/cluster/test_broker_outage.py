"""A broker that restarts while a job finishes: the worker's client waits for it and the completion is
recorded once, a completion sent again after a lost reply is still the same attempt's, and `status` does
not call a job failed because the result backend did not answer."""

from __future__ import annotations

import threading
import time

import pytest

from exerciser.cluster.config import redis_client
from exerciser.cluster.keys import JobState
from exerciser.errors import UserError


def restart_after(srv, seconds: float) -> threading.Thread:
    srv.stop()
    t = threading.Thread(target=lambda: (time.sleep(seconds), srv.start()), daemon=True)
    t.start()
    return t


def test_a_completion_sent_while_the_broker_restarts_is_recorded_once(redis_server):
    r = redis_client(redis_server.url, ride_out=30)
    js = JobState(r, "suite-outage", "app")
    summary = {"status": "violation", "attempt": 1}
    t0 = time.monotonic()
    back = restart_after(redis_server, 2.0)
    assert js.claim_done(summary, event="completed", attempt=1)  # waits for the broker, then records
    waited = time.monotonic() - t0
    back.join()
    assert waited >= 1.5, waited
    assert js.done() == summary
    assert [e["event"] for e in js.history()] == ["completed"]
    # the same completion again (its reply was lost): still this attempt's; another attempt's: refused
    assert js.claim_done(summary)
    assert not js.claim_done({"status": "compliant", "attempt": 2})
    assert js.done() == summary


def test_a_broker_that_is_not_there_is_said_at_once(redis_server):
    from cluster_helpers import free_port

    t0 = time.monotonic()
    with pytest.raises(UserError, match="not reachable"):
        redis_client(f"redis://127.0.0.1:{free_port()}/0", ride_out=30)
    assert time.monotonic() - t0 < 10  # no riding out before the first answer


def test_status_does_not_call_a_job_failed_when_the_backend_does_not_answer(redis_server):
    import redis

    from exerciser.cluster.jobs import SuiteRecord
    from exerciser.cluster.keys import save_suite
    from exerciser.cluster.progress import suite_status

    r = redis_client(redis_server.url)
    job = {"app": "a", "queue": "q", "task_id": "t1"}
    rec = SuiteRecord("suite-noanswer", "s", "suite.yaml", "2026-12-06T12:00:00", None, [job], queued=1)
    save_suite(r, rec)

    class Unanswered:  # a result backend whose connection was refused for this read
        state = property(lambda self: (_ for _ in ()).throw(redis.ConnectionError("refused")))

    class App:
        def AsyncResult(self, _tid):  # noqa: N802 (Celery's name)
            return Unanswered()

    st = suite_status(r, rec.id, App())
    assert [row.state for row in st.rows] == ["queued"]
    assert not st.finished
