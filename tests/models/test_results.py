"""Storing scoring results: the stored JSON text and the result hash, whatever the details hold."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hqsync.models import results
from hqsync.models.tables import AssessmentScore, CriterionResult

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.integers(0, 9).map(np.int64),
    st.floats(-5, 5).map(np.float64),
    st.booleans().map(np.bool_),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1)),
)
details = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
        st.frozensets(st.text(max_size=4), max_size=3),
    ),
    max_leaves=12,
).map(lambda v: {"x": v})


def plain(value: Any) -> Any:
    """What the store keeps of a value: sorted keys, numpy made plain, NaN as null, sets as
    sorted lists, dates as ISO text."""
    if isinstance(value, dict):
        return {str(k): plain(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, frozenset | set):
        return [plain(v) for v in sorted(value, key=str)]
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


def frames(criteria_details: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    key = results.make_key("src", "a1")
    scores = pd.DataFrame(
        [
            {
                "assessment_key": key,
                "standard": "QD6858",
                "method": "levels",
                "score": 3.5,
                "passed": None,
                "band": None,
                "applicable": 2,
                "assessed": 2,
                "level_counts": {"1": 0, "2": 1},
                "parts": {"A": 3.5},
                "details": {"total": 2},
            }
        ]
    )
    criteria = pd.DataFrame(
        {
            "assessment_key": [key] * len(criteria_details),
            "code": [f"A1.{n}" for n in range(len(criteria_details))],
            "level": [3, None][: len(criteria_details)] + [2] * (len(criteria_details) - 2),
            "value": [3.0, None][: len(criteria_details)] + [2.0] * (len(criteria_details) - 2),
            "status": ["scored"] * len(criteria_details),
            "details": criteria_details,
        }
    )
    return scores, criteria


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(details, min_size=1, max_size=3))
def test_criterion_details_are_stored_as_their_plain_json(engine, criteria_details):
    scores, criteria = frames(criteria_details)
    with engine.begin() as conn:
        conn.execute(sa.delete(CriterionResult))
        conn.execute(sa.delete(AssessmentScore))
        assert results.save_scores(conn, scores, criteria, {"QD6858": "f"}, NOW) == 1
    with engine.begin() as conn:
        stored = conn.execute(
            sa.select(sa.cast(CriterionResult.details, sa.Text)).order_by(CriterionResult.code)
        ).scalars()
        assert list(stored) == [json.dumps(plain(d)) for d in criteria_details]
        # The same results again: the hash matches, nothing is rewritten.
        assert results.save_scores(conn, scores, criteria, {"QD6858": "f"}, NOW) == 0


@pytest.mark.parametrize("change", ["status", "details"])
def test_a_changed_result_replaces_the_stored_rows(engine, change):
    scores, criteria = frames([{"gaps": ["A1.1-2.1"], "met": 3}, {"gaps": [], "met": 4}])
    with engine.begin() as conn:
        assert results.save_scores(conn, scores, criteria, {"QD6858": "f"}, NOW) == 1
        first = conn.execute(sa.select(AssessmentScore.result_hash)).scalar_one()
    if change == "status":
        criteria.loc[1, "status"] = "not_assessed"
    else:
        criteria.at[1, "details"] = {"gaps": ["A1.1-3.2"], "met": 4}
    with engine.begin() as conn:
        assert results.save_scores(conn, scores, criteria, {"QD6858": "f"}, NOW) == 1
        assert conn.execute(sa.select(AssessmentScore.result_hash)).scalar_one() != first
        rows = conn.execute(
            sa.select(
                CriterionResult.code, CriterionResult.status, CriterionResult.details
            ).order_by(CriterionResult.code)
        ).all()
    assert len(rows) == 2
    assert (rows[1].status, rows[1].details) == (
        criteria.loc[1, "status"],
        criteria.loc[1, "details"],
    )
