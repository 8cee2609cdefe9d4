"""Test doubles for the daemon: a controllable clock, a hand-driven scheduler, a fake pipeline."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from apscheduler.executors.debug import DebugExecutor
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.engine import Engine

from hqsync.models.runs import finish_run, start_run


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def patch_apscheduler_clock(monkeypatch: Any, clock: FakeClock) -> None:
    """Make APScheduler's notion of 'now' (due jobs, misfire checks) follow `clock`."""
    import apscheduler.executors.base as executors_base
    import apscheduler.schedulers.base as schedulers_base

    class ClockedDateTime(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Any:
            now = clock()
            return now.astimezone(tz) if tz else now.astimezone(UTC).replace(tzinfo=None)

    monkeypatch.setattr(schedulers_base, "datetime", ClockedDateTime)
    monkeypatch.setattr(executors_base, "datetime", ClockedDateTime)


class ManualScheduler(BaseScheduler):
    """An APScheduler scheduler that processes due jobs only when `process()` is called,
    running them in the calling thread (the real trigger, coalescing and misfire logic)."""

    def __init__(self, timezone: tzinfo) -> None:
        super().__init__(timezone=timezone, executors={"default": DebugExecutor()})

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        pass

    def _create_default_executor(self) -> DebugExecutor:
        return DebugExecutor()

    def process(self) -> None:
        self._process_jobs()


@dataclass(frozen=True)
class FakeSync:
    changed: bool
    failed_sources: tuple[str, ...] = ()
    rows: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeCycle:
    sync: FakeSync
    scored: int
    published: bool
    publish_error: str | None = None
    score_error: str | None = None

    @property
    def failed(self) -> bool:
        return bool(self.sync.failed_sources)


class FakePipeline:
    """Records when its jobs ran (by the injected clock) and logs them as runs in the store.

    `fail` — how many of the next calls raise; `hold` — an event each job waits on (to keep a
    job in flight); `work_s` — real seconds each job takes.
    """

    def __init__(
        self,
        engine: Engine,
        holder: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        fail: int = 0,
        hold: threading.Event | None = None,
        work_s: float = 0.0,
    ) -> None:
        self.engine = engine
        self.holder = holder
        self.clock = clock
        self.fail = fail
        self.hold = hold
        self.work_s = work_s
        self.calls: list[tuple[str, datetime]] = []
        self.alerts_checked: list[datetime] = []
        """When the daemon asked for the alerts step (after each publish job)."""
        self.finished: list[tuple[str, datetime]] = []
        self.active = 0
        self.max_active = 0
        self.started = threading.Event()
        self._lock = threading.Lock()

    @contextmanager
    def _job(self, job: str) -> Iterator[None]:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.calls.append((job, self.clock()))
        run_id = start_run(self.engine, job, self.holder, started_at=self.clock())
        self.started.set()
        try:
            if self.hold is not None:
                self.hold.wait(10)
            if self.work_s:
                threading.Event().wait(self.work_s)
            if self.fail > 0:
                self.fail -= 1
                raise RuntimeError("source cantho: Google said 503 (Bearer ya29.SECRET)")
            yield
        except Exception as exc:
            finish_run(self.engine, run_id, "failed", error=str(exc), finished_at=self.clock())
            raise
        else:
            finish_run(self.engine, run_id, "ok", rows={"read": 3}, finished_at=self.clock())
            self.finished.append((job, self.clock()))
        finally:
            with self._lock:
                self.active -= 1

    def run_cycle(self, publish_always: bool = False) -> FakeCycle:
        with self._job("sync"):
            pass
        return FakeCycle(FakeSync(changed=True, rows={"cantho": {"inserted": 2}}), 4, True)

    def publish(self) -> None:
        with self._job("publish"):
            pass

    def alerts_if_due(self, changed: bool = False) -> None:
        self.alerts_checked.append(self.clock())

    def times(self, job: str) -> list[datetime]:
        return [when for name, when in self.calls if name == job]
