"""Small helpers every layer may use (like gspread's `utils` or sqlite-utils' `chunks`).

Like the rest of `hqsync.config`'s bottom layer, this module imports nothing of hqsync's.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import Any, TypeVar

T = TypeVar("T")

IN_CHUNK = 500
"""Keys per `IN (...)` list: far below SQLite's 32,766 variables and PostgreSQL's 65,535."""


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of `items`, each at most `size` long."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet program read text as a formula (OWASP's CSV-injection list)."""


def neutralise_formula(text: str) -> str:
    """`text` that no spreadsheet reads as a formula: a leading `'` when it starts like one.

    For plain-text outputs (CSV); typed writers keep text typed as text instead.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# Vietnamese letters that are letters of their own, not accented ones (CLDR's `vi` tailoring:
# &A<ă<â &D<đ &E<ê &O<ô<ơ &U<ư), as their canonical decompositions. Tone marks stay
# secondary differences, as in the Unicode default.
_VI_LETTERS = ("a\u0306", "a\u0302", "e\u0302", "o\u0302", "o\u031b", "u\u031b")
_VI_AFTER_ALL_LETTERS = 0xF000
"""Primary weights above every letter's: a tailored letter sorts after every word of its base."""


@cache
def _vietnamese_collator() -> Any:
    """The Unicode collation table (pyuca) with the Vietnamese letters tailored in."""
    import pyuca  # loaded on first use: reading the table takes most of a second

    collator = pyuca.Collator()
    for rank, letters in enumerate(_VI_LETTERS, start=1):
        base, mark = letters[0], letters[1:]
        for case in (base, base.upper()):
            elements = collator.table.find_prefix([ord(case)])[1]
            extra = [_VI_AFTER_ALL_LETTERS + rank, 0x20, 0x02]
            own = [ord(case), *(ord(m) for m in mark)]
            collator.table.add(own, [*elements, extra])
    for stroke, base in (("\u0111", "d"), ("\u0110", "D")):  # đ has no decomposition
        elements = collator.table.find_prefix([ord(base)])[1]
        collator.table.add([ord(stroke)], [*elements, [_VI_AFTER_ALL_LETTERS + 3, 0x20, 0x02]])
    return collator


@lru_cache(maxsize=65_536)  # a dashboard orders the same few thousand names many times
def name_sort_key(name: str) -> tuple[int, ...]:
    """THE sort key of names shown to people (hospitals, districts): Vietnamese alphabetical
    order (A Ă Â B C D Đ E Ê … O Ô Ơ … U Ư …, tones after the bare letter), by the Unicode
    collation algorithm (pyuca) tailored as CLDR's `vi` collation."""
    return tuple(_vietnamese_collator().sort_key(name))
