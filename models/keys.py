"""The store-wide key of a row: its source and its id (ids are namespaced per source).

Its own module, free of pandas, so the plain reads of `hqsync.models.reports` stay light.
"""

from __future__ import annotations

KEY_SEPARATOR = "\x1f"


def make_key(source: str, ident: str) -> str:
    """The store-wide key of a row: its source and its id (ids are namespaced per source)."""
    return f"{source}{KEY_SEPARATOR}{ident}"


def split_key(key: str) -> tuple[str, str]:
    """(source, id) of a key made by `make_key`."""
    source, _, ident = key.partition(KEY_SEPARATOR)
    return source, ident
