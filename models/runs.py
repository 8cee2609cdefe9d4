"""Repository functions for the run log (`runs`): what ran, when, by whom, and how it ended."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hqsync.config.vocabulary import FINISHED_OUTCOMES, Job, RunOutcome
from hqsync.models.tables import leases, runs, utcnow


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
    """Log the start of a run (outcome 'running', committed at once); returns its id.

    The run names this process (`this_host()`, pid), so that a later command can tell when
    the process is gone and close the run (`close_abandoned`).
    """
    values: dict[str, object] = {
        "job": Job(job),
        "source": source,
        "holder": holder,
        "outcome": RunOutcome.RUNNING,
        "started_at": started_at or utcnow(),
        "requests": 0,
        "rows": {},
        "host": this_host(),
        "pid": os.getpid(),
    }
    stmt = sa.insert(runs).values(**values).returning(runs.c.id)
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            return int(conn.execute(stmt).scalar_one())
    return int(bind.execute(stmt).scalar_one())


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
        sa.update(runs)
        .where(runs.c.id == run_id)
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


# The columns of the first schema only: `status` reads a store that still needs a migration.
_RUN_COLUMNS = (
    runs.c.id,
    runs.c.job,
    runs.c.source,
    runs.c.started_at,
    runs.c.finished_at,
    runs.c.outcome,
    runs.c.holder,
    runs.c.requests,
    runs.c.rows,
    runs.c.error,
)


def _records(bind: Engine | Connection, stmt: sa.Select[Any]) -> list[RunRecord]:
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


_NEWEST = (runs.c.started_at.desc(), runs.c.id.desc())


def recent_runs(
    bind: Engine | Connection, limit: int = 20, job: Job | None = None
) -> list[RunRecord]:
    """The most recent runs, newest first."""
    stmt = sa.select(*_RUN_COLUMNS).order_by(*_NEWEST).limit(limit)
    if job:
        stmt = stmt.where(runs.c.job == job)
    return _records(bind, stmt)


def last_runs(bind: Engine | Connection) -> list[RunRecord]:
    """The newest run of every job and source, however old (ordered by job, then source)."""
    rank = (
        sa.func.row_number()
        .over(partition_by=(runs.c.job, runs.c.source), order_by=_NEWEST)
        .label("rank")
    )
    ranked = sa.select(*_RUN_COLUMNS, rank).subquery()
    stmt = (
        sa.select(*(ranked.c[c.key] for c in _RUN_COLUMNS))
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.job, ranked.c.source)
    )
    return _records(bind, stmt)


def last_run(
    bind: Engine | Connection, *, job: Job | None = None, outcome: RunOutcome | None = None
) -> RunRecord | None:
    """The newest run of `job` (any job by default) that ended with `outcome` (any)."""
    stmt = sa.select(*_RUN_COLUMNS).order_by(*_NEWEST).limit(1)
    if job:
        stmt = stmt.where(runs.c.job == job)
    if outcome:
        stmt = stmt.where(runs.c.outcome == outcome)
    found = _records(bind, stmt)
    return found[0] if found else None


def last_finished(
    bind: Engine | Connection, job: Job, outcomes: Sequence[RunOutcome]
) -> datetime | None:
    """When the latest run of `job` with one of `outcomes` finished (None if there is none)."""
    stmt = sa.select(sa.func.max(runs.c.finished_at)).where(
        runs.c.job == job, runs.c.outcome.in_(outcomes)
    )
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            value = conn.execute(stmt).scalar_one_or_none()
    else:
        value = bind.execute(stmt).scalar_one_or_none()
    return value


@dataclass(frozen=True)
class SourceFailure:
    """A source whose latest finished sync failed: since when, why, how many times."""

    source: str
    since: datetime
    """When the first failed sync since its last good one started."""
    error: str
    """The latest failed sync's error (it says what went wrong)."""
    failures: int
    last_failed_at: datetime


def source_failures(
    bind: Engine | Connection, *, before_run: int | None = None
) -> list[SourceFailure]:
    """Every source whose latest finished sync failed (no later ok or skipped one), by source.

    `before_run`: as the run log stood when run `before_run` started (only runs with a smaller
    id), e.g. what a publish showed.
    """
    finished = [runs.c.job == Job.SYNC, runs.c.source.is_not(None)]
    if before_run is not None:
        finished.append(runs.c.id < before_run)
    good = (
        sa.select(runs.c.source, sa.func.max(runs.c.id).label("good_id"))
        .where(*finished, runs.c.outcome.in_((RunOutcome.OK, RunOutcome.SKIPPED)))
        .group_by(runs.c.source)
        .subquery()
    )
    stmt = (
        sa.select(runs.c.source, runs.c.started_at, runs.c.finished_at, runs.c.error)
        .outerjoin(good, good.c.source == runs.c.source)
        .where(
            *finished,
            runs.c.outcome == RunOutcome.FAILED,
            sa.or_(good.c.good_id.is_(None), runs.c.id > good.c.good_id),
        )
        .order_by(runs.c.source, runs.c.id)
    )
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            rows = conn.execute(stmt).all()
    else:
        rows = bind.execute(stmt).all()
    streaks: dict[str, list[Any]] = {}
    for source, started_at, finished_at, error in rows:
        streaks.setdefault(str(source), []).append((started_at, finished_at or started_at, error))
    return [
        SourceFailure(
            source=source,
            since=streak[0][0],
            error=streak[-1][2] or "unknown error",
            failures=len(streak),
            last_failed_at=streak[-1][1],
        )
        for source, streak in streaks.items()
    ]


def this_host() -> str:
    """This machine as the run log names it: the host name, plus the pid namespace when the
    system has one (containers may share a host name, but then not their processes)."""
    host = socket.gethostname()
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return host
    return f"{host}#{namespace}"


def pid_alive(pid: int) -> bool:
    """True when a process `pid` exists on this machine (whoever owns it)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


ABANDONED = (
    "abandoned: the process running it ({holder}) is gone; nothing it had not committed was "
    "kept, the next run redoes it"
)
INTERRUPTED = (
    "interrupted ({signal}): stopped before finishing; nothing it had not committed was kept, "
    "the next run redoes it"
)


def close_abandoned(
    engine: Engine,
    stale_after_s: float,
    *,
    now: datetime | None = None,
    host: str | None = None,
) -> int:
    """Close as 'failed: abandoned' the runs left 'running' by a process that is gone.

    A run is abandoned when it was started on this machine by a process that no longer exists,
    or when its holder keeps no live lease (every writer renews one while it runs) and it
    started more than `stale_after_s` ago. The leases a dead local process held are given up
    too, so nobody waits for them to run out. Returns how many runs were closed.
    """
    now = now or utcnow()
    host = host or this_host()
    cutoff = now - timedelta(seconds=stale_after_s)
    with engine.connect() as conn:
        running = conn.execute(
            sa.select(runs.c.id, runs.c.holder, runs.c.host, runs.c.pid, runs.c.started_at).where(
                runs.c.outcome == RunOutcome.RUNNING
            )
        ).all()
        if not running:
            return 0
        live = set(
            conn.execute(sa.select(leases.c.holder).where(leases.c.expires_at > now)).scalars()
        )
    dead_local: set[str] = set()
    closing: dict[int, str] = {}
    for run_id, holder, run_host, pid, started_at in running:
        if run_host == host and pid is not None and pid != os.getpid() and not pid_alive(pid):
            dead_local.add(holder)
            closing[run_id] = holder
        elif holder not in live and started_at <= cutoff:
            closing[run_id] = holder
    if not closing:
        return 0
    with engine.begin() as conn:
        for run_id, holder in closing.items():
            conn.execute(
                sa.update(runs)
                .where(runs.c.id == run_id, runs.c.outcome == RunOutcome.RUNNING)
                .values(
                    outcome=RunOutcome.FAILED,
                    finished_at=now,
                    error=ABANDONED.format(holder=holder),
                )
            )
        if dead_local:
            conn.execute(sa.delete(leases).where(leases.c.holder.in_(dead_local)))
    return len(closing)


def close_runs_of(engine: Engine, holder: str, error: str, *, now: datetime | None = None) -> int:
    """Close every run `holder` (this process) still has 'running' as failed with `error`
    (a one-shot command interrupted by a signal). Never raises for a database error."""
    with contextlib.suppress(sa.exc.SQLAlchemyError), engine.begin() as conn:
        result = conn.execute(
            sa.update(runs)
            .where(runs.c.holder == holder, runs.c.outcome == RunOutcome.RUNNING)
            .values(outcome=RunOutcome.FAILED, finished_at=now or utcnow(), error=error)
        )
        return int(result.rowcount)
    return 0
