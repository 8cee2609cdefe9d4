"""The daemon's schedule and leadership, driven by a controlled clock on both stores."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from hqsync.config.settings import settings_from_mapping
from hqsync.jobs.daemon import Daemon, summarise_cycle
from hqsync.jobs.status import status_report
from hqsync.models import tables
from hqsync.models.lease import read_lease, try_acquire
from hqsync.models.runs import recent_runs, start_run
from tests.daemon.fakes import (
    FakeClock,
    FakeCycle,
    FakePipeline,
    FakeSync,
    ManualScheduler,
    patch_apscheduler_clock,
)

# 00:00 UTC is 07:00 in Asia/Ho_Chi_Minh (UTC+7, no DST).
T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
ME = "host-a:100"
OTHER = "host-b:200"


def make_settings(db_url: str, **daemon: object):
    return settings_from_mapping(
        {
            "database": {"url": db_url},
            "schedule": {
                "sync_every": "1m",
                "publish_cron": "0 6 * * *",
                "timezone": "Asia/Ho_Chi_Minh",
            },
            "daemon": {"lease_s": 30, "misfire_grace_s": 300, **daemon},
        }
    )


@pytest.fixture
def clock(monkeypatch):
    clock = FakeClock(T0)
    patch_apscheduler_clock(monkeypatch, clock)
    return clock


def build(engine, clock, *, holder=ME, pipeline=None, **daemon):
    settings = make_settings(str(engine.url), **daemon)
    pipeline = pipeline or FakePipeline(engine, holder, clock)
    schedulers: list[ManualScheduler] = []

    def factory(tz):
        schedulers.append(ManualScheduler(tz))
        return schedulers[-1]

    d = Daemon(settings, engine, pipeline, holder=holder, scheduler_factory=factory, clock=clock)
    d.start()
    return d, pipeline, schedulers[0]


def run_for(daemon, scheduler, clock, seconds, step=1.0):
    """Advance the clock by `step` until `seconds` passed, keeping the lease and running jobs."""
    elapsed = 0.0
    next_tick = 0.0
    while elapsed < seconds:
        clock.advance(step)
        elapsed += step
        if elapsed >= next_tick:
            next_tick = elapsed + daemon.tick()
        scheduler.process()


def test_sync_runs_on_taking_the_lease_then_every_interval(engine, clock):
    daemon, pipeline, scheduler = build(engine, clock)
    daemon.tick()
    scheduler.process()
    run_for(daemon, scheduler, clock, 10 * 60 - 1)
    assert pipeline.times("sync") == [T0 + timedelta(minutes=k) for k in range(10)]
    assert pipeline.times("publish") == []
    assert {r.holder for r in recent_runs(engine, 50)} == {ME}


def test_publish_cron_fires_in_the_configured_timezone(engine, monkeypatch):
    start = datetime(2026, 3, 1, 22, 57, tzinfo=UTC)  # 05:57 in Ho Chi Minh City
    clock = FakeClock(start)
    patch_apscheduler_clock(monkeypatch, clock)
    daemon, pipeline, scheduler = build(engine, clock)
    daemon.tick()
    run_for(daemon, scheduler, clock, 6 * 60, step=5)
    assert pipeline.times("publish") == [datetime(2026, 3, 1, 23, 0, tzinfo=UTC)]
    assert len(pipeline.times("sync")) == 7  # at 22:57 and each minute after


def test_misfires_are_coalesced_into_one_run(engine, clock):
    daemon, pipeline, scheduler = build(engine, clock)
    daemon.tick()
    scheduler.process()
    clock.advance(5 * 60 + 30)  # the process was stalled through five run times
    daemon.tick()
    scheduler.process()
    assert pipeline.times("sync") == [T0, T0 + timedelta(seconds=330)]
    run_for(daemon, scheduler, clock, 60)
    assert pipeline.times("sync")[-1] == T0 + timedelta(minutes=6)


def test_a_run_missed_by_more_than_the_grace_time_is_skipped(engine, clock):
    daemon, pipeline, scheduler = build(engine, clock, misfire_grace_s=10)
    daemon.tick()
    scheduler.process()
    clock.advance(90)  # the 60 s run is 30 s late, beyond the 10 s grace
    daemon.tick()
    scheduler.process()
    assert pipeline.times("sync") == [T0]
    run_for(daemon, scheduler, clock, 30)
    assert pipeline.times("sync") == [T0, T0 + timedelta(seconds=120)]


def test_a_failing_job_does_not_stop_the_schedule(engine, clock, caplog):
    pipeline = FakePipeline(engine, ME, clock, fail=2)
    daemon, pipeline, scheduler = build(engine, clock, pipeline=pipeline)
    daemon.tick()
    with caplog.at_level(logging.INFO, logger="hqsync.jobs.daemon"):
        scheduler.process()
        run_for(daemon, scheduler, clock, 3 * 60)
    assert len(pipeline.times("sync")) == 4
    outcomes = [r.outcome for r in reversed(recent_runs(engine, 10))]
    assert outcomes == ["failed", "failed", "ok", "ok"]
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 2
    assert "the schedule goes on" in failures[0]
    assert daemon.leading


def test_a_follower_runs_nothing_then_takes_over_when_the_lease_expires(engine, clock):
    assert try_acquire(engine, OTHER, 30, T0)
    orphan = start_run(engine, "sync", OTHER, started_at=T0)
    daemon, pipeline, scheduler = build(engine, clock)
    run_for(daemon, scheduler, clock, 29)
    assert not daemon.leading
    assert pipeline.calls == []
    run_for(daemon, scheduler, clock, 30 / 4 + 1)  # the lease expired at T0+30s
    assert daemon.leading
    took_over = pipeline.times("sync")[0]
    assert T0 + timedelta(seconds=30) <= took_over <= T0 + timedelta(seconds=30 + 30 / 4 + 1)
    runs = {r.id: r for r in recent_runs(engine, 10)}
    assert runs[orphan].outcome == "failed"
    assert "interrupted" in (runs[orphan].error or "")


def test_a_daemon_that_lost_its_lease_runs_no_job(engine, clock):
    daemon, pipeline, scheduler = build(engine, clock)
    daemon.tick()
    scheduler.process()
    with engine.begin() as conn:  # another daemon took over while this one was stalled
        taken = {"holder": OTHER, "expires_at": T0 + timedelta(hours=1)}
        conn.execute(sa.update(tables.leases).values(**taken))
    clock.advance(60)
    scheduler.process()
    assert pipeline.times("sync") == [T0]
    assert not daemon.leading
    daemon.tick()
    assert daemon.next_runs() == {}
    assert read_lease(engine).holder == OTHER


def test_next_runs_are_published_for_status(engine, clock):
    daemon, _pipeline, scheduler = build(engine, clock)
    daemon.tick()
    scheduler.process()
    report = status_report(daemon.settings, engine, now=clock())
    assert report["leader"] == {
        "holder": ME,
        "expires_at": (T0 + timedelta(seconds=30)).isoformat(),
    }
    next_runs = {job: datetime.fromisoformat(when) for job, when in report["next_runs"].items()}
    assert next_runs == {
        "sync": T0 + timedelta(minutes=1),
        "publish": datetime(2026, 3, 1, 23, 0, tzinfo=UTC),  # 06:00 next morning, local time
    }


def test_a_cycle_and_a_publish_never_overlap(engine, clock):
    hold = threading.Event()
    pipeline = FakePipeline(engine, ME, clock, hold=hold)
    daemon, pipeline, _scheduler = build(engine, clock, pipeline=pipeline)
    daemon.tick()
    threads = [threading.Thread(target=daemon.run_job, args=(job,)) for job in ("sync", "publish")]
    for thread in threads:
        thread.start()
    assert pipeline.started.wait(5)
    threading.Event().wait(0.2)  # give the second job every chance to start too
    assert pipeline.active == 1
    hold.set()
    for thread in threads:
        thread.join(10)
    assert sorted(job for job, _ in pipeline.calls) == ["publish", "sync"]
    assert pipeline.max_active == 1


def test_stop_lets_the_run_in_flight_finish_and_releases_the_lease(engine):
    settings = make_settings(str(engine.url), lease_s=3)
    pipeline = FakePipeline(engine, ME, work_s=0.5)
    daemon = Daemon(settings, engine, pipeline, holder=ME)
    thread = threading.Thread(target=daemon.run)
    thread.start()
    assert pipeline.started.wait(10)
    daemon.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert [job for job, _ in pipeline.finished] == ["sync"]
    assert [r.outcome for r in recent_runs(engine)] == ["ok"]
    assert read_lease(engine) is None


@pytest.mark.parametrize(
    ("cycle", "summary"),
    [
        (
            FakeCycle(FakeSync(True, (), {"a": {"inserted": 1}, "b": {"inserted": 0}}), 12, True),
            "cycle: 2 sources synced (1 changed), 12 assessments scored, "
            "dashboard published in 1.3s",
        ),
        (
            FakeCycle(FakeSync(False, ("b",), {"a": {}}), 0, False),
            "cycle: 1 source synced (no changes), 1 failed (b), 0 assessments scored, "
            "dashboard unchanged in 1.3s",
        ),
    ],
)
def test_cycle_summary_line(cycle, summary):
    assert summarise_cycle(cycle, 1.26, configured_sources=2) == summary


def test_the_summary_of_the_real_pipeline_result_names_what_failed():
    from hqsync.jobs.pipeline import CycleResult, SyncOutcome

    result = CycleResult(
        sync=SyncOutcome(changed=True, rows={"a": {"read": 5, "restored": 1}, "b": {}}),
        scored=3,
        published=False,
        publish_error="dashboard spreadsheet 1XyZ: permission denied",
    )
    assert summarise_cycle(result, 0.5, configured_sources=2) == (
        "cycle: 2 sources synced (1 changed), 3 assessments scored, publish failed in 0.5s"
    )
