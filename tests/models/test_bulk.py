"""The bulk writer stores JSON exactly as SQLAlchemy's own INSERT does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hqsync.models import tables
from hqsync.models.bulk import insert_many

NOW = datetime(2026, 1, 2, tzinfo=UTC)
TABLE = tables.rejected_rows

# Finite floats: PostgreSQL's JSON has no NaN or Infinity (nor have sheet cells).
cells = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
raws = st.one_of(
    st.dictionaries(st.text(max_size=8), cells, max_size=6),
    st.lists(cells, max_size=4),
)


def _row(number: int, raw: Any) -> dict[str, Any]:
    return {
        "source": "s",
        "tab": "Findings",
        "row_number": number,
        "column": None,
        "key": None,
        "reason_en": "x",
        "reason_vi": "x",
        "raw": raw,
        "first_seen_at": NOW,
    }


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(raws, min_size=1, max_size=5))
def test_json_columns_hold_the_same_text_as_an_orm_insert(engine, values):
    _assert_same_text_as_orm(engine, values)


def _assert_same_text_as_orm(engine, values: list[Any]) -> None:
    """`values` as `raw` through the bulk writer and through SQLAlchemy: the same texts."""
    with engine.begin() as conn:
        conn.execute(sa.delete(TABLE))
        insert_many(conn, TABLE, [_row(n, raw) for n, raw in enumerate(values)])
        conn.execute(sa.insert(TABLE), [_row(1000 + n, raw) for n, raw in enumerate(values)])
        texts = conn.execute(
            sa.select(TABLE.c.row_number, sa.cast(TABLE.c.raw, sa.Text)).order_by(
                TABLE.c.row_number
            )
        ).all()
    bulk = [text for number, text in texts if number < 1000]
    orm = [text for number, text in texts if number >= 1000]
    assert bulk == orm


@pytest.mark.parametrize(
    "values",
    [[{}], [{}, {}, {}], [{}, {"a": 1}, {}], [{}, []], [[], []]],
    ids=["one-empty", "all-empty", "mixed", "dict-and-list", "lists"],
)
def test_empty_json_values_hold_the_same_text_as_an_orm_insert(engine, values):
    """A column of empty dicts (a tab's `extra` without extra columns) is written as `{}`
    without encoding each: the same text as SQLAlchemy's own INSERT."""
    _assert_same_text_as_orm(engine, values)
