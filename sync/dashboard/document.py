"""The dashboard as a backend-neutral document: tables of typed cells, colours and a chart.

The builder (`sync.dashboard.builder`) makes one; each `DashboardWriter` renders it (Sheets
requests, an .xlsx workbook). Nothing here knows what the dashboard shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from hqsync.config.utils import http_link
from hqsync.sync.interfaces import CellValue

ColumnKind = Literal["text", "integer", "number", "percent", "date", "datetime"]


@dataclass(frozen=True)
class Link:
    """A text cell that links to `url`: written as a cell link (Sheets `textFormat.link`, an
    xlsx hyperlink), never as a formula. `url` must be an http(s) URL (`http_link`)."""

    text: str
    url: str

    def __post_init__(self) -> None:
        if http_link(self.url) != self.url:
            raise ValueError(f"a link must be a plain http(s) URL, not {self.url!r}")


DocumentCell = CellValue | Link
"""What a dashboard cell holds: a typed value, or a linked text."""


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
    rows: tuple[tuple[DocumentCell, ...], ...]
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
