"""`hqsync init-source`: set up the three source tabs an AppSheet app writes to.

Each tab gets the header row hqsync reads and data-validation dropdowns for its coded columns
(result, standard, kind, status, ownership and yes/no fields), which AppSheet turns into the
right input controls. Works on a Google spreadsheet (one batchUpdate) or a local workbook.
Tabs that already hold data are never touched: the command refuses instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hqsync.config.errors import SourceError
from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.settings import TAB_KINDS, Settings, SourceSettings
from hqsync.sync.ingest.contract import FIELDS

VALIDATED_ROWS = 5000
"""How many data rows (below the header) carry the dropdowns in a new workbook."""

_CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "result": {"vi": ("Đạt", "Không đạt", "Không áp dụng"), "en": ("met", "not met", "n/a")},
    "yes_no": {"vi": ("Có", "Không"), "en": ("yes", "no")},
    "kind": {"vi": ("Tự đánh giá", "Đoàn kiểm tra"), "en": ("self", "council")},
    "status": {"vi": ("Nháp", "Đã nộp", "Đã duyệt"), "en": ("draft", "submitted", "approved")},
    "ownership": {"vi": ("Công lập", "Tư nhân"), "en": ("public", "private")},
}
_FIELD_CHOICES = {
    "result": "result",
    "has_obstetrics": "yes_no",
    "has_pediatrics": "yes_no",
    "active": "yes_no",
    "kind": "kind",
    "status": "status",
    "ownership": "ownership",
}
_DATE_FIELDS = ("assessed_on",)


@dataclass(frozen=True)
class Validation:
    """One column's rule: a list of choices (strict or not), or 'must be a date'."""

    field: str
    choices: tuple[str, ...] = ()
    strict: bool = True
    is_date: bool = False


@dataclass(frozen=True)
class TabLayout:
    """What one source tab should look like: its title, header row and column rules."""

    kind: str
    title: str
    headers: tuple[str, ...]
    validations: Mapping[int, Validation]


def tab_layouts(
    source: SourceSettings, language: str, standards: Sequence[str]
) -> tuple[TabLayout, ...]:
    """The three tabs of a new source: headers in `language` and the dropdown of every column."""
    if language not in ("vi", "en"):
        raise ValueError(f"language must be 'vi' or 'en', not {language!r}")
    names = source.tabs.as_dict()
    layouts = []
    for kind in TAB_KINDS:
        specs = FIELDS[kind]
        headers = tuple(s.header_vi if language == "vi" else s.header_en for s in specs)
        rules: dict[int, Validation] = {}
        for column, spec in enumerate(specs):
            if spec.name in _FIELD_CHOICES:
                words = _CHOICES[_FIELD_CHOICES[spec.name]][language]
                rules[column] = Validation(spec.name, words)
            elif spec.name == "standard" and kind == "assessments":
                # Not strict: a council may add its own rule set later.
                rules[column] = Validation(spec.name, tuple(standards), strict=False)
            elif spec.name in _DATE_FIELDS:
                rules[column] = Validation(spec.name, is_date=True)
        layouts.append(TabLayout(kind, names[kind], headers, rules))
    return tuple(layouts)


def init_source(settings: Settings, source: SourceSettings, *, language: str = "en") -> str:
    """Create the source's three tabs with headers and dropdowns; returns what was done.

    Refuses (SourceError, nothing changed) when any of the tabs already holds data.
    """
    standards = sorted(load_rule_sets(settings.scoring.rule_set_dirs))
    layouts = tab_layouts(source, language, standards)
    if source.backend == "xlsx":
        created = _init_workbook(Path(source.spreadsheet), layouts)
    else:
        created = _init_google(settings, source.spreadsheet, layouts)
    dropdowns = sorted({v.field for t in layouts for v in t.validations.values()})
    verb = ", ".join(f"{t.title!r} ({'new' if t.title in created else 'emptied tab reused'})"
                     for t in layouts)  # fmt: skip
    return (
        f"source {source.name!r} ({source.spreadsheet}): set up tabs {verb} with "
        f"{'Vietnamese' if language == 'vi' else 'English'} headers and dropdowns for "
        f"{', '.join(dropdowns)}; point the AppSheet app at these tabs, then run 'hqsync check'"
    )


def _first_data_row(rows: Iterable[Sequence[Any]], layout: TabLayout) -> int | None:
    """The number of a tab's first non-empty row, not counting a header row init-source itself
    wrote (None when the tab holds no data). Reads the rows only as far as that one.

    So running init-source again (say, after a lost answer) finishes the job instead of
    refusing; any other content counts as data.
    """
    for number, row in enumerate(rows, start=1):
        values = [v for v in row if v not in (None, "")]
        if values and not (number == 1 and values == list(layout.headers)):
            return number
    return None


def _refuse(where: str, tab: str, row: int) -> SourceError:
    return SourceError(
        f"tab {tab!r} of {where} already holds data (row {row} is not empty); init-source only "
        "sets up new or empty tabs. Use a new spreadsheet, or rename the tab in [[sources]].tabs"
    )


# --- local workbook --------------------------------------------------------------------------


def _init_workbook(path: Path, layouts: Sequence[TabLayout]) -> set[str]:
    from openpyxl import Workbook, load_workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    existing = path.exists()
    if existing:
        _refuse_workbook_data(path, layouts)
    book = load_workbook(path) if existing else Workbook()
    if not existing:
        book.remove(book.active)  # type: ignore[arg-type]
    created: set[str] = set()
    for layout in layouts:
        if layout.title in book.sheetnames:
            sheet = book[layout.title]
            sheet.data_validations.dataValidation = []  # ours (the tab holds no data): redo
        else:
            sheet = book.create_sheet(layout.title)
            created.add(layout.title)
        for column, header in enumerate(layout.headers, start=1):
            cell = sheet.cell(row=1, column=column, value=header)
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F4E78")
            sheet.column_dimensions[get_column_letter(column)].width = max(14, len(header) + 4)
        sheet.freeze_panes = "A2"
        for column, rule in layout.validations.items():
            letter = get_column_letter(column + 1)
            if rule.is_date:
                dv = DataValidation(type="date", operator="greaterThan", formula1="1",
                                    allow_blank=True)  # fmt: skip
                dv.error = f"{layout.headers[column]}: enter a date"
            else:
                dv = DataValidation(type="list", formula1='"' + ",".join(rule.choices) + '"',
                                    allow_blank=True)  # fmt: skip
                dv.error = f"{layout.headers[column]}: choose one of {', '.join(rule.choices)}"
                dv.errorStyle = "stop" if rule.strict else "warning"
            dv.showErrorMessage = True
            dv.add(f"{letter}2:{letter}{VALIDATED_ROWS + 1}")
            sheet.add_data_validation(dv)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        book.save(temp)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)
    return created


def _refuse_workbook_data(path: Path, layouts: Sequence[TabLayout]) -> None:
    """Raise when one of the tabs holds data; read-only, each tab only up to its first data row."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        for layout in layouts:
            if layout.title in book.sheetnames:
                rows = book[layout.title].iter_rows(values_only=True)
                row = _first_data_row(rows, layout)
                if row is not None:
                    raise _refuse(str(path), layout.title, row)
    finally:
        book.close()


# --- Google ----------------------------------------------------------------------------------


def _init_google(settings: Settings, spreadsheet_id: str, layouts: Sequence[TabLayout]) -> set[str]:
    from hqsync.sync.google import WRITE_SCOPES, GoogleClient

    client = GoogleClient.from_settings(settings.google, WRITE_SCOPES)
    http = client.http
    meta = client.call(
        spreadsheet_id,
        "setting up",
        lambda: http.fetch_sheet_metadata(
            spreadsheet_id, params={"fields": "sheets.properties(sheetId,title,gridProperties)"}
        ),
    )
    sheets = {s["properties"]["title"]: s["properties"] for s in meta.get("sheets", [])}
    present = [t.title for t in layouts if t.title in sheets]
    if present:
        _refuse_google_data(client, spreadsheet_id, [t for t in layouts if t.title in present])
    taken = {int(p["sheetId"]) for p in sheets.values()}
    requests: list[dict[str, Any]] = []
    for layout in layouts:
        requests += _google_tab_requests(layout, sheets.get(layout.title), taken)
    client.call(
        spreadsheet_id,
        "setting up",
        lambda: http.batch_update(spreadsheet_id, {"requests": requests}),
    )
    return {t.title for t in layouts if t.title not in sheets}


_FIRST_ROWS = 2
"""Rows of each present tab read first: a header and a first data row settle most tabs."""


def _refuse_google_data(client: Any, spreadsheet_id: str, layouts: Sequence[TabLayout]) -> None:
    """Raise when one of the (present) tabs holds data. Reads the first rows of each tab, and
    the whole of only those tabs whose first rows hold nothing but init-source's header."""
    from hqsync.sync.google.render import quote_tab

    http = client.http

    def first_data_rows(ranges: list[str]) -> list[int | None]:
        body = client.call(
            spreadsheet_id, "setting up", lambda: http.values_batch_get(spreadsheet_id, ranges)
        )
        found = [v.get("values", []) for v in body.get("valueRanges", [])]
        return [_first_data_row(rows, t) for rows, t in zip(found, layouts, strict=True)]

    quoted = [quote_tab(t.title) for t in layouts]
    first = first_data_rows([f"{q}!1:{_FIRST_ROWS}" for q in quoted])
    if all(row is None for row in first):  # rarely: blank first rows, data further down?
        first = first_data_rows(quoted)
    for layout, row in zip(layouts, first, strict=True):
        if row is not None:
            raise _refuse(f"spreadsheet {spreadsheet_id}", layout.title, row)


def _google_tab_requests(
    layout: TabLayout, props: Mapping[str, Any] | None, taken: set[int]
) -> list[dict[str, Any]]:
    """Add the tab (`props` None) or resize it, then write its header and its dropdowns."""
    from hqsync.sync.google.render import new_sheet_id

    width = len(layout.headers)
    requests: list[dict[str, Any]] = []
    if props is None:
        sheet_id = new_sheet_id(layout.kind, taken)
        rows = VALIDATED_ROWS + 1
        grid = {"rowCount": rows, "columnCount": width, "frozenRowCount": 1}
        requests.append(
            {"addSheet": {"properties": {"sheetId": sheet_id, "title": layout.title,
                                         "gridProperties": grid}}}
        )  # fmt: skip
    else:
        sheet_id = int(props["sheetId"])
        rows = max(int(props["gridProperties"]["rowCount"]), 2)
        columns = max(int(props["gridProperties"]["columnCount"]), width)
        grid = {"rowCount": rows, "columnCount": columns, "frozenRowCount": 1}
        requests.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": grid},
                    "fields": "gridProperties(rowCount,columnCount,frozenRowCount)",
                }
            }
        )
    header = [
        {
            "userEnteredValue": {"stringValue": text},
            "userEnteredFormat": {"textFormat": {"bold": True}},
        }
        for text in layout.headers
    ]
    requests.append(
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": [{"values": header}],
                "fields": "userEnteredValue,userEnteredFormat.textFormat",
            }
        }
    )
    for column, rule in layout.validations.items():
        requests.append(
            {
                "setDataValidation": {
                    "range": {
                        "sheetId": sheet_id,
                        "startRowIndex": 1,
                        "endRowIndex": rows,
                        "startColumnIndex": column,
                        "endColumnIndex": column + 1,
                    },
                    "rule": _google_rule(rule),
                }
            }
        )
    return requests


def _google_rule(rule: Validation) -> dict[str, Any]:
    if rule.is_date:
        return {"condition": {"type": "DATE_IS_VALID"}, "strict": True}
    return {
        "condition": {
            "type": "ONE_OF_LIST",
            "values": [{"userEnteredValue": choice} for choice in rule.choices],
        },
        "strict": rule.strict,
        "showCustomUi": True,
    }
