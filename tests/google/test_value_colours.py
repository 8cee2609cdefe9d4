"""Colours that follow a cell's value: conditional formatting in Google and in the .xlsx."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hqsync.sync.dashboard import (
    LEVEL_COLOURS,
    Column,
    Dashboard,
    Table,
    ValueColour,
    column_runs,
    level_colours,
)
from hqsync.sync.google.render import render_dashboard, rgb
from hqsync.sync.xlsx import XlsxDashboardWriter

COLOURS = (*level_colours((1, 2, 4)), ValueColour((3,), "#123456", 2, 3.5))


def table(rows: int = 3) -> Table:
    return Table(
        "criteria",
        "Tiêu chí",
        (Column("Bệnh viện"), Column("A1", "integer"), Column("A2", "integer"),
         Column("Điểm", "number"), Column("A3", "integer")),
        tuple((f"BV {r}", r % 5 + 1, None, 2.5 + r, 5) for r in range(rows)),
        value_colours=COLOURS,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("columns", "runs"),
    [((), []), ((4,), [(4, 5)]), ((6, 4, 5, 5, 9), [(4, 7), (9, 10)]), ((1, 3), [(1, 2), (3, 4)])],
)
def test_column_runs(columns: tuple[int, ...], runs: list[tuple[int, int]]) -> None:
    assert column_runs(columns) == runs


def test_levels_get_one_exact_rule_each() -> None:
    assert level_colours(()) == ()
    with pytest.raises(ValueError, match="empty"):
        ValueColour((1,), "#000000", 3, 2)
    rules = level_colours((4, 5))
    assert [(c.low, c.high, c.colour) for c in rules] == [
        (level, None, colour) for level, colour in sorted(LEVEL_COLOURS.items())
    ]


def test_google_renders_one_conditional_rule_per_colour_over_the_data_rows() -> None:
    requests = render_dashboard(Dashboard((table(),)), [])
    rules = [r["addConditionalFormatRule"] for r in requests if "addConditionalFormatRule" in r]
    assert [r["index"] for r in rules] == list(range(len(COLOURS)))
    first = rules[0]["rule"]
    assert [(g["startRowIndex"], g["endRowIndex"], g["startColumnIndex"], g["endColumnIndex"])
            for g in first["ranges"]] == [(1, 4, 1, 3), (1, 4, 4, 5)]  # fmt: skip
    assert first["booleanRule"] == {
        "condition": {"type": "NUMBER_EQ", "values": [{"userEnteredValue": "1"}]},
        "format": {"backgroundColor": rgb(LEVEL_COLOURS[1])},
    }
    assert rules[-1]["rule"]["booleanRule"]["condition"] == {
        "type": "NUMBER_BETWEEN",
        "values": [{"userEnteredValue": "2"}, {"userEnteredValue": "3.5"}],
    }
    cells = [r["updateCells"] for r in requests if "updateCells" in r]
    assert all(
        "backgroundColor" not in v.get("userEnteredFormat", {})
        for row in cells[0]["rows"][1:]
        for v in row["values"]
    )


def test_no_rows_no_rules_and_unknown_columns_are_refused() -> None:
    requests = render_dashboard(Dashboard((table(rows=0),)), [])
    assert not any("addConditionalFormatRule" in r for r in requests)
    bad = Table("t", "T", (Column("a"),), (("x",),), value_colours=level_colours((3,)))
    with pytest.raises(ValueError, match=r"columns \[3\]"):
        render_dashboard(Dashboard((bad,)), [])


def test_xlsx_renders_cell_value_rules(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    XlsxDashboardWriter(path).publish(Dashboard((table(),)))
    sheet = openpyxl.load_workbook(path)["Tiêu chí"]
    found = [
        (str(cf.sqref), rule.operator, rule.formula, rule.dxf.fill.fgColor.rgb[-6:])
        for cf in sheet.conditional_formatting
        for rule in cf.rules
    ]
    assert sorted(found) == sorted(
        [("B2:C4 E2:E4", "equal", [str(level)], colour[1:])
         for level, colour in LEVEL_COLOURS.items()]
        + [("D2:D4", "between", ["2", "3.5"], "123456")]
    )  # fmt: skip
    assert sheet["B2"].fill.fill_type is None  # coloured by rule, not by a per-cell fill
