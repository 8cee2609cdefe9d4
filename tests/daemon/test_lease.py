"""The leader lease on both stores: expiry, renewal, takeover, and one winner under contention."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hqsync.config.errors import StoreBusyError
from hqsync.models import tables
from hqsync.models.lease import (
    WRITER,
    acquire_writer,
    close_abandoned_runs,
    current_lease,
    read_lease,
    record_next_runs,
    release,
    try_acquire,
)
from hqsync.models.runs import finish_run, recent_runs, start_run

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_free_lease_is_taken_and_others_are_refused_while_it_lives(engine):
    assert try_acquire(engine, "a", 10, at(0))
    assert not try_acquire(engine, "b", 10, at(9.9))
    lease = current_lease(engine, at(5))
    assert (lease.holder, lease.acquired_at, lease.expires_at) == ("a", at(0), at(10))


def test_renewal_extends_the_lease_and_keeps_when_it_was_taken(engine):
    assert try_acquire(engine, "a", 10, at(0))
    assert try_acquire(engine, "a", 10, at(8))
    assert not try_acquire(engine, "b", 10, at(12))  # would have expired without the renewal
    lease = current_lease(engine, at(12))
    assert (lease.acquired_at, lease.expires_at) == (at(0), at(18))


def test_an_expired_lease_is_taken_over_and_starts_afresh(engine):
    assert try_acquire(engine, "a", 10, at(0))
    record_next_runs(engine, "a", {"sync": at(60)})
    assert current_lease(engine, at(10)) is None  # expiry is exclusive
    assert try_acquire(engine, "b", 10, at(10))
    assert read_lease(engine).holder == "b"
    assert read_lease(engine).acquired_at == at(10)
    assert read_lease(engine).next_runs == {}  # the old leader's plans are not b's
    assert not try_acquire(engine, "a", 10, at(11))  # the old leader cannot renew any more


def test_release_frees_the_lease_for_others_only_when_called_by_the_holder(engine):
    assert try_acquire(engine, "a", 60, at(0))
    assert not release(engine, "b")
    assert current_lease(engine, at(1)).holder == "a"
    assert release(engine, "a")
    assert current_lease(engine, at(1)) is None
    assert try_acquire(engine, "b", 60, at(1))


def test_next_runs_are_recorded_only_by_the_holder(engine):
    assert try_acquire(engine, "a", 60, at(0))
    assert record_next_runs(engine, "a", {"sync": at(60), "publish": None})
    assert not record_next_runs(engine, "b", {"sync": at(1)})
    assert read_lease(engine).next_runs == {"sync": at(60).isoformat()}
    assert try_acquire(engine, "a", 60, at(30))
    assert read_lease(engine).next_runs == {"sync": at(60).isoformat()}


def test_leases_with_different_names_are_independent(engine):
    assert try_acquire(engine, "a", 60, at(0), name="leader")
    assert try_acquire(engine, "b", 60, at(0), name="other")
    assert current_lease(engine, at(1), name="other").holder == "b"


def test_only_one_of_many_concurrent_contenders_wins(engine):
    contenders = 6
    for round_ in range(5):
        now = at(100 * round_)  # every earlier lease (ttl 50) has expired
        barrier = threading.Barrier(contenders)
        wins: list[str] = []

        def contend(
            name: str, now: datetime = now, barrier: threading.Barrier = barrier, wins=wins
        ) -> None:
            barrier.wait()
            if try_acquire(engine, name, 50, now):
                wins.append(name)

        threads = [threading.Thread(target=contend, args=(f"p{i}",)) for i in range(contenders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(wins) == 1, wins
        assert current_lease(engine, now).holder == wins[0]


def test_runs_left_running_by_a_dead_holder_are_closed_as_failed(engine):
    dead = start_run(engine, "sync", "a", source="cantho", started_at=at(0))
    done = start_run(engine, "publish", "a", started_at=at(0))
    finish_run(engine, done, "ok", finished_at=at(1))
    alive = start_run(engine, "sync", "c", started_at=at(0))
    assert close_abandoned_runs(engine, "a", at(20)) == 1
    runs = {r.id: r for r in recent_runs(engine)}
    assert (runs[dead].outcome, runs[dead].finished_at) == ("failed", at(20))
    assert "interrupted" in runs[dead].error
    assert runs[done].outcome == "ok"
    assert runs[alive].outcome == "running"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 30), st.booleans()),
        max_size=25,
    )
)
def test_the_lease_behaves_like_a_single_owner_with_expiry(engine, steps):
    """Model check: whatever the interleaving, the store agrees with a one-owner model."""
    with engine.begin() as conn:
        conn.execute(tables.leases.delete())
    owner: str | None = None
    expires = T0
    now = T0
    for holder, wait, give_up in steps:
        now += timedelta(seconds=wait)
        if give_up:
            released = release(engine, holder)
            assert released == (owner == holder)
            if released:
                owner = None
            continue
        free = owner is None or owner == holder or expires <= now
        assert try_acquire(engine, holder, 20, now) == free
        if free:
            owner, expires = holder, now + timedelta(seconds=20)
        lease = current_lease(engine, now)
        assert (lease.holder if lease else None) == owner


def _run_of(engine, holder: str, pid: int, host: str | None = None) -> None:
    """A run `holder` left running, as process `pid` (of this machine unless `host`)."""
    run = start_run(engine, "sync", holder, source="cantho")
    values: dict[str, object] = {"pid": pid}
    if host is not None:
        values["host"] = host
    with engine.begin() as conn:
        conn.execute(sa.update(tables.runs).where(tables.runs.c.id == run).values(**values))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_writer_lease_held_by_a_process_gone_from_this_machine_is_taken_at_once(engine):
    assert try_acquire(engine, "killed", 600, datetime.now(UTC), name=WRITER)
    _run_of(engine, "killed", _dead_pid())
    assert acquire_writer(engine, "next", 60, wait=False)
    assert read_lease(engine, WRITER).holder == "next"


@pytest.mark.parametrize("where", ["alive here", "another machine", "no running run"])
def test_a_writer_lease_is_not_taken_from_a_holder_not_known_to_be_dead(engine, where):
    assert try_acquire(engine, "other", 600, datetime.now(UTC), name=WRITER)
    if where == "alive here":
        _run_of(engine, "other", os.getppid())
    elif where == "another machine":
        _run_of(engine, "other", _dead_pid(), host="elsewhere")
    with pytest.raises(StoreBusyError, match="other is writing"):
        acquire_writer(engine, "next", 60, wait=False)
    assert read_lease(engine, WRITER).holder == "other"
