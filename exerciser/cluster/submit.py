"""`exerciser submit`: every (scenario, app) of a suite becomes one job on the queue its device needs."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from pathlib import Path

from exerciser.cluster.config import make_app, redis_client, safe_url
from exerciser.cluster.jobs import TASK_NAME, Job, SuiteRecord, new_suite_id, now_iso
from exerciser.cluster.keys import save_suite
from exerciser.cluster.routing import need_of
from exerciser.cluster.store import normalize_url
from exerciser.errors import UserError


def build_jobs(
    suite_path: Path,
    profile: str | None = None,
    locale: str | None = None,
    rules_file: Path | None = None,
    results: str | None = None,
) -> tuple[SuiteRecord, list[Job]]:
    """The suite's jobs, every scenario checked the way `exerciser run` checks it (nothing is queued)."""
    from exerciser.runner.app_run import app_info
    from exerciser.scenario import load_suite_or_scenario
    from exerciser.score.rulepack import load_overrides_file, load_rulepack

    suite = load_suite_or_scenario(suite_path)
    overrides = load_overrides_file(rules_file) if rules_file else {}
    pack = load_rulepack()
    sid = new_suite_id(suite.name)
    results = normalize_url(results) if results else None
    jobs = []
    for sc in suite.scenarios:
        sc = sc.with_overrides(profile=profile, locale=locale)
        if overrides:
            sc = replace(sc, rules=dict(sc.rules) | overrides)
        pack.with_overrides(sc.rules, origin=str(rules_file or sc.source))  # bad thresholds: now, not later
        need = need_of(sc)
        app_info(sc)  # the model or APK is readable
        model_text = sc.app.model_path.read_text(encoding="utf-8") if sc.app.kind == "model" else None
        jobs.append(Job(sid, sc.id, need.queue, need.to_json(), sc.to_json(), model_text, results, now_iso()))
    rec = SuiteRecord(
        id=sid,
        name=suite.name,
        source=str(Path(suite_path).resolve()),
        created=now_iso(),
        results=results,
        jobs=[{"app": j.app, "queue": j.queue, "task_id": j.task_id} for j in jobs],
    )
    return rec, jobs


def submit(rec: SuiteRecord, jobs: list[Job], broker: str, backend: str | None = None) -> SuiteRecord:
    from kombu.exceptions import OperationalError

    r = redis_client(broker)
    save_suite(r, rec)
    app = make_app(broker, backend)
    try:
        with app.producer_or_acquire() as producer:
            for job in jobs:
                app.send_task(
                    TASK_NAME,
                    args=[job.to_json()],
                    task_id=job.task_id,
                    queue=job.queue,
                    routing_key=job.queue,
                    producer=producer,
                )
                rec.queued += 1
    except OperationalError as exc:
        raise UserError(
            f"broker {safe_url(broker)} lost while queueing suite {rec.id}: {rec.queued} of {len(jobs)} "
            f"jobs queued ({exc})"
        ) from None
    finally:
        with contextlib.suppress(Exception):  # the broker is gone: the error above says so
            save_suite(r, rec)
    return rec
