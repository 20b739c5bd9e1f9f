"""`exerciser status`: where each job of a submitted suite stands, read from the broker's Redis and the
Celery result backend (no worker is asked)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from exerciser.cluster.jobs import SuiteRecord
from exerciser.cluster.keys import JobState, live_workers, load_suite

STATES = ("done", "running", "parked", "retrying", "queued", "failed", "not queued")


@dataclass
class JobRow:
    app: str
    queue: str
    state: str  # one of STATES
    attempts: int = 0
    worker: str = ""
    serial: str = ""
    note: str = ""  # what the running attempt does, or why the job failed
    summary: dict[str, Any] | None = None  # the verdict summary once done
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SuiteStatus:
    suite: SuiteRecord
    rows: list[JobRow]
    workers: list[dict[str, Any]]
    waiting: dict[str, int]  # queue -> messages waiting in it

    def counts(self) -> dict[str, int]:
        c = Counter(r.state for r in self.rows)
        return {s: c[s] for s in STATES if c[s]}

    @property
    def finished(self) -> bool:
        return all(r.state in ("done", "failed") for r in self.rows)

    def unserved(self) -> list[str]:
        """Queues that still hold jobs of this suite but no live worker consumes."""
        served = {q for w in self.workers for q in w.get("queues", ())}
        return sorted({r.queue for r in self.rows if r.state in ("queued", "retrying")} - served)

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": self.suite.to_json(),
            "counts": self.counts(),
            "finished": self.finished,
            "jobs": [asdict(r) for r in self.rows],
            "workers": self.workers,
            "waiting": self.waiting,
            "unserved_queues": self.unserved(),
        }


def _backend_state(app, task_id: str) -> tuple[str, Any]:
    import redis
    from kombu.exceptions import OperationalError

    res = app.AsyncResult(task_id)
    try:
        return res.state, res.result
    except (redis.ConnectionError, redis.TimeoutError, OperationalError) as exc:
        return "UNKNOWN", exc  # the backend did not answer this time: says nothing about the job
    except Exception as exc:  # a result the backend cannot decode
        return "FAILURE", exc


def suite_status(r, suite_id: str, app=None) -> SuiteStatus:
    rec = load_suite(r, suite_id)
    rows = []
    for i, j in enumerate(rec.jobs):
        js = JobState(r, rec.id, j["app"])
        row = JobRow(j["app"], j["queue"], "queued", js.attempts(), history=js.history())
        done = js.done()
        lease = js.lease()
        state, result = _backend_state(app, j["task_id"]) if app is not None else ("PENDING", None)
        if state == "SUCCESS" and isinstance(result, dict) and result and "parked" not in result:
            done = result  # the verdict summary as the result backend holds it
        park = js.parked() if not done else None
        if done:
            row.state, row.summary = "done", done
            row.worker, row.serial = done.get("worker", ""), done.get("serial", "")
            row.attempts = max(row.attempts, int(done.get("attempt") or 0))
        elif lease:
            row.state, row.worker, row.serial = "running", lease.get("worker", ""), lease.get("serial", "")
            row.note = js.progress()
        elif park:  # a long wait on a phone that keeps its clock: its delayed task resumes it
            row.state, row.serial, row.worker = "parked", park.get("serial", ""), park.get("worker", "")
            row.note = f"parked until {park.get('until')} (device time)"
        elif state == "FAILURE":
            row.state, row.note = "failed", f"{type(result).__name__}: {result}"
        elif i >= rec.queued:
            row.state = "not queued"
        elif row.attempts:
            row.state = "retrying"
            last = row.history[-1] if row.history else {}
            row.note = f"attempt {last.get('attempt', row.attempts)} {last.get('event', '')}".strip()
        rows.append(row)
    queues = sorted({j["queue"] for j in rec.jobs})
    waiting = {q: int(r.llen(q)) for q in queues}
    return SuiteStatus(rec, rows, live_workers(r), waiting)


def status_table(st: SuiteStatus):
    from rich.table import Table

    from exerciser.cli.run_cmd import CATS, _cell

    counts = ", ".join(f"{n} {s}" for s, n in st.counts().items())
    t = Table(title=f"suite {st.suite.id} ({st.suite.name}): {len(st.rows)} jobs: {counts}")
    t.add_column("app")
    t.add_column("state")
    t.add_column("att", justify="right")
    t.add_column("device")
    for c in CATS:
        t.add_column(c, justify="center")
    t.add_column("note", overflow="ellipsis", max_width=40, no_wrap=True)
    style = {"done": "green", "running": "cyan", "retrying": "yellow", "failed": "bold red"}
    for row in st.rows:
        cats = (row.summary or {}).get("categories") or {}
        device = f"{row.serial} ({row.worker.split('@')[0]})" if row.serial else ""
        state = f"[{style[row.state]}]{row.state}[/]" if row.state in style else row.state
        note = row.note or ((row.summary or {}).get("error") or "")
        t.add_row(row.app, state, str(row.attempts or ""), device, *[_cell(cats.get(c)) for c in CATS], note)
    return t
