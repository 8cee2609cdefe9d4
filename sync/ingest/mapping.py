"""A source's `[sources.columns.<tab>]` mapping: checked against the sheet contract, and guessed.

`hqsync.config.settings` checks the mapping's shape only (it must not import `hqsync.sync`);
this checks, when a source is read, that every mapped field is one the contract knows, and
guesses a mapping for an AppSheet app's sheet (`hqsync check` prints it, ready to paste).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from hqsync.config.errors import ConfigError, SourceError
from hqsync.config.vocabulary import KEY_FIELDS, TabKind, fold
from hqsync.sync.ingest.contract import FIELDS
from hqsync.sync.ingest.headers import HeaderMatch, header_problems, match_headers
from hqsync.sync.interfaces import CellValue


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


ROW_ID = "Row ID"
"""The key column AppSheet adds to every table (filled by `UNIQUEID()`)."""
CHANGE_TIMESTAMP = "Last Modified"
"""The usual name of an AppSheet app's ChangeTimestamp column."""
REFERENCES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        TabKind.ASSESSMENTS: ("hospital_id", TabKind.HOSPITALS),
        TabKind.FINDINGS: ("assessment_id", TabKind.ASSESSMENTS),
    }
)
"""Tab kind → (its reference field, the tab kind it points to)."""


@dataclass(frozen=True)
class TabHeaders:
    """One tab as `suggest_columns` sees it: its name in the sheet and its header row."""

    name: str
    headers: Sequence[CellValue]


def suggest_columns(
    tabs: Mapping[str, TabHeaders], columns: Mapping[str, Mapping[str, str]]
) -> dict[str, dict[str, str]]:
    """A guessed `[sources.columns.<tab>]` table (field → header, the configured ones kept)
    for every tab with required fields that no header matches, following AppSheet's layout:
    a `Row ID` column for a missing key, a column named after the parent tab for a missing
    reference (its parent's key then read from the parent's `Row ID`, which AppSheet Refs
    hold), and `Last Modified` for `updated_at`. Tabs that need nothing are left out."""
    texts = {kind: [_text(h) for h in tab.headers] for kind, tab in tabs.items()}
    guessed: dict[str, dict[str, str]] = {}

    def add(kind: str, field_name: str, header: str | None) -> None:
        if header is not None and field_name not in columns.get(kind, {}):
            guessed.setdefault(kind, dict(columns.get(kind, {})))[field_name] = header

    for kind, tab in tabs.items():
        problems = header_problems(kind, tab.headers, tab.name, columns.get(kind))
        if not problems.missing:
            continue
        guessed.setdefault(kind, dict(columns.get(kind, {})))
        key = KEY_FIELDS[TabKind(kind)]
        if key in problems.missing:
            add(kind, key, _find(texts[kind], ROW_ID))
        reference = REFERENCES.get(kind)
        if reference is not None and reference[0] in problems.missing:
            field_name, parent = reference
            parent_tab = tabs.get(parent)
            header = _find(texts[kind], parent_tab.name) if parent_tab is not None else None
            add(kind, field_name, header)
            if header is not None:
                add(parent, KEY_FIELDS[TabKind(parent)], _find(texts.get(parent, []), ROW_ID))
    for kind, fields in guessed.items():
        if "updated_at" in {spec.name for spec in FIELDS[kind]}:
            match = _matched(kind, tabs[kind], fields)
            if match is not None and "updated_at" not in match.fields:
                add(kind, "updated_at", _find(texts[kind], CHANGE_TIMESTAMP))
    return guessed


def columns_block(kind: str, fields: Mapping[str, str]) -> str:
    """A `[sources.columns.<kind>]` table as TOML text, ready to paste under `[[sources]]`."""
    lines = [f"[sources.columns.{kind}]"]
    lines += [
        f"{name} = {json.dumps(header, ensure_ascii=False)}" for name, header in fields.items()
    ]
    return "\n".join(lines)


def _matched(kind: str, tab: TabHeaders, mapped: Mapping[str, str]) -> HeaderMatch | None:
    try:
        return match_headers(kind, tab.headers, tab.name, mapped)
    except SourceError:
        return None


def _find(headers: Sequence[str], wanted: str) -> str | None:
    """The first header equal to `wanted` once folded, as the sheet spells it."""
    target = fold(wanted)
    return next((h for h in headers if h and fold(h) == target), None)


def _text(value: CellValue) -> str:
    return "" if value is None else str(value).strip()
