"""A source's `[sources.columns.<tab>]` mapping checked against the sheet contract.

`hqsync.config.settings` checks the mapping's shape only (it must not import `hqsync.sync`);
this checks, when a source is read, that every mapped field is one the contract knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hqsync.config.errors import ConfigError


def check_mapped_fields(
    source: str,
    columns: Mapping[str, Mapping[str, str]],
    known: Mapping[str, Iterable[str]],
) -> None:
    """Raise ConfigError naming `sources[<source>].columns.<tab>.<field>` for the first mapped
    field that `known` (tab kind → the contract's field names, e.g. from `FIELDS`) lacks."""
    for tab, fields in columns.items():
        names = tuple(known.get(tab, ()))
        for name in fields:
            if name not in names:
                raise ConfigError(
                    f"unknown config key sources[{source}].columns.{tab}.{name}: the {tab} tab "
                    f"has no field {name!r}; known: {', '.join(names)}"
                )
