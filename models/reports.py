"""Reading stored results back: the frames the dashboards, exports and alerts are built from.

Scoring's own reads and writes are `hqsync.models.results`. pandas is imported only when a
frame is built: `hqsync scores` reads the plain rows (`load_score_rows`, …) without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hqsync.config.vocabulary import Result
from hqsync.models.keys import make_key
from hqsync.models.tables import (
    assessment_scores,
    assessments,
    criterion_results,
    findings,
    hospitals,
    rejected_rows,
)

if TYPE_CHECKING:
    import pandas as pd

_SCORE_KEYS = (("assessment_key", "assessment_id"), ("hospital_key", "hospital_id"))


def load_results(conn: Connection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every live assessment with its stored score, and every stored criterion result.

    The first frame has the assessment's own columns (source, assessment_id, hospital_id, kind,
    assessed_on, status, …) beside the score's; keys as in `make_key`.
    """
    scores = load_scores(conn)
    c = criterion_results.c
    crit_stmt = _criteria_statement(
        c.source, c.assessment_id, c.code, c.level, c.value, c.status, c.details
    )
    criteria = _frame(conn, crit_stmt, keys=(("assessment_key", "assessment_id"),))
    return scores, criteria


def load_scores(conn: Connection) -> pd.DataFrame:
    """Every live assessment with its stored score: the first frame of `load_results`."""
    return _frame(conn, _scores_statement(), keys=_SCORE_KEYS)


def load_score_rows(conn: Connection) -> list[dict[str, Any]]:
    """The rows of `load_scores` as dicts of plain values (its columns, in its order, missing
    values None); no frame is built."""
    result = conn.execute(_scores_statement())
    names = list(result.keys())
    source = names.index("source")
    idents = [names.index(id_column) for _, id_column in _SCORE_KEYS]
    columns = [name for name, _ in _SCORE_KEYS] + names
    return [
        dict(zip(columns, [*(make_key(row[source], row[i]) for i in idents), *row], strict=True))
        for row in result
    ]


def _scores_statement() -> sa.Select[*tuple[Any, ...]]:
    """Every live assessment's own columns beside its score's, by source and id."""
    a, s = assessments.c, assessment_scores.c
    return (
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
        .join(assessment_scores, sa.and_(s.source == a.source, s.assessment_id == a.assessment_id))
        .where(a.deleted.is_(False))
        .order_by(a.source, a.assessment_id)
    )


def load_criterion_levels(conn: Connection) -> list[tuple[str, str, int | None, str]]:
    """(assessment_key, code, level, status) of every stored criterion result of a live
    assessment, in the order of `load_results`' criteria frame; no frame is built."""
    c = criterion_results.c
    rows = conn.execute(_criteria_statement(c.source, c.assessment_id, c.code, c.level, c.status))
    return [
        (make_key(source, ident), code, level, status)
        for source, ident, code, level, status in rows
    ]


def _criteria_statement(*columns: Any) -> sa.Select[Any]:
    """The given criterion-result columns of every live assessment, by assessment and code."""
    a, c = assessments.c, criterion_results.c
    live = sa.select(a.source, a.assessment_id).where(a.deleted.is_(False))
    return (
        sa.select(*columns)
        .where(sa.tuple_(c.source, c.assessment_id).in_(live))
        .order_by(c.source, c.assessment_id, c.code)
    )


def _frame(
    conn: Connection, statement: sa.Executable, keys: tuple[tuple[str, str], ...] = ()
) -> pd.DataFrame:
    """A query's rows as a frame whose columns are named as the query's (even when empty).

    Each (name, id column) of `keys` adds the store-wide key column `name` (`make_key` of
    `source` and the id), placed first in their order.
    """
    import pandas as pd

    result = conn.execute(statement)
    columns = list(result.keys())
    # Plain tuples: pandas probes each SQLAlchemy Row for attributes it lacks, which cost more
    # than building the frame (the same frame).
    rows = list(map(tuple, result))
    frame = pd.DataFrame(rows, columns=columns)
    source = columns.index("source") if keys else 0
    for position, (name, id_column) in enumerate(keys):
        # From the tuples: iterating a frame's string column costs more than the query.
        ident = columns.index(id_column)
        frame.insert(position, name, [make_key(row[source], row[ident]) for row in rows])
    return frame


def load_hospitals(conn: Connection) -> pd.DataFrame:
    """Every live hospital with its profile."""
    h = hospitals.c
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
    return _frame(conn, stmt, keys=(("hospital_key", "hospital_id"),))


def load_hospital_names(conn: Connection) -> dict[str, str | None]:
    """The name of every live hospital, by hospital key."""
    h = hospitals.c
    stmt = sa.select(h.source, h.hospital_id, h.name).where(h.deleted.is_(False))
    return {make_key(source, ident): name for source, ident, name in conn.execute(stmt)}


def load_failing_findings(conn: Connection) -> pd.DataFrame:
    """Every live finding that is not met (or partly met): assessment_key, finding_id,
    item_code, result and note (what a hospital's Gaps tab lists under each gap)."""
    f = findings.c
    stmt = (
        sa.select(f.source, f.assessment_id, f.finding_id, f.item_code, f.result, f.note)
        .where(f.deleted.is_(False), f.result.in_([str(Result.NOT_MET), str(Result.PARTIAL)]))
        .order_by(f.source, f.assessment_id, f.item_code, f.finding_id)
    )
    return _frame(conn, stmt, keys=(("assessment_key", "assessment_id"),))


def load_rejected_rows(conn: Connection) -> list[dict[str, Any]]:
    """Every rejected row, by source, tab and row number."""
    r = rejected_rows.c
    stmt = sa.select(
        r.source, r.tab, r.row_number, r.column, r.key, r.reason_en, r.reason_vi, r.raw
    ).order_by(r.source, r.tab, r.row_number, r.id)
    return [dict(row._mapping) for row in conn.execute(stmt)]
