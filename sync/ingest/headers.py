"""Matching a tab's header row onto the contract's fields, by name, in any order.

Columns are found by what they are called (any alias of the contract, any case, with or
without accents), never by position: people insert, move and rename columns. A missing
required column or two columns meaning the same field is a problem with the source as a whole
and raises `SourceError` naming the tab, the columns and the headers found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openpyxl.utils import get_column_letter

from hqsync.config.errors import SourceError
from hqsync.config.vocabulary import TAB_KINDS, TabKind, fold
from hqsync.sync.ingest.contract import FIELDS
from hqsync.sync.ingest.text import clean_text
from hqsync.sync.interfaces import CellValue


@dataclass(frozen=True)
class HeaderMatch:
    """How one tab's header row maps onto fields: field → column index, plus extra columns."""

    tab_kind: TabKind
    tab_name: str
    fields: Mapping[str, int]
    extra: Mapping[str, int]
    """Raw name → column index of every column hqsync does not use."""
    names: tuple[str, ...]
    """The raw name of every column (unique; blank headers become '(column F)')."""

    def column(self, field_name: str) -> str:
        """The header of the column holding `field_name`, as the sheet spells it."""
        return self.names[self.fields[field_name]]


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column `index` (0 → 'A', 26 → 'AA')."""
    return get_column_letter(index + 1)


_ALIAS_TABLES: dict[str, dict[str, str]] = {}


def _alias_table(tab_kind: str) -> dict[str, str]:
    """Folded alias → field name for one tab kind (built once)."""
    table = _ALIAS_TABLES.get(tab_kind)
    if table is None:
        table = {}
        for spec in FIELDS[tab_kind]:
            for alias in (spec.name, spec.header_vi, spec.header_en, *spec.aliases):
                table.setdefault(fold(alias), spec.name)
        _ALIAS_TABLES[tab_kind] = table
    return table


def match_headers(tab_kind: str, headers: Sequence[CellValue], tab_name: str) -> HeaderMatch:
    """Map a header row onto the fields of `tab_kind` by name (aliases, any case or accents).

    Raises SourceError naming the tab, the column and the headers found when a required column
    is missing or two headers mean the same field; ValueError for an unknown tab kind.
    """
    if tab_kind not in FIELDS:
        raise ValueError(f"unknown tab kind {tab_kind!r}; expected one of {', '.join(TAB_KINDS)}")
    aliases = _alias_table(tab_kind)
    found = [_header_text(h) for h in headers]
    shown = ", ".join(repr(h) for h in found if h) or "none"
    fields: dict[str, int] = {}
    extra: dict[str, int] = {}
    names: list[str] = []
    for index, text in enumerate(found):
        name = text or f"(column {column_letter(index)})"
        if name in names:
            name = f"{name} ({column_letter(index)})"
        names.append(name)
        target = aliases.get(fold(text)) if text else None
        if target is None:
            extra[name] = index
            continue
        if target in fields:
            first = found[fields[target]]
            raise SourceError(
                f"tab {tab_name!r}: columns {first!r} ({column_letter(fields[target])}) and "
                f"{text!r} ({column_letter(index)}) both mean {target!r}; rename or delete one "
                f"(headers found: {shown})"
            )
        fields[target] = index
    missing = [spec for spec in FIELDS[tab_kind] if spec.required and spec.name not in fields]
    if missing:
        wanted = "; ".join(f"{s.name!r} (e.g. {s.header_vi!r} or {s.header_en!r})" for s in missing)
        raise SourceError(
            f"tab {tab_name!r} has no column for {wanted}; add it to the header row "
            f"(headers found: {shown})"
        )
    return HeaderMatch(TabKind(tab_kind), tab_name, fields, extra, tuple(names))


def _header_text(value: CellValue) -> str:
    """A header cell as clean text ('' when blank)."""
    if value is None:
        return ""
    return clean_text(value if isinstance(value, str) else str(value))
