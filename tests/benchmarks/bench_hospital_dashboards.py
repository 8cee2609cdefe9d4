"""Benchmark: one publish of a country's hospital dashboards (1,700 by default) to the fake.

Not a test (not collected by pytest): run it and read the figures.

    .venv/bin/python tests/benchmarks/bench_hospital_dashboards.py                  # 1,700
    .venv/bin/python tests/benchmarks/bench_hospital_dashboards.py --hospitals 200  # smaller

The store's data is a small demo province (synced and scored for real) copied under new
hospital ids up to `--hospitals`; every hospital has its own spreadsheet on the in-process
fake Google. It times three publishes as `Pipeline.publish` makes them: the first (every target
built and written: one layout read and one batchUpdate each), an unchanged one (every input
digest as stored: nothing built, no request), and one after one hospital's criterion levels
(levels method) changed (that hospital and the overview built and written from the layouts
the store keeps: no layout read). Requests are paced by one shared rate limiter on a
simulated clock at `--per-minute`, so it prints the time the quota would take as well as the
time spent here (wall and CPU seconds), and the answers of 429 the fake gave.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hqsync.config.settings import (  # noqa: E402
    DashboardSettings,
    DatabaseSettings,
    Settings,
    SourceSettings,
)
from hqsync.config.vocabulary import DashboardOutcome  # noqa: E402
from hqsync.jobs.demo import write_demo_source  # noqa: E402
from hqsync.jobs.pipeline import Pipeline  # noqa: E402
from hqsync.jobs.publish import DashboardTarget, publish_targets  # noqa: E402
from hqsync.models import reports  # noqa: E402
from hqsync.models.store import open_store  # noqa: E402
from hqsync.scoring import compare_assessments  # noqa: E402
from hqsync.sync.dashboard import build_dashboard, load_dashboard_data  # noqa: E402
from hqsync.sync.dashboard.hospital import build_hospital_dashboard, index_hospitals  # noqa: E402
from hqsync.sync.dashboard.inputs import (  # noqa: E402
    RowHashes,
    hospital_input_digests,
    overview_input_digest,
)
from hqsync.sync.google.client import WRITE_SCOPES, GoogleClient, RateLimiter  # noqa: E402
from hqsync.sync.google.writer import GoogleDashboardWriter  # noqa: E402
from tests.fake_google import FakeGoogle, google_settings, mocked, service_account_key  # noqa: E402

BASE_HOSPITALS = 5


class CountingFake(FakeGoogle):
    """The fake Google, counting the bytes of every request body it receives."""

    sent = 0

    def handle(self, method: str, url: str, headers: Any, body: Any) -> Any:
        """Count, then answer."""
        self.sent += len(body.encode() if isinstance(body, str) else body or b"")
        return super().handle(method, url, headers, body)


class SimulatedClock:
    """A clock the limiter's waits advance instead of sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _copied(frame: pd.DataFrame, copies: int, columns: tuple[str, ...]) -> pd.DataFrame:
    """`frame` repeated `copies` times, the id columns suffixed per copy."""
    parts = []
    for copy in range(copies):
        part = frame.copy()
        for column in columns:
            if column in part:
                part[column] = part[column].astype(str) + f"-{copy:04d}"
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def country_data(folder: Path, hospitals: int) -> tuple[Any, pd.DataFrame, Any]:
    """A scored demo province copied up to `hospitals` hospitals: the dashboard data, the
    failing findings and the store's engine."""
    write_demo_source(folder / "source.xlsx", hospital_count=BASE_HOSPITALS)
    settings = Settings(
        database=DatabaseSettings(f"sqlite:///{folder / 'store.db'}"),
        sources=(SourceSettings("demo", "xlsx", str(folder / "source.xlsx")),),
        dashboard=DashboardSettings("xlsx", str(folder / "overview.xlsx")),
    )
    engine = open_store(settings.database.url)
    pipeline = Pipeline(settings, engine)
    pipeline.sync()
    pipeline.score()
    data = load_dashboard_data(engine, pipeline.rule_sets)
    with engine.connect() as conn:
        failing = reports.load_failing_findings(conn)
    copies = -(-hospitals // BASE_HOSPITALS)
    keys = ("assessment_key", "assessment_id", "hospital_key", "hospital_id", "name")
    scores = _copied(data.scores, copies, keys)
    criteria = _copied(data.criteria, copies, keys)
    hospitals_frame = _copied(data.hospitals, copies, keys)
    kept = set(hospitals_frame["hospital_id"].head(hospitals))
    scores = scores[scores["hospital_id"].isin(kept)].reset_index(drop=True)
    criteria = criteria[criteria["assessment_key"].isin(set(scores["assessment_key"]))]
    hospitals_frame = hospitals_frame[hospitals_frame["hospital_id"].isin(kept)]
    data = replace(
        data,
        scores=scores,
        criteria=criteria.reset_index(drop=True),
        hospitals=hospitals_frame.reset_index(drop=True),
        comparisons=compare_assessments(scores, criteria).assessments,
        rejected=[],
    )
    return data, _copied(failing, copies, keys), engine


@dataclass(frozen=True)
class Timing:
    """Where one publish's time went: wall and CPU seconds in all, and the digests' share."""

    wall: float
    cpu: float
    indexing: float
    digests: float


def publish_once(engine: Any, data: Any, failing: pd.DataFrame, writer_for: Any,  # noqa: PLR0917
                 targets: dict[str, str], overview: str) -> tuple[Any, Timing]:  # fmt: skip
    """One publish of the overview and every hospital, as `Pipeline.publish` does it: the
    input digests first, then only the dashboards whose inputs changed are built."""
    now = datetime.now(UTC)
    start, cpu = time.perf_counter(), time.process_time()
    views = index_hospitals(data, failing)
    indexed = time.perf_counter() - start
    zone = "Asia/Ho_Chi_Minh"
    hashes = RowHashes()
    inputs = {overview: overview_input_digest(data, "vi", zone, hashes)}
    digests = hospital_input_digests(
        views, failing, list(targets), language="vi", timezone=zone, hashes=hashes
    )
    inputs |= {sid: digests[h] for h, sid in targets.items()}
    digested = time.perf_counter() - start - indexed
    jobs = [(DashboardTarget(overview), lambda: build_dashboard(data, "vi", now))]
    jobs += [
        (DashboardTarget(sid, h), lambda h=h: build_hospital_dashboard(views, h, "vi", now))
        for h, sid in targets.items()
    ]
    report = publish_targets(
        engine, jobs, writer_for, backend="google", clock=lambda: now, inputs=inputs
    )
    timing = Timing(time.perf_counter() - start, time.process_time() - cpu, indexed, digested)
    return report, timing


def run(hospitals: int, per_minute: int) -> None:
    """Build the country, publish it three times to the fake (first, unchanged, one hospital's
    finding changed), print the figures."""
    fake = CountingFake()
    with tempfile.TemporaryDirectory() as tmp, mocked(fake):
        folder = Path(tmp)
        started = time.perf_counter()
        data, failing, engine = country_data(folder, hospitals)
        ids = sorted(set(data.hospitals["hospital_id"]))
        print(f"{len(ids)} hospitals, {len(data.scores)} assessments, {len(data.criteria)} "
              f"criterion results (prepared in {time.perf_counter() - started:.1f} s)")  # fmt: skip
        key = service_account_key(fake, folder / "key.json")
        google = google_settings(fake, key)
        overview = fake.create_spreadsheet("overview")
        targets = {h: fake.create_spreadsheet(f"dashboard {h}") for h in ids}
        clock = SimulatedClock()
        limiter = RateLimiter(per_minute, clock=clock, sleep=clock.sleep)
        client = GoogleClient.from_settings(google, WRITE_SCOPES, limiter=limiter)

        def writer_for(target: DashboardTarget) -> GoogleDashboardWriter:
            return GoogleDashboardWriter(client, target.target)

        for label in ("first publish", "unchanged publish", "one hospital changed"):
            if label == "one hospital changed":
                changed = ids[len(ids) // 2]
                scores = data.scores
                chosen = (scores["hospital_id"] == changed) & (scores["method"] == "levels")
                mine = data.criteria["assessment_key"].isin(
                    set(scores.loc[chosen, "assessment_key"])
                )
                criteria = data.criteria.copy()
                criteria.loc[mine, "level"] = 1
                data = replace(data, criteria=criteria)
            fake.reset_log()
            fake.sent = 0
            paced = clock.now
            report, timing = publish_once(engine, data, failing, writer_for, targets, overview)
            outcomes = list(report.outcomes.values())
            refused = sum(1 for r in fake.requests() if r.status == 429)
            print(
                f"{label}: {timing.wall:.1f} s wall, {timing.cpu:.1f} s CPU (indexing "
                f"{timing.indexing:.1f} s, digests {timing.digests:.1f} s); "
                f"{fake.count()} requests ({fake.count('spreadsheets.get')} layout reads, "
                f"{fake.count('spreadsheets.batchUpdate')} batchUpdates), "
                f"{fake.sent / 1e6:.2f} MB sent; "
                f"{outcomes.count(DashboardOutcome.WRITTEN)} written, "
                f"{outcomes.count(DashboardOutcome.UNCHANGED)} unchanged, "
                f"{outcomes.count(DashboardOutcome.FAILED)} failed; "
                f"at {per_minute} requests/min the quota paces it to "
                f"{(clock.now - paced) / 60:.1f} min; {refused} answers of 429",
                flush=True,
            )
        engine.dispose()


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hospitals", type=int, default=1700)
    parser.add_argument("--per-minute", type=int, default=60, help="the shared request budget")
    args = parser.parse_args()
    run(args.hospitals, args.per_minute)


if __name__ == "__main__":
    main()
