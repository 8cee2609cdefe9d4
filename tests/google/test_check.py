"""`hqsync check`: what it finds on healthy and broken set-ups, and how it says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from hqsync.config.settings import (
    DashboardSettings,
    GoogleSettings,
    Settings,
    SourceSettings,
    TabNames,
)
from hqsync.jobs.check import render_check, run_check
from tests.fake_google import FakeGoogle, google_settings, service_account_key
from tests.google.conftest import READER

HOSPITALS = [["Mã bệnh viện", "Tên bệnh viện", "Zalo"], ["H01", "BV A", "x"], ["H02", "BV B"]]
ASSESSMENTS = [
    ["assessment_id", "hospital_id", "standard", "kind"],
    ["A1", "H01", "QD6858", "self"],
]
FINDINGS = [["finding_id", "assessment_id", "item_code", "Kết quả"]]
TABS = {"Hospitals": HOSPITALS, "Assessments": ASSESSMENTS, "Findings": FINDINGS}


def _settings(
    google: GoogleSettings, source_id: str, dashboard_id: str, tabs: TabNames | None = None
) -> Settings:
    return Settings(
        google=google,
        sources=(SourceSettings("cantho", "google", source_id, tabs or TabNames()),),
        dashboard=DashboardSettings("google", dashboard_id, "vi"),
    )


@pytest.fixture
def dashboard_id(fake: FakeGoogle) -> str:
    return fake.create_spreadsheet("Dashboard", {"Tổng hợp": []}, shared_with={READER: "writer"})


def test_a_healthy_setup_lists_tabs_columns_and_rows(
    fake: FakeGoogle, settings: GoogleSettings, dashboard_id: str
) -> None:
    source = fake.create_spreadsheet("src", TABS, shared_with={READER: "reader"})
    report = run_check(_settings(settings, source, dashboard_id))

    assert report.ok, render_check(report)
    assert report.credentials is not None and report.credentials.account == READER
    (found,) = report.sources
    hospitals = found.tabs[0]
    assert (hospitals.title, hospitals.rows, hospitals.extra_columns) == ("Hospitals", 2, ("Zalo",))
    assert hospitals.fields == ("hospital_id", "name")
    assert found.requests == 3
    text = render_check(report)
    assert "All checks passed." in text and "Zalo" in text and "'Tổng hợp'" in text
    assert fake.count("spreadsheets.batchUpdate") == 0 and fake.count("values.update") == 0


def test_a_source_not_shared_says_whom_to_share_it_with(
    fake: FakeGoogle, settings: GoogleSettings, dashboard_id: str
) -> None:
    source = fake.create_spreadsheet("src", TABS, shared_with={"boss@example.org": "owner"})
    report = run_check(_settings(settings, source, dashboard_id))
    assert not report.ok
    problem = report.sources[0].problem or ""
    assert source in problem and f"add {READER}" in problem
    assert "1 problem(s) found." in render_check(report)


def test_a_missing_tab_names_the_tabs_present(
    fake: FakeGoogle, settings: GoogleSettings, dashboard_id: str
) -> None:
    source = fake.create_spreadsheet(
        "src", {"Hospitals": HOSPITALS, "Đánh giá": ASSESSMENTS, "Findings": FINDINGS}
    )
    report = run_check(_settings(settings, source, dashboard_id))
    problem = report.sources[0].tabs[1].problem or ""
    assert "'Assessments' not found" in problem and "'Đánh giá'" in problem
    assert "tabs.assessments" in problem


def test_a_missing_column_is_named(
    fake: FakeGoogle, settings: GoogleSettings, dashboard_id: str
) -> None:
    broken = dict(TABS, Findings=[["finding_id", "assessment_id", "Kết quả"]])
    source = fake.create_spreadsheet("src", broken)
    report = run_check(_settings(settings, source, dashboard_id))
    problem = report.sources[0].tabs[2].problem or ""
    assert "item_code" in problem and "'Findings'" in problem
    assert not report.ok


def test_rejected_credentials_are_reported_once_and_nothing_else_is_tried(
    fake: FakeGoogle, tmp_path: Path, dashboard_id: str
) -> None:
    old = "old@hqsync-test.iam.gserviceaccount.com"
    key = service_account_key(fake, tmp_path / "old.json", old)
    fake.accounts.clear()
    source = fake.create_spreadsheet("src", TABS)
    report = run_check(_settings(google_settings(fake, key), source, dashboard_id))
    assert report.credentials is not None and not report.credentials.ok
    assert "old@hqsync-test" in (report.credentials.problem or "")
    assert "not checked" in (report.sources[0].problem or "")
    assert fake.count() == 0


def test_a_missing_key_file_is_reported(tmp_path: Path) -> None:
    settings = Settings(
        google=GoogleSettings(credentials=str(tmp_path / "nope.json")),
        dashboard=DashboardSettings("google", "x"),
    )
    report = run_check(settings)
    assert report.credentials is not None and "not found" in (report.credentials.problem or "")


def test_a_view_only_dashboard_asks_for_editor_access(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    source = fake.create_spreadsheet("src", TABS)
    dashboard = fake.create_spreadsheet("d", shared_with={READER: "reader"})
    report = run_check(_settings(settings, source, dashboard))
    assert not report.dashboard.ok
    problem = report.dashboard.problem or ""
    assert "Editor" in problem and READER in problem


def test_xlsx_sources_and_dashboard(tmp_path: Path) -> None:
    book = Workbook()
    book.remove(book.worksheets[0])
    for title, rows in TABS.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    good = tmp_path / "source.xlsx"
    book.save(good)
    settings = Settings(
        sources=(
            SourceSettings("good", "xlsx", str(good)),
            SourceSettings("gone", "xlsx", str(tmp_path / "missing.xlsx")),
        ),
        dashboard=DashboardSettings("xlsx", str(tmp_path / "no-such-dir" / "d.xlsx")),
    )
    report = run_check(settings)
    assert report.credentials is None
    assert report.sources[0].ok and report.sources[0].tabs[0].rows == 2
    assert "not found" in (report.sources[1].problem or "")
    assert "does not exist" in (report.dashboard.problem or "")
    assert "2 problem(s) found." in render_check(report)


def test_an_appsheet_source_is_checked_with_its_mapping_in_the_spreadsheet_locale(
    fake: FakeGoogle, settings: GoogleSettings, dashboard_id: str
) -> None:
    """The same three requests; text dates read in the spreadsheet's en_US (the config has no
    locale), so a day-first date is a rejected row; where each field came from is shown."""
    from types import MappingProxyType

    from tests.appsheet import variants as v
    from tests.appsheet.sheets import COLUMNS
    from tests.appsheet.sheets import TABS as APPSHEET_TABS

    names = APPSHEET_TABS.as_dict()
    sheet = {names[kind]: rows for kind, rows in v.US.items()}
    source_id = fake.create_spreadsheet("src", sheet, shared_with={READER: "reader"})
    fake.spreadsheets[source_id].properties["locale"] = "en_US"
    source = SourceSettings(
        "cantho", "google", source_id, APPSHEET_TABS, columns=MappingProxyType(dict(COLUMNS))
    )
    report = run_check(
        Settings(
            google=settings,
            sources=(source,),
            dashboard=DashboardSettings("google", dashboard_id, "vi"),
        )
    )
    (found,) = report.sources
    assert found.requests == 3 and found.suggestion is None
    hospitals, assessments, findings = found.tabs
    assert (hospitals.would_load, hospitals.would_reject) == (2, 0)
    assert (assessments.would_load, assessments.would_reject) == (2, 1)
    assert [r.row_number for r in assessments.first_rejected] == [4]
    assert "en_US" in assessments.first_rejected[0].reason
    assert (findings.would_load, findings.would_reject) == (4, 1)
    sources = {s.field: (s.header, s.by_mapping) for s in assessments.sources}
    assert sources["hospital_id"] == ("Bệnh viện", True)
    assert sources["standard"] == ("Bộ tiêu chí", False)
    assert not report.ok and "1 problem(s) found." in render_check(report)
