"""Interfaces between the pipeline and the spreadsheet backends, and the values they exchange.

Backends (`sync.google`, `sync.xlsx`) implement `SourceReader` and `DashboardWriter`;
everything else in hqsync talks to these protocols only. What a writer publishes, the
`Dashboard` document, is defined in `sync.dashboard.document`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # the document's rows hold CellValues: imported at run time, this is a cycle
    from hqsync.sync.dashboard.document import Dashboard

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
    locale: str | None = None
    """The spreadsheet's own locale (Google's `properties.locale`, e.g. `en_US`); None when the
    file carries none (xlsx)."""


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


@runtime_checkable
class EvidenceResolver(Protocol):
    """A source reader that can turn the source's relative evidence paths into links."""

    def resolve_evidence(self, paths: Collection[str]) -> Mapping[str, str | None]:
        """Each path's http(s) link, or None when its file is not found (a few requests)."""
        ...


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


@runtime_checkable
class LayoutKeeper(Protocol):
    """A dashboard writer that can skip reading the spreadsheet's layout when told the layout
    its last write left (Google: the tabs' ids and titles, charts, filters, colour rules). The
    layout is opaque text: the store keeps it between publishes."""

    known_layout: str | None
    """The `layout` after the last successful write (None: read the layout first)."""

    @property
    def layout(self) -> str | None:
        """The layout the last `publish` left (None before one succeeded)."""
        ...
