"""`hqsync check` lists the shares of every hospital dashboard, those the Hospitals tab's
`dashboard` column names too, and says plainly that xlsx ones are not checked."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hqsync.config.settings import DashboardSettings, GoogleSettings, Settings, SourceSettings
from hqsync.jobs.check import run_check
from hqsync.jobs.cli import cli
from hqsync.jobs.sharing import list_sharing, render_sharing
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER

ASSESSMENTS = [
    ["assessment_id", "hospital_id", "standard", "kind"],
    ["A1", "BV01", "QD6858", "self"],
]
FINDINGS = [["finding_id", "assessment_id", "item_code", "Kết quả"]]


def no_sleep(_seconds: float) -> None:
    """Backoff waits cost no time in tests."""


def test_dashboards_named_by_the_hospitals_tab_are_listed_and_warned_about(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    dashboards = {
        h: fake.create_spreadsheet(f"Dashboard {h}", shared_with={READER: "writer"})
        for h in ("BV01", "BV02", "BV03", "BV04")
    }
    url = "https://docs.google.com/spreadsheets/d/{}/edit#gid=0"
    hospitals = [
        ["Mã bệnh viện", "Tên bệnh viện", "Bảng điều khiển"],
        ["BV01", "BV A", url.format("1SomethingElse")],  # the config wins
        ["BV02", "BV B", url.format(dashboards["BV02"])],
        ["BV03", "BV C", dashboards["BV03"]],
        ["BV04", "BV D", url.format(dashboards["BV04"])],
    ]
    source = fake.create_spreadsheet(
        "src",
        {"Hospitals": hospitals, "Assessments": ASSESSMENTS, "Findings": FINDINGS},
        shared_with={READER: "reader"},
    )
    for hospital, sid in dashboards.items():
        fake.share(sid, f"director@{hospital.lower()}.vn", "reader")
        fake.share(sid, "inspector@soyte.gov.vn", "reader")
    fake.share(dashboards["BV01"], "deputy@bv01.vn", "reader")
    fake.share(dashboards["BV03"], "nurse@bv01.vn", "reader")  # BV01's staff on BV03's results
    fake.link_sharing[dashboards["BV04"]] = "reader"
    overview = fake.create_spreadsheet("Overview", shared_with={READER: "writer"})
    config = Settings(
        google=settings,
        sources=(SourceSettings("cantho", "google", source),),
        dashboard=DashboardSettings("google", overview, "vi", {"BV01": dashboards["BV01"]}),
    )
    check = run_check(config, sleep=no_sleep)
    column = [pair for found in check.sources for pair in found.dashboards]
    assert dict(column)["BV03"] == dashboards["BV03"]

    fake.reset_log()
    report = list_sharing(config, column, sleep=no_sleep)

    findings = {f.hospital_id: f for f in report.findings}
    assert {h: f.spreadsheet for h, f in findings.items()} == dashboards
    assert fake.count("drive.permissions.list") == 4
    assert {r.kind for r in fake.requests()} <= {"drive.permissions.list", "token"}
    assert any("bv01.vn" in w and "BV01" in w for w in findings["BV03"].warnings)
    assert any("anyone with the link" in w for w in findings["BV04"].warnings)
    assert findings["BV02"].warnings == () and findings["BV01"].warnings == ()
    text = render_sharing(report)
    assert "[WARN] hospital BV03" in text and "[WARN] hospital BV04" in text
    assert "director@bv04.vn (reader)" in text


def test_xlsx_hospital_dashboards_are_said_not_to_be_checked(tmp_path: Path) -> None:
    config = Settings(
        dashboard=DashboardSettings(
            "xlsx", str(tmp_path / "overview.xlsx"), "vi", {"BV01": str(tmp_path / "BV01.xlsx")}
        ),
    )
    report = list_sharing(config, [("BV02", "bv02.xlsx")])
    assert report.findings == ()
    assert [h for h, _ in report.unchecked_files] == ["BV01", "BV02"]
    text = render_sharing(report)
    assert text.startswith("Hospital dashboards' sharing: not checked: the 2 hospital dashboards")
    assert "xlsx files" in text and str(tmp_path / "BV01.xlsx") in text
    assert render_sharing(list_sharing(Settings())) == ""


def test_check_prints_the_sharing_of_dashboards_named_by_the_hospitals_tab(
    tmp_path: Path,
) -> None:
    from hqsync.sync.xlsx import write_source_workbook

    hospitals = [["Mã bệnh viện", "Tên bệnh viện", "dashboard"], ["BV01", "BV A", "bv01.xlsx"]]
    write_source_workbook(
        tmp_path / "source.xlsx",
        {"Hospitals": hospitals, "Assessments": ASSESSMENTS, "Findings": FINDINGS},
    )
    (tmp_path / "hqsync.toml").write_text(
        '[[sources]]\nname = "demo"\nbackend = "xlsx"\nspreadsheet = "source.xlsx"\n\n'
        '[dashboard]\nbackend = "xlsx"\nspreadsheet = "overview.xlsx"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["check", "--config", str(tmp_path / "hqsync.toml")])
    assert "sharing: not checked: the 1 hospital dashboard is an xlsx file" in result.output
    assert str(tmp_path / "bv01.xlsx") in result.output
