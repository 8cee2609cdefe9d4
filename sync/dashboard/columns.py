"""A dashboard table's columns under keys: cells and colours are placed by key, not position."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from hqsync.sync.dashboard.document import Column, ColumnKind, DocumentCell

Cell = TypeVar("Cell", bound=DocumentCell)
"""A row's cells: plain values (`CellValue`), or with links too (`DocumentCell`)."""


@dataclass(frozen=True)
class ColumnSpec:
    """A fixed column: its key (also the key of its header in `LABELS`), kind and width."""

    key: str
    kind: ColumnKind = "text"
    width: int = 14

    def keyed(self, labels: Mapping[str, str]) -> tuple[str, Column]:
        """The column under its key, headed in the language of `labels`."""
        return self.key, Column(labels[self.key], self.kind, width=self.width)


class Columns:
    """A table's columns, each under a key: cells and colours are placed by key, not position."""

    def __init__(self, keyed: Iterable[tuple[str, Column]]) -> None:
        pairs = list(keyed)
        self.keys = tuple(key for key, _ in pairs)
        self.columns = tuple(column for _, column in pairs)
        self._index = {key: i for i, key in enumerate(self.keys)}
        if len(self._index) != len(self.keys):
            twice = sorted({k for k in self.keys if self.keys.count(k) > 1})
            raise ValueError(f"column keys must differ: {twice}")

    def __len__(self) -> int:
        return len(self.keys)

    def index(self, key: str) -> int:
        """The position of the column under `key`."""
        return self._index[key]

    def indexes(self, keys: Iterable[str]) -> tuple[int, ...]:
        """The positions of the columns under `keys`, in that order."""
        return tuple(self._index[key] for key in keys)

    def row(self, cells: Mapping[str, Cell]) -> tuple[Cell | None, ...]:
        """A row in column order from cells given by key (a column with no cell stays empty)."""
        unknown = cells.keys() - self._index.keys()
        if unknown:
            raise ValueError(f"cells for columns the table does not have: {sorted(unknown)}")
        return tuple(cells.get(key) for key in self.keys)
