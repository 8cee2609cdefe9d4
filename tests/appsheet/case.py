"""One AppSheet catalogue case: the sheet, the config block that maps it, the expected outcome.

See `tests/appsheet/catalogue.py` for the cases and `tests/appsheet/sheets.py` for the sheets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hqsync.config.settings import TabNames
from tests.appsheet.sheets import COLUMNS, TABS, Rows
from tests.ingest.catalogue import Expected

BACKENDS = ("xlsx", "google")
CONVENTIONS = (
    "Row ID key: UNIQUEID (8 characters)",
    "Row ID key: UUID",
    "Row ID key: PackedUUID",
    "Ref by Row ID",
    "Ref holding Row IDs while the natural code is mapped: a hint",
    "Ref column named after its table",
    "'Đánh giá' result beside an 'Đợt đánh giá' Ref",
    "text dates and date-times in vi_VN",
    "text dates and date-times in en_US",
    "text dates and date-times in en_GB",
    "ambiguous day 3/4",
    "12-hour times",
    "the spreadsheet's locale on Google when the config has none",
    "vi_VN on xlsx when the config has none",
    "a locale that falls back by language",
    "Yes/No as TRUE/FALSE booleans",
    "Yes/No as Y/N",
    "Enum and EnumList values",
    "Image and File paths",
    "LatLong",
    "ChangeTimestamp called 'Last Modified'",
    "a created 'Timestamp'",
    "blank rows",
    "a deleted row shifting the rows below it up",
    "extra columns",
    "a mapped header missing from the sheet",
    "an unmapped AppSheet sheet",
)
"""Every convention the issue's "Proof" lists; each is proved by at least one case."""

_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
"""The zone of naive date-times (settings' schedule.timezone default)."""


def vn(*args: int) -> datetime:
    """A Vietnamese wall-clock time as the UTC instant hqsync stores."""
    return datetime(*args, tzinfo=_ZONE).astimezone(UTC)  # type: ignore[arg-type,misc]


@dataclass(frozen=True)
class AppSheetCase:
    """An AppSheet app's sheet, how the config maps it, and what syncing it must give."""

    name: str
    proves: tuple[str, ...]
    """The conventions (from `CONVENTIONS`) this case proves."""
    hospitals: Rows
    assessments: Rows
    findings: Rows
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: COLUMNS)
    """The `[sources.columns.<tab>]` tables of the case's config."""
    locale: str | None = None
    """The `locale` of the case's config (None: the spreadsheet's on Google, vi_VN on xlsx)."""
    sheet_locale: str = "vi_VN"
    """The Google spreadsheet's `properties.locale` (set on the fake before reading)."""
    backends: tuple[str, ...] = BACKENDS
    """The backends the outcome holds on (one only when it depends on the locale default)."""
    tabs: TabNames = TABS
    stored: Mapping[str, set[str]] = field(default_factory=dict)
    rejected: tuple[Expected, ...] = ()
    fields: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    """(tab kind, key) → expected parsed fields (a subset)."""
    extra: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    """(tab kind, key) → expected extra columns (a subset)."""
    reason_mentions: tuple[tuple[str, int, str], ...] = ()
    """(tab kind, row, text) that the English reason must contain."""
    source_error: tuple[str, ...] = ()
    """Texts a SourceError's message must contain (the case fails the whole source)."""
    previous: tuple[Rows, Rows, Rows] | None = None
    """The three tabs as the sync before this one read them (None: this is the first sync)."""
    removed: Mapping[str, set[str]] = field(default_factory=dict)
    """Tab kind → keys the previous sync stored that this one must mark removed."""

    def tab_rows(self) -> dict[str, Rows]:
        """Tab name → rows, as the spreadsheet holds them."""
        return _tab_rows(self.tabs, (self.hospitals, self.assessments, self.findings))

    def previous_tab_rows(self) -> dict[str, Rows] | None:
        """Tab name → rows of the previous sync's sheet, or None."""
        return None if self.previous is None else _tab_rows(self.tabs, self.previous)

    def source_config(self, backend: str, spreadsheet: str) -> dict[str, Any]:
        """The case's `[[sources]]` table as parsed TOML (for `settings_from_mapping`)."""
        config: dict[str, Any] = {
            "name": self.name.replace("_", "-")[:60],
            "backend": backend,
            "spreadsheet": spreadsheet,
            "tabs": self.tabs.as_dict(),
            "columns": {tab: dict(fields) for tab, fields in self.columns.items()},
        }
        if self.locale is not None:
            config["locale"] = self.locale
        return config

    def toml(self) -> str:
        """The case's config block as a council would write it in hqsync.toml."""
        tabs = self.tabs.as_dict()
        lines = [
            "[[sources]]",
            f'name = "{self.name}"',
            'backend = "google"',
            'spreadsheet = "1AbC"',
            "tabs = { " + ", ".join(f'{k} = "{v}"' for k, v in tabs.items()) + " }",
        ]
        if self.locale is not None:
            lines.append(f'locale = "{self.locale}"')
        for tab, fields in self.columns.items():
            lines += ["", f"[sources.columns.{tab}]"]
            lines += [f'{name} = "{header}"' for name, header in fields.items()]
        return "\n".join(lines) + "\n"


def _tab_rows(tabs: TabNames, rows: tuple[Rows, Rows, Rows]) -> dict[str, Rows]:
    names = (tabs.hospitals, tabs.assessments, tabs.findings)
    return dict(zip(names, rows, strict=True))
