"""The local dashboard writer: the whole dashboard as one .xlsx workbook, replaced atomically."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import LineChart as XlLineChart
from openpyxl.chart import Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from hqsync.config.errors import DashboardError
from hqsync.sync.dashboard.document import (
    Column,
    Dashboard,
    DocumentCell,
    Link,
    Table,
    ValueColour,
    column_runs,
)
from hqsync.sync.xlsx.source_writer import replace_atomically

log = logging.getLogger(__name__)

_NUMBER_FORMATS = {
    "integer": "0",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
    "text": "@",
}
_HEADER_FILL = "#1F4E78"
PRINT_FIT_COLUMNS = 40


class XlsxDashboardWriter:
    """Writes the dashboard as one workbook, to a temporary file renamed into place."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def requests_made(self) -> int:
        """Local files cost no API requests."""
        return 0

    def publish(self, dashboard: Dashboard) -> None:
        """Replace the dashboard workbook with `dashboard`."""
        workbook = Workbook(write_only=True)
        styles = _StyleCache()
        for table in dashboard.tables:
            _write_table(workbook, table, styles)
        replace_atomically(self.path, workbook.save, error=DashboardError)
        log.info("dashboard written to %s", self.path)


class _StyleCache:
    """Shares fill and font objects between cells (openpyxl styles are costly to create)."""

    def __init__(self) -> None:
        self.fills: dict[str, PatternFill] = {}
        self.header_font = Font(bold=True, color="FFFFFF")
        self.link_font = Font(color="0563C1", underline="single")
        self.wrap = Alignment(wrap_text=True, vertical="top")

    def fill(self, colour: str) -> PatternFill:
        rgb = colour.lstrip("#").upper()
        if rgb not in self.fills:
            self.fills[rgb] = PatternFill(start_color=rgb, end_color=rgb, fill_type="solid")
        return self.fills[rgb]


def _write_table(workbook: Workbook, table: Table, styles: _StyleCache) -> None:
    sheet = workbook.create_sheet(title=table.title[:31])
    # Leaders print the dashboard: landscape, narrow tables fitted to one page width.
    sheet.page_setup.orientation = "landscape"
    sheet.print_title_rows = "1:1"
    if len(table.columns) <= PRINT_FIT_COLUMNS:
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    if table.freeze_rows or table.freeze_columns:
        sheet.freeze_panes = f"{get_column_letter(table.freeze_columns + 1)}{table.freeze_rows + 1}"
    header = []
    for column in table.columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = styles.header_font
        cell.fill = styles.fill(_HEADER_FILL)
        cell.alignment = styles.wrap
        header.append(cell)
    sheet.append(header)
    for row_index, row in enumerate(table.rows):
        cells = []
        for col_index, (column, value) in enumerate(zip(table.columns, row, strict=False)):
            cell = _cell(sheet, value, styles)
            number_format = _number_format(column)
            if number_format and value is not None:
                cell.number_format = number_format
            colour = table.fills.get((row_index, col_index))
            if colour:
                cell.fill = styles.fill(colour)
            cells.append(cell)
        sheet.append(cells)
    if table.rows:
        for value_colour in table.value_colours:
            _add_value_colour(sheet, value_colour, len(table.rows), styles)
    if table.filter and table.columns:
        last = get_column_letter(len(table.columns))
        sheet.auto_filter.ref = f"A1:{last}{max(len(table.rows), 1) + 1}"
    if table.chart and table.rows:
        sheet.add_chart(
            _line_chart(sheet, table), f"{get_column_letter(table.chart.anchor_column + 1)}2"
        )


def _cell(sheet: Any, value: DocumentCell, styles: _StyleCache) -> Any:
    """One data cell; a Link is its text with a cell hyperlink (never a HYPERLINK formula)."""
    text = value.text if isinstance(value, Link) else value
    cell = WriteOnlyCell(sheet, value=text)  # type: ignore[arg-type]
    if isinstance(text, str) and cell.data_type == "f":
        cell.data_type = "s"  # field text starting with '=' stays text, never a formula
    if isinstance(value, Link):
        cell.hyperlink = value.url
        cell.font = styles.link_font
    return cell


def _add_value_colour(sheet: Any, colour: ValueColour, rows: int, styles: _StyleCache) -> None:
    """A cell-value conditional format over the data rows of the colour's columns."""
    ranges = " ".join(
        f"{get_column_letter(first + 1)}2:{get_column_letter(end)}{rows + 1}"
        for first, end in column_runs(colour.columns)
    )
    if colour.high is None:
        rule = CellIsRule(
            operator="equal", formula=[_number(colour.low)], fill=styles.fill(colour.colour)
        )
    else:
        rule = CellIsRule(
            operator="between",
            formula=[_number(colour.low), _number(colour.high)],
            fill=styles.fill(colour.colour),
        )
    sheet.conditional_formatting.add(ranges, rule)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _line_chart(sheet: Any, table: Table) -> XlLineChart:
    spec = table.chart
    assert spec is not None
    chart = XlLineChart()
    chart.title = spec.title
    chart.height = 10
    chart.width = 24
    last_row = len(table.rows) + 1
    for column in spec.series_columns:
        data = Reference(sheet, min_col=column + 1, min_row=1, max_row=last_row)
        chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=spec.x_column + 1, min_row=2, max_row=last_row))
    return chart


def _number_format(column: Column) -> str | None:
    if column.kind == "number":
        return "0." + "0" * column.decimals if column.decimals else "0"
    if column.kind == "percent":
        return "0." + "0" * column.decimals + '"%"' if column.decimals else '0"%"'
    return _NUMBER_FORMATS.get(column.kind)
