"""Repository functions for scoring: what needs scoring, its inputs, and storing results.

Reading the results back for dashboards, exports and alerts is `hqsync.models.reports`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hqsync.config.utils import chunks
from hqsync.config.vocabulary import Result
from hqsync.models.bulk import PLACEHOLDERS, insert_many
from hqsync.models.keys import make_key, split_key
from hqsync.models.result_rows import SCORE_JSON, criterion_rows, result_hash, score_row
from hqsync.models.tables import (
    assessment_scores,
    assessments,
    criterion_results,
    findings,
    hospitals,
)
from hqsync.scoring.common import Coded
from hqsync.scoring.engine import FindingCodes

if TYPE_CHECKING:
    import pandas as pd

KEYS_PER_QUERY = 900
"""Ids per `IN (...)` list when loading or saving scores (see `hqsync.config.utils.IN_CHUNK`)."""


@dataclass(frozen=True)
class ScoringColumns:
    """What `hqsync.scoring.engine.score_columns` takes, for a set of assessments: assessments
    and hospital profiles a list per column, the findings as codes (no pandas)."""

    assessments: dict[str, list[Any]]
    findings: FindingCodes
    hospitals: dict[str, list[Any]]


_ASSESSMENT_COLUMNS = (
    "assessment_key",
    "hospital_key",
    "standard",
    "kind",
    "assessed_on",
    "status",
)
_HOSPITAL_COLUMNS = ("hospital_key", "has_obstetrics", "has_pediatrics")


def mark_stale_rule_sets(conn: Connection, fingerprints: Mapping[str, str]) -> int:
    """Flag for re-scoring every assessment scored under an older version of its rule set."""
    flagged = 0
    for standard, fingerprint in fingerprints.items():
        stale = sa.select(assessment_scores.c.source, assessment_scores.c.assessment_id).where(
            assessment_scores.c.standard == standard,
            assessment_scores.c.rule_set_fingerprint != fingerprint,
        )
        rows = conn.execute(stale).all()
        for source, assessment_id in rows:
            conn.execute(
                sa.update(assessments)
                .where(
                    assessments.c.source == source,
                    assessments.c.assessment_id == assessment_id,
                    assessments.c.needs_scoring.is_(False),
                )
                .values(needs_scoring=True)
            )
        flagged += len(rows)
    return flagged


def assessments_to_score(conn: Connection) -> list[tuple[str, str]]:
    """(source, assessment_id) of every live assessment flagged for scoring."""
    stmt = (
        sa.select(assessments.c.source, assessments.c.assessment_id)
        .where(assessments.c.needs_scoring.is_(True), assessments.c.deleted.is_(False))
        .order_by(assessments.c.source, assessments.c.assessment_id)
    )
    return [(r[0], r[1]) for r in conn.execute(stmt).all()]


def drop_scores_of_deleted(conn: Connection) -> int:
    """Remove derived results of assessments that vanished from their sheet."""
    gone = sa.select(assessments.c.source, assessments.c.assessment_id).where(
        assessments.c.deleted.is_(True)
    )
    removed = 0
    for table in (criterion_results, assessment_scores):
        result = conn.execute(
            sa.delete(table).where(sa.tuple_(table.c.source, table.c.assessment_id).in_(gone))
        )
        removed += result.rowcount or 0
    conn.execute(
        sa.update(assessments)
        .where(assessments.c.deleted.is_(True), assessments.c.needs_scoring.is_(True))
        .values(needs_scoring=False)
    )
    return removed


def load_scoring_columns(conn: Connection, keys: Sequence[tuple[str, str]]) -> ScoringColumns:
    """Assessments, live findings and hospital profiles for the given (source, id) pairs."""
    by_source: dict[str, list[str]] = {}
    for source, ident in keys:
        by_source.setdefault(source, []).append(ident)
    assessment_columns: dict[str, list[Any]] = {name: [] for name in _ASSESSMENT_COLUMNS}
    finding_codes = _Findings()
    hospital_ids: dict[str, set[str]] = {}
    for source, ids in by_source.items():
        for chunk in chunks(ids, KEYS_PER_QUERY):
            rows = conn.execute(
                sa.select(
                    assessments.c.assessment_id,
                    assessments.c.hospital_id,
                    assessments.c.standard,
                    assessments.c.kind,
                    assessments.c.assessed_on,
                    assessments.c.status,
                ).where(assessments.c.source == source, assessments.c.assessment_id.in_(chunk))
            ).all()
            for a in rows:
                for name, value in zip(
                    _ASSESSMENT_COLUMNS,
                    (
                        make_key(source, a.assessment_id),
                        make_key(source, a.hospital_id),
                        a.standard,
                        a.kind,
                        a.assessed_on,
                        a.status,
                    ),
                    strict=True,
                ):
                    assessment_columns[name].append(value)
                hospital_ids.setdefault(source, set()).add(a.hospital_id)
            _add_live_findings(conn, source, chunk, finding_codes)
    hospital_columns: dict[str, list[Any]] = {name: [] for name in _HOSPITAL_COLUMNS}
    for source, hids in hospital_ids.items():
        for chunk in chunks(sorted(hids), KEYS_PER_QUERY):
            for h in conn.execute(
                sa.select(
                    hospitals.c.hospital_id, hospitals.c.has_obstetrics, hospitals.c.has_pediatrics
                ).where(hospitals.c.source == source, hospitals.c.hospital_id.in_(chunk))
            ).all():
                hospital_columns["hospital_key"].append(make_key(source, h.hospital_id))
                hospital_columns["has_obstetrics"].append(h.has_obstetrics)
                hospital_columns["has_pediatrics"].append(h.has_pediatrics)
    return ScoringColumns(assessment_columns, finding_codes.codes(), hospital_columns)


_UNIT = "\x1f"
"""Joins an assessment's item codes in the grouped read: a control character, which clean
cells never hold (a read that splits wrong falls back to rows)."""
_RESULTS = tuple(r.value for r in Result)
"""The results a finding holds once normalised, read as one letter each: "a" for the first."""
_LETTERS = (
    "CASE result "
    + " ".join(f"WHEN '{r}' THEN '{chr(ord('a') + n)}'" for n, r in enumerate(_RESULTS))
    + " ELSE '?' END"
)
_GROUPED_FINDINGS = {
    "sqlite": f"group_concat(item_code, char(31)), group_concat({_LETTERS}, '')",
    "postgresql": (
        "string_agg(item_code, chr(31) ORDER BY finding_id), "
        f"string_agg({_LETTERS}, '' ORDER BY finding_id)"
    ),
}
"""Per dialect: one assessment's live item codes as one text, and its results as a letter
each, in the same order (see `_add_live_findings`; SQLite steps every aggregate over the
same rows)."""


class _Codes(dict[str, int]):
    """Value → its number: the distinct values of a categorical column, numbered as met."""

    def __missing__(self, value: str) -> int:
        number = self[value] = len(self)
        return number

    def of(self, values: Sequence[str]) -> np.ndarray:
        """The numbers of `values` (new ones numbered)."""
        return np.fromiter(map(self.__getitem__, values), dtype=np.int32, count=len(values))

    def coded(self, parts: list[np.ndarray]) -> Coded:
        """The column whose numbers are `parts`, concatenated."""
        codes = np.concatenate(parts) if parts else np.empty(0, dtype=np.int32)
        return Coded(codes, list(self))


class _Findings:
    """Live findings as read: each column as codes (a number per finding, into the column's
    distinct values), so a finding needs no Python object of its own."""

    def __init__(self) -> None:
        self._columns = (_Codes(), _Codes(), _Codes((r, n) for n, r in enumerate(_RESULTS)))
        self._parts: tuple[list[np.ndarray], ...] = ([], [], [])
        self._items: dict[str, np.ndarray] = {}
        """An assessment's item codes as read (one text) → their numbers: assessments of one
        sheet often list the same items in the same order."""

    def add_texts(self, key: str, count: int, items: str, results: str) -> bool:
        """Add the `count` findings of assessment `key`: their item codes joined by `_UNIT`,
        their results as letters (see `_LETTERS`). False (nothing added) when a text does not
        split into `count` or a result is none of `_RESULTS`."""
        letters = np.frombuffer(results.encode(), dtype=np.uint8) - ord("a")
        if len(letters) != count or (count and letters.max() >= len(_RESULTS)):
            return False
        numbers = self._items.get(items)
        if numbers is None:
            codes = items.split(_UNIT)
            if len(codes) != count:
                return False
            numbers = self._items[items] = self._columns[1].of(codes)
        elif len(numbers) != count:
            return False
        self._parts[0].append(np.full(count, self._columns[0][key], dtype=np.int32))
        self._parts[1].append(numbers)
        self._parts[2].append(letters.astype(np.int32))
        return True

    def add_rows(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """Add findings given as (assessment key, item code, result)."""
        for n, (codes, part) in enumerate(zip(self._columns, self._parts, strict=True)):
            part.append(codes.of([row[n] for row in rows]))

    def codes(self) -> FindingCodes:
        """The findings read, as codes."""
        return FindingCodes(*(c.coded(p) for c, p in zip(self._columns, self._parts, strict=True)))


def _add_live_findings(conn: Connection, source: str, ids: Sequence[str], into: _Findings) -> None:
    """Add the live findings of `source`'s assessments `ids` to `into`.

    Read two texts per assessment (the database joins its item codes, and its results as
    letters), split in C: building a driver row and three strings per finding cost five
    times the query on 500k findings. The findings' order is the database's (scoring does
    not depend on it).
    """
    placeholder = PLACEHOLDERS.get(conn.dialect.paramstyle)
    grouped = _GROUPED_FINDINGS.get(conn.dialect.name)
    if placeholder is None or grouped is None:  # an unusual driver: the usual road
        _add_finding_rows(conn, source, ids, into)
        return
    marks = ", ".join(placeholder for _ in ids)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(
            f"SELECT assessment_id, count(*), {grouped} FROM findings "
            f"WHERE source = {placeholder} AND deleted = {placeholder} "
            f"AND assessment_id IN ({marks}) GROUP BY assessment_id",
            (source, False, *ids),
        )
        groups = cursor.fetchall()
    finally:
        cursor.close()
    for ident, count, items, results in groups:
        if not into.add_texts(make_key(source, ident), count, items, results):
            # a cell holding the separator: read its rows instead
            _add_finding_rows(conn, source, [ident], into)


def _add_finding_rows(conn: Connection, source: str, ids: Sequence[str], into: _Findings) -> None:
    """`_add_live_findings` a row per finding, through SQLAlchemy."""
    f = findings.c
    rows = conn.execute(
        sa.select(f.assessment_id, f.item_code, f.result).where(
            f.source == source, f.deleted.is_(False), f.assessment_id.in_(ids)
        )
    ).all()
    into.add_rows([(make_key(source, ident), code, result) for ident, code, result in rows])


def save_scores(
    conn: Connection,
    scores: pd.DataFrame | Sequence[Mapping[str, Any]],
    criteria: pd.DataFrame | Mapping[str, Sequence[Any]],
    fingerprints: Mapping[str, str],
    now: datetime,
) -> int:
    """Store results of scored assessments; rows whose result did not change are left alone.

    `scores` and `criteria` are `hqsync.scoring.ScoreFrames`' frames or `ScoreColumns`'
    values. Returns how many assessments' stored results changed. Clears their
    needs_scoring flag.
    """
    criteria_rows = criterion_rows(criteria, split_key)
    records = _records(scores)
    keys = [str(r["assessment_key"]) for r in records]
    existing = _existing_hashes(conn, keys)
    stale: list[str] = []
    score_rows: list[dict[str, Any]] = []
    written: list[int] = []
    for record in records:
        key = str(record["assessment_key"])
        source, ident = split_key(key)
        positions = criteria_rows.positions.get(key, [])
        row, hashed = score_row(
            source, ident, record, fingerprints.get(str(record["standard"]), "")
        )
        digest = result_hash(hashed, [criteria_rows.hashed[i] for i in positions])
        if existing.get(key) == digest:
            continue
        if key in existing:
            stale.append(key)
        score_rows.append({**row, "result_hash": digest, "computed_at": now})
        written.extend(positions)
    for source, ids in _group(stale).items():
        for chunk in chunks(ids, KEYS_PER_QUERY):
            for table in (criterion_results, assessment_scores):
                conn.execute(
                    sa.delete(table).where(
                        table.c.source == source, table.c.assessment_id.in_(chunk)
                    )
                )
    insert_many(conn, assessment_scores, score_rows, as_stored=SCORE_JSON)
    insert_many(conn, criterion_results, criteria_rows.rows.picked(written), as_stored=("details",))
    changed = len(score_rows)
    for source, ids in _group(keys).items():
        for chunk in chunks(ids, KEYS_PER_QUERY):
            conn.execute(
                sa.update(assessments)
                .where(
                    assessments.c.source == source,
                    assessments.c.assessment_id.in_(chunk),
                    assessments.c.needs_scoring.is_(True),
                )
                .values(needs_scoring=False)
            )
    return changed


def clear_needs_scoring(conn: Connection, keys: Iterable[tuple[str, str]]) -> None:
    """Clear the flag of assessments that cannot be scored (their rule set is gone)."""
    for source, ids in _group([make_key(s, i) for s, i in keys]).items():
        conn.execute(
            sa.update(assessments)
            .where(assessments.c.source == source, assessments.c.assessment_id.in_(ids))
            .values(needs_scoring=False)
        )


def _records(scores: pd.DataFrame | Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """A frame's rows as plain dicts keyed by column name (rows given as such: as they are)."""
    if hasattr(scores, "to_dict"):
        return [{str(k): v for k, v in row.items()} for row in scores.to_dict("records")]
    return scores


def _existing_hashes(conn: Connection, keys: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    s = assessment_scores.c
    for source, ids in _group(keys).items():
        for chunk in chunks(ids, KEYS_PER_QUERY):
            stmt = sa.select(s.assessment_id, s.result_hash).where(
                s.source == source, s.assessment_id.in_(chunk)
            )
            found.update({make_key(source, i): h for i, h in conn.execute(stmt).all()})
    return found


def _group(keys: Iterable[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key in keys:
        source, ident = split_key(key)
        grouped.setdefault(source, []).append(ident)
    return grouped
