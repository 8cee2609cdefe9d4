"""The store's limits, checked while normalising: one bad cell rejects its row, never the source.

A key longer than the store's column, or one holding a control character (a NUL, Excel's
`_x0001_`), cannot be stored faithfully: PostgreSQL would refuse the whole write. So such a
row is rejected with a reason, like any other bad row, and a rejection's own key, column and
tab are cut to fit the rejected-rows table. The sizes come from `hqsync.models.tables`, so
they follow the schema (see ARCHITECTURE.md, "Invariants").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import sqlalchemy as sa

from hqsync.config.utils import fit_text, without_controls
from hqsync.config.vocabulary import TabKind
from hqsync.models.tables import assessments, findings, hospitals, rejected_rows

_TABLES: Mapping[TabKind, sa.Table] = {
    TabKind.HOSPITALS: hospitals,
    TabKind.ASSESSMENTS: assessments,
    TabKind.FINDINGS: findings,
}


def _lengths(table: sa.Table) -> Mapping[str, int]:
    return {
        column.key: column.type.length
        for column in table.columns
        if isinstance(column.type, sa.String) and column.type.length
    }


FIELD_LENGTHS: Mapping[TabKind, Mapping[str, int]] = MappingProxyType(
    {kind: MappingProxyType(_lengths(table)) for kind, table in _TABLES.items()}
)
"""Per tab kind: field → the most characters its store column holds."""
_REJECTION_LENGTHS = _lengths(rejected_rows)
REJECTION_KEY_LENGTH = _REJECTION_LENGTHS["key"]
REJECTION_COLUMN_LENGTH = _REJECTION_LENGTHS["column"]
REJECTION_TAB_LENGTH = _REJECTION_LENGTHS["tab"]

Problem = tuple[str, str, str]
"""(code, English, Vietnamese), before the column is named."""


def key_cell_problem(cell: object) -> Problem | None:
    """Why a key cell cannot be a key as typed (a control character in it); None when it can."""
    if isinstance(cell, str) and without_controls(cell) != cell:
        return (
            "control_character",
            "the key holds an invisible control character (a NUL, or Excel's _x0001_); "
            "retype the key",
            "mã có ký tự điều khiển ẩn (NUL hoặc _x0001_ của Excel); hãy gõ lại mã",
        )
    return None


def length_problems(kind: TabKind, values: Mapping[str, object]) -> list[tuple[str, Problem]]:
    """(field, problem) for every value longer than its store column allows."""
    found: list[tuple[str, Problem]] = []
    for field, limit in FIELD_LENGTHS[kind].items():
        value = values.get(field)
        if isinstance(value, str) and len(value) > limit:
            found.append(
                (
                    field,
                    (
                        "too_long",
                        f"the value has {len(value):,} characters; at most {limit} fit: shorten it",
                        f"giá trị dài {len(value):,} ký tự; tối đa {limit}: hãy rút ngắn",
                    ),
                )
            )
    return found


def fit_rejection_text(value: str | None, limit: int) -> str | None:
    """A rejection's key, column or tab cut to fit its store column (with a marker)."""
    if value is None:
        return None
    return fit_text(without_controls(value, "\ufffd"), limit)
