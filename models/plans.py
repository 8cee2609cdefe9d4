"""The values exchanged between ingestion's pure rules and its SQL: what is stored, what to write.

No SQL here (and no import of `hqsync.sync`): `hqsync.sync.ingest.diff` builds these values from
what `hqsync.models.source_rows` read, and `source_rows` writes them (see ARCHITECTURE.md).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hqsync.config.vocabulary import TabKind

StoredRow = tuple[str, bool, int]
"""What the store holds of one row: (row hash, deleted, row number)."""

LiveRow = tuple[str, str, int]
"""A live (not tombstoned) stored row: (key, row hash, row number)."""

FindingBefore = tuple[str, str, str | None]
"""What a stored finding held before a sync: (result, assessment_id, evidence)."""

Values = dict[str, Any]
"""Column name → value of one row to write (its columns' types differ, hence `Any`).

In an UPDATE (and a tombstone or a move), the key of the row to change is under 'b_key'."""


@dataclass(frozen=True)
class StoredRows:
    """What the store holds of one source: tab kind → key → (row hash, deleted, row number).

    A tab kind left out (see `read_stored_rows(kinds=...)`) is looked up by key when needed.
    """

    tabs: Mapping[str, Mapping[str, StoredRow]]
    live: Mapping[str, Mapping[str, str]] | None = field(default=None, compare=False, repr=False)
    """Tab kind → key → row hash of the live rows, when known up front (saves a pass)."""

    def known(self) -> dict[str, dict[str, str]]:
        """Tab kind → key → row hash of the live rows (for `normalise_source(known=...)`)."""
        if self.live is not None:
            return {kind: dict(rows) for kind, rows in self.live.items()}
        return {
            kind: {key: state[0] for key, state in rows.items() if not state[1]}
            for kind, rows in self.tabs.items()
        }


class ColumnRows(Sequence[Values]):
    """Rows to write that a writer may also read a column at a time (`columns`), without a
    dict per row (see `hqsync.models.bulk.insert_many`): the same values either way."""

    names: tuple[str, ...]
    """Every row's column names, in the order `columns` gives them."""

    @abstractmethod
    def columns(self, start: int, stop: int) -> list[Iterable[Any]]:
        """The values of rows[start:stop], one iterable per name in `names` order (each as
        long as the slice)."""


@dataclass(frozen=True)
class TabPlan:
    """Every write one sync makes to one tab of a source, decided before any is made."""

    kind: TabKind
    inserts: Sequence[Values] = field(default_factory=list)
    """New rows, every column given (possibly built as they are read: read them in chunks)."""
    updates: list[Values] = field(default_factory=list)
    """Changed or restored rows: every column a sheet sets, and 'b_key'."""
    tombstones: list[Values] = field(default_factory=list)
    """Rows that vanished from the sheet: kept, marked deleted."""
    moves: list[Values] = field(default_factory=list)
    """Unchanged rows found on another sheet row: only their row number changes."""
    history: list[Values] = field(default_factory=list)
    """Rows of `finding_changes` (findings only): a result that changed, appeared or went."""


@dataclass(frozen=True)
class StoredMemo:
    """One row of `source_memos`: a tab's memo as the last sync left it.

    The same fields as `hqsync.sync.ingest.memo.TabMemo`, which ingestion converts to and from.
    """

    tab_kind: str
    context: str
    parents: str
    block_rows: int
    blocks: bytes
    rows: bytes
    live: int = -1
