"""Reading stored results back: the frames the dashboards, exports and alerts are built from.

Scoring's own reads and writes are `hqsync.models.results`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hqsync.config.vocabulary import Result
from hqsync.models.results import make_key
from hqsync.models.tables import (
    Assessment,
    AssessmentScore,
    CriterionResult,
    Finding,
    Hospital,
    RejectedRow,
)


def load_results(
    conn: Connection, *, criterion_details: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every live assessment with its stored score, and every stored criterion result.

    The first frame has the assessment's own columns (source, assessment_id, hospital_id, kind,
    assessed_on, status, …) beside the score's; keys as in `make_key`. Without
    `criterion_details` the criteria frame has no `details` column (its JSON is not decoded).
    """
    a, s = Assessment, AssessmentScore
    stmt = (
        sa.select(
            a.source,
            a.assessment_id,
            a.hospital_id,
            a.kind,
            a.assessed_on,
            a.status,
            a.assessor,
            s.standard,
            s.method,
            s.score,
            s.passed,
            s.band,
            s.applicable,
            s.assessed,
            s.level_counts,
            s.parts,
            s.details,
        )
        .join(s, sa.and_(s.source == a.source, s.assessment_id == a.assessment_id))
        .where(a.deleted.is_(False))
        .order_by(a.source, a.assessment_id)
    )
    scores = _frame(conn, stmt)
    _insert_key(scores, 0, "assessment_key", "assessment_id")
    _insert_key(scores, 1, "hospital_key", "hospital_id")
    c = CriterionResult
    live = sa.select(a.source, a.assessment_id).where(a.deleted.is_(False))
    crit_stmt = (
        sa.select(
            c.source,
            c.assessment_id,
            c.code,
            c.level,
            c.value,
            c.status,
            *((c.details,) if criterion_details else ()),
        )
        .where(sa.tuple_(c.source, c.assessment_id).in_(live))
        .order_by(c.source, c.assessment_id, c.code)
    )
    criteria = _frame(conn, crit_stmt)
    _insert_key(criteria, 0, "assessment_key", "assessment_id")
    return scores, criteria


def _frame(conn: Connection, statement: sa.Executable) -> pd.DataFrame:
    """A query's rows as a frame whose columns are named as the query's (even when empty)."""
    result = conn.execute(statement)
    columns = list(result.keys())
    # Plain tuples: pandas probes each SQLAlchemy Row for attributes it lacks, which cost more
    # than building the frame (the same frame).
    return pd.DataFrame(list(map(tuple, result)), columns=columns)


def load_hospitals(conn: Connection) -> pd.DataFrame:
    """Every live hospital with its profile."""
    h = Hospital
    stmt = (
        sa.select(
            h.source,
            h.hospital_id,
            h.name,
            h.district,
            h.ownership,
            h.has_obstetrics,
            h.has_pediatrics,
            h.active,
            h.dashboard,
        )
        .where(h.deleted.is_(False))
        .order_by(h.source, h.hospital_id)
    )
    frame = _frame(conn, stmt)
    _insert_key(frame, 0, "hospital_key", "hospital_id")
    return frame


def _insert_key(frame: pd.DataFrame, position: int, name: str, id_column: str) -> None:
    """Add the store-wide key column `name` made from `source` and `id_column`."""
    keys = [make_key(s, i) for s, i in zip(frame["source"], frame[id_column], strict=True)]
    frame.insert(position, name, keys)


def load_failing_findings(conn: Connection) -> pd.DataFrame:
    """Every live finding that is not met (or partly met): assessment_key, finding_id,
    item_code, result and note (what a hospital's Gaps tab lists under each gap)."""
    f = Finding
    stmt = (
        sa.select(f.source, f.assessment_id, f.finding_id, f.item_code, f.result, f.note)
        .where(f.deleted.is_(False), f.result.in_([str(Result.NOT_MET), str(Result.PARTIAL)]))
        .order_by(f.source, f.assessment_id, f.item_code, f.finding_id)
    )
    frame = _frame(conn, stmt)
    _insert_key(frame, 0, "assessment_key", "assessment_id")
    return frame


def load_rejected_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every rejected row, by source, tab and row number."""
    r = RejectedRow
    stmt = sa.select(
        r.source, r.tab, r.row_number, r.column, r.key, r.reason_en, r.reason_vi, r.raw
    ).order_by(r.source, r.tab, r.row_number, r.id)
    return [dict(row._mapping) for row in conn.execute(stmt)]
