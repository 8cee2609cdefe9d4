"""Repository functions for the run log (`runs`): what ran, when, by whom, and how it ended."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hqsync.config.vocabulary import FINISHED_OUTCOMES, Job, RunOutcome
from hqsync.models.tables import Run, utcnow


@dataclass(frozen=True)
class RunRecord:
    """One row of the run log, as `status` shows it."""

    id: int
    job: Job
    source: str | None
    started_at: datetime
    finished_at: datetime | None
    outcome: RunOutcome
    holder: str
    requests: int
    rows: Mapping[str, int] = field(default_factory=dict)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The `status --format json` shape of this run (see ARCHITECTURE.md)."""
        return {
            "job": self.job,
            "source": self.source,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "outcome": self.outcome,
            "holder": self.holder,
            "requests": self.requests,
            "rows": dict(self.rows),
            "error": self.error,
        }


def start_run(
    bind: Engine | Connection,
    job: Job,
    holder: str,
    source: str | None = None,
    started_at: datetime | None = None,
) -> int:
    """Log the start of a run (outcome 'running', committed at once); returns its id."""
    values: dict[str, object] = {
        "job": Job(job),
        "source": source,
        "holder": holder,
        "outcome": RunOutcome.RUNNING,
        "started_at": started_at or utcnow(),
        "requests": 0,
        "rows": {},
    }
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return int(conn.execute(sa.insert(Run).values(**values).returning(Run.id)).scalar_one())
    return int(bind.execute(sa.insert(Run).values(**values).returning(Run.id)).scalar_one())


def finish_run(
    bind: Engine | Connection,
    run_id: int,
    outcome: RunOutcome,
    *,
    requests: int = 0,
    rows: Mapping[str, int] | None = None,
    error: str | None = None,
    finished_at: datetime | None = None,
) -> None:
    """Record how run `run_id` ended."""
    if outcome not in FINISHED_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    stmt = (
        sa.update(Run)
        .where(Run.id == run_id)
        .values(
            outcome=RunOutcome(outcome),
            requests=requests,
            rows=dict(rows or {}),
            error=error,
            finished_at=finished_at or utcnow(),
        )
    )
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            conn.execute(stmt)
    else:
        bind.execute(stmt)


def recent_runs(
    bind: Engine | Connection, limit: int = 20, job: Job | None = None
) -> list[RunRecord]:
    """The most recent runs, newest first."""
    stmt = sa.select(Run).order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
    if job:
        stmt = stmt.where(Run.job == job)
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
    else:
        rows = bind.execute(stmt).mappings().all()
    return [
        RunRecord(
            id=r["id"],
            job=Job(r["job"]),
            source=r["source"],
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            outcome=RunOutcome(r["outcome"]),
            holder=r["holder"],
            requests=r["requests"],
            rows=r["rows"] or {},
            error=r["error"],
        )
        for r in rows
    ]


def last_finished(bind: Engine | Connection, job: str, outcomes: Sequence[str]) -> datetime | None:
    """When the latest run of `job` (a `Job`) with one of `outcomes` (`RunOutcome`s) finished
    (None if there is none)."""
    stmt = sa.select(sa.func.max(Run.finished_at)).where(Run.job == job, Run.outcome.in_(outcomes))
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            value = conn.execute(stmt).scalar_one_or_none()
    else:
        value = bind.execute(stmt).scalar_one_or_none()
    return value
