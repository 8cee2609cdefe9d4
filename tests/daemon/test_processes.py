"""Real daemon processes on both stores: one leader, takeover after SIGKILL, SIGTERM mid-run.

(tests/daemon/test_service.py runs the real `hqsync run` end to end.)
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import pytest

from hqsync.models.lease import current_lease, read_lease
from hqsync.models.runs import RunRecord, recent_runs

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LEASE_S = 2.0
T = TypeVar("T")


class Daemons:
    """Starts driver processes and cleans up the ones still running."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.db_url = db_url
        self.tmp_path = tmp_path
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, holder: str, work: float = 0.6, every: str = "0.5s") -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"{holder}.log").open("wb")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.daemon.driver",
                "--db-url",
                self.db_url,
                "--holder",
                holder,
                "--lease",
                str(LEASE_S),
                "--every",
                every,
                "--work",
                str(work),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=log,
        )
        self.procs[holder] = proc
        return proc

    def log(self, holder: str) -> list[dict]:
        lines = (self.tmp_path / f"{holder}.log").read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def daemons(engine, db_url, tmp_path) -> Iterator[Daemons]:
    # `engine` has migrated the store already, as the first daemon's start would.
    group = Daemons(db_url, tmp_path)
    try:
        yield group
    finally:
        group.stop_all()


def wait_for(condition: Callable[[], T], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def now() -> datetime:
    return datetime.now(UTC)


def runs_by(engine, holder: str) -> list[RunRecord]:
    return [r for r in recent_runs(engine, 500) if r.holder == holder]


def assert_one_holder_at_a_time(runs: list[RunRecord]) -> None:
    """No run of one holder overlaps a run of another (a run killed mid-way ends at its close)."""
    spans = sorted((r.started_at, r.finished_at or now(), r.holder) for r in runs)
    for (_, end, holder), (start, _, other) in itertools.pairwise(spans):
        if holder != other:
            assert end <= start, f"{holder} and {other} ran at the same time"


def test_one_daemon_leads_and_another_takes_over_within_the_lease_after_sigkill(engine, daemons):
    procs = {name: daemons.start(name) for name in ("a", "b")}
    wait_for(lambda: len(recent_runs(engine, 500)) >= 3, 30, "the leader's runs")
    leader = current_lease(engine, now()).holder
    follower = "b" if leader == "a" else "a"
    assert {r.holder for r in recent_runs(engine, 500)} == {leader}
    assert procs[follower].poll() is None, "the follower waits, it does not exit"

    procs[leader].kill()
    procs[leader].wait(10)
    killed_at = now()
    first_run = wait_for(lambda: runs_by(engine, follower), 10 * LEASE_S, "the takeover")
    taken_after = (first_run[-1].started_at - killed_at).total_seconds()
    # The lease was renewed at most LEASE_S/3 before the kill; followers poll every LEASE_S/4.
    assert taken_after <= LEASE_S + LEASE_S / 4 + 1.0
    wait_for(lambda: len(runs_by(engine, follower)) >= 2, 30, "runs continuing")

    # SIGTERM in the middle of a run: it finishes, the lease is released, exit 0.
    wait_for(lambda: [r for r in runs_by(engine, follower) if r.outcome == "running"], 10, "a run")
    sent = time.monotonic()
    procs[follower].send_signal(signal.SIGTERM)
    assert procs[follower].wait(15) == 0
    assert time.monotonic() - sent < 15
    assert read_lease(engine) is None, "the lease is released on a graceful stop"
    messages = [entry["message"] for entry in daemons.log(follower)]
    assert any(m.startswith("cycle: ") for m in messages)
    assert any("SIGTERM" in m for m in messages)
    runs = recent_runs(engine, 500)
    assert {r.holder for r in runs} == {leader, follower}
    assert_one_holder_at_a_time(runs)
    assert [r for r in runs if r.outcome == "running"] == [], (
        "the run the leader was killed in is closed by the new leader"
    )
    closed = [r for r in runs if r.holder == leader and r.outcome == "failed"]
    assert all("interrupted" in (r.error or "") for r in closed)
