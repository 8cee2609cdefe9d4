"""Small helpers every layer may use (like gspread's `utils` or sqlite-utils' `chunks`).

Like the rest of `hqsync.config`'s bottom layer, this module imports nothing of hqsync's.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

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


# Control characters no cell may carry: C0 except tab, line feed and carriage return, DEL and
# C1. Excel stores them as `_xHHHH_` escapes, which readers (openpyxl, calamine) may hand back
# either decoded or as the escape text itself: both are matched.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]"
    "|_x(?:000[0-8bBcCeEfF]|001[0-9a-fA-F]|007[fF]|008[0-9a-fA-F]|009[0-9a-fA-F]|[fF]{3}[eEfF])_"
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet program read text as a formula (OWASP's CSV-injection list)."""
CUT_MARKER = " …[cut]"
"""Appended to text cut to fit a cell."""


def without_controls(text: str, replacement: str = "") -> str:
    """`text` without control characters (or with each shown as `replacement`, e.g. U+FFFD)."""
    return _CONTROL.sub(replacement, text) if _CONTROL.search(text) else text


def fit_text(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with `CUT_MARKER` when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(CUT_MARKER))] + CUT_MARKER


def neutralise_formula(text: str) -> str:
    """`text` that no spreadsheet reads as a formula: a leading `'` when it starts like one.

    For plain-text outputs (CSV); typed writers keep text typed as text instead.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text
