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
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from hqsync.models import results, tables

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
    """What the store keeps of a value: sorted keys, numpy made plain, NaN and ±inf as null, sets as
    sorted lists, dates as ISO text."""
    if isinstance(value, dict):
        return {str(k): plain(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, frozenset | set):
        return [plain(v) for v in sorted(value, key=str)]
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
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
@example([{"x": float("inf")}, {"x": [float("-inf"), float("nan")]}])  # PostgreSQL refuses them
def test_criterion_details_are_stored_as_their_plain_json(engine, criteria_details):
    scores, criteria = frames(criteria_details)
    with engine.begin() as conn:
        conn.execute(sa.delete(tables.criterion_results))
        conn.execute(sa.delete(tables.assessment_scores))
        assert results.save_scores(conn, scores, criteria, {"QD6858": "f"}, NOW) == 1
    with engine.begin() as conn:
        stored = conn.execute(
            sa.select(sa.cast(tables.criterion_results.c.details, sa.Text)).order_by(
                tables.criterion_results.c.code
            )
        ).scalars()
        assert list(stored) == [json.dumps(plain(d)) for d in criteria_details]
        # The same results again: the hash matches, nothing is rewritten.
        assert results.save_scores(conn, scores, criteria, {"QD6858": "f"}, NOW) == 0


@pytest.mark.parametrize("change", ["status", "details"])
def test_a_changed_result_replaces_the_stored_rows(engine, change):
    scores, criteria = frames([{"gaps": ["A1.1-2.1"], "met": 3}, {"gaps": [], "met": 4}])
    with engine.begin() as conn:
        assert results.save_scores(conn, scores, criteria, {"QD6858": "f"}, NOW) == 1
        first = conn.execute(sa.select(tables.assessment_scores.c.result_hash)).scalar_one()
    if change == "status":
        criteria.loc[1, "status"] = "not_assessed"
    else:
        criteria.at[1, "details"] = {"gaps": ["A1.1-3.2"], "met": 4}
    with engine.begin() as conn:
        assert results.save_scores(conn, scores, criteria, {"QD6858": "f"}, NOW) == 1
        assert conn.execute(sa.select(tables.assessment_scores.c.result_hash)).scalar_one() != first
        rows = conn.execute(
            sa.select(
                tables.criterion_results.c.code,
                tables.criterion_results.c.status,
                tables.criterion_results.c.details,
            ).order_by(tables.criterion_results.c.code)
        ).all()
    assert len(rows) == 2
    assert (rows[1].status, rows[1].details) == (
        criteria.loc[1, "status"],
        criteria.loc[1, "details"],
    )


def _source_row(number: int) -> dict[str, Any]:
    return {
        "source": "src",
        "row_number": number,
        "raw": {},
        "extra": {},
        "row_hash": f"h{number}",
        "first_seen_at": NOW,
        "changed_at": NOW,
    }


def _scoring_frames(conn, keys) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """`results.load_scoring_columns` as the frames `score_assessments` takes (assessments,
    findings with categorical columns, hospitals): the DataFrame road, to check it against."""
    columns = results.load_scoring_columns(conn, keys)

    def categorical(coded) -> pd.Categorical:
        return pd.Categorical.from_codes(coded.codes, pd.Index(list(coded.values), dtype=object))

    codes = columns.findings
    findings = {
        "assessment_key": categorical(codes.assessment),
        "item_code": categorical(codes.item),
        "result": categorical(codes.result),
    }
    return (
        pd.DataFrame(columns.assessments),
        pd.DataFrame(findings),
        pd.DataFrame(columns.hospitals),
    )


def test_scoring_inputs_hold_every_live_finding_whatever_its_text(engine):
    """The grouped read gives the findings a row-by-row read gives; a cell holding the
    separator it joins them with, or a result it has no letter for, is read row by row (same
    findings)."""
    findings = [
        ("f1", "a1", "A1.1-1.1", "met", False),
        ("f2", "a1", "A1.1-1.2", "not_met", False),
        ("f3", "a1", "A1.1-2.1", "met", True),  # tombstoned: not an input
        ("f4", "a2", "A1.1-1.1", "na", False),
        ("f5", "a2", "A1\x1f1-1.2", "met", False),  # holds the separator
        ("f6", "a3", "A1.1-1.1", "partial", True),  # a3's only finding is gone
        ("f7", "a4", "A1.1-1.1", "met", False),
        ("f8", "a4", "A1.1-1.2", "Đạt?", False),  # a result no sheet value normalises to
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(tables.hospitals),
            [{**_source_row(2), "hospital_id": "h1", "has_obstetrics": True}],
        )
        conn.execute(
            sa.insert(tables.assessments),
            [
                {
                    **_source_row(n + 2),
                    "assessment_id": ident,
                    "hospital_id": "h1",
                    "standard": "QD6858",
                    "kind": "self",
                    "status": "submitted",
                }
                for n, ident in enumerate(("a1", "a2", "a3", "a4"))
            ],
        )
        conn.execute(
            sa.insert(tables.findings),
            [
                {
                    **_source_row(n + 2),
                    "finding_id": fid,
                    "assessment_id": aid,
                    "item_code": code,
                    "result": result,
                    "deleted": deleted,
                }
                for n, (fid, aid, code, result, deleted) in enumerate(findings)
            ],
        )
    with engine.connect() as conn:
        assessments, found, hospitals = _scoring_frames(
            conn, [("src", a) for a in ("a1", "a2", "a3", "a4")]
        )
    got = sorted(found.itertuples(index=False, name=None))
    assert got == sorted(
        (results.make_key("src", aid), code, result)
        for _, aid, code, result, deleted in findings
        if not deleted
    )
    assert sorted(assessments["assessment_key"]) == [
        results.make_key("src", a) for a in ("a1", "a2", "a3", "a4")
    ]
    assert hospitals["has_obstetrics"].tolist() == [True]


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(details, details)
def test_score_details_are_stored_and_hashed_as_their_plain_json(engine, score_details, parts):
    """An assessment's JSON columns are stored as `json.dumps` of their plain copy, and its
    result hash is the sha256 of the plain score and criterion rows as sorted, compact JSON."""
    import hashlib

    assume(not _infinite(score_details) and not _infinite(parts))  # PostgreSQL's JSON refuses
    scores, criteria = frames([{"met": 1}])
    scores.at[0, "details"] = score_details
    scores.at[0, "parts"] = parts
    with engine.begin() as conn:
        conn.execute(sa.delete(tables.criterion_results))
        conn.execute(sa.delete(tables.assessment_scores))
        assert results.save_scores(conn, scores, criteria, {"QD6858": "f"}, NOW) == 1
        text = sa.Text
        stored = conn.execute(
            sa.select(
                sa.cast(tables.assessment_scores.c.details, text),
                sa.cast(tables.assessment_scores.c.parts, text),
                sa.cast(tables.assessment_scores.c.level_counts, text),
                tables.assessment_scores.c.result_hash,
            )
        ).one()
    assert stored[:3] == (
        json.dumps(plain(score_details)),
        json.dumps(plain(parts)),
        json.dumps({"1": 0, "2": 1}),
    )
    score_row = {
        "source": "src",
        "assessment_id": "a1",
        "standard": "QD6858",
        "method": "levels",
        "score": 3.5,
        "passed": None,
        "band": None,
        "applicable": 2,
        "assessed": 2,
        "level_counts": {"1": 0, "2": 1},
        "parts": plain(parts),
        "details": plain(score_details),
        "rule_set_fingerprint": "f",
    }
    criterion = {
        "source": "src",
        "assessment_id": "a1",
        "code": "A1.0",
        "level": 3,
        "value": 3.0,
        "status": "scored",
        "details": {"met": 1},
    }
    compact = {"sort_keys": True, "separators": (",", ":")}
    score_text, criterion_text = json.dumps(score_row, **compact), json.dumps(criterion, **compact)
    expected = f'{{"criteria":[{criterion_text}],"score":{score_text}}}'
    assert stored[3] == hashlib.sha256(expected.encode()).hexdigest()


def _infinite(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_infinite(v) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_infinite(v) for v in value)
    return isinstance(value, float) and math.isinf(value)


def test_the_pipeline_scores_and_saves_without_importing_pandas(engine, db_url):
    """Its import alone cost `hqsync score` a tenth of its time: the pipeline's road (load the
    columns, `score_columns`, save) never imports it, and stores what the frames' road stores."""
    import subprocess
    import sys

    with engine.begin() as conn:
        conn.execute(sa.insert(tables.hospitals), [{**_source_row(2), "hospital_id": "h1"}])
        conn.execute(
            sa.insert(tables.assessments),
            [
                {
                    **_source_row(2),
                    "assessment_id": "a1",
                    "hospital_id": "h1",
                    "standard": "QD6858",
                    "kind": "self",
                    "status": "submitted",
                }
            ],
        )
        conn.execute(
            sa.insert(tables.findings),
            [
                {
                    **_source_row(n + 2),
                    "finding_id": f"f{n}",
                    "assessment_id": "a1",
                    "item_code": code,
                    "result": result,
                    "deleted": False,
                }
                for n, (code, result) in enumerate(
                    [("A1.1-1.1", "met"), ("A1.1-2.1", "not_met"), ("A1.2-1.1", "na")]
                )
            ],
        )
    code = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from hqsync.config.ruleset_loader import load_rule_sets\n"
        "from hqsync.models import results\n"
        "from hqsync.models.store import create_store_engine\n"
        "from hqsync.scoring.engine import score_columns\n"
        "rule_sets = load_rule_sets()\n"
        f"with create_store_engine({db_url!r}).begin() as conn:\n"
        "    inputs = results.load_scoring_columns(conn, [('src', 'a1')])\n"
        "    a, f, h = inputs.assessments, inputs.findings, inputs.hospitals\n"
        "    scored = score_columns(a, f, h, rule_sets)\n"
        "    fingerprints = {k: r.fingerprint for k, r in rule_sets.items()}\n"
        "    now = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)\n"
        "    saved = results.save_scores(conn, scored.scores, scored.criteria, fingerprints, now)\n"
        "    assert saved == 1, saved\n"
        "assert 'pandas' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

    from hqsync.config.ruleset_loader import load_rule_sets
    from hqsync.scoring import score_assessments

    rule_sets = load_rule_sets()
    with engine.begin() as conn:
        stored = conn.execute(
            sa.select(
                tables.assessment_scores.c.result_hash,
                sa.cast(tables.assessment_scores.c.details, sa.Text),
            )
        ).one()
        frames = score_assessments(*_scoring_frames(conn, [("src", "a1")]), rule_sets)
        fingerprints = {k: r.fingerprint for k, r in rule_sets.items()}
        assert results.save_scores(conn, frames.scores, frames.criteria, fingerprints, NOW) == 0
    assert stored.result_hash and json.loads(stored[1])["duplicate_findings"] == 0


@settings(max_examples=60, deadline=None)
@given(
    details,
    st.tuples(
        st.one_of(st.none(), st.floats(allow_infinity=False), st.floats(-5, 5).map(np.float64)),
        st.one_of(st.none(), st.booleans(), st.booleans().map(np.bool_)),
        st.one_of(st.none(), st.text(max_size=6)),
        st.text(max_size=6),
        st.integers(0, 300).map(np.int64),
    ),
)
def test_a_score_row_is_the_json_of_its_plain_values(row_details, values):
    """`score_row`'s stored JSON texts are `json.dumps` of the plain values, and the text it
    hashes is the plain row as sorted, compact JSON, whatever the scalars' types."""
    from hqsync.models.result_rows import SCORE_JSON, score_row

    score, passed, band, text, n = values

    record = {
        "standard": f"S{text}",
        "method": "levels",
        "score": score,
        "passed": passed,
        "band": band,
        "applicable": n,
        "assessed": n,
        "level_counts": {"1": n},
        "parts": {text: score},
        "details": row_details,
    }
    row, hashed = score_row(f"src{text}", f"a\x01{text}", record, f"f{text}")
    as_plain = {
        "source": f"src{text}",
        "assessment_id": f"a\x01{text}",
        "standard": f"S{text}",
        "method": "levels",
        "score": None if score is None or math.isnan(score) else float(score),
        "passed": None if passed is None else bool(passed),
        "band": band,
        "applicable": int(n),
        "assessed": int(n),
        "level_counts": {"1": int(n)},
        "parts": plain({text: score}),
        "details": plain(row_details),
        "rule_set_fingerprint": f"f{text}",
    }
    assert [row[name] for name in SCORE_JSON] == [json.dumps(as_plain[n]) for n in SCORE_JSON]
    assert hashed == json.dumps(as_plain, sort_keys=True, separators=(",", ":"))
