"""Reading a tab's cells a column at a time, for a sync that parses every row (a first load).

Per field, each distinct cell is coerced once through the run's caches and every row's outcome
is then looked up in C; a row whose key is clean and whose every field reads without a problem
gets its values here. The other rows are left to normalise's general road, which reads them
cell by cell and says what is wrong: the values are the same either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, compress, count, repeat
from operator import and_, is_not, itemgetter, le, ne, not_
from typing import cast

from hqsync.sync.ingest.cells import Compute, Outcome, attempt, blank, cell_key, clean_key
from hqsync.sync.ingest.hashing import context_bytes, row_digests
from hqsync.sync.ingest.headers import HeaderMatch
from hqsync.sync.ingest.references import ContextOf, RowContext, Values
from hqsync.sync.ingest.rows import JsonCell, SourceRow, source_rows
from hqsync.sync.interfaces import CellValue

FieldPlan = tuple[str, int | None, dict[Hashable, Outcome], Compute, bool]
"""How normalise reads one field: (name, column index or None, the coercer's cache, the
coercer, whether a value is required)."""

_result_of = itemgetter(1)
_UNAMBIGUOUS = frozenset({str, float, type(None)})
"""Cell types no two of whose values compare equal (unlike True, 1 and 1.0)."""


def _cache_key(cell: CellValue) -> Hashable:
    """A cell's key in a coercer's cache: its text, else (type, value) (see `Coercers.plan`)."""
    return cell if type(cell) is str else (type(cell), cell)


@dataclass(frozen=True)
class TabColumns:
    """A tab read a column at a time: per data row (sheet row 2 first), its clean values
    (`clean_values`), its raw cells (`plain_raws`), its context and its hash (`row_digests`;
    None for the whole tab when some row must be hashed on its own)."""

    clean: list[Values | None]
    raws: list[RawAndExtra | None] | None
    contexts: list[RowContext | None]
    digests: list[str] | None


def read_columns(
    rows: Sequence[Sequence[CellValue]],
    match: HeaderMatch,
    *,
    key_field: str,
    key_limit: int | None,
    plan: Sequence[FieldPlan],
    limits: Sequence[int | None],
    context_of: ContextOf,
    prefix: str,
) -> TabColumns:
    """A tab's data rows read a column at a time, on a sync that parses every row; `prefix`
    is the tab's hash context (`tab_context`) and `context_of` gives each row's own."""
    clean = clean_values(
        rows,
        key_field=key_field,
        key_index=match.fields[key_field],
        key_limit=key_limit,
        plan=plan,
        limits=limits,
    )
    contexts = list(map(context_of, rows))
    prefixes = {
        context: context_bytes(prefix + context)
        for context in {c[0] for c in contexts if c is not None}
    }
    digests = row_digests([b"" if c is None else prefixes[c[0]] for c in contexts], rows)
    raws = plain_raws(rows, match.names, tuple(match.extra))
    return TabColumns(clean, raws, contexts, digests)


def clean_values(
    rows: Sequence[Sequence[CellValue]],
    *,
    key_field: str,
    key_index: int,
    key_limit: int | None,
    plan: Sequence[FieldPlan],
    limits: Sequence[int | None],
) -> list[Values | None]:
    """Per row, its values (the key first, then the fields in `plan` order) when it reads
    cleanly: a key `clean_key` accepts within `key_limit` characters, and every field read
    without a problem, present when required, within its limit. None for any other row."""
    shortest = min(map(len, rows), default=0)
    keys = _column(rows, key_index, shortest)
    good = _clean_keys(keys, key_limit)
    columns: list[Sequence[object]] = [keys]
    for (_, index, cache, compute, needed), limit in zip(plan, limits, strict=True):
        if index is None:
            columns.append(list(repeat(None, len(rows))))
            continue
        cells = _column(rows, index, shortest)
        if _UNAMBIGUOUS.issuperset(map(type, cells)):
            keys_of_cells: Sequence[Hashable] = cells  # no two of these types compare equal
        else:  # True == 1 == 1.0: the cache's own keys tell them apart
            keys_of_cells = list(map(_cache_key, cells))
        outcomes: dict[Hashable, Outcome] = {}
        for cell in set(keys_of_cells):
            cache_key = _cache_key(cast(CellValue, cell)) if keys_of_cells is cells else cell
            outcome = cache.get(cache_key)
            if outcome is None:
                value = cache_key if type(cache_key) is str else cache_key[1]  # type: ignore[index]
                outcome = cache[cache_key] = attempt(compute, value)
            outcomes[cell] = outcome
        fine = {cell: _fine(outcome, needed, limit) for cell, outcome in outcomes.items()}
        good = list(map(and_, good, map(fine.__getitem__, keys_of_cells)))
        columns.append(list(map(_result_of, map(outcomes.__getitem__, keys_of_cells))))
    names = (key_field, *(entry[0] for entry in plan))
    each = zip(*columns, strict=True)
    found: list[Values | None] = list(map(dict, map(zip, repeat(names), each)))
    for index in compress(range(len(found)), map(not_, good)):
        found[index] = None
    return found


def _clean_keys(keys: Sequence[CellValue], limit: int | None) -> list[bool]:
    """Per key cell, whether `clean_key` accepts it within `limit` characters."""
    if not {str}.issuperset(map(type, keys)):
        return [
            type(key) is str and clean_key(key) and (limit is None or len(key) <= limit)
            for key in keys
        ]
    texts = cast(Sequence[str], keys)
    # `clean_key` a column at a time, in C.
    good = map(and_, map(str.isascii, texts), map(str.isprintable, texts))
    good = map(and_, good, map(bool, texts))
    good = map(and_, good, map(not_, map(str.startswith, texts, repeat(_NOT_FIRST_TEXT))))
    good = map(and_, good, map(not_, map(str.__contains__, texts, repeat(" "))))
    good = map(and_, good, map(not_, map(str.__contains__, texts, repeat("_x"))))
    if limit is not None:
        good = map(and_, good, map(le, map(len, texts), repeat(limit)))
    return list(good)


_NOT_FIRST_TEXT = ("'", "#")
"""The starts `clean_key` refuses besides an empty key (see `cells._NOT_FIRST`)."""


_PLAIN = frozenset({str, int, bool, float, type(None)})
"""Cell types a row's `raw` holds as they are (no dates)."""
RawAndExtra = tuple[dict[str, JsonCell], dict[str, JsonCell]]


def plain_raws(
    rows: Sequence[Sequence[CellValue]], names: Sequence[str], extra: Sequence[str]
) -> list[RawAndExtra | None] | None:
    """Per row, its `raw_and_extra`, built a tab at a time in C; None for a row holding cells
    beyond the last header. None for the whole tab when a cell is a date or a float that is not
    finite: then `raw_and_extra` reads each row (the same dicts either way)."""
    cells = chain.from_iterable(rows)
    if not _PLAIN.issuperset(map(type, cells)):
        return None
    floats = cast(Iterable[float], filter(float.__instancecheck__, chain.from_iterable(rows)))
    if not all(map(math.isfinite, floats)):
        return None
    width = len(names)
    # Every cell is plain (checked above): a JsonCell as it is.
    plain = cast(Sequence[Sequence[JsonCell]], rows)
    raws: list[dict[str, JsonCell] | None] = list(map(dict, map(zip, repeat(names), plain)))
    lengths = list(map(len, rows))
    for index in compress(range(len(rows)), map(ne, lengths, repeat(width))):
        raw = raws[index]
        assert raw is not None
        if lengths[index] > width:
            raws[index] = None  # a cell under no header: named by its column letter
        else:
            raw.update(dict.fromkeys(names[lengths[index] :]))
    if not extra:
        return [None if raw is None else (raw, {}) for raw in raws]
    return [None if raw is None else (raw, {name: raw[name] for name in extra}) for raw in raws]


def unique_rows(columns: TabColumns, key_field: str) -> list[SourceRow] | None:
    """Every row of a tab whose rows all read cleanly, raw cells and hash at hand, as its
    SourceRows (sheet row 2 first), built in C; None when two of them share a key (then the
    rows are taken one by one, and the later ones rejected as duplicates)."""
    assert columns.raws is not None and columns.digests is not None
    clean = cast(list[Values], columns.clean)
    keys = cast(list[str], list(map(itemgetter(key_field), clean)))
    if len(set(keys)) != len(keys):
        return None
    raws = cast(list[RawAndExtra], columns.raws)
    raw, extra = map(itemgetter(0), raws), map(itemgetter(1), raws)
    return source_rows(zip(keys, count(2), clean, raw, extra, columns.digests, repeat(True)))


def clean_values_of_row(
    row: Sequence[CellValue],
    *,
    key_field: str,
    key_index: int,
    key_limit: int | None,
    plan: Sequence[FieldPlan],
    limits: Sequence[int | None],
) -> tuple[str, Values] | None:
    """One row's key and values, as `clean_values` reads them for a whole tab (None when the
    row does not read cleanly)."""
    key = row[key_index] if key_index < len(row) else None
    if not (type(key) is str and clean_key(key)):
        return None
    if key_limit is not None and len(key) > key_limit:
        return None
    values: Values = {key_field: key}
    length = len(row)
    for (name, index, cache, compute, needed), limit in zip(plan, limits, strict=True):
        if index is None:
            values[name] = None
            continue
        value = row[index] if index < length else None
        cache_key = value if type(value) is str else (type(value), value)
        outcome = cache.get(cache_key)
        if outcome is None:
            outcome = cache[cache_key] = attempt(compute, value)
        if not outcome[0]:
            return None
        result = outcome[1]
        if (result is None and needed) or (
            limit is not None and type(result) is str and len(result) > limit
        ):
            return None
        values[name] = result
    return key, values


def keys_by_column(
    rows: Sequence[Sequence[CellValue]],
    names: Sequence[str],
    key_index: int,
    read: Callable[[CellValue], str | None],
) -> dict[str, str]:
    """Each key `read` finds in a cell other than the key column's, by the header of the first
    column holding it (to say where a reference that matches no key was found)."""
    holding: dict[str, str] = {}
    for row in rows:
        for index in range(min(len(row), len(names))):
            if index != key_index and not blank(row[index]):
                text = cell_key(read, row, index)
                if text is not None:
                    holding.setdefault(text, names[index])
    return holding


def all_given(*columns: Sequence[object]) -> list[bool]:
    """Per row, True when none of `columns` holds None for it."""
    given = map(is_not, columns[0], repeat(None))
    for column in columns[1:]:
        given = map(and_, given, map(is_not, column, repeat(None)))
    return list(given)


def _column(rows: Sequence[Sequence[CellValue]], index: int, shortest: int) -> Sequence[CellValue]:
    """Every row's cell `index` (None beyond a row's end: trailing empty cells are trimmed)."""
    if index < shortest:
        return list(map(itemgetter(index), rows))
    return [row[index] if index < len(row) else None for row in rows]


def _fine(outcome: Outcome, needed: bool, limit: int | None) -> bool:
    """True when a field's outcome is a value the row can keep as it is."""
    if not outcome[0]:
        return False
    value = outcome[1]
    if value is None:
        return not needed
    return limit is None or type(value) is not str or len(value) <= limit
