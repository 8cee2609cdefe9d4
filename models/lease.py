"""The leader lease: which of several daemons on one database runs the jobs, and until when.

Every operation is one conditional statement, so two processes racing for the lease can never
both win, on SQLite (writes are serialised by BEGIN IMMEDIATE) and on PostgreSQL (the conflicting
row is locked and the WHERE clause re-checked against the winner's version).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from hqsync.config.errors import StoreBusyError
from hqsync.config.vocabulary import Job, RunOutcome
from hqsync.models.runs import pid_alive, this_host
from hqsync.models.tables import leases, runs, utcnow

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

log = logging.getLogger(__name__)

LEADER = "leader"
WRITER = "writer"
"""The lease whoever writes to the store holds for the whole job: the daemon's sync cycle or
publish, and one-shot `sync`, `score`, `publish`, `run --once`. One writer at a time."""


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds a lease, since when and until when (and what the holder will run next)."""

    holder: str
    acquired_at: datetime
    expires_at: datetime
    next_runs: Mapping[str, str] = field(default_factory=dict)


def try_acquire(
    engine: Engine, holder: str, ttl_s: float, now: datetime, name: str = LEADER
) -> bool:
    """Take the lease `name` for `ttl_s` seconds when it is free, expired or already ours.

    Renews it when `holder` already holds it. Returns True when `holder` holds the lease after
    the call, False when another live holder has it.
    """
    expires = now + timedelta(seconds=ttl_s)
    values = {"name": name, "holder": holder, "acquired_at": now, "expires_at": expires}
    stmt: postgresql.Insert | sqlite.Insert
    # Each dialect's module is imported when used: a command on SQLite never loads PostgreSQL's.
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(leases).values(**values)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(leases).values(**values)
    ours = leases.c.holder == stmt.excluded.holder
    upsert = stmt.on_conflict_do_update(
        index_elements=[leases.c.name],
        set_={
            "holder": stmt.excluded.holder,
            # A renewal keeps the original acquisition time; a takeover starts afresh.
            "acquired_at": sa.case((ours, leases.c.acquired_at), else_=stmt.excluded.acquired_at),
            "expires_at": stmt.excluded.expires_at,
            "next_runs": sa.case((ours, leases.c.next_runs), else_=sa.null()),
        },
        where=ours | (leases.c.expires_at <= now),
    ).returning(leases.c.holder)
    with engine.begin() as conn:
        won = conn.execute(upsert).scalar_one_or_none()
    return won == holder


def release(engine: Engine, holder: str, name: str = LEADER) -> bool:
    """Give up the lease `name` if `holder` holds it (so a follower takes over at once)."""
    with engine.begin() as conn:
        result = conn.execute(
            sa.delete(leases).where(leases.c.name == name, leases.c.holder == holder)
        )
    return bool(result.rowcount)


def current_lease(engine: Engine, now: datetime, name: str = LEADER) -> LeaseInfo | None:
    """The live lease `name`, or None when nobody holds it or it has expired."""
    lease = read_lease(engine, name)
    return lease if lease is not None and lease.expires_at > now else None


def read_lease(engine: Engine, name: str = LEADER) -> LeaseInfo | None:
    """The lease row `name` as stored, expired or not (None when there is none)."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(leases).where(leases.c.name == name)).mappings().one_or_none()
    if row is None:
        return None
    return LeaseInfo(
        holder=row["holder"],
        acquired_at=row["acquired_at"],
        expires_at=row["expires_at"],
        next_runs=dict(row["next_runs"] or {}),
    )


def record_next_runs(
    engine: Engine, holder: str, next_runs: Mapping[Job, datetime | None], name: str = LEADER
) -> bool:
    """Publish when each job runs next (for `hqsync status`), if `holder` still holds the lease."""
    values = {job: when.isoformat() for job, when in next_runs.items() if when is not None}
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(leases)
            .where(leases.c.name == name, leases.c.holder == holder)
            .values(next_runs=values)
        )
    return bool(result.rowcount)


def close_abandoned_runs(engine: Engine, holder: str, now: datetime) -> int:
    """Mark the runs `holder` left 'running' (it died without finishing them) as failed.

    Call this only after taking over the lease from `holder`: it can no longer be running
    anything. Returns how many runs were closed.
    """
    with engine.begin() as conn:
        result = conn.execute(
            sa.update(runs)
            .where(runs.c.holder == holder, runs.c.outcome == RunOutcome.RUNNING)
            .values(
                outcome=RunOutcome.FAILED,
                finished_at=now,
                error=(
                    f"interrupted: {holder} stopped before finishing this run (its lease "
                    "expired); nothing it had not committed was kept, the next run redoes it"
                ),
            )
        )
    return int(result.rowcount)


def acquire_writer(
    engine: Engine,
    holder: str,
    ttl_s: float,
    *,
    wait: bool = True,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], datetime] = utcnow,
    poll_s: float | None = None,
    name: str = WRITER,
) -> bool:
    """Take the writer lease for `holder`; while another process holds it, wait (logging once
    per holder who writes) or, without `wait`, raise StoreBusyError naming the holder.

    Returns False only when `should_stop()` turned true while waiting.
    """
    poll = poll_s if poll_s is not None else max(0.05, min(1.0, ttl_s / 4))
    announced: str | None = None
    while not _try_acquire_busy_ok(engine, holder, ttl_s, clock(), name):
        lease = read_lease(engine, name)
        if lease is not None and _take_over_dead(
            engine, lease.holder, holder, ttl_s, clock(), name
        ):
            break
        who = lease.holder if lease else "another process"
        until = f" (lease until {lease.expires_at:%Y-%m-%d %H:%M:%S} UTC)" if lease else ""
        if not wait:
            raise StoreBusyError(
                f"{who} is writing to this store{until}: try again later, or run without "
                "--no-wait to wait for it"
            )
        if who != announced:
            log.info("waiting for %s, which is writing to this store%s", who, until)
            announced = who
        if should_stop():
            return False
        time.sleep(poll)
    return True


def holder_is_dead_here(engine: Engine, holder: str) -> bool:
    """True when `holder` was a process of this machine that no longer exists, as the runs
    it left running show (their host and pid). A holder with no running run is not known to
    be dead: its lease runs out by itself."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(runs.c.host, runs.c.pid).where(
                runs.c.holder == holder, runs.c.outcome == RunOutcome.RUNNING
            )
        ).all()
    host = this_host()
    return bool(rows) and all(
        run_host == host and pid is not None and not pid_alive(pid) for run_host, pid in rows
    )


def _take_over_dead(  # noqa: PLR0917 (the lease's own five plus whom it is taken from)
    engine: Engine, dead: str, holder: str, ttl_s: float, now: datetime, name: str
) -> bool:
    """Take the lease `name` from `dead` at once when that holder's process is gone (a killed
    one-shot would otherwise block every writer until its lease ran out)."""
    if dead == holder or not holder_is_dead_here(engine, dead):
        return False
    try:
        with engine.begin() as conn:
            taken = conn.execute(
                sa.update(leases)
                .where(leases.c.name == name, leases.c.holder == dead)
                .values(
                    holder=holder,
                    acquired_at=now,
                    expires_at=now + timedelta(seconds=ttl_s),
                    next_runs=None,
                )
            ).rowcount
    except sa.exc.OperationalError as exc:
        if "locked" not in str(exc.orig):
            raise
        return False
    if taken:
        log.info("took the %s lease from %s: its process on this machine is gone", name, dead)
    return bool(taken)


def _try_acquire_busy_ok(
    engine: Engine, holder: str, ttl_s: float, now: datetime, name: str
) -> bool:
    # On SQLite a long write transaction of the lease's holder keeps the lock row unwritable
    # for a while: that is "busy", not a failure.
    try:
        return try_acquire(engine, holder, ttl_s, now, name)
    except sa.exc.OperationalError as exc:
        if "locked" not in str(exc.orig):
            raise
        return False


@contextlib.contextmanager
def writing(
    engine: Engine,
    holder: str,
    ttl_s: float,
    *,
    wait: bool = True,
    should_stop: Callable[[], bool] = lambda: False,
    clock: Callable[[], datetime] = utcnow,
    name: str = WRITER,
) -> Iterator[None]:
    """Hold the writer lease for the block (see `acquire_writer`), renewing it every ttl/3 in
    a background thread, and give it up at the end. Raises StoreBusyError when it cannot be
    taken without waiting (`wait` False) or `should_stop()` turned true while waiting."""
    if not acquire_writer(
        engine, holder, ttl_s, wait=wait, should_stop=should_stop, clock=clock, name=name
    ):
        raise StoreBusyError("stopped while waiting for another process to finish writing")
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl_s / 3):
            try:
                if not try_acquire(engine, holder, ttl_s, clock(), name):
                    log.warning("%s lost the writer lease (it ran out while writing)", holder)
            except SQLAlchemyError as exc:
                log.warning("could not renew the writer lease: %s", exc)

    thread = threading.Thread(target=renew, name=f"{name}-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        try:
            release(engine, holder, name)
        except SQLAlchemyError as exc:
            log.warning("could not give up the writer lease (it runs out by itself): %s", exc)


def lock_source(conn: Connection, source: str) -> None:
    """Serialise writers of one source inside the transaction `conn` runs: on PostgreSQL a
    transaction-scoped advisory lock keyed by the source name (held until commit or rollback);
    SQLite needs none (BEGIN IMMEDIATE already lets one writer in at a time)."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(6859, hashtext(:source))"), {"source": source}
        )
