"""Interfaces between the pipeline and the spreadsheet backends, and the values they exchange.

Backends (Google via gspread, local .xlsx) implement `SourceReader` and `DashboardWriter`;
everything else in hqsync talks to these protocols only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol, runtime_checkable

CellValue = str | int | float | bool | date | datetime | None
"""A typed cell as a backend hands it over: Google's UNFORMATTED_VALUE/SERIAL_NUMBER values
(numbers, booleans, text; dates as serial numbers) or openpyxl's (also datetime objects)."""


@dataclass(frozen=True)
class RawTab:
    """One tab as read: `rows[0]` is the header row; trailing empty cells/rows may be trimmed.

    The sheet row number of `rows[i]` is `i + 1` (the header is row 1).
    """

    name: str
    rows: Sequence[Sequence[CellValue]]
    """Tuples or lists (as the reader decoded them); nothing changes them once read."""


@dataclass(frozen=True)
class SourceSnapshot:
    """Everything read from one source in one go."""

    tabs: Mapping[str, RawTab]
    """Tab name → tab. A tab the spreadsheet does not have is absent."""
    marker: str | None
    """The change marker (Drive modifiedTime, file mtime) at the time of reading."""
    available_tabs: tuple[str, ...] = ()
    """Every tab name the spreadsheet has (for messages about a missing tab)."""


@runtime_checkable
class SourceReader(Protocol):
    """Reads one source spreadsheet."""

    @property
    def requests_made(self) -> int:
        """How many API requests this reader has sent so far (0 for local files)."""
        ...

    def change_marker(self) -> str | None:
        """A cheap token that changes whenever the spreadsheet changes (one small request)."""
        ...

    def read(self, tabs: Sequence[str]) -> SourceSnapshot:
        """Read the named tabs with typed values (one metadata and one values request)."""
        ...


ColumnKind = Literal["text", "integer", "number", "percent", "date", "datetime"]


@dataclass(frozen=True)
class Column:
    """One dashboard column: its header, how its values are typed and formatted, its width."""

    header: str
    kind: ColumnKind = "text"
    width: int = 14
    decimals: int = 2


@dataclass(frozen=True)
class LineChart:
    """A line chart of a table's columns (x: one column, one series per other named column)."""

    title: str
    x_column: int
    series_columns: tuple[int, ...]
    anchor_column: int
    """The column to the right of which the chart is placed."""


@dataclass(frozen=True)
class ValueColour:
    """Colour the data cells of `columns` whose number is `low` (or within `low`..`high`).

    Rendered as conditional formatting: one rule instead of a fill in every cell, so a large
    matrix coloured by value stays small to send.
    """

    columns: tuple[int, ...]
    colour: str
    """'#RRGGBB'."""
    low: float
    high: float | None = None
    """None: exactly `low`; otherwise the inclusive range `low`..`high`."""

    def __post_init__(self) -> None:
        if self.high is not None and self.high < self.low:
            raise ValueError(f"value colour range {self.low}..{self.high} is empty")


def column_runs(columns: Sequence[int]) -> list[tuple[int, int]]:
    """Distinct column indexes as sorted half-open runs: [4, 5, 6, 9] → (4, 7), (9, 10)."""
    runs: list[tuple[int, int]] = []
    for column in sorted(set(columns)):
        if runs and runs[-1][1] == column:
            runs[-1] = (runs[-1][0], column + 1)
        else:
            runs.append((column, column + 1))
    return runs


@dataclass(frozen=True)
class Table:
    """One dashboard tab: a header row, typed rows, and per-cell fill colours ('#RRGGBB')."""

    key: str
    """Stable identifier of the tab ('summary', 'criteria', ...), independent of language."""
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[CellValue, ...], ...]
    fills: Mapping[tuple[int, int], str] = field(default_factory=dict)
    """(row index in `rows`, column index) → fill colour."""
    value_colours: tuple[ValueColour, ...] = ()
    """Colours that depend only on a cell's own value (over `fills` where both apply)."""
    freeze_rows: int = 1
    freeze_columns: int = 0
    filter: bool = True
    chart: LineChart | None = None


@dataclass(frozen=True)
class Dashboard:
    """The whole dashboard, backend-neutral; writers render it in one atomic write."""

    tables: tuple[Table, ...]


@runtime_checkable
class DashboardWriter(Protocol):
    """Writes the dashboard, touching only the tabs it owns."""

    @property
    def requests_made(self) -> int:
        """How many API requests this writer has sent so far (0 for local files)."""
        ...

    def publish(self, dashboard: Dashboard) -> None:
        """Replace the dashboard's tabs with `dashboard`, atomically."""
        ...
