"""Rendering the backend-neutral dashboard as Sheets API `batchUpdate` requests (pure, no I/O)."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from hqsync.sync.interfaces import CellValue, Column, Dashboard, LineChart, Table

SERIAL_EPOCH = datetime(1899, 12, 30)
"""Day 0 of Google Sheets (and Excel) date serial numbers."""
HEADER_FILL = "#1F4E78"
HEADER_TEXT = "#FFFFFF"
PIXELS_PER_CHAR = 7
_MAX_SHEET_ID = 2**31 - 1
_GRID_FIELDS = "gridProperties(rowCount,columnCount,frozenRowCount,frozenColumnCount)"


def quote_tab(name: str) -> str:
    """A tab name as an A1 range of the whole tab: quoted, with inner quotes doubled."""
    return "'" + name.replace("'", "''") + "'"


def serial_number(value: date | datetime) -> float:
    """The Sheets serial number of a date or datetime (days since 1899-12-30)."""
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
        return (naive - SERIAL_EPOCH).total_seconds() / 86400
    return float((value - SERIAL_EPOCH.date()).days)


def rgb(colour: str) -> dict[str, float]:
    """'#RRGGBB' as a Sheets Color (zero components are left out, as Google does)."""
    text = colour.lstrip("#")
    if not re.fullmatch(r"[0-9A-Fa-f]{6}", text):
        raise ValueError(f"colour {colour!r} is not '#RRGGBB'")
    # Four decimals are finer than the 1/255 steps of a colour and keep the payload small.
    parts = {
        "red": round(int(text[0:2], 16) / 255, 4),
        "green": round(int(text[2:4], 16) / 255, 4),
        "blue": round(int(text[4:6], 16) / 255, 4),
    }
    return {k: v for k, v in parts.items() if v}


def number_format(column: Column) -> dict[str, str] | None:
    """The Sheets numberFormat of a column kind (None for plain text)."""
    decimals = "0" * column.decimals
    fraction = f".{decimals}" if decimals else ""
    formats = {
        "integer": {"type": "NUMBER", "pattern": "0"},
        "number": {"type": "NUMBER", "pattern": f"0{fraction}"},
        "percent": {"type": "PERCENT", "pattern": f"0{fraction}%"},
        "date": {"type": "DATE", "pattern": "dd/mm/yyyy"},
        "datetime": {"type": "DATE_TIME", "pattern": "dd/mm/yyyy hh:mm"},
    }
    return formats.get(column.kind)


def cell_value(value: CellValue) -> dict[str, Any] | None:
    """A typed value as an ExtendedValue; text is always stringValue, never a formula."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return {"numberValue": value}
    if isinstance(value, date):  # datetime is a date too
        return {"numberValue": serial_number(value)}
    return {"stringValue": str(value)}


def _cell(value: CellValue, fill: str | None) -> dict[str, Any]:
    cell: dict[str, Any] = {}
    extended = cell_value(value)
    if extended is not None:
        cell["userEnteredValue"] = extended
    if fill:
        cell["userEnteredFormat"] = {"backgroundColor": rgb(fill)}
    return cell


def _header_cell(column: Column) -> dict[str, Any]:
    return {
        "userEnteredValue": {"stringValue": column.header},
        "userEnteredFormat": {
            "backgroundColor": rgb(HEADER_FILL),
            "textFormat": {"bold": True, "foregroundColor": rgb(HEADER_TEXT)},
            "wrapStrategy": "WRAP",
            "verticalAlignment": "MIDDLE",
        },
    }


def table_rows(table: Table) -> list[dict[str, Any]]:
    """The header and data rows of a table as Sheets RowData."""
    rows = [{"values": [_header_cell(c) for c in table.columns]}]
    width = len(table.columns)
    for r, row in enumerate(table.rows):
        if len(row) > width:
            raise ValueError(
                f"table {table.key!r} row {r} has {len(row)} cells for {width} columns"
            )
        values = [
            _cell(row[c] if c < len(row) else None, table.fills.get((r, c))) for c in range(width)
        ]
        rows.append({"values": values})
    return rows


def grid_size(table: Table) -> tuple[int, int]:
    """Rows and columns the tab is sized to: exactly the table (never all rows frozen)."""
    rows = max(len(table.rows) + 1, table.freeze_rows + 1)
    columns = max(len(table.columns), table.freeze_columns + 1, 1)
    return rows, columns


def new_sheet_id(key: str, taken: set[int]) -> int:
    """A stable sheet id for a new tab named by `key`, not in `taken` (which it joins)."""
    candidate = zlib.crc32(key.encode("utf-8")) % _MAX_SHEET_ID or 1
    while candidate in taken:
        candidate = candidate % _MAX_SHEET_ID + 1
    taken.add(candidate)
    return candidate


def _chart(sheet_id: int, table: Table, chart: LineChart, rows: int) -> dict[str, Any]:
    def source(column: int) -> dict[str, Any]:
        return {
            "sourceRange": {
                "sources": [
                    {
                        "sheetId": sheet_id,
                        "startRowIndex": 0,
                        "endRowIndex": rows,
                        "startColumnIndex": column,
                        "endColumnIndex": column + 1,
                    }
                ]
            }
        }

    return {
        "addChart": {
            "chart": {
                "spec": {
                    "title": chart.title,
                    "basicChart": {
                        "chartType": "LINE",
                        "legendPosition": "BOTTOM_LEGEND",
                        "headerCount": 1,
                        "axis": [
                            {
                                "position": "BOTTOM_AXIS",
                                "title": table.columns[chart.x_column].header,
                            },
                            {"position": "LEFT_AXIS"},
                        ],
                        "domains": [{"domain": source(chart.x_column)}],
                        "series": [
                            {"series": source(c), "targetAxis": "LEFT_AXIS"}
                            for c in chart.series_columns
                        ],
                    },
                },
                "position": {
                    "overlayPosition": {
                        "anchorCell": {
                            "sheetId": sheet_id,
                            "rowIndex": 0,
                            "columnIndex": chart.anchor_column,
                        }
                    }
                },
            }
        }
    }


def render_table(
    table: Table, sheet_id: int, existing: Mapping[str, Any] | None, position: int = 0
) -> list[dict[str, Any]]:
    """The requests that make tab `sheet_id` show `table` exactly (new or existing tab).

    A new tab is placed at `position` (the dashboard's order, before tabs it does not own);
    an existing tab stays where the leaders have put it.
    """
    rows, columns = grid_size(table)
    grid = {
        "rowCount": rows,
        "columnCount": columns,
        "frozenRowCount": table.freeze_rows,
        "frozenColumnCount": table.freeze_columns,
    }
    out: list[dict[str, Any]] = []
    if existing is None:
        props = {
            "sheetId": sheet_id,
            "title": table.title,
            "index": position,
            "gridProperties": grid,
        }
        out.append({"addSheet": {"properties": props}})
    else:
        out += [
            {"deleteEmbeddedObject": {"objectId": chart["chartId"]}}
            for chart in existing.get("charts", [])
        ]
        if existing.get("basicFilter") and not table.filter:
            out.append({"clearBasicFilter": {"sheetId": sheet_id}})
        out.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": grid},
                    "fields": _GRID_FIELDS,
                }
            }
        )
    whole = {
        "sheetId": sheet_id,
        "startRowIndex": 0,
        "endRowIndex": rows,
        "startColumnIndex": 0,
        "endColumnIndex": columns,
    }
    # Writing the whole grid clears what a previous publish left in cells this one leaves empty.
    out.append(
        {
            "updateCells": {
                "range": whole,
                "rows": table_rows(table),
                "fields": "userEnteredValue,userEnteredFormat,note,dataValidation",
            }
        }
    )
    for c, column in enumerate(table.columns):
        number = number_format(column)
        if number is not None and table.rows:
            # One request per column instead of a format in every cell: a much smaller body.
            out.append(
                {
                    "repeatCell": {
                        "range": dict(
                            whole, startRowIndex=1, endRowIndex=len(table.rows) + 1,
                            startColumnIndex=c, endColumnIndex=c + 1,
                        ),
                        "cell": {"userEnteredFormat": {"numberFormat": number}},
                        "fields": "userEnteredFormat.numberFormat",
                    }
                }
            )  # fmt: skip
        out.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": c,
                        "endIndex": c + 1,
                    },
                    "properties": {"pixelSize": max(column.width, 1) * PIXELS_PER_CHAR},
                    "fields": "pixelSize",
                }
            }
        )
    if table.filter and table.columns:
        filter_range = dict(
            whole, endRowIndex=len(table.rows) + 1, endColumnIndex=len(table.columns)
        )
        out.append({"setBasicFilter": {"filter": {"range": filter_range}}})
    if table.chart is not None:
        out.append(_chart(sheet_id, table, table.chart, len(table.rows) + 1))
    return out


def render_dashboard(
    dashboard: Dashboard, existing_sheets: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """All requests of one publish, given the spreadsheet's current sheets (properties, charts).

    Tabs are matched by title; tabs whose titles the dashboard does not use are left alone.
    New tabs get sheet ids chosen here, so one batch can create and fill them.
    """
    by_title = {s["properties"]["title"]: s for s in existing_sheets}
    taken = {int(s["properties"]["sheetId"]) for s in existing_sheets}
    titles = [t.title for t in dashboard.tables]
    duplicates = {t for t in titles if titles.count(t) > 1}
    if duplicates:
        raise ValueError(f"dashboard tab titles must differ: {sorted(duplicates)}")
    requests: list[dict[str, Any]] = []
    for position, table in enumerate(dashboard.tables):
        existing = by_title.get(table.title)
        if existing is not None:
            sheet_id = int(existing["properties"]["sheetId"])
        else:
            sheet_id = new_sheet_id(table.key, taken)
        requests += render_table(table, sheet_id, existing, position)
    return requests
