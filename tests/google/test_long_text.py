"""A 100,000-character note, end to end (issue 13): read from a Google source, stored whole,
and published cut to the target's cell limit with the marker — 50,000 characters on Google
Sheets, 32,767 in an xlsx workbook — on the hospital's Gaps tab and on the Data issues tab."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from hqsync.config.settings import (
    DashboardSettings,
    DatabaseSettings,
    GoogleSettings,
    Settings,
    SourceSettings,
)
from hqsync.config.utils import CUT_MARKER
from hqsync.jobs.demo import build_source_tabs
from hqsync.jobs.pipeline import Pipeline
from hqsync.models.store import open_store
from hqsync.sync.dashboard.guard import GOOGLE_CELL_LIMIT, XLSX_CELL_LIMIT
from hqsync.sync.google import open_google_reader, open_google_writer
from tests.dashboard.hospital_support import SMALL, visible_finding
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER

NOTE = ("Ghi chú rất dài của đoàn kiểm tra. " * 3000)[:100_000]
HOSPITAL = "BV01"


def no_sleep(_seconds: float) -> None:
    """Backoff waits cost no time in tests."""


def _pipeline(
    fake: FakeGoogle, google: GoogleSettings, tmp_path: Path, backend: str
) -> tuple[Pipeline, dict[str, list[list[Any]]], str, dict[str, str]]:
    """A Google source; the overview and BV01's own dashboard on `backend`."""
    tabs: dict[str, list[list[Any]]] = build_source_tabs(**SMALL)
    source = fake.create_spreadsheet("AppSheet", tabs, shared_with={READER: "reader"})
    if backend == "google":
        overview = fake.create_spreadsheet("Overview", shared_with={READER: "writer"})
        own = fake.create_spreadsheet("BV01", shared_with={READER: "writer"})
    else:
        overview, own = str(tmp_path / "overview.xlsx"), str(tmp_path / "bv01.xlsx")
    config = Settings(
        database=DatabaseSettings(f"sqlite:///{tmp_path / 'store.db'}"),
        google=google,
        sources=(SourceSettings("cantho", "google", source),),
        dashboard=DashboardSettings(backend, overview, "vi", {HOSPITAL: own}),
    )
    kw: dict[str, Any] = {}
    if backend == "google":
        kw = {
            "writer_factory": lambda: open_google_writer(google, overview, sleep=no_sleep),
            "hospital_writer_factory": lambda t: open_google_writer(google, t, sleep=no_sleep),
        }
    pipeline = Pipeline(
        config,
        open_store(config.database.url),
        reader_factory=lambda s: open_google_reader(google, s.spreadsheet, sleep=no_sleep),
        **kw,
    )
    return pipeline, tabs, source, {"overview": overview, HOSPITAL: own}


def _google_cells(fake: FakeGoogle, sid: str) -> Iterator[str]:
    for tab in fake.tabs(sid):
        for row in fake.sheet_values(sid, tab):
            yield from (v for v in row if isinstance(v, str))


def _xlsx_cells(path: str) -> Iterator[str]:
    book = load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        for row in sheet.iter_rows(values_only=True):
            yield from (v for v in row if isinstance(v, str))
    book.close()


@pytest.mark.parametrize(
    ("backend", "limit"), [("google", GOOGLE_CELL_LIMIT), ("xlsx", XLSX_CELL_LIMIT)]
)
def test_a_100k_character_note_arrives_cut_to_the_cell_limit_with_the_marker(
    fake: FakeGoogle, settings: GoogleSettings, tmp_path: Path, backend: str, limit: int
) -> None:
    pipeline, tabs, source, targets = _pipeline(fake, settings, tmp_path, backend)
    assert not pipeline.run_cycle(publish_always=True).failed
    row = visible_finding(pipeline.engine, tabs, HOSPITAL)
    findings = tabs["Findings"]
    findings[row][3], findings[row][4] = "Không đạt", NOTE  # a gap of BV01, with its note
    stray = [f"{findings[row][0]}-stray", "NO-SUCH-ASSESSMENT", *findings[row][2:]]
    findings.append(stray)  # rejected: its raw values (the note among them) on Data issues
    fake.set_values(source, "Findings", findings)

    cycle = pipeline.run_cycle()

    assert cycle.published and not cycle.failed
    with pipeline.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT note FROM findings WHERE finding_id = :id"), {"id": findings[row][0]}
        ).scalar_one()
    assert stored == NOTE  # the store keeps it whole; only the dashboards cut it
    for name, target in targets.items():
        cells = list(_google_cells(fake, target) if backend == "google" else _xlsx_cells(target))
        assert max(len(c) for c in cells) <= limit, name
        cut = [c for c in cells if c.endswith(CUT_MARKER) and NOTE[:1000] in c]
        assert cut, f"{name}: no cut note"
        assert all(len(c) == limit for c in cut), name  # cut to the limit, not shorter
        assert not [c for c in cells if NOTE in c], name
    pipeline.engine.dispose()


SHEETS = "https://www.googleapis.com/auth/spreadsheets"


@pytest.mark.parametrize(("length", "status"), [(50_000, 200), (50_001, 400)])
def test_the_fake_refuses_a_cell_over_50000_characters_as_google_does(
    fake: FakeGoogle, length: int, status: int
) -> None:
    sid = fake.create_spreadsheet("s", {"Sheet1": [["keep"]]})
    token = fake.issue_token(READER, [SHEETS])
    cell = {"userEnteredValue": {"stringValue": "x" * length}}
    update = {"rows": [{"values": [cell]}], "fields": "userEnteredValue"}
    update["start"] = {"sheetId": 0, "rowIndex": 1, "columnIndex": 0}
    batch = {"requests": [{"updateCells": update}]}
    values = {"values": [["x" * length]]}
    for path, body in (
        (f"{sid}:batchUpdate", batch),
        (f"{sid}/values/A3?valueInputOption=RAW", values),
    ):
        method = "POST" if path.endswith("batchUpdate") else "PUT"
        answer = fake.handle(
            method, f"{fake.sheets_base}/v4/spreadsheets/{path}",
            {"Authorization": f"Bearer {token}"}, json.dumps(body),
        )  # fmt: skip
        assert answer.status == status, answer.body[:300]
        if status == 400:
            assert "maximum of 50000 characters" in json.loads(answer.body)["error"]["message"]
    assert fake.sheet_values(sid, "Sheet1")[0] == ["keep"]
