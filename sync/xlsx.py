"""The local workbook backend: read a source .xlsx, write the dashboard .xlsx atomically."""

from __future__ import annotations

import logging
import os
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import LineChart as XlLineChart
from openpyxl.chart import Reference
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from python_calamine import CalamineError, CalamineWorkbook

from hqsync.config.errors import BackendError
from hqsync.sync.interfaces import (
    CellValue,
    Column,
    Dashboard,
    RawTab,
    SourceSnapshot,
    Table,
    ValueColour,
    column_runs,
)
from hqsync.sync.normalise import paused_gc
from hqsync.sync.xlsx_source import replace_atomically

log = logging.getLogger(__name__)

_NUMBER_FORMATS = {
    "integer": "0",
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
    "text": "@",
}
_HEADER_FILL = "#1F4E78"
PRINT_FIT_COLUMNS = 40


class XlsxSourceReader:
    """Reads a source workbook (the AppSheet tabs saved as .xlsx) with typed cell values."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def requests_made(self) -> int:
        """Local files cost no API requests."""
        return 0

    def change_marker(self) -> str | None:
        """The file's modification time and size; None when the file is missing."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return f"{stat.st_mtime_ns}:{stat.st_size}"

    def read(self, tabs: Sequence[str]) -> SourceSnapshot:
        """Read the named tabs; trailing empty cells and rows are trimmed as Google does.

        Values come typed as Google's UNFORMATTED_VALUE gives them: whole numbers as int,
        other numbers as float, booleans, text; dates and datetimes as Python objects; a
        formula error (#REF!, #N/A, …) as its error text, so it can be rejected.
        """
        marker = self.change_marker()
        if marker is None:
            raise BackendError(f"source workbook {self.path} not found; check sources.spreadsheet")
        # Many small acyclic objects: collecting cycles while they are built is slow.
        with paused_gc():
            try:
                workbook = CalamineWorkbook.from_path(str(self.path))
                available = tuple(workbook.sheet_names)
                found: dict[str, RawTab] = {}
                wanted = [name for name in tabs if name in available]
                errors = _error_cells(self.path, wanted) if wanted else {}
                for name in wanted:
                    rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                    for (row, col), text in errors.get(name, {}).items():
                        while len(rows) <= row:
                            rows.append([])
                        rows[row].extend([""] * (col + 1 - len(rows[row])))
                        rows[row][col] = text
                    found[name] = RawTab(name=name, rows=_trim(rows))
            except (CalamineError, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
                raise BackendError(f"{self.path} is not a readable .xlsx workbook: {exc}") from exc
        return SourceSnapshot(tabs=found, marker=marker, available_tabs=available)


_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>', re.S)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _error_cells(path: Path, names: Sequence[str]) -> dict[str, dict[tuple[int, int], str]]:
    """Formula-error cells of the named sheets: (row, column) from 0 → error text.

    The fast reader shows these cells as empty; an inspector must instead see the error.
    """
    from lxml import etree

    found: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(path) as archive:
        book = etree.fromstring(archive.read("xl/workbook.xml"))
        rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels}
        members = set(archive.namelist())
        for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
            name = sheet.get("name")
            if name not in names:
                continue
            target = str(targets.get(sheet.get(f"{{{_OFFICE_REL}}}id"), ""))
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            if member not in members:
                continue
            cells: dict[tuple[int, int], str] = {}
            for match in _error_cell_matches(archive.read(member)):
                ref = _CELL_REF.search(match.group(1))
                value = _VALUE.search(match.group(2))
                if ref and value:
                    cells[
                        (int(ref.group(2)) - 1, column_index_from_string(ref.group(1).decode()) - 1)
                    ] = value.group(1).decode("utf-8", "replace")
            found[str(name)] = cells
    return found


def _error_cell_matches(xml: bytes) -> Iterator[re.Match[bytes]]:
    """The `<c t="e">` elements of a sheet's XML. Most sheets have none: look for the
    attribute (in C) and match the cell around each occurrence, not every cell."""
    position = xml.find(_ERROR_TYPE)
    while position != -1:
        match = _ERROR_CELL.match(xml, xml.rfind(b"<", 0, position))
        if match is not None:
            yield match
        position = xml.find(_ERROR_TYPE, position + 1)


_ERROR_TYPE = b't="e"'
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


def _trim(rows: list[list[Any]]) -> tuple[tuple[CellValue, ...], ...]:
    if not rows:
        return ()
    width = max(map(len, rows))
    for row in rows:
        if len(row) < width:  # made ragged by the error overlay: square it up
            row.extend([""] * (width - len(row)))
    # Column by column: a column of text needs no look at its cells one by one.
    columns = [
        column if _PLAIN_TYPES.issuperset(map(type, column)) else tuple(map(_plain, column))
        for column in zip(*rows, strict=True)
    ]
    result: list[tuple[CellValue, ...]] = []
    for cells in zip(*columns, strict=True):
        end = len(cells)
        while end and (cells[end - 1] is None or cells[end - 1] == ""):
            end -= 1
        result.append(cells if end == len(cells) else cells[:end])
    while result and not result[-1]:
        result.pop()
    return tuple(result)


def _plain(value: Any) -> CellValue:
    # Google's UNFORMATTED_VALUE gives whole numbers as JSON integers; match it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, time | timedelta):
        return str(value)
    return value


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
        replace_atomically(self.path, workbook.save)
        log.info("dashboard written to %s", self.path)


class _StyleCache:
    """Shares fill and font objects between cells (openpyxl styles are costly to create)."""

    def __init__(self) -> None:
        self.fills: dict[str, PatternFill] = {}
        self.header_font = Font(bold=True, color="FFFFFF")
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
            cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]
            if isinstance(value, str) and cell.data_type == "f":
                cell.data_type = "s"  # field text starting with '=' stays text, never a formula
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
