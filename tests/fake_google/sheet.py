"""The fake's data model: spreadsheets, tabs and cells, and how Google renders cell values."""

from __future__ import annotations

import ast
import copy
import operator
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

SERIAL_EPOCH = datetime(1899, 12, 30)
DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26
DATE_TYPES = ("DATE", "DATE_TIME", "TIME")

DEFAULT_SPREADSHEET_PROPERTIES: dict[str, Any] = {
    # Google gives a new spreadsheet its creator's locale: vi_VN for the Vietnamese users
    # hqsync serves (the recorded cassettes, made in the US, say en_US). A test of another
    # locale sets `fake.spreadsheets[sid].properties["locale"]`.
    "locale": "vi_VN",
    "autoRecalc": "ON_CHANGE",
    "timeZone": "Etc/GMT",
    "defaultFormat": {
        "backgroundColor": {"red": 1, "green": 1, "blue": 1},
        "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
        "verticalAlignment": "BOTTOM",
        "wrapStrategy": "OVERFLOW_CELL",
        "textFormat": {
            "foregroundColor": {},
            "fontFamily": "arial,sans,sans-serif",
            "fontSize": 10,
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "foregroundColorStyle": {"rgbColor": {}},
        },
        "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
    },
    "spreadsheetTheme": {
        "primaryFontFamily": "Arial",
        "themeColors": [
            {"colorType": "TEXT", "color": {"rgbColor": {}}},
            {"colorType": "BACKGROUND", "color": {"rgbColor": {"red": 1, "green": 1, "blue": 1}}},
            {
                "colorType": "ACCENT1",
                "color": {"rgbColor": {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}},
            },
            {
                "colorType": "ACCENT2",
                "color": {"rgbColor": {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}},
            },
            {
                "colorType": "ACCENT3",
                "color": {"rgbColor": {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}},
            },
            {
                "colorType": "ACCENT4",
                "color": {"rgbColor": {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}},
            },
            {
                "colorType": "ACCENT5",
                "color": {"rgbColor": {"red": 1, "green": 0.42745098, "blue": 0.003921569}},
            },
            {
                "colorType": "ACCENT6",
                "color": {"rgbColor": {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}},
            },
            {
                "colorType": "LINK",
                "color": {"rgbColor": {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}},
            },
        ],
    },
}


@dataclass
class Sheet:
    """One tab: its properties and its cells (only non-empty cells are stored)."""

    sheet_id: int
    title: str
    index: int
    rows: int = DEFAULT_ROWS
    columns: int = DEFAULT_COLUMNS
    frozen_rows: int = 0
    frozen_columns: int = 0
    cells: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    basic_filter: dict[str, Any] | None = None
    charts: list[dict[str, Any]] = field(default_factory=list)
    column_widths: dict[int, int] = field(default_factory=dict)
    row_heights: dict[int, int] = field(default_factory=dict)
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    hidden: bool = False

    def properties(self) -> dict[str, Any]:
        """The SheetProperties Google returns (zero frozen counts left out)."""
        grid: dict[str, Any] = {"rowCount": self.rows, "columnCount": self.columns}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_columns:
            grid["frozenColumnCount"] = self.frozen_columns
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }
        if self.hidden:  # Google leaves `hidden` out unless it is true
            props["hidden"] = True
        return props

    def resize(self, rows: int, columns: int) -> None:
        """Change the grid size; cells outside the new grid are gone."""
        self.rows, self.columns = rows, columns
        self.cells = {k: v for k, v in self.cells.items() if k[0] < rows and k[1] < columns}

    def set_cell(self, row: int, col: int, cell: dict[str, Any]) -> None:
        """Store a cell, or forget it when it holds nothing."""
        if any(v not in (None, {}) for v in cell.values()):
            self.cells[(row, col)] = cell
        else:
            self.cells.pop((row, col), None)

    def last_data_row(self) -> int:
        """1-based number of the last row holding a value (0 when empty)."""
        rows = [r for (r, _c), cell in self.cells.items() if "userEnteredValue" in cell]
        return max(rows) + 1 if rows else 0


@dataclass
class Spreadsheet:
    """One spreadsheet file: Drive metadata, Sheets properties, tabs and who may use it."""

    spreadsheet_id: str
    title: str
    created: str
    modified: str
    sheets: list[Sheet] = field(default_factory=list)
    properties: dict[str, Any] = field(
        default_factory=lambda: copy.deepcopy(DEFAULT_SPREADSHEET_PROPERTIES)
    )
    shared_with: dict[str, str] | None = None
    """email → 'reader' | 'writer' | 'owner'; None means everyone may edit."""

    def sheet(self, title: str) -> Sheet:
        """The tab titled `title` (KeyError if none)."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise KeyError(title)

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        """The tab with `sheet_id`, or None."""
        return next((s for s in self.sheets if s.sheet_id == sheet_id), None)

    def titles(self) -> list[str]:
        """Tab titles in index order."""
        return [s.title for s in sorted(self.sheets, key=lambda s: s.index)]

    def reindex(self) -> None:
        """Make tab indexes 0..n-1 in their current order."""
        for i, sheet in enumerate(sorted(self.sheets, key=lambda s: s.index)):
            sheet.index = i

    def role(self, email: str | None) -> str | None:
        """What `email` may do here: 'owner', 'writer', 'reader' or None (not shared)."""
        if self.shared_with is None:
            return "writer"
        return self.shared_with.get(email or "")


# --- values -----------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def serial(value: date | datetime) -> float | int:
    """A date's serial number (days since 1899-12-30)."""
    if isinstance(value, datetime):
        return (value.replace(tzinfo=None) - SERIAL_EPOCH).total_seconds() / 86400
    return (value - SERIAL_EPOCH.date()).days


def entered(value: Any, user_entered: bool) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(userEnteredValue, numberFormat to apply) of a value written via values.update."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return {"boolValue": value}, None
    if isinstance(value, int | float):
        return {"numberValue": value}, None
    if isinstance(value, datetime):
        return {"numberValue": serial(value)}, {
            "type": "DATE_TIME",
            "pattern": "yyyy-mm-dd hh:mm:ss",
        }
    if isinstance(value, date):
        return {"numberValue": serial(value)}, {"type": "DATE", "pattern": "yyyy-mm-dd"}
    text = str(value)
    if not user_entered:
        return {"stringValue": text}, None
    if text.startswith("'"):
        return {"stringValue": text[1:]}, None
    if text.startswith("="):
        return {"formulaValue": text}, None
    if text.upper() in ("TRUE", "FALSE"):
        return {"boolValue": text.upper() == "TRUE"}, None
    if _NUMBER.match(text):
        number = float(text)
        return {"numberValue": int(number) if number.is_integer() else number}, None
    iso = _ISO_DATE.match(text)
    if iso:
        day = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        return {"numberValue": serial(day)}, {"type": "DATE", "pattern": "yyyy-mm-dd"}
    return {"stringValue": text}, None


def _evaluate(formula: str) -> Any:
    """Evaluate simple arithmetic formulas; anything else is an error value, like #NAME?."""
    try:
        tree = ast.parse(formula[1:].strip(), mode="eval")
    except SyntaxError:
        return "#ERROR!"

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))  # type: ignore[operator]
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.operand))  # type: ignore[operator]
        raise ValueError("unsupported")

    try:
        return walk(tree)
    except (ValueError, ZeroDivisionError):
        return "#NAME?"


def effective(cell: dict[str, Any]) -> Any:
    """The value a cell shows: a number, a bool, a string, or None when empty."""
    value = cell.get("userEnteredValue")
    if not value:
        return None
    if "formulaValue" in value:
        return _evaluate(value["formulaValue"])
    for key in ("numberValue", "stringValue", "boolValue"):
        if key in value:
            return value[key]
    return None


def _json_number(number: float | int) -> float | int:
    return int(number) if float(number).is_integer() else number


def format_number(number: float, number_format: dict[str, Any] | None) -> str:
    """A number as FORMATTED_VALUE shows it, for the patterns hqsync and gspread use."""
    kind = (number_format or {}).get("type")
    pattern = (number_format or {}).get("pattern", "")
    if kind in DATE_TYPES:
        moment = SERIAL_EPOCH + timedelta(days=number)
        if not pattern:
            pattern = "yyyy-mm-dd" if kind == "DATE" else "yyyy-mm-dd hh:mm:ss"
        out = pattern.replace("yyyy", "%Y").replace("dd", "%d").replace("hh", "%H")
        out = out.replace("%H:mm", "%H:%M").replace("mm", "%m").replace("ss", "%S")
        return moment.strftime(out)
    if kind == "PERCENT":
        decimals = len(pattern.split(".")[1].rstrip("%")) if "." in pattern else 0
        return f"{number * 100:.{decimals}f}%"
    if kind in ("NUMBER", "CURRENCY") and pattern:
        sections = pattern.split(";")
        if len(sections) > 1:  # positive;negative[;zero], each may quote a literal prefix
            chosen = sections[0] if number > 0 else sections[1] if number < 0 else sections[-1]
            prefix, _, body = chosen.rpartition('"')
            literal = prefix.strip('"')
            shown = format_number(abs(number), {"type": kind, "pattern": body})
            return literal + shown
        decimals = len(pattern.split(".")[1]) if "." in pattern else 0
        return f"{number:.{decimals}f}"
    return str(_json_number(number)) if float(number).is_integer() else repr(float(number))


def render(cell: dict[str, Any] | None, value_render: str, date_render: str) -> Any:
    """A cell as values.get returns it under the two render options ('' when empty)."""
    if not cell:
        return ""
    value = effective(cell)
    if value is None:
        return ""
    entered_value = cell.get("userEnteredValue", {})
    if value_render == "FORMULA" and "formulaValue" in entered_value:
        return entered_value["formulaValue"]
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if value_render == "FORMATTED_VALUE" else value
    if isinstance(value, int | float):
        number_format = cell.get("userEnteredFormat", {}).get("numberFormat")
        is_date = (number_format or {}).get("type") in DATE_TYPES
        if value_render == "FORMATTED_VALUE" or (is_date and date_render == "FORMATTED_STRING"):
            return format_number(value, number_format)
        return _json_number(value)
    return value


def with_styles(fmt: dict[str, Any]) -> dict[str, Any]:
    """A CellFormat as Google echoes it: colours also as `*ColorStyle.rgbColor`."""
    out = copy.deepcopy(fmt)
    if "backgroundColor" in out:
        out["backgroundColorStyle"] = {"rgbColor": dict(out["backgroundColor"])}
    text = out.get("textFormat")
    if isinstance(text, dict) and "foregroundColor" in text:
        text["foregroundColorStyle"] = {"rgbColor": dict(text["foregroundColor"])}
    return out
