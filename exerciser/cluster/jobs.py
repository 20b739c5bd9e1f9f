"""The job message (one scenario of a suite, self-contained for a worker on another host) and the suite
record. Scenarios travel as plain JSON; an app model travels as its YAML text, since the submitting
host's paths mean nothing elsewhere (a sample app is named by id: every install has sample_apks/)."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from exerciser.errors import UserError
from exerciser.paths import is_safe_id, safe_id
from exerciser.scenario import AppRef, Scenario

TASK_NAME = "exerciser.run_job"


def scenario_from_json(d: dict[str, Any], model_file: Path | None = None) -> Scenario:
    """The scenario on the worker; an app model is read from `model_file` (the shipped text, written out)."""
    sc = Scenario.from_json(d)
    if sc.app.kind == "model" and model_file is not None:
        sc = replace(sc, app=AppRef("model", str(model_file), sc.app.label))
    return sc


@dataclass
class Job:
    suite: str
    app: str  # scenario id: the results folder name
    queue: str
    need: dict[str, Any]
    scenario: dict[str, Any]
    model_text: str | None = None  # app.yaml of an app model (kind "model")
    results: str | None = None  # results store URL named at submit (a worker's --results wins)
    submitted: str = ""
    resume: dict[str, Any] | None = None  # a parked job's delayed task: the park's token and attempt

    @property
    def task_id(self) -> str:
        return task_id(self.suite, self.app)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Job:
        """A job off the broker: its suite and app name folders on the worker, so both must be names
        (never `..`, never a path); a malformed message raises UserError."""
        try:
            job = cls(**d)
        except TypeError as exc:
            raise UserError(f"malformed job message: {exc}") from None
        safe_id(job.suite, "job suite id")
        safe_id(job.app, "job app id")
        if not isinstance(job.scenario, dict) or job.scenario.get("id") != job.app:
            raise UserError(f"malformed job message: its scenario is not app {job.app!r}")
        return job


def task_id(suite: str, app: str) -> str:
    """Deterministic: `status` finds each job's Celery result without asking the workers."""
    return f"{suite}.{app}"


@dataclass
class SuiteRecord:
    id: str
    name: str
    source: str
    created: str
    results: str | None
    jobs: list[dict[str, str]] = field(default_factory=list)  # app, queue, task_id
    queued: int = 0  # jobs actually sent (all of them unless submit failed midway)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> SuiteRecord:
        return cls(**d)

    @property
    def apps(self) -> list[str]:
        return [j["app"] for j in self.jobs]


def new_suite_id(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "suite"
    return f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def check_suite_id(suite_id: str) -> str:
    if not is_safe_id(suite_id):
        raise UserError(f"not a suite id: {suite_id!r}")
    return suite_id
