"""The values ingestion hands on: usable source rows, rejected rows and a normalised source.

`normalise_source` (sync/ingest/normalise.py) builds them from a snapshot's cells; the store
side writes them (see ARCHITECTURE.md, ingestion). Every row that cannot be used becomes a
`Rejection` with a reason in English and Vietnamese naming the column as the sheet spells it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from types import MappingProxyType
from typing import NamedTuple

from hqsync.config.vocabulary import TabKind
from hqsync.sync.ingest.limits import (
    REJECTION_COLUMN_LENGTH,
    REJECTION_KEY_LENGTH,
    REJECTION_TAB_LENGTH,
    fit_rejection_text,
)
from hqsync.sync.ingest.memo import Settled, TabMemo

JsonCell = str | int | float | bool | None
"""A cell as stored in a row's `raw`/`extra` JSON: dates as ISO text, NaN as null."""
FieldValue = str | bool | date | datetime | None
"""A parsed field (coded words are the vocabulary's `StrEnum` members, i.e. text)."""
RawCells = Mapping[str, JsonCell]
"""A row's cells by header, as its `raw` or `extra` JSON holds them."""

RowProblem = tuple[str, str | None, str, str]
"""One problem with a row: (code, column as the sheet spells it, English, Vietnamese)."""


def row_problem(code: str, column: str | None, en: str, vi: str) -> RowProblem:
    """A problem with a row, its reasons prefixed with the column they are about (if any)."""
    if column:
        return code, column, f"column {column!r}: {en}", f"cột {column!r}: {vi}"
    return code, column, en, vi


DUPLICATE_KEY = "duplicate_key"
"""`Rejection.code` of a row whose key an earlier row of its tab already has."""


@dataclass(frozen=True)
class Rejection:
    """A source row hqsync could not use, and why (in English and Vietnamese)."""

    tab: str
    row_number: int | None
    column: str | None
    key: str | None
    reason_en: str
    reason_vi: str
    raw: Mapping[str, JsonCell]
    code: str = "invalid"
    """A stable machine name of the first problem (e.g. 'unknown_assessment', 'duplicate_key')."""
    tab_kind: TabKind | None = None
    """The kind of the tab the row is on."""

    def __post_init__(self) -> None:
        # Cut to the rejected-rows table's columns: a bad row is recorded, whatever its key.
        for name, limit in (
            ("tab", REJECTION_TAB_LENGTH),
            ("column", REJECTION_COLUMN_LENGTH),
            ("key", REJECTION_KEY_LENGTH),
        ):
            value = getattr(self, name)
            fitted = fit_rejection_text(value, limit)
            if fitted != value:
                object.__setattr__(self, name, fitted)


class SourceRow(NamedTuple):
    """One usable source row: parsed fields (named as the DB columns), raw values, extras, hash.

    A named tuple (immutable, no per-row dict): a first load holds 500k of them, built a tab
    at a time in C (`source_rows`) rather than through an `__init__` per row."""

    key: str
    row_number: int
    fields: Mapping[str, FieldValue]
    raw: Mapping[str, JsonCell]
    extra: Mapping[str, JsonCell]
    row_hash: str
    parsed: bool = True
    """False when the row's hash matched the stored one given as `known`: it is unchanged, and
    `fields`, `raw` and `extra` are left empty (the store already holds them)."""


def source_rows(
    cells: Iterable[tuple[str, int, Mapping[str, FieldValue], RawCells, RawCells, str, bool]],
) -> list[SourceRow]:
    """SourceRows of (key, row number, fields, raw, extra, hash, parsed) tuples, built in C."""
    return list(map(_new_row, cells))


_new_row = partial(tuple.__new__, SourceRow)
_UNPARSED: Mapping[str, JsonCell] = MappingProxyType({})
_NO_FIELDS: Mapping[str, FieldValue] = MappingProxyType({})


def unparsed_row(key: str, row_number: int, row_hash: str) -> SourceRow:
    """The SourceRow of a row found unchanged (`parsed=False`, empty fields, raw and extra)."""
    return SourceRow(key, row_number, _NO_FIELDS, _UNPARSED, _UNPARSED, row_hash, parsed=False)


@dataclass(frozen=True)
class NormalisedSource:
    """The usable rows of one source per tab, and every rejected row."""

    hospitals: tuple[SourceRow, ...]
    assessments: tuple[SourceRow, ...]
    findings: tuple[SourceRow, ...]
    rejections: tuple[Rejection, ...]
    settled: Mapping[str, Settled] = field(default_factory=dict)
    """Tab kind → rows the memo showed unchanged in place: not among the tab's SourceRows."""
    memos: Mapping[str, TabMemo] = field(default_factory=dict)
    """Tab kind → the memo describing this snapshot, for the next sync (see ingest/memo.py)."""

    def rows(self, tab_kind: str) -> tuple[SourceRow, ...]:
        """The usable rows of one tab kind."""
        by_kind: dict[str, tuple[SourceRow, ...]] = {
            TabKind.HOSPITALS: self.hospitals,
            TabKind.ASSESSMENTS: self.assessments,
            TabKind.FINDINGS: self.findings,
        }
        return by_kind[tab_kind]
