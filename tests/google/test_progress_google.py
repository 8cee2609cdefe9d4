"""The Progress tab on the Google backend (the fake): the overview's counts and hospitals, each
hospital's own dashboard with only its own states, and an unchanged day writing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hqsync.config.settings import (
    DashboardSettings,
    DatabaseSettings,
    GoogleSettings,
    Settings,
    SourceSettings,
)
from hqsync.jobs.pipeline import Pipeline
from hqsync.models.store import open_store
from hqsync.sync.google import open_google_reader, open_google_writer
from tests.dashboard.hospital_support import IDS, others_found
from tests.dashboard.progress_support import (
    CYCLES,
    EXPECTED_STATUS,
    PUBLISHED,
    VI,
    check_overview_rows,
    varied_tabs,
)
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER
from tests.google.test_hospital_dashboards_google import _texts, no_sleep

BATCH = "spreadsheets.batchUpdate"


def _rows(fake: FakeGoogle, sid: str, tab: str) -> list[dict[str, Any]]:
    values = fake.sheet_values(sid, tab, value_render="FORMATTED_VALUE")
    return [
        {h: (v if v != "" else None) for h, v in zip(values[0], r, strict=False)}
        for r in values[1:]
    ]


def test_progress_on_google_dashboards(fake: FakeGoogle, settings: GoogleSettings, tmp_path: Path):
    source = fake.create_spreadsheet("AppSheet", varied_tabs(), shared_with={READER: "reader"})
    overview = fake.create_spreadsheet("Overview", shared_with={READER: "writer"})
    hospitals = {
        h: fake.create_spreadsheet(f"Dashboard {h}", shared_with={READER: "writer"}) for h in IDS
    }
    config = Settings(
        database=DatabaseSettings(f"sqlite:///{tmp_path / 'store.db'}"),
        google=settings,
        sources=(SourceSettings("cantho", "google", source),),
        dashboard=DashboardSettings("google", overview, "vi", hospitals),
        cycles=CYCLES,
    )
    pipeline = Pipeline(
        config,
        open_store(config.database.url),
        clock=lambda: PUBLISHED,
        reader_factory=lambda s: open_google_reader(settings, s.spreadsheet, sleep=no_sleep),
        writer_factory=lambda: open_google_writer(settings, overview, sleep=no_sleep),
        hospital_writer_factory=lambda t: open_google_writer(settings, t, sleep=no_sleep),
    )
    try:
        assert not pipeline.run_cycle(publish_always=True).failed
        assert fake.tabs(overview)[:2] == [VI["summary"], VI["progress"]]
        rows = _rows(fake, overview, VI["progress"])
        check_overview_rows(rows)
        assert rows[0][VI["self_due"]] == "30/11/2025"  # a date cell, shown dd/mm/yyyy
        for hospital, sid in hospitals.items():
            own = _rows(fake, sid, VI["progress"])
            assert {r[VI["standard"]] for r in own} == {
                s for s, h in EXPECTED_STATUS if h == hospital
            }
            assert others_found(_texts(fake, sid), hospital) == []
        fake.reset_log()
        assert not pipeline.run_cycle(publish_always=True).failed
        assert fake.count(BATCH) == 0  # the same day: nothing rewritten
    finally:
        pipeline.engine.dispose()
