"""The local workbook backend: typed reads like Google's, atomic dashboard writes."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from hqsync.config.errors import DashboardError, SourceError
from hqsync.sync.dashboard import Column, Dashboard, LineChart, Table
from hqsync.sync.xlsx import XlsxDashboardWriter, XlsxSourceReader


def test_reader_keeps_types_positions_and_formula_errors(tmp_path: Path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = 'Đánh giá "2025"'
    sheet["B2"] = "h"
    sheet["C2"] = 3
    sheet["B3"] = date(2025, 1, 2)
    sheet["C3"] = datetime(2025, 1, 2, 3, 4)
    sheet["D3"] = "#N/A"
    sheet["D3"].data_type = "e"
    sheet["B5"] = True
    sheet["C5"] = 2.5
    sheet["E5"] = "=not a formula"
    sheet["E5"].data_type = "s"
    workbook.save(tmp_path / "s.xlsx")
    snapshot = XlsxSourceReader(tmp_path / "s.xlsx").read(['Đánh giá "2025"'])
    assert snapshot.tabs['Đánh giá "2025"'].rows == (
        (),
        ("", "h", 3),
        ("", date(2025, 1, 2), datetime(2025, 1, 2, 3, 4), "#N/A"),
        (),
        ("", True, 2.5, "", "=not a formula"),
    )


def test_reader_finds_every_formula_error_even_beyond_the_data(tmp_path: Path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "T"
    sheet.append(["a", "b"])
    sheet.append(["x", 2.0])
    sheet.append(["y", time(7, 30)])
    for ref, error in (("E2", "#REF!"), ("A4", "#DIV/0!"), ("C6", "#NAME?")):
        sheet[ref] = error
        sheet[ref].data_type = "e"
    workbook.save(tmp_path / "s.xlsx")
    rows = XlsxSourceReader(tmp_path / "s.xlsx").read(["T"]).tabs["T"].rows
    assert rows == (
        ("a", "b"),
        ("x", 2, "", "", "#REF!"),  # a whole number comes as an int, as from Google
        ("y", "07:30:00"),
        ("#DIV/0!",),
        (),
        ("", "", "#NAME?"),
    )


def test_reader_errors_name_the_file(tmp_path: Path):
    with pytest.raises(SourceError, match="not found"):
        XlsxSourceReader(tmp_path / "none.xlsx").read(["T"])
    (tmp_path / "bad.xlsx").write_text("not a workbook")
    with pytest.raises(SourceError, match=r"bad\.xlsx"):
        XlsxSourceReader(tmp_path / "bad.xlsx").read(["T"])


def test_change_marker_follows_the_file(tmp_path: Path):
    path = tmp_path / "s.xlsx"
    reader = XlsxSourceReader(path)
    assert reader.change_marker() is None
    Workbook().save(path)
    first = reader.change_marker()
    wb = Workbook()
    wb.active["A1"] = "changed"
    wb.save(path)
    assert reader.change_marker() not in (None, first)


def _dashboard(note: str = "=IMPORTXML(1)") -> Dashboard:
    table = Table(
        key="summary",
        title="Tổng hợp",
        columns=(
            Column("Bệnh viện"),
            Column("Điểm", "number"),
            Column("Ngày", "date"),
            Column("Hạng", "integer"),
        ),
        rows=((note, 3.456, date(2025, 11, 3), 1), ("B", None, None, 2)),
        fills={(0, 1): "#63BE7B"},
        freeze_rows=1,
        freeze_columns=1,
    )
    trend = Table(
        key="trend",
        title="Xu hướng",
        columns=(Column("Kỳ"), Column("A", "number")),
        rows=(("2024", 3.1), ("2025", 3.4)),
        filter=False,
        chart=LineChart("Điểm", 0, (1,), 3),
    )
    return Dashboard(tables=(table, trend))


def test_writer_renders_values_formats_and_fills(tmp_path: Path):
    path = tmp_path / "dash.xlsx"
    XlsxDashboardWriter(path).publish(_dashboard())
    sheet = load_workbook(path)["Tổng hợp"]
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == "A1:D3"
    assert sheet["A2"].value == "=IMPORTXML(1)" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 3.456 and sheet["B2"].number_format == "0.00"
    assert sheet["C2"].value == datetime(2025, 11, 3)
    assert sheet["B2"].fill.start_color.rgb == "0063BE7B"
    assert sheet["A1"].font.bold


def test_failed_write_leaves_the_previous_dashboard(tmp_path: Path, monkeypatch):
    path = tmp_path / "dash.xlsx"
    XlsxDashboardWriter(path).publish(_dashboard("first"))
    before = path.read_bytes()

    def explode(source, target):
        raise OSError("disk full")

    monkeypatch.setattr("hqsync.sync.xlsx.source_writer.os.replace", explode)
    with pytest.raises(DashboardError, match="disk full"):
        XlsxDashboardWriter(path).publish(_dashboard("second"))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dash.xlsx"]
