"""Evidence photos reachable from the gaps, on the Google fake: AppSheet's relative paths become
the photos' Drive links (cached, so re-syncs cost no Drive request), written as cell links on
both backends, with hostile evidence text inert and no formula anywhere in the dashboard."""

from __future__ import annotations

import json
from dataclasses import replace
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
from hqsync.jobs.demo import RESULT_WORDS, build_source_tabs
from hqsync.jobs.pipeline import Pipeline
from hqsync.models import tables
from hqsync.models.store import open_store
from hqsync.sync.dashboard import Column, Dashboard, Link, Table
from hqsync.sync.google import open_google_reader, open_google_writer
from hqsync.sync.google.render import rgb
from hqsync.sync.xlsx import XlsxDashboardWriter
from tests.dashboard.gaps import (
    expected_gap_links,
    formula_values,
    google_gap_links,
    xlsx_formula_cells,
    xlsx_gap_links,
)
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER

NO_SLEEP = lambda _s: None  # noqa: E731
AS_IS = "https://photos.example.org/ảnh 1.jpg"
AS_IS_ENCODED = "https://photos.example.org/%E1%BA%A3nh%201.jpg"
HOSTILE = (
    '=HYPERLINK("http://evil.example/","bấm vào")',
    "javascript:alert(document.cookie)",
    '=IMPORTXML("http://evil.example/", "//a")',
    "@SUM(1+1)",
)
QUOTED_NAME = 'it\'s "ảnh" số 1.jpg'


def _drive_lookups(fake: FakeGoogle) -> int:
    """Drive requests spent on evidence links (not the change marker's files.get)."""
    return sum(
        1
        for r in fake.requests()
        if r.kind == "drive.files.list"
        or (r.kind == "drive.files.get" and "parents" in r.query.get("fields", [""])[0])
    )


@pytest.fixture
def app(fake: FakeGoogle, settings: GoogleSettings, tmp_path: Path):
    """An AppSheet app on Drive: its folder holds the sheet and Findings_Images with a photo
    for every failing finding; a few findings hold hostile text or a URL instead."""
    tabs: dict[str, list[list[Any]]] = build_source_tabs(
        hospital_count=2, items_per_level=(1, 2, 1, 1, 1)
    )
    folder = fake.add_folder("Inspections-123", shared_with={READER})
    images = fake.add_folder("Findings_Images", folder)
    decoy = fake.add_folder("Findings_Images", None)  # same name, elsewhere: never linked
    photos: dict[str, str] = {}
    failing = [r for r in tabs["Findings"][1:] if r[3] == RESULT_WORDS["not_met"]]
    specials = [*HOSTILE, AS_IS, f"Findings_Images/{QUOTED_NAME}"]
    for n, row in enumerate(failing):
        row[5] = specials[n] if n < len(specials) else f"Findings_Images/{row[0]}.Ảnh.jpg"
        if row[5].startswith("Findings_Images/"):
            name = row[5].split("/", 1)[1]
            photos[row[5]] = fake.add_drive_file(name, images)
            fake.add_drive_file(name, decoy)
    source = fake.create_spreadsheet("Inspections", tabs, shared_with={READER: "reader"})
    fake.move_to_folder(source, folder)
    dashboard = fake.create_spreadsheet("Dashboard", shared_with={READER: "writer"})
    config = Settings(
        database=DatabaseSettings(f"sqlite:///{tmp_path / 'store.db'}"),
        google=settings,
        sources=(SourceSettings("cantho", "google", source),),
        dashboard=DashboardSettings("google", dashboard, "vi"),
    )
    engine = open_store(config.database.url)
    pipeline = Pipeline(
        config,
        engine,
        reader_factory=lambda s: open_google_reader(settings, s.spreadsheet, sleep=NO_SLEEP),
        writer_factory=lambda: open_google_writer(settings, dashboard, sleep=NO_SLEEP),
    )
    yield pipeline, tabs, source, dashboard, images, photos
    engine.dispose()


def _link_of(fake: FakeGoogle, photos: dict[str, str]):
    def link(cell: str) -> str | None:
        if cell == AS_IS:
            return AS_IS_ENCODED
        return fake.web_view_link(photos[cell]) if cell in photos else None

    return link


def test_gap_evidence_links_to_the_photo_drive_file_and_no_cell_is_a_formula_on_both_backends(
    fake: FakeGoogle, app, tmp_path: Path
):
    pipeline, tabs, _source, dashboard, images, photos = app
    sent: list[Any] = []
    handle = fake.handle

    def recording(method: str, url: str, headers: Any, body: Any) -> Any:
        if body and "batchUpdate" in url:
            sent.append(json.loads(body))
        return handle(method, url, headers, body)

    fake.handle = recording  # type: ignore[method-assign]
    result = pipeline.run_cycle(publish_always=True)
    assert not result.failed, result

    expected = expected_gap_links(
        pipeline.engine,
        pipeline.rule_sets,
        pipeline.settings.sources,
        tabs["Findings"],
        _link_of(fake, photos),
    )
    assert len(expected) > 20
    found = google_gap_links(fake, dashboard)
    assert found == expected
    image_ids = {f.file_id for f in fake.drive_files.values() if images in f.parents}
    for *_, url in found:
        assert url == AS_IS_ENCODED or url in {fake.web_view_link(i) for i in image_ids}

    xlsx = tmp_path / "dashboard.xlsx"
    # the same store published to a workbook: another target, so it is written (publish
    # rewrites a target only when its content changed since its own last write)
    on_disk = replace(pipeline.settings, dashboard=DashboardSettings("xlsx", str(xlsx), "vi"))
    Pipeline(on_disk, pipeline.engine, writer_factory=lambda: XlsxDashboardWriter(xlsx)).publish()
    assert xlsx_gap_links(xlsx) == expected

    # No formula anywhere: not in one request sent, not in one stored cell, not in the workbook.
    assert sent and formula_values(sent) == []
    assert formula_values([s.cells for s in fake.spreadsheets[dashboard].sheets]) == []
    assert xlsx_formula_cells(xlsx) == []
    # The hostile cells reached no link (they are only in the Drive cache, unlinked).
    with pipeline.engine.connect() as conn:
        e = tables.evidence_links.c
        cached = dict(conn.execute(sa.select(e.path, e.url)).all())
    for text in HOSTILE:
        assert cached.get(text) is None
    quoted = f"Findings_Images/{QUOTED_NAME}"  # quotes, spaces, unicode: found by name in Drive
    assert cached[quoted] == fake.web_view_link(photos[quoted])
    assert all(not str(url).startswith("javascript") for *_, url in found)


def test_drive_requests_are_few_and_none_once_the_links_are_cached(fake: FakeGoogle, app):
    pipeline, tabs, source, _dashboard, images, _photos = app
    fake.reset_log()
    assert pipeline.sync().changed
    # files.get (parents) + files.list (the folder by name) + files.list (its photos, 1 page)
    assert _drive_lookups(fake) == 3

    fake.reset_log()
    assert not pipeline.sync().changed  # unchanged: the marker alone
    assert _drive_lookups(fake) == 0

    fake.reset_log()
    pipeline.sync(force=True)  # read again: every path is cached
    assert _drive_lookups(fake) == 0

    fake.reset_log()
    fake.set_values(source, "Hospitals", [["BV sửa tên"]], start="B3")  # a change, no new photo
    assert pipeline.sync().changed
    assert _drive_lookups(fake) == 0

    # A new photo: one more lookup of the same size, and the gap links it.
    row = next(
        i for i, r in enumerate(tabs["Findings"]) if r[3] == RESULT_WORDS["not_met"] and i > 50
    )
    fake.set_values(source, "Findings", [["Findings_Images/new.jpg"]], start=f"F{row + 1}")
    new = fake.add_drive_file("new.jpg", images)
    fake.reset_log()
    assert pipeline.sync().changed
    assert _drive_lookups(fake) == 3
    with pipeline.engine.connect() as conn:
        url = conn.execute(
            sa.select(tables.evidence_links.c.url).where(
                tables.evidence_links.c.path == "Findings_Images/new.jpg"
            )
        ).scalar_one()
    assert url == fake.web_view_link(new)
    # The old path of that finding is forgotten.
    with pipeline.engine.connect() as conn:
        paths = set(conn.execute(sa.select(tables.evidence_links.c.path)).scalars())
    assert str(tabs["Findings"][row][5]) not in paths


def test_a_drive_failure_leaves_the_sync_ok_and_the_gaps_unlinked(fake: FakeGoogle, app):
    pipeline, _tabs, _source, dashboard, _images, _photos = app
    fake.fail_next(403, 1, path_contains="fields=parents")
    result = pipeline.run_cycle(publish_always=True)
    assert not result.failed, result
    # Only the cell that held a URL is linked: no Drive link is known yet.
    assert {url for *_, url in google_gap_links(fake, dashboard)} <= {AS_IS_ENCODED}
    fake.reset_log()
    pipeline.sync(force=True)  # the next (changed) sync resolves them
    assert _drive_lookups(fake) == 3


@pytest.mark.parametrize("max_body_bytes", [8_000_000, 1_500])
def test_a_link_cell_is_its_text_with_a_cell_link_also_when_staged(
    fake: FakeGoogle, settings: GoogleSettings, max_body_bytes: int
):
    table = Table(
        key="gaps",
        title="Cần cải tiến",
        columns=(Column("Tiêu chí"), Column("Minh chứng 1")),
        rows=tuple(
            (f"A{n}.1", Link('=HYPERLINK("x") A1.1-2.1', f"https://drive.google.com/file/d/{n}"))
            for n in range(30)
        ),
        fills={(0, 1): "#FFEB84"},
    )
    target = fake.create_spreadsheet("Dashboard", shared_with={READER: "writer"})
    open_google_writer(settings, target, max_body_bytes=max_body_bytes, sleep=NO_SLEEP).publish(
        Dashboard((table,))
    )
    staged = fake.count("spreadsheets.batchUpdate", target) > 1
    assert staged == (max_body_bytes < 10_000)
    first = fake.cell(target, "Cần cải tiến", "B2")
    assert first["userEnteredValue"] == {"stringValue": '=HYPERLINK("x") A1.1-2.1'}
    assert first["userEnteredFormat"]["textFormat"]["link"] == {
        "uri": "https://drive.google.com/file/d/0"
    }
    assert first["userEnteredFormat"]["backgroundColor"] == rgb("#FFEB84")
    last = fake.cell(target, "Cần cải tiến", "B31")
    assert last["userEnteredFormat"]["textFormat"]["link"]["uri"].endswith("/d/29")
    assert "userEnteredFormat" not in fake.cell(target, "Cần cải tiến", "A2")
