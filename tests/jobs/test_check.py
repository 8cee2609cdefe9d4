"""`hqsync check` checks everything a run will meet and writes nothing (issue 11): rows that would
be rejected, the database's state, a dashboard that cannot be written, and a guessed
`[sources.columns.<tab>]` block that, pasted into the config, makes the next check pass."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hqsync.config.settings import load_settings
from hqsync.jobs.check import StoreState, check_database, render_check, run_check
from hqsync.jobs.cli import cli
from hqsync.models.store import head_revision, known_revisions, open_store
from hqsync.sync.interfaces import CellValue
from tests.appsheet import variants as v
from tests.appsheet.sheets import COLUMNS, TABS
from tests.ingest.backends import write_workbook

Rows = Sequence[Sequence[CellValue]]

OWN_HEADERS: dict[str, Rows] = {
    "Hospitals": [["Mã bệnh viện", "Tên bệnh viện"], ["BV01", "BV A"], ["BV02", "BV B"]],
    "Assessments": [
        ["Mã đánh giá", "Mã bệnh viện", "Bộ tiêu chí", "Loại đánh giá", "Ngày đánh giá"],
        ["DG01", "BV01", "QD6858", "self", "25/03/2026"],
        ["DG02", "BV02", "QD6858", "self", "31/02/2026"],
        ["DG03", "BV09", "QD6858", "self", "28/03/2026"],
    ],
    "Findings": [["Mã kết quả", "Mã đánh giá", "Mã tiểu mục", "Kết quả"]],
}
"""hqsync's own headers; row 3 of Assessments has an impossible date, row 4 an unknown
hospital."""


def config_text(tmp_path: Path, source: Path, *, tabs: Mapping[str, str] | None = None) -> str:
    lines = [
        "[database]",
        f'url = "sqlite:///{tmp_path / "store" / "hqsync.db"}"',
        "[dashboard]",
        'backend = "xlsx"',
        f'spreadsheet = "{tmp_path / "out" / "dashboard.xlsx"}"',
        "[[sources]]",
        'name = "cantho"',
        'backend = "xlsx"',
        f'spreadsheet = "{source}"',
    ]
    if tabs is not None:
        lines.append("tabs = { " + ", ".join(f'{k} = "{n}"' for k, n in tabs.items()) + " }")
    return "\n".join(lines) + "\n"


def deployment(
    tmp_path: Path, sheet: Mapping[str, Rows], tabs: Mapping[str, str] | None = None
) -> Path:
    """A source workbook, the folders of the store and the dashboard, and the config."""
    (tmp_path / "store").mkdir()
    (tmp_path / "out").mkdir()
    write_workbook(sheet, tmp_path / "source.xlsx")
    config = tmp_path / "hqsync.toml"
    text = config_text(tmp_path, tmp_path / "source.xlsx", tabs=tabs)
    config.write_text(text, encoding="utf-8")
    return config


def check(config: Path) -> Result:
    return CliRunner().invoke(cli, ["check", "--config", str(config)], catch_exceptions=False)


def files(tmp_path: Path) -> list[str]:
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))


def test_rejected_rows_are_found_with_their_sheet_row_numbers_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    config = deployment(tmp_path, OWN_HEADERS)
    before = files(tmp_path)
    result = check(config)

    assert result.exit_code == 1, result.output
    assert files(tmp_path) == before
    report = run_check(load_settings(config, environ={}))
    (source,) = report.sources
    hospitals, assessments, findings = source.tabs
    assert (hospitals.would_load, hospitals.would_reject) == (2, 0)
    assert (assessments.would_load, assessments.would_reject) == (1, 2)
    assert (findings.would_load, findings.would_reject) == (0, 0)
    assert [r.row_number for r in assessments.first_rejected] == [3, 4]
    assert "'31/02/2026'" in assessments.first_rejected[0].reason
    assert "vi_VN" in assessments.first_rejected[0].reason
    assert "'BV09'" in assessments.first_rejected[1].reason
    assert not source.ok and source.suggestion is None
    assert "a sync would load 1 row(s) and reject 2" in result.output
    assert "row 3: column 'Ngày đánh giá'" in result.output
    assert "row 4: column 'Mã bệnh viện'" in result.output
    assert "hospital_id ← 'Mã bệnh viện' (alias)" in result.output
    assert "1 problem(s) found." in result.output


def test_a_clean_source_passes_with_the_database_missing(tmp_path: Path) -> None:
    clean = {**OWN_HEADERS, "Assessments": OWN_HEADERS["Assessments"][:2]}
    config = deployment(tmp_path, clean)
    result = check(config)
    assert result.exit_code == 0, result.output
    assert "database" in result.output and "missing" in result.output
    assert "All checks passed." in result.output
    assert not (tmp_path / "store" / "hqsync.db").exists()


def _store(tmp_path: Path, version: str | None) -> str:
    url = f"sqlite:///{tmp_path / 'hqsync.db'}"
    if version is None:
        sqlite3.connect(tmp_path / "hqsync.db").close()
        return url
    open_store(url).dispose()
    if version != head_revision():
        with sqlite3.connect(tmp_path / "hqsync.db") as conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (version,))
    return url


OLDER = sorted(known_revisions() - {head_revision()})[0]


@pytest.mark.parametrize(
    ("version", "state", "ok", "words"),
    [
        (None, StoreState.MISSING, True, "first `hqsync sync` creates it"),
        (head_revision(), StoreState.CURRENT, True, "current"),
        (OLDER, StoreState.OLDER, True, f"migrates it to {head_revision()}"),
        ("9999_from_the_future", StoreState.NEWER, False, "upgrade hqsync"),
    ],
    ids=["missing", "current", "older", "newer"],
)
def test_the_store_is_missing_current_older_or_newer(
    tmp_path: Path, version: str | None, state: StoreState, ok: bool, words: str
) -> None:
    url = _store(tmp_path, version)
    found = check_database(url)
    assert (found.state, found.ok) == (state, ok)
    assert words in found.detail


def test_an_unreachable_database_fails_the_check(tmp_path: Path) -> None:
    clean = {**OWN_HEADERS, "Assessments": OWN_HEADERS["Assessments"][:2]}
    config = deployment(tmp_path, clean)
    url = "postgresql+psycopg://hqsync:secret@127.0.0.1:1/hqsync?connect_timeout=2"
    result = CliRunner().invoke(
        cli, ["check", "--config", str(config)], env={"HQSYNC_DATABASE_URL": url}
    )
    assert result.exit_code == 1, result.output
    assert "unreachable" in result.output and "secret" not in result.output
    assert "1 problem(s) found." in result.output


def _unwritable_folder(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o500)
        return folder
    if not os.access("/proc/sys", os.W_OK):  # root may write anywhere but a read-only mount
        return Path("/proc/sys")
    pytest.skip("no folder this user cannot write")


def test_an_unwritable_dashboard_folder_fails_the_check(tmp_path: Path) -> None:
    clean = {**OWN_HEADERS, "Assessments": OWN_HEADERS["Assessments"][:2]}
    config = deployment(tmp_path, clean)
    folder = _unwritable_folder(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["check", "--config", str(config)],
        env={"HQSYNC_DASHBOARD_SPREADSHEET": str(folder / "dashboard.xlsx")},
    )
    assert result.exit_code == 1, result.output
    assert f"folder {folder} is not writable" in result.output


def test_the_suggested_mapping_pasted_into_the_config_makes_the_next_check_pass(
    tmp_path: Path,
) -> None:
    tabs = TABS.as_dict()
    sheet = {tabs[kind]: rows for kind, rows in v.STANDARD.items()}
    config = deployment(tmp_path, sheet, tabs=tabs)

    first = check(config)
    assert first.exit_code == 1, first.output
    report = run_check(load_settings(config, environ={}))
    (source,) = report.sources
    assert source.suggestion is not None
    assert '[sources.columns.hospitals]\nhospital_id = "Row ID"' in source.suggestion
    assert 'assessment_id = "Đợt đánh giá"' in source.suggestion
    assert "[sources.columns.findings]" in first.output

    # Pasted as printed (the indented lines of the output, unindented) under [[sources]].
    lines = first.output.splitlines()
    start = next(i for i, line in enumerate(lines) if "Suggested mapping" in line) + 1
    block = []
    for line in lines[start:]:
        if line and not line.startswith("         "):
            break
        block.append(line.strip())
    with config.open("a", encoding="utf-8") as out:
        out.write("\n".join(block) + "\n")

    second = check(config)
    assert second.exit_code == 0, second.output
    assert "All checks passed." in second.output
    assert "finding_id ← 'Row ID' (mapping)" in second.output
    assert "result ← 'Đánh giá' (alias)" in second.output
    report = run_check(load_settings(config, environ={}))
    assert [t.would_load for t in report.sources[0].tabs] == [2, 2, 4]
    assert report.sources[0].suggestion is None


def test_the_report_renders_every_part(tmp_path: Path) -> None:
    config = deployment(tmp_path, OWN_HEADERS)
    text = render_check(run_check(load_settings(config, environ={}), database_url="sqlite://"))
    assert text.splitlines()[0].startswith("[ok  ] database sqlite://: missing")


def test_a_sync_reads_the_mapped_columns_in_the_source_locale(tmp_path: Path) -> None:
    """What `check` promised is what `hqsync sync` stores: the mapping and the locale reach
    the pipeline (en_US: 1/3/2026 is 3 January; the trend of two self-assessments holds)."""
    import sqlalchemy as sa

    tabs = TABS.as_dict()
    sheet = {tabs[kind]: rows for kind, rows in v.TREND.items()}
    config = deployment(tmp_path, sheet, tabs=tabs)
    with config.open("a", encoding="utf-8") as out:
        out.write('locale = "en_US"\n')
        for kind, fields in COLUMNS.items():
            out.write(f"[sources.columns.{kind}]\n")
            out.writelines(f'{name} = "{column}"\n' for name, column in fields.items())
    assert check(config).exit_code == 0
    result = CliRunner().invoke(cli, ["sync", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'store' / 'hqsync.db'}")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT assessment_id, hospital_id, assessed_on FROM assessments")
        ).all()
    engine.dispose()
    got = {key: (hospital, str(day)) for key, hospital, day in rows}
    assert got == {v.A1: (v.H1, "2026-01-03"), v.A2: (v.H1, "2026-03-01")}
