"""Each hospital's own dashboard on the Google backend (the fake): only that hospital, one
batchUpdate per changed dashboard, a 403 on one does not stop the others, and `check` lists
who each is shared with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hqsync.config.errors import DashboardError
from hqsync.config.settings import (
    DashboardSettings,
    DatabaseSettings,
    GoogleSettings,
    Settings,
    SourceSettings,
)
from hqsync.config.vocabulary import DashboardOutcome, Language
from hqsync.jobs.demo import build_source_tabs
from hqsync.jobs.pipeline import Pipeline
from hqsync.jobs.sharing import list_sharing, render_sharing
from hqsync.jobs.status import status_report
from hqsync.models.store import open_store
from hqsync.sync.dashboard import LABELS
from hqsync.sync.google import open_google_reader, open_google_writer
from tests.dashboard.hospital_support import IDS, SMALL, others_found, visible_finding
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER

BATCH = "spreadsheets.batchUpdate"
VI = LABELS[Language.VI]


def no_sleep(_seconds: float) -> None:
    """Backoff and pacing waits cost no time in tests."""


def _texts(fake: FakeGoogle, sid: str) -> list[str]:
    texts: list[str] = []
    for tab in fake.tabs(sid):
        texts.append(tab)
        for row in fake.sheet_values(sid, tab, value_render="FORMATTED_VALUE"):
            texts.extend(str(v) for v in row if v not in (None, ""))
    return texts


def _pipeline(fake: FakeGoogle, google: GoogleSettings, tmp_path: Path, targets: dict[str, str]):
    tabs: dict[str, list[list[Any]]] = build_source_tabs(**SMALL)
    source = fake.create_spreadsheet("AppSheet", tabs, shared_with={READER: "reader"})
    overview = fake.create_spreadsheet("Overview", shared_with={READER: "writer"})
    config = Settings(
        database=DatabaseSettings(f"sqlite:///{tmp_path / 'store.db'}"),
        google=google,
        sources=(SourceSettings("cantho", "google", source),),
        dashboard=DashboardSettings("google", overview, "vi", targets),
    )
    pipeline = Pipeline(
        config,
        open_store(config.database.url),
        reader_factory=lambda s: open_google_reader(google, s.spreadsheet, sleep=no_sleep),
        writer_factory=lambda: open_google_writer(google, overview, sleep=no_sleep),
        hospital_writer_factory=lambda t: open_google_writer(google, t, sleep=no_sleep),
    )
    return pipeline, tabs, source, overview


@pytest.fixture
def hospitals(fake: FakeGoogle) -> dict[str, str]:
    return {
        h: fake.create_spreadsheet(f"Dashboard {h}", shared_with={READER: "writer"}) for h in IDS
    }


def test_hospital_dashboards_hold_only_their_hospital_and_rewrite_only_when_changed(
    fake: FakeGoogle, settings: GoogleSettings, tmp_path: Path, hospitals: dict[str, str]
):
    pipeline, tabs, source, overview = _pipeline(fake, settings, tmp_path, hospitals)
    fake.reset_log()
    assert not pipeline.run_cycle(publish_always=True).failed
    for sid in (overview, *hospitals.values()):
        assert fake.count(BATCH, sid) == 1  # each dashboard in one batchUpdate
    overview_scores = {
        row[VI["hospital_id"]]: row[VI["score"]] for row in _rows(fake, overview, VI["summary"])
    }
    for hospital, sid in hospitals.items():
        texts = _texts(fake, sid)
        assert others_found(texts, hospital) == []
        own = {row[VI["score"]] for row in _rows(fake, sid, VI["summary"])}
        assert overview_scores[hospital] in own

    fake.reset_log()
    assert not pipeline.run_cycle(publish_always=True).failed
    assert fake.count(BATCH) == 0  # nothing changed, nothing written
    dashboards = {overview, *hospitals.values()}
    assert not [r for r in fake.requests() if r.spreadsheet_id in dashboards]  # nor read

    row = visible_finding(pipeline.engine, tabs, "BV03")
    tabs["Findings"][row][3] = "Không đạt"
    fake.set_values(source, "Findings", tabs["Findings"])
    fake.reset_log()
    assert pipeline.run_cycle().published
    written = {r.spreadsheet_id for r in fake.requests(BATCH)}
    assert written == {overview, hospitals["BV03"]}
    assert fake.count(BATCH, hospitals["BV03"]) == 1
    # the layout the last write left is in the store: no layout read
    assert [r.kind for r in fake.requests() if r.spreadsheet_id == hospitals["BV03"]] == [BATCH]
    pipeline.engine.dispose()


def test_a_tab_a_leader_deleted_is_written_again_after_one_layout_read(
    fake: FakeGoogle, settings: GoogleSettings, tmp_path: Path, hospitals: dict[str, str]
):
    pipeline, tabs, source, _ = _pipeline(fake, settings, tmp_path, hospitals)
    assert not pipeline.run_cycle(publish_always=True).failed
    sid = hospitals["BV03"]
    expected_tabs = fake.tabs(sid)
    book = fake.spreadsheets[sid]
    book.sheets.remove(fake.sheet(sid, VI["trend"]))
    book.reindex()
    row = visible_finding(pipeline.engine, tabs, "BV03")
    tabs["Findings"][row][3] = "Không đạt"
    fake.set_values(source, "Findings", tabs["Findings"])
    fake.reset_log()
    result = pipeline.run_cycle()
    assert result.published and not result.failed
    mine = [(r.kind, r.status) for r in fake.requests() if r.spreadsheet_id == sid]
    assert mine == [(BATCH, 400), ("spreadsheets.get", 200), (BATCH, 200)]
    assert sorted(fake.tabs(sid)) == sorted(expected_tabs)
    assert others_found(_texts(fake, sid), "BV03") == []
    pipeline.engine.dispose()


def _rows(fake: FakeGoogle, sid: str, tab: str) -> list[dict[str, Any]]:
    values = fake.sheet_values(sid, tab)
    return [dict(zip(values[0], r, strict=False)) for r in values[1:]]


def test_a_403_on_one_hospital_dashboard_does_not_stop_the_others(
    fake: FakeGoogle, settings: GoogleSettings, tmp_path: Path, hospitals: dict[str, str]
):
    closed = fake.create_spreadsheet("Not shared", shared_with={"someone@bv02.vn": "writer"})
    pipeline, *_ = _pipeline(fake, settings, tmp_path, {**hospitals, "BV02": closed})
    pipeline.sync()
    pipeline.score()
    with pytest.raises(DashboardError, match="1 of 5 dashboards failed"):
        pipeline.publish()
    for hospital in ("BV01", "BV03", "BV04"):
        assert VI["summary"] in fake.tabs(hospitals[hospital])
    report = status_report(pipeline.settings, pipeline.engine)
    outcomes = {d["hospital_id"]: d["outcome"] for d in report["dashboards"]}
    assert outcomes["BV02"] == DashboardOutcome.FAILED
    assert {outcomes[h] for h in ("BV01", "BV03", "BV04", None)} == {DashboardOutcome.WRITTEN}
    pipeline.engine.dispose()


def test_check_lists_each_hospital_dashboards_shares_and_warns_on_risky_ones(
    fake: FakeGoogle, settings: GoogleSettings, hospitals: dict[str, str]
):
    for hospital, sid in hospitals.items():
        fake.share(sid, f"director@{hospital.lower()}.vn", "reader")
        fake.share(sid, "inspector@soyte.gov.vn", "reader")
    fake.share(hospitals["BV01"], "deputy@bv01.vn", "reader")
    fake.share(hospitals["BV02"], "nurse@bv01.vn", "reader")  # BV01's staff on BV02's results
    fake.link_sharing[hospitals["BV04"]] = "reader"
    config = Settings(
        google=settings,
        dashboard=DashboardSettings("google", "1Overview", "vi", hospitals),
    )
    report = list_sharing(config, sleep=no_sleep)
    findings = {f.hospital_id: f for f in report.findings}
    assert fake.count("drive.permissions.list") == len(hospitals)
    assert findings["BV01"].warnings == ()
    assert findings["BV03"].warnings == ()
    assert any("bv01.vn" in w and "BV01" in w for w in findings["BV02"].warnings)
    assert any("anyone with the link" in w for w in findings["BV04"].warnings)
    text = render_sharing(report)
    assert "director@bv03.vn (reader)" in text
    assert "[WARN] hospital BV04" in text and "[ok  ] hospital BV03" in text
