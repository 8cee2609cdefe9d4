"""Rendering the backend-neutral dashboard as Sheets API `batchUpdate` requests (pure, no I/O).

`render_dashboard` gives the requests of one publish; `plan_publish` packs them into request
bodies, staging a dashboard too large for one body in hidden tabs first.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hqsync.config.vocabulary import SERIAL_EPOCH
from hqsync.sync.dashboard.document import (
    Column,
    Dashboard,
    DocumentCell,
    LineChart,
    Link,
    Table,
    ValueColour,
    column_runs,
)
from hqsync.sync.interfaces import CellValue

HEADER_FILL = "#1F4E78"
HEADER_TEXT = "#FFFFFF"
PIXELS_PER_CHAR = 7
_MAX_SHEET_ID = 2**31 - 1
_GRID_FIELDS = "gridProperties(rowCount,columnCount,frozenRowCount,frozenColumnCount)"
_CELL_FIELDS = "userEnteredValue,userEnteredFormat,note,dataValidation"
STAGING_PREFIX = "hqsync staging · "
"""Title prefix of the hidden tabs a staged publish writes before showing them."""
GOOGLE_MAX_BODY_BYTES = 10_485_760
"""Google refuses request bodies larger than this ("Request payload size exceeds the limit")."""
DEFAULT_MAX_BODY_BYTES = 8_000_000
"""Above this, a publish is staged in several requests (well under Google's limit)."""


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


def _cell(value: DocumentCell, fill: str | None) -> dict[str, Any]:
    """One CellData; a Link is its text with a cell-level `textFormat.link` (never a formula)."""
    cell: dict[str, Any] = {}
    extended = cell_value(value.text if isinstance(value, Link) else value)
    if extended is not None:
        cell["userEnteredValue"] = extended
    cell_format: dict[str, Any] = {}
    if fill:
        cell_format["backgroundColor"] = rgb(fill)
    if isinstance(value, Link):
        cell_format["textFormat"] = {"link": {"uri": value.url}}
    if cell_format:
        cell["userEnteredFormat"] = cell_format
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


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def value_colour_rule(
    sheet_id: int, table: Table, colour: ValueColour, index: int
) -> dict[str, Any]:
    """An addConditionalFormatRule colouring the data cells of the colour's columns by value."""
    bad = [c for c in colour.columns if not 0 <= c < len(table.columns)]
    if bad:
        raise ValueError(f"table {table.key!r} colours columns {bad} it does not have")
    ranges = [
        {
            "sheetId": sheet_id,
            "startRowIndex": 1,
            "endRowIndex": len(table.rows) + 1,
            "startColumnIndex": first,
            "endColumnIndex": end,
        }
        for first, end in column_runs(colour.columns)
    ]
    if colour.high is None:
        condition = {
            "type": "NUMBER_EQ",
            "values": [{"userEnteredValue": _number_text(colour.low)}],
        }
    else:
        condition = {
            "type": "NUMBER_BETWEEN",
            "values": [
                {"userEnteredValue": _number_text(colour.low)},
                {"userEnteredValue": _number_text(colour.high)},
            ],
        }
    return {
        "addConditionalFormatRule": {
            "index": index,
            "rule": {
                "ranges": ranges,
                "booleanRule": {
                    "condition": condition,
                    "format": {"backgroundColor": rgb(colour.colour)},
                },
            },
        }
    }


def render_table(
    table: Table,
    sheet_id: int,
    existing: Mapping[str, Any] | None,
    position: int = 0,
    *,
    cells_from: int | None = None,
) -> list[dict[str, Any]]:
    """The requests that make tab `sheet_id` show `table` exactly (new or existing tab).

    A new tab is placed at `position` (the dashboard's order, before tabs it does not own);
    an existing tab stays where the leaders have put it. With `cells_from`, the cells are not
    sent but copied from that (staging) tab, which already holds `table_rows(table)`.
    """
    rows, columns = grid_size(table)
    whole = {
        "sheetId": sheet_id,
        "startRowIndex": 0,
        "endRowIndex": rows,
        "startColumnIndex": 0,
        "endColumnIndex": columns,
    }
    out = _tab_requests(table, sheet_id, existing, position)
    out += _cell_requests(table, whole, cells_from)
    out += _column_requests(table, whole)
    if table.filter and table.columns:
        filter_range = dict(
            whole, endRowIndex=len(table.rows) + 1, endColumnIndex=len(table.columns)
        )
        out.append({"setBasicFilter": {"filter": {"range": filter_range}}})
    if table.rows:
        out += [
            value_colour_rule(sheet_id, table, colour, i)
            for i, colour in enumerate(table.value_colours)
        ]
    if table.chart is not None:
        out.append(_chart(sheet_id, table, table.chart, len(table.rows) + 1))
    return out


def _tab_requests(
    table: Table, sheet_id: int, existing: Mapping[str, Any] | None, position: int
) -> list[dict[str, Any]]:
    """Add the tab, or clear an existing one of charts, filter and rules, sized to `table`."""
    rows, columns = grid_size(table)
    grid = {
        "rowCount": rows,
        "columnCount": columns,
        "frozenRowCount": table.freeze_rows,
        "frozenColumnCount": table.freeze_columns,
    }
    if existing is None:
        props = {
            "sheetId": sheet_id,
            "title": table.title,
            "index": position,
            "gridProperties": grid,
        }
        return [{"addSheet": {"properties": props}}]
    out: list[dict[str, Any]] = [
        {"deleteEmbeddedObject": {"objectId": chart["chartId"]}}
        for chart in existing.get("charts", [])
    ]
    if existing.get("basicFilter") and not table.filter:
        out.append({"clearBasicFilter": {"sheetId": sheet_id}})
    rules = len(existing.get("conditionalFormats", []))
    out += [
        {"deleteConditionalFormatRule": {"sheetId": sheet_id, "index": i}}
        for i in reversed(range(rules))
    ]
    out.append(
        {
            "updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "gridProperties": grid},
                "fields": _GRID_FIELDS,
            }
        }
    )
    return out


def _cell_requests(
    table: Table, whole: Mapping[str, int], cells_from: int | None
) -> list[dict[str, Any]]:
    """Write the table's cells over the whole grid, or copy them from staging tab `cells_from`."""
    if cells_from is None:
        # Writing the whole grid clears what a previous publish left in cells it leaves empty.
        return [
            {"updateCells": {"range": whole, "rows": table_rows(table), "fields": _CELL_FIELDS}}
        ]
    # Clear first (no rows given), so nothing stale survives whatever the paste copies.
    return [
        {"updateCells": {"range": whole, "fields": _CELL_FIELDS}},
        {
            "copyPaste": {
                "source": dict(whole, sheetId=cells_from),
                "destination": whole,
                "pasteType": "PASTE_NORMAL",
                "pasteOrientation": "NORMAL",
            }
        },
    ]


def _column_requests(table: Table, whole: Mapping[str, int]) -> list[dict[str, Any]]:
    """Each column's number format (over its data rows) and its width."""
    out: list[dict[str, Any]] = []
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
                        "sheetId": whole["sheetId"],
                        "dimension": "COLUMNS",
                        "startIndex": c,
                        "endIndex": c + 1,
                    },
                    "properties": {"pixelSize": max(column.width, 1) * PIXELS_PER_CHAR},
                    "fields": "pixelSize",
                }
            }
        )
    return out


@dataclass(frozen=True)
class PlacedTable:
    """Where one table of a publish goes: its sheet id, and the tab it replaces (if any)."""

    table: Table
    sheet_id: int
    existing: Mapping[str, Any] | None
    position: int


def is_staging(title: str) -> bool:
    """True for a hidden staging tab of a staged publish (a leftover if seen at the start)."""
    return title.startswith(STAGING_PREFIX)


def place_tables(
    dashboard: Dashboard, existing_sheets: Sequence[Mapping[str, Any]]
) -> list[PlacedTable]:
    """Match tables to existing tabs by title; choose stable sheet ids for the new ones."""
    by_title = {s["properties"]["title"]: s for s in existing_sheets}
    taken = {int(s["properties"]["sheetId"]) for s in existing_sheets}
    titles = [t.title for t in dashboard.tables]
    duplicates = {t for t in titles if titles.count(t) > 1}
    if duplicates:
        raise ValueError(f"dashboard tab titles must differ: {sorted(duplicates)}")
    staging = sorted(t for t in titles if is_staging(t))
    if staging:
        raise ValueError(f"dashboard tab titles must not start with {STAGING_PREFIX!r}: {staging}")
    placed = []
    for position, table in enumerate(dashboard.tables):
        existing = by_title.get(table.title)
        if existing is not None:
            sheet_id = int(existing["properties"]["sheetId"])
        else:
            sheet_id = new_sheet_id(table.key, taken)
        placed.append(PlacedTable(table, sheet_id, existing, position))
    return placed


def render_dashboard(
    dashboard: Dashboard,
    existing_sheets: Sequence[Mapping[str, Any]],
    *,
    cells_from: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """All requests of one publish, given the spreadsheet's current sheets (properties, charts).

    Tabs are matched by title; tabs whose titles the dashboard does not use are left alone,
    except leftover staging tabs, which are deleted. New tabs get sheet ids chosen here, so
    one batch can create and fill them. `cells_from` (table key → staging sheet id) copies
    cells from staging tabs instead of sending them.
    """
    requests = [
        {"deleteSheet": {"sheetId": int(s["properties"]["sheetId"])}}
        for s in existing_sheets
        if is_staging(s["properties"]["title"])
    ]
    for p in place_tables(dashboard, existing_sheets):
        source = None if cells_from is None else cells_from[p.table.key]
        requests += render_table(p.table, p.sheet_id, p.existing, p.position, cells_from=source)
    return requests


def compact_json(body: Any) -> bytes:
    """A request body as compact UTF-8 JSON (large dashboards: every byte is sent)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_BODY_HEAD = b'{"requests":['
_BODY_TAIL = b"]}"


class _BodyPacker:
    """Packs serialised requests, in order, into batchUpdate bodies of at most `limit` bytes.

    A single request larger than the limit goes alone in its own body.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.bodies: list[bytes] = []
        self._parts: list[bytes] = []
        self._size = len(_BODY_HEAD) + len(_BODY_TAIL)

    def room(self) -> int:
        """Bytes one more request may take in the current body."""
        return self.limit - self._size - (1 if self._parts else 0)

    def add(self, part: bytes) -> None:
        """Append one serialised request, starting a new body when it does not fit."""
        if self._parts and len(part) > self.room():
            self.flush()
        self._size += len(part) + (1 if self._parts else 0)
        self._parts.append(part)

    def flush(self) -> None:
        """Close the current body (if it holds anything)."""
        if self._parts:
            self.bodies.append(_BODY_HEAD + b",".join(self._parts) + _BODY_TAIL)
        self._parts = []
        self._size = len(_BODY_HEAD) + len(_BODY_TAIL)


def staging_title(table: Table) -> str:
    """The title of the hidden tab a staged publish fills for `table`."""
    return (STAGING_PREFIX + table.key)[:100]


def plan_publish(
    dashboard: Dashboard,
    existing_sheets: Sequence[Mapping[str, Any]],
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> list[bytes]:
    """The batchUpdate bodies of one publish, in order; only the last one changes what is seen.

    A dashboard whose single body fits in `max_body_bytes` is one body. A larger one is
    staged: the first bodies delete leftover staging tabs and write the cells into new
    hidden staging tabs, each body within the limit; the last body clears and resizes the
    visible tabs, copies the cells over from the staging tabs, applies the layout (formats,
    widths, filters, conditional formats, charts) and deletes the staging tabs, atomically.
    """
    single = [compact_json(r) for r in render_dashboard(dashboard, existing_sheets)]
    size = len(_BODY_HEAD) + len(_BODY_TAIL) + sum(len(p) for p in single) + len(single) - 1
    if not single or size <= max_body_bytes:
        return [_BODY_HEAD + b",".join(single) + _BODY_TAIL] if single else []

    placed = place_tables(dashboard, existing_sheets)
    taken = {int(s["properties"]["sheetId"]) for s in existing_sheets} | {
        p.sheet_id for p in placed
    }
    staging = {p.table.key: new_sheet_id("staging:" + p.table.key, taken) for p in placed}
    packer = _BodyPacker(max_body_bytes)
    for sheet in existing_sheets:
        if is_staging(sheet["properties"]["title"]):
            packer.add(compact_json({"deleteSheet": {"sheetId": sheet["properties"]["sheetId"]}}))
    for p in placed:
        rows, columns = grid_size(p.table)
        props = {
            "sheetId": staging[p.table.key],
            "title": staging_title(p.table),
            "hidden": True,
            "gridProperties": {"rowCount": rows, "columnCount": columns},
        }
        packer.add(compact_json({"addSheet": {"properties": props}}))
    for p in placed:
        _stage_rows(packer, staging[p.table.key], table_rows(p.table))
    final = render_dashboard(dashboard, existing_sheets, cells_from=staging)
    final = [r for r in final if "deleteSheet" not in r]  # leftovers went in the first body
    final += [{"deleteSheet": {"sheetId": sheet_id}} for sheet_id in staging.values()]
    packer.flush()
    return [*packer.bodies, compact_json({"requests": final})]


def _stage_rows(packer: _BodyPacker, sheet_id: int, rows: Sequence[Mapping[str, Any]]) -> None:
    """updateCells requests writing `rows` into a staging tab, split to fit the packer's bodies."""
    encoded = [compact_json(row) for row in rows]
    tail = b"]}}"
    index = 0
    while index < len(encoded):
        start = {"sheetId": sheet_id, "rowIndex": index, "columnIndex": 0}
        head = (
            b'{"updateCells":{"start":'
            + compact_json(start)
            + b',"fields":"userEnteredValue,userEnteredFormat","rows":['
        )
        room = packer.room()
        if room < len(head) + len(tail) + len(encoded[index]):
            packer.flush()
            room = packer.room()
        used = len(head) + len(tail) + len(encoded[index])
        end = index + 1
        while end < len(encoded) and used + 1 + len(encoded[end]) <= room:
            used += 1 + len(encoded[end])
            end += 1
        packer.add(head + b",".join(encoded[index:end]) + tail)
        index = end
