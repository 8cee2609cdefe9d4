"""Matching a tab's header row onto the contract's fields, by name, in any order.

Columns are found by what they are called (any alias of the contract, any case, with or
without accents), never by position: people insert, move and rename columns. A missing
required column or two columns meaning the same field is a problem with the source as a whole
and raises `SourceError` naming the tab, the columns and the headers found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
    mapped: tuple[tuple[str, str], ...] = ()
    """(field, header as configured) of every field found by the source's column mapping
    (`[sources.columns.<tab>]`); every other field was found by one of its aliases."""

    def column(self, field_name: str) -> str:
        """The header of the column holding `field_name`, as the sheet spells it."""
        return self.names[self.fields[field_name]]

    def by_mapping(self, field_name: str) -> bool:
        """True when `field_name` was found by the column mapping, False when by an alias."""
        return any(name == field_name for name, _ in self.mapped)


def column_letter(index: int) -> str:
    """The spreadsheet letter of the 0-based column `index` (0 → 'A', 26 → 'AA')."""
    # Spelt out: openpyxl's `get_column_letter` would load openpyxl (and numpy) on every sync.
    letters = ""
    number = index + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    """The 0-based index of the column spelt `letters` ('A' → 0, 'AA' → 26; any case)."""
    number = 0
    for letter in letters.upper():
        if not "A" <= letter <= "Z":
            raise ValueError(f"{letters!r} is not a column's letters")
        number = number * 26 + ord(letter) - ord("A") + 1
    if not number:
        raise ValueError("a column's letters are not empty")
    return number - 1


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


@dataclass(frozen=True)
class HeaderProblems:
    """What keeps a header row from being used: the required fields no column holds and
    the mapped headers the row lacks (field → header asked for)."""

    missing: tuple[str, ...] = ()
    mapped_missing: tuple[tuple[str, str], ...] = ()


def match_headers(
    tab_kind: str,
    headers: Sequence[CellValue],
    tab_name: str,
    mapped: Mapping[str, str] | None = None,
) -> HeaderMatch:
    """Map a header row onto the fields of `tab_kind`: the `mapped` fields (field → header, the
    source's `[sources.columns.<tab>]`) by exactly that header, the others by name (aliases).
    Headers are compared folded (any case, accents or spacing).

    A header that would match a mapped field by alias is an extra column. Raises SourceError
    naming the tab, the field and the headers found when a mapped header is missing, a required
    column is missing or two headers mean the same field; ValueError for an unknown tab kind.
    """
    match, problems = _assign(tab_kind, headers, tab_name, mapped or {})
    shown = _shown(match.names, headers)
    if problems.mapped_missing:
        wanted = "; ".join(
            f"field {name!r} is mapped to header {header!r}"
            for name, header in problems.mapped_missing
        )
        raise SourceError(
            f"tab {tab_name!r}: {wanted}, but the tab has no such header; fix the header in "
            f"[sources.columns.{tab_kind}] or in the sheet (headers found: {shown})"
        )
    if problems.missing:
        specs = [spec for spec in FIELDS[tab_kind] if spec.name in problems.missing]
        wanted = "; ".join(f"{s.name!r} (e.g. {s.header_vi!r} or {s.header_en!r})" for s in specs)
        raise SourceError(
            f"tab {tab_name!r} has no column for {wanted}; add it to the header row or map it "
            f"in [sources.columns.{tab_kind}] (headers found: {shown})"
        )
    return match


def header_problems(
    tab_kind: str,
    headers: Sequence[CellValue],
    tab_name: str,
    mapped: Mapping[str, str] | None = None,
) -> HeaderProblems:
    """The required fields and mapped headers `match_headers` would find missing (none when it
    would succeed or fail only on two headers meaning one field)."""
    try:
        return _assign(tab_kind, headers, tab_name, mapped or {})[1]
    except SourceError:
        return HeaderProblems()


def _assign(
    tab_kind: str, headers: Sequence[CellValue], tab_name: str, mapped: Mapping[str, str]
) -> tuple[HeaderMatch, HeaderProblems]:
    """The match of a header row and what it lacks; SourceError when two headers mean one
    field by alias."""
    if tab_kind not in FIELDS:
        raise ValueError(f"unknown tab kind {tab_kind!r}; expected one of {', '.join(TAB_KINDS)}")
    aliases = _alias_table(tab_kind)
    found = [_header_text(h) for h in headers]
    folded = [fold(text) if text else "" for text in found]
    fields: dict[str, int] = {}
    extra: dict[str, int] = {}
    names: list[str] = []
    by_mapping: list[tuple[str, str]] = []
    mapped_missing: list[tuple[str, str]] = []
    taken: set[int] = set()
    for name, header in mapped.items():
        wanted = fold(header)
        index = next((i for i, f in enumerate(folded) if f == wanted and i not in taken), None)
        if index is None:
            mapped_missing.append((name, header))
            continue
        fields[name] = index
        taken.add(index)
        by_mapping.append((name, header))
    for index, text in enumerate(found):
        name = text or f"(column {column_letter(index)})"
        if name in names:
            name = f"{name} ({column_letter(index)})"
        names.append(name)
        if index in taken:
            continue
        target = aliases.get(folded[index]) if text else None
        if target is None or target in mapped:
            extra[name] = index  # unknown, or an alias of a field the mapping placed elsewhere
            continue
        if target in fields:
            first = found[fields[target]]
            raise SourceError(
                f"tab {tab_name!r}: columns {first!r} ({column_letter(fields[target])}) and "
                f"{text!r} ({column_letter(index)}) both mean {target!r}; rename or delete one, "
                f"or map one in [sources.columns.{tab_kind}] "
                f"(headers found: {_shown(names, found)})"
            )
        fields[target] = index
    missing = tuple(
        spec.name
        for spec in FIELDS[tab_kind]
        if spec.required and spec.name not in fields and spec.name not in mapped
    )
    ordered = {name: fields[name] for name in sorted(fields, key=fields.__getitem__)}
    match = HeaderMatch(
        TabKind(tab_kind), tab_name, ordered, extra, tuple(names), tuple(by_mapping)
    )
    return match, HeaderProblems(missing, tuple(mapped_missing))


def _shown(names: Sequence[str], headers: Sequence[CellValue]) -> str:
    """The headers found, quoted, for a message ('none' when the row is blank)."""
    texts = [_header_text(h) for h in headers]
    return ", ".join(repr(h) for h in texts if h) or "none"


def _header_text(value: CellValue) -> str:
    """A header cell as clean text ('' when blank)."""
    if value is None:
        return ""
    return clean_text(value if isinstance(value, str) else str(value))
