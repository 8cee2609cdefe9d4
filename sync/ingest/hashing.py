"""The one row hasher: what a source row is stored under, and how a re-sync knows it unchanged.

A row's hash covers its cells and everything else its parsed fields depend on (the tab's header
mapping, the time zone, the source's locale, the rule set it is read against). The store keeps
it beside the parsed row; on the next sync a row whose hash matches the stored one is not
parsed again (see ARCHITECTURE.md, ingestion). `normalise_source` hashes every row through
`row_digest`, and `row_hash` is the same function with its context spelt out, so the stored
bytes have one definition: changing any of it changes stored hashes, which
`tests/ingest/test_hashing.py` pins.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache, partial
from itertools import compress, repeat
from operator import itemgetter
from typing import Any

from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.ingest.headers import HeaderMatch
from hqsync.sync.ingest.locale import DEFAULT_LOCALE, SourceLocale
from hqsync.sync.interfaces import CellValue

HASH_VERSION = 1
"""Bump when parsing changes meaning, so every stored row is re-parsed once."""

Marshallable = CellValue | tuple[str, str]
"""A cell as `marshal` takes it: a date or datetime becomes a tagged ISO text pair."""


_dumps: Callable[[Any, int], bytes] = marshal.dumps
"""`marshal.dumps`, typed for what it is given here: cells, whose dates make it raise ValueError
(handled by the callers), which typeshed's `_Marshallable` cannot say."""


def marshallable(cell: CellValue) -> Marshallable:
    """A cell `marshal` can serialise: dates and datetimes become tagged ISO text."""
    if isinstance(cell, datetime | date):
        return ("@" + type(cell).__name__, cell.isoformat())
    return cell


def tab_context(
    tab_kind: str, match: HeaderMatch, timezone: str, locale: SourceLocale | None = None
) -> str:
    """What every row of one tab is read against besides its cells, as hashed text.

    The tab kind goes in as plain text (a `TabKind` member's repr would change every hash).
    The locale (how text dates are read) and the column mapping go in only when they differ
    from vi_VN without a mapping, so the hashes stored before locales existed stay valid."""
    fields = tuple(match.fields.items())
    context = (HASH_VERSION, str(tab_kind), match.names, fields, timezone)
    if (locale is None or locale == DEFAULT_LOCALE) and not match.mapped:
        return repr(context)
    name = (locale or DEFAULT_LOCALE).name
    return repr((*context, name, tuple(sorted(match.mapped))))


def rule_set_context(rule_set: RuleSet) -> str:
    """What a row read against `rule_set` depends on of it (its id and catalogue fingerprint)."""
    return repr((rule_set.id, str(rule_set.fingerprint)))


@lru_cache(maxsize=256)
def context_hasher(context: str) -> hashlib.blake2b:
    """A hasher fed with `context`, to be copied for every row read in that context."""
    return hashlib.blake2b(context.encode("utf-8", "surrogatepass"), digest_size=20)


def row_digest(hasher: hashlib.blake2b, row: Sequence[CellValue]) -> str:
    """The hash of `row` read in the context `hasher` was fed with (see `context_hasher`).

    The cells are serialised with `marshal` format version 2 (a fixed, by-value format for
    text, numbers, bools and None; dates go in as tagged ISO text), several times faster than
    repr or JSON on 500k rows. Trailing empty cells are left out: backends differ in trimming
    them. Called once per row of every sync, so the common case (a tuple ending in a value)
    goes straight to `marshal`.
    """
    if type(row) is tuple and row and row[-1] is not None and row[-1] != "":
        cells: Sequence[CellValue] = row
    else:
        end = len(row)
        while end and (row[end - 1] is None or row[end - 1] == ""):
            end -= 1
        cells = tuple(row) if end == len(row) else tuple(row[:end])
    try:
        payload = _dumps(cells, 2)
    except ValueError:  # date/datetime cells (openpyxl) are not marshallable
        payload = _dumps(tuple(map(marshallable, cells)), 2)
    digest = hasher.copy()
    digest.update(payload)
    return digest.hexdigest()


_last = itemgetter(-1)
_hasher_of = partial(hashlib.blake2b, digest_size=20)
_hex_of = hashlib.blake2b.hexdigest


def context_bytes(context: str) -> bytes:
    """The bytes `context_hasher(context)` is fed with (for `row_digests`)."""
    return context.encode("utf-8", "surrogatepass")


def row_digests(contexts: Sequence[bytes], rows: Sequence[Sequence[CellValue]]) -> list[str] | None:
    """`row_digest` of every row, each read in its context (`context_bytes` of the text given
    to `context_hasher`), a tab at a time in C ("" for an empty row); None when some row is not
    the common case (a row ending in an empty cell, a date cell): then hash row by row.

    A hash of the context followed by the cells is the hash of a hasher fed the context and
    then the cells: the digests are `row_digest`'s, byte for byte."""
    if not rows:
        return None
    if not min(map(len, rows)):  # empty rows (skipped by every reader): hashed as ""
        present = list(map(bool, rows))
        found = row_digests(list(compress(contexts, present)), list(compress(rows, present)))
        if found is None:
            return None
        digests = iter(found)
        return [next(digests) if row else "" for row in present]
    ends = list(map(_last, rows))
    if None in ends or "" in ends:
        return None
    payloads = map(_dumps, map(tuple, rows), repeat(2))  # each row's bytes held only briefly
    try:
        return list(map(_hex_of, map(_hasher_of, map(bytes.__add__, contexts, payloads))))
    except ValueError:  # date/datetime cells (openpyxl) are not marshallable
        return None


def context_digests(
    prefix: str, contexts: Sequence[str | None], rows: Sequence[Sequence[CellValue]]
) -> list[str]:
    """`row_hash(prefix + context, row)` of each (non-empty) row in its context, "" for a row
    whose context is None: a tab at a time in C (`row_digests`) unless some row is not the
    common case, then row by row (the same digests)."""
    prefixes = {c: context_bytes(prefix + c) for c in set(contexts) if c is not None}
    found = row_digests([b"" if c is None else prefixes[c] for c in contexts], rows)
    if found is None:
        return [
            "" if c is None else row_digest(context_hasher(prefix + c), row)
            for c, row in zip(contexts, rows, strict=True)
        ]
    return [digest if c is not None else "" for digest, c in zip(found, contexts, strict=True)]


def row_hash(context: str, row: Sequence[CellValue]) -> str:
    """A stable hash of a row's cells and of everything else its parsed fields depend on.

    `context` holds the header mapping, the time zone and the rule set the row is read
    against: `tab_context(...) + rule_set_context(...)` for assessments and findings,
    `tab_context(...)` alone for hospitals. Equal to what `normalise_source` stores.
    """
    return row_digest(context_hasher(context), row)
