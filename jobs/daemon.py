"""The daemon: APScheduler runs the pipeline's jobs while this process holds the leader lease.

One thread (the caller of `Daemon.run`) keeps the lease: the leader renews it every lease_s/3,
followers try to take it every lease_s/4. While leading, the scheduler holds two jobs:

- `sync` every `schedule.sync_every` (first run right after taking the lease): `run_cycle()`,
  which scores and publishes when data or the set of failing sources changed;
- `publish` on `schedule.publish_cron` in `schedule.timezone`: `publish()` anyway.

After either, the alerts step runs when due (`Pipeline.alerts_if_due`: a channel configured,
not the quiet hours, something changed since its last run); it never fails the job.

Both run under one lock, so a cycle and a publish never overlap; each job coalesces misfires and
never runs twice at once. Before a job starts it renews the lease, so a process that lost the
lease (to a follower, after a stall) does not run it. A failing job is logged and the schedule
goes on. `stop()` (SIGTERM/SIGINT in `run_daemon`) lets the job in flight finish, then releases
the lease so a follower takes over at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED, SchedulerEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from hqsync.config.errors import StoreBusyError
from hqsync.config.settings import Settings
from hqsync.config.vocabulary import Job
from hqsync.models.lease import (
    LEADER,
    WRITER,
    LeaseInfo,
    close_abandoned_runs,
    read_lease,
    record_next_runs,
    release,
    try_acquire,
    writing,
)
from hqsync.models.tables import utcnow

if TYPE_CHECKING:
    from hqsync.jobs.pipeline import CycleResult

log = logging.getLogger(__name__)

DAEMON_JOBS: tuple[Job, ...] = (Job.SYNC, Job.PUBLISH)
"""The jobs the daemon schedules (scoring runs inside the sync job's cycle)."""


class PipelineLike(Protocol):
    """The part of jobs.pipeline.Pipeline the daemon drives."""

    def run_cycle(self, publish_always: bool = False) -> CycleResult: ...

    def publish(self) -> object: ...

    def alerts_if_due(self, changed: bool = False) -> object: ...


SchedulerFactory = Callable[[ZoneInfo], BaseScheduler]


def default_scheduler(timezone: ZoneInfo) -> BaseScheduler:
    """A background scheduler with two worker threads (the job lock keeps jobs serial)."""
    return BackgroundScheduler(timezone=timezone, executors={"default": ThreadPoolExecutor(2)})


class Daemon:
    """Runs the pipeline on its schedule while holding the leader lease; see the module doc."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        pipeline: PipelineLike,
        *,
        holder: str,
        scheduler_factory: SchedulerFactory = default_scheduler,
        clock: Callable[[], datetime] = utcnow,
        lease_name: str = LEADER,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.pipeline = pipeline
        self.holder = holder
        self.clock = clock
        self.lease_name = lease_name
        self.timezone = ZoneInfo(settings.schedule.timezone)
        self.scheduler = scheduler_factory(self.timezone)
        self._stop = threading.Event()
        self._job_lock = threading.Lock()
        self._state_lock = threading.RLock()
        self._leading = False
        self._lease_expires: datetime | None = None
        self._published_next_runs: dict[Job, str] | None = None
        self._announced_leader: str | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def lease_s(self) -> float:
        """How long the lease lasts without renewal."""
        return self.settings.daemon.lease_s

    @property
    def leading(self) -> bool:
        """True while this process holds the lease and has its jobs scheduled."""
        return self._leading

    @property
    def stopping(self) -> bool:
        """True once stop() was called."""
        return self._stop.is_set()

    def start(self) -> None:
        """Start the scheduler (with no jobs until the lease is taken)."""
        # After each dispatch the scheduler has moved the job's next run time: publish it.
        self.scheduler.add_listener(
            self._on_dispatch, EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES
        )
        self.scheduler.start()
        log.info(
            "daemon %s started: sync every %s, publish at '%s' (%s), lease %s",
            self.holder,
            _seconds(self.settings.schedule.sync_every.total_seconds()),
            self.settings.schedule.publish_cron,
            self.settings.schedule.timezone,
            _seconds(self.lease_s),
        )

    def run(self) -> None:
        """Keep the lease and run jobs until stop() is called; then shut down cleanly."""
        self.start()
        try:
            while not self._stop.is_set():
                self._stop.wait(self.tick())
        finally:
            self.shutdown()

    def stop(self) -> None:
        """Ask run() to return: no new job starts, the one in flight finishes."""
        self._stop.set()

    def shutdown(self) -> None:
        """Remove the jobs, wait for the one in flight, release the lease and stop the scheduler."""
        self._stop.set()
        with self._state_lock:
            self._remove_jobs()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        with self._state_lock:
            self._leading = False
        try:
            # Also when this process thinks it lost the lease: the row may still name it.
            if release(self.engine, self.holder, self.lease_name):
                log.info("released the lease; a waiting daemon takes over now")
        except SQLAlchemyError as exc:
            log.warning("could not release the lease (it expires by itself): %s", exc)
        log.info("daemon %s stopped", self.holder)

    # -- the lease ---------------------------------------------------------------------------

    def tick(self) -> float:
        """Take or renew the lease once, start or stop leading accordingly; seconds to wait."""
        now = self.clock()
        with self._state_lock:
            try:
                previous = None if self._leading else read_lease(self.engine, self.lease_name)
                held = try_acquire(self.engine, self.holder, self.lease_s, now, self.lease_name)
            except SQLAlchemyError as exc:
                log.warning("cannot reach the database to keep the lease: %s", exc)
                held = (
                    self._leading and self._lease_expires is not None and now < self._lease_expires
                )
            else:
                if held:
                    self._lease_expires = now + timedelta(seconds=self.lease_s)
            if held and not self._leading:
                self._start_leading(previous, now)
            elif not held and self._leading:
                self._stop_leading()
            elif not held:
                self._announce_leader(previous, now)
            if self._leading:
                self.publish_next_runs()
            else:
                self._remove_jobs()  # also those of a job that found the lease gone
        return self.lease_s / 3 if self._leading else self.lease_s / 4

    def _announce_leader(self, lease: LeaseInfo | None, now: datetime) -> None:
        """Standing by: say who leads, once per leader (and when nobody does any more)."""
        live = lease if lease is not None and lease.expires_at > now else None
        holder = live.holder if live is not None else None
        if holder in (self._announced_leader, self.holder):
            return
        self._announced_leader = holder
        if live is None:
            log.info("%s standing by: no daemon leads; trying to take the lease", self.holder)
        else:
            log.info(
                "%s standing by: %s leads (lease until %s); this daemon takes over if it stops",
                self.holder,
                live.holder,
                live.expires_at.isoformat(timespec="seconds"),
            )

    def _start_leading(self, previous: LeaseInfo | None, now: datetime) -> None:
        if self._stop.is_set():
            return
        self._leading = True
        self._announced_leader = None
        if previous is not None and previous.holder != self.holder:
            with contextlib.suppress(SQLAlchemyError):
                # It no longer leads, so it no longer writes: nobody waits for its writer lease.
                release(self.engine, previous.holder, WRITER)
            try:
                closed = close_abandoned_runs(self.engine, previous.holder, now)
            except SQLAlchemyError as exc:
                log.warning("could not close the runs %s left unfinished: %s", previous.holder, exc)
                closed = 0
            if closed:
                log.warning(
                    "took over from %s, which left %d run(s) unfinished; marked them failed",
                    previous.holder,
                    closed,
                )
        log.info("%s leads: running the jobs", self.holder)
        grace = max(1, round(self.settings.daemon.misfire_grace_s))
        common: dict[str, int | bool] = {
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": grace,
            "replace_existing": True,
        }
        every = self.settings.schedule.sync_every.total_seconds()
        self.scheduler.add_job(
            self.run_job,
            IntervalTrigger(seconds=every, start_date=now, timezone=self.timezone),
            args=[Job.SYNC],
            id=Job.SYNC,
            name=Job.SYNC,
            next_run_time=now,
            **common,
        )
        self.scheduler.add_job(
            self.run_job,
            CronTrigger.from_crontab(self.settings.schedule.publish_cron, timezone=self.timezone),
            args=[Job.PUBLISH],
            id=Job.PUBLISH,
            name=Job.PUBLISH,
            **common,
        )
        self._published_next_runs = None

    def _stop_leading(self, remove_jobs: bool = True) -> None:
        self._leading = False
        if remove_jobs:
            self._remove_jobs()
        lease = None
        with contextlib.suppress(SQLAlchemyError):
            lease = read_lease(self.engine, self.lease_name)
        log.warning(
            "%s lost the lease%s: not running jobs until it is free again",
            self.holder,
            f" to {lease.holder}" if lease and lease.holder != self.holder else "",
        )

    def _remove_jobs(self) -> None:
        for job_id in DAEMON_JOBS:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job_id)

    def next_runs(self) -> dict[Job, datetime]:
        """When each scheduled job runs next (empty while following)."""
        result: dict[Job, datetime] = {}
        for job in self.scheduler.get_jobs():
            when = getattr(job, "next_run_time", None)
            if job.id in DAEMON_JOBS and when is not None:
                result[Job(job.id)] = when
        return result

    def publish_next_runs(self) -> None:
        """Write the next run times into the lease row (read by `hqsync status`), when changed."""
        runs = self.next_runs()
        shown = {job: when.isoformat() for job, when in runs.items()}
        if shown == self._published_next_runs:
            return
        try:
            record_next_runs(self.engine, self.holder, runs, self.lease_name)
            self._published_next_runs = shown
        except SQLAlchemyError as exc:
            log.warning("could not record the next run times: %s", exc)

    def _on_dispatch(self, _event: SchedulerEvent) -> None:
        with self._state_lock:
            if self._leading:
                self.publish_next_runs()

    def _confirm_lease(self) -> bool:
        """Renew the lease right before a job; stop leading if another process has it."""
        with self._state_lock:
            if not self._leading or self._stop.is_set():
                return False
            now = self.clock()
            try:
                held = try_acquire(self.engine, self.holder, self.lease_s, now, self.lease_name)
            except SQLAlchemyError as exc:
                log.warning("cannot confirm the lease before a job; skipping it: %s", exc)
                return False
            if held:
                self._lease_expires = now + timedelta(seconds=self.lease_s)
            else:
                # Called from inside a job: the next tick removes the jobs from the scheduler.
                self._stop_leading(remove_jobs=False)
            return held

    # -- the jobs ----------------------------------------------------------------------------

    def run_job(self, job: Job) -> None:
        """Run `job` ('sync' or 'publish') now, if leading; never raises (the schedule goes on)."""
        with self._job_lock:
            if not self._confirm_lease():
                log.info("%s: skipped, this process does not lead (or is stopping)", job)
                return
            started = time.monotonic()
            try:
                # One writer at a time: a one-shot `hqsync sync` or `publish` may be writing.
                with writing(
                    self.engine,
                    self.holder,
                    self.lease_s,
                    should_stop=self._stop.is_set,
                    clock=self.clock,
                ):
                    self._run(job, started)
            except StoreBusyError:
                log.info("%s: skipped, stopping while another process was writing", job)
            except Exception as exc:
                log.error(
                    "%s failed after %.1fs: %s: %s; the schedule goes on, the next run retries",
                    job,
                    time.monotonic() - started,
                    type(exc).__name__,
                    exc,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                    extra={"event": f"{job}_failed"},
                )

    def _run(self, job: Job, started: float) -> None:
        if job == Job.SYNC:
            result = self.pipeline.run_cycle()
            log_cycle(result, time.monotonic() - started, len(self.settings.sources))
        elif job == Job.PUBLISH:
            self.pipeline.publish()
            log.info(
                "publish: dashboard published in %.1fs",
                time.monotonic() - started,
                extra={"event": "publish", "seconds": time.monotonic() - started},
            )
            self.pipeline.alerts_if_due()  # never raises: alerts never fail the publish job
        else:
            raise ValueError(f"unknown job {job!r}")


def _seconds(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def summarise_cycle(result: CycleResult, seconds: float, configured_sources: int) -> str:
    """The one-line summary of a cycle, e.g. 'cycle: 2 sources synced (1 changed), …'."""
    sync = result.sync
    failed = tuple(sync.failed_sources or ())
    rows: dict[str, dict[str, int]] = dict(sync.rows or {})
    synced = max(configured_sources, len(rows)) - len(failed)
    changed_sources = [
        name
        for name, counts in rows.items()
        if isinstance(counts, dict)
        and any(counts.get(k, 0) for k in ("inserted", "updated", "deleted", "restored"))
    ]
    if changed_sources:
        changed = f"{len(changed_sources)} changed"
    else:
        changed = "data changed" if sync.changed else "no changes"
    parts = [f"cycle: {synced} source{'s' if synced != 1 else ''} synced ({changed})"]
    if failed:
        parts.append(f"{len(failed)} failed ({', '.join(failed)})")
    if result.score_error:
        parts.append("scoring failed")
    else:
        parts.append(f"{result.scored} assessment{'s' if result.scored != 1 else ''} scored")
    if result.publish_error:
        parts.append("publish failed")
    else:
        parts.append("dashboard published" if result.published else "dashboard unchanged")
    return ", ".join(parts) + f" in {seconds:.1f}s"


def log_cycle(result: CycleResult, seconds: float, configured_sources: int) -> None:
    """Log the cycle summary: INFO when it went well, WARNING when a source failed."""
    failed = tuple(result.sync.failed_sources or ())
    log.log(
        logging.WARNING if result.failed else logging.INFO,
        "%s",
        summarise_cycle(result, seconds, configured_sources),
        extra={
            "event": "cycle",
            "changed": bool(result.sync.changed),
            "failed_sources": list(failed),
            "scored": result.scored,
            "published": bool(result.published),
            "seconds": round(seconds, 3),
        },
    )


def run_daemon(settings: Settings, engine: Engine, pipeline: PipelineLike, holder: str) -> int:
    """Run the daemon in the foreground until SIGTERM or SIGINT; returns the exit code (0).

    The first signal stops gracefully (the run in flight finishes, the lease is released); a
    second one exits at once (the store rolls back what was not committed).
    """
    daemon = Daemon(settings, engine, pipeline, holder=holder)
    if hasattr(pipeline, "should_stop"):
        pipeline.should_stop = lambda: daemon.stopping

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if daemon.stopping:
            log.warning("%s again: exiting now; uncommitted work is rolled back", name)
            os._exit(1)
        log.info("%s: stopping after the run in flight", name)
        daemon.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        daemon.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
