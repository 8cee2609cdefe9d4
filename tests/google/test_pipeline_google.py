"""The whole cycle on the Google backend (the fake): request counts, resilience, clean failures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hqsync.config.settings import (
    DashboardSettings,
    DatabaseSettings,
    GoogleSettings,
    Settings,
    SourceSettings,
)
from hqsync.jobs.demo import build_source_tabs
from hqsync.jobs.pipeline import Pipeline
from hqsync.models import tables
from hqsync.models.store import open_store
from hqsync.sync.google import open_google_reader, open_google_writer
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER

INJECTED = '=IMPORTXML("http://evil.example/", "//a")'


@pytest.fixture
def deployment(fake: FakeGoogle, settings: GoogleSettings, tmp_path: Path):
    tabs: dict[str, list[list[Any]]] = build_source_tabs(
        hospital_count=3, items_per_level=(1, 2, 1, 1, 1)
    )
    tabs["Hospitals"][1][1] = INJECTED  # an inspector typed a formula as a hospital name
    source = fake.create_spreadsheet("AppSheet", tabs, shared_with={READER: "reader"})
    dashboard = fake.create_spreadsheet("Dashboard", shared_with={READER: "writer"})
    config = Settings(
        database=DatabaseSettings(f"sqlite:///{tmp_path / 'store.db'}"),
        google=settings,
        sources=(SourceSettings("cantho", "google", source),),
        dashboard=DashboardSettings("google", dashboard, "vi"),
    )
    engine = open_store(config.database.url)
    no_sleep = lambda _s: None  # noqa: E731
    pipeline = Pipeline(
        config,
        engine,
        reader_factory=lambda s: open_google_reader(settings, s.spreadsheet, sleep=no_sleep),
        writer_factory=lambda: open_google_writer(settings, dashboard, sleep=no_sleep),
    )
    yield pipeline, source, dashboard
    engine.dispose()


def _runs(pipeline: Pipeline, job: str) -> Sequence[sa.Row[Any]]:
    runs = tables.runs
    with pipeline.engine.connect() as conn:
        return conn.execute(sa.select(runs).where(runs.c.job == job).order_by(runs.c.id)).all()


def test_request_counts_of_a_first_cycle_an_unchanged_sync_and_a_change(
    fake: FakeGoogle, deployment
) -> None:
    pipeline, source, dashboard = deployment
    first = pipeline.run_cycle(publish_always=True)
    assert not first.failed, first
    assert [r.requests for r in _runs(pipeline, "sync")] == [3]
    assert [r.requests for r in _runs(pipeline, "publish")] == [2]
    assert fake.count("spreadsheets.batchUpdate", dashboard) == 1
    assert "Tổng hợp" in fake.tabs(dashboard)

    fake.reset_log()
    unchanged = pipeline.sync()
    assert not unchanged.changed
    last = _runs(pipeline, "sync")[-1]
    assert (last.outcome, last.requests) == ("skipped", 1)
    assert [r.kind for r in fake.requests()] == ["drive.files.get"]

    fake.set_values(source, "Hospitals", [["BV sửa tên"]], start="B3")
    changed = pipeline.sync()
    assert changed.changed
    last = _runs(pipeline, "sync")[-1]
    assert (last.outcome, last.requests) == ("ok", 3)


def test_field_text_that_looks_like_a_formula_reaches_the_dashboard_as_text(
    fake: FakeGoogle, deployment
) -> None:
    pipeline, _source, dashboard = deployment
    assert not pipeline.run_cycle(publish_always=True).failed
    found = [
        (tab, cell)
        for tab in fake.tabs(dashboard)
        for cell in fake.sheet(dashboard, tab).cells.values()
        if INJECTED in str(cell.get("userEnteredValue", {}))
    ]
    assert found, "the hospital name should appear in the dashboard"
    assert all(cell["userEnteredValue"] == {"stringValue": INJECTED} for _t, cell in found)


def test_429s_and_503s_are_survived(fake: FakeGoogle, deployment) -> None:
    pipeline, _source, _dashboard = deployment
    fake.fail_next(429, 2, path_contains="/drive/")
    fake.fail_next(503, 2, path_contains="values:batchGet")
    fake.fail_next(429, 1, path_contains=":batchUpdate")
    result = pipeline.run_cycle(publish_always=True)
    assert not result.failed, result
    assert [r.requests for r in _runs(pipeline, "sync")] == [3 + 4]
    assert [r.requests for r in _runs(pipeline, "publish")] == [2 + 1]


def test_a_permanent_403_fails_the_run_naming_the_sheet_and_the_account(
    fake: FakeGoogle, deployment
) -> None:
    pipeline, source, _dashboard = deployment
    fake.spreadsheets[source].shared_with = {}
    result = pipeline.sync()
    assert result.failed_sources == ("cantho",)
    (run,) = _runs(pipeline, "sync")
    assert run.outcome == "failed" and run.requests == 1
    assert source in (run.error or "") and READER in (run.error or "")


def test_the_dashboard_survives_a_source_outage(fake: FakeGoogle, deployment) -> None:
    pipeline, source, dashboard = deployment
    assert not pipeline.run_cycle(publish_always=True).failed
    before = fake.sheet_values(dashboard, "Tổng hợp")
    fake.fail_next(503, 100, path_contains=source)
    result = pipeline.run_cycle()
    assert result.failed
    assert fake.sheet_values(dashboard, "Tổng hợp") == before


def test_a_failing_source_is_shown_until_it_syncs_again(fake: FakeGoogle, deployment) -> None:
    pipeline, source, dashboard = deployment
    assert not pipeline.run_cycle(publish_always=True).failed
    fake.fail_next(403, 100, path_contains=source)  # a revoked share: no retries
    failing = pipeline.run_cycle()
    assert failing.failed and failing.published and not failing.sync.changed
    name = failing.sync.failed_sources[0]
    issues = fake.sheet_values(dashboard, "Lỗi dữ liệu")
    (row,) = [r for r in issues[1:] if r[:2] == [name, "(cả nguồn)"]]
    assert row[5].startswith("Nguồn không đồng bộ được: ")
    assert f"hqsync sync --source {name}" in row[8]
    assert issues[0][7] == "Từ lúc (Asia/Ho_Chi_Minh)"
    about = {r[0]: r[1] for r in fake.sheet_values(dashboard, "Thông tin")[1:]}
    assert f"Nguồn không đồng bộ được: {name}" in about
    fake.clear_failures()  # shared again
    cleared = pipeline.run_cycle()
    assert not cleared.failed and cleared.published
    assert not [r for r in fake.sheet_values(dashboard, "Lỗi dữ liệu")[1:] if "(cả nguồn)" in r]
