"""Repository functions for scoring: what needs scoring, its inputs, and storing results.

Reading the results back for dashboards, exports and alerts is `hqsync.models.reports`.
"""

from __future__ import annotations

import hashlib
import json
import math
from _json import make_encoder  # CPython's C JSON encoder, behind json.dumps
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring_ascii
from typing import Any, cast

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hqsync.config.utils import chunks
from hqsync.models.bulk import PLACEHOLDERS, insert_many
from hqsync.models.keys import make_key, split_key
from hqsync.models.tables import (
    Assessment,
    AssessmentScore,
    CriterionResult,
    Finding,
    Hospital,
)

_CRITERIA = cast(sa.Table, CriterionResult.__table__)
_SCORES = cast(sa.Table, AssessmentScore.__table__)

KEYS_PER_QUERY = 900
"""Ids per `IN (...)` list when loading or saving scores (see `hqsync.config.utils.IN_CHUNK`)."""


@dataclass(frozen=True)
class ScoringInputs:
    """The frames `hqsync.scoring.score_assessments` takes, for a set of assessments."""

    assessments: pd.DataFrame
    findings: pd.DataFrame
    hospitals: pd.DataFrame


def mark_stale_rule_sets(conn: Connection, fingerprints: Mapping[str, str]) -> int:
    """Flag for re-scoring every assessment scored under an older version of its rule set."""
    flagged = 0
    for standard, fingerprint in fingerprints.items():
        stale = sa.select(AssessmentScore.source, AssessmentScore.assessment_id).where(
            AssessmentScore.standard == standard,
            AssessmentScore.rule_set_fingerprint != fingerprint,
        )
        rows = conn.execute(stale).all()
        for source, assessment_id in rows:
            conn.execute(
                sa.update(Assessment)
                .where(
                    Assessment.source == source,
                    Assessment.assessment_id == assessment_id,
                    Assessment.needs_scoring.is_(False),
                )
                .values(needs_scoring=True)
            )
        flagged += len(rows)
    return flagged


def assessments_to_score(conn: Connection) -> list[tuple[str, str]]:
    """(source, assessment_id) of every live assessment flagged for scoring."""
    stmt = (
        sa.select(Assessment.source, Assessment.assessment_id)
        .where(Assessment.needs_scoring.is_(True), Assessment.deleted.is_(False))
        .order_by(Assessment.source, Assessment.assessment_id)
    )
    return [(r[0], r[1]) for r in conn.execute(stmt).all()]


def drop_scores_of_deleted(conn: Connection) -> int:
    """Remove derived results of assessments that vanished from their sheet."""
    gone = sa.select(Assessment.source, Assessment.assessment_id).where(
        Assessment.deleted.is_(True)
    )
    removed = 0
    for table in (CriterionResult, AssessmentScore):
        result = conn.execute(
            sa.delete(table).where(sa.tuple_(table.source, table.assessment_id).in_(gone))
        )
        removed += result.rowcount or 0
    conn.execute(
        sa.update(Assessment)
        .where(Assessment.deleted.is_(True), Assessment.needs_scoring.is_(True))
        .values(needs_scoring=False)
    )
    return removed


def load_scoring_inputs(conn: Connection, keys: Sequence[tuple[str, str]]) -> ScoringInputs:
    """Assessments, live findings and hospital profiles for the given (source, id) pairs."""
    by_source: dict[str, list[str]] = {}
    for source, ident in keys:
        by_source.setdefault(source, []).append(ident)
    assessments: list[dict[str, Any]] = []
    findings: tuple[list[str], list[str], list[str]] = ([], [], [])
    hospital_ids: dict[str, set[str]] = {}
    for source, ids in by_source.items():
        for chunk in chunks(ids, KEYS_PER_QUERY):
            rows = conn.execute(
                sa.select(
                    Assessment.assessment_id,
                    Assessment.hospital_id,
                    Assessment.standard,
                    Assessment.kind,
                    Assessment.assessed_on,
                    Assessment.status,
                ).where(Assessment.source == source, Assessment.assessment_id.in_(chunk))
            ).all()
            for a in rows:
                assessments.append(
                    {
                        "assessment_key": make_key(source, a.assessment_id),
                        "hospital_key": make_key(source, a.hospital_id),
                        "standard": a.standard,
                        "kind": a.kind,
                        "assessed_on": a.assessed_on,
                        "status": a.status,
                    }
                )
                hospital_ids.setdefault(source, set()).add(a.hospital_id)
            _add_live_findings(conn, source, chunk, findings)
    hospitals: list[dict[str, Any]] = []
    for source, hids in hospital_ids.items():
        for chunk in chunks(sorted(hids), KEYS_PER_QUERY):
            for h in conn.execute(
                sa.select(
                    Hospital.hospital_id, Hospital.has_obstetrics, Hospital.has_pediatrics
                ).where(Hospital.source == source, Hospital.hospital_id.in_(chunk))
            ).all():
                hospitals.append(
                    {
                        "hospital_key": make_key(source, h.hospital_id),
                        "has_obstetrics": h.has_obstetrics,
                        "has_pediatrics": h.has_pediatrics,
                    }
                )
    return ScoringInputs(
        assessments=pd.DataFrame(
            assessments,
            columns=["assessment_key", "hospital_key", "standard", "kind", "assessed_on", "status"],
        ),
        findings=pd.DataFrame(
            dict(zip(("assessment_key", "item_code", "result"), findings, strict=True)),
            columns=["assessment_key", "item_code", "result"],
            dtype=object,
        ),
        hospitals=pd.DataFrame(
            hospitals, columns=["hospital_key", "has_obstetrics", "has_pediatrics"]
        ),
    )


_UNIT = "\x1f"
"""Joins a finding's item code and result, and findings, in the grouped read: a control
character, which clean cells never hold (a read that splits wrong falls back to rows)."""
_GROUPED_FINDINGS = {
    "sqlite": "group_concat(item_code || char(31) || result, char(31))",
    "postgresql": "string_agg(item_code || chr(31) || result, chr(31))",
}
"""Per dialect: one assessment's live findings as one text (see `_add_live_findings`)."""


def _add_live_findings(
    conn: Connection,
    source: str,
    ids: Sequence[str],
    into: tuple[list[str], list[str], list[str]],
) -> None:
    """Append the live findings of `source`'s assessments `ids` to the columns `into`
    (assessment key, item code, result).

    Read one text per assessment (the database joins its findings), split in C: building a
    driver row and three strings per finding cost five times the query on 500k findings.
    The findings' order is the database's (scoring does not depend on it).
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
    keys, codes, found = into
    for ident, count, text in groups:
        parts = text.split(_UNIT)
        if len(parts) != 2 * count:  # a cell holding the separator: read its rows instead
            _add_finding_rows(conn, source, [ident], into)
            continue
        keys.extend([make_key(source, ident)] * count)
        codes.extend(parts[0::2])
        found.extend(parts[1::2])


def _add_finding_rows(
    conn: Connection,
    source: str,
    ids: Sequence[str],
    into: tuple[list[str], list[str], list[str]],
) -> None:
    """`_add_live_findings` a row per finding, through SQLAlchemy."""
    f = Finding
    rows = conn.execute(
        sa.select(f.assessment_id, f.item_code, f.result).where(
            f.source == source, f.deleted.is_(False), f.assessment_id.in_(ids)
        )
    ).all()
    for ident, code, result in rows:
        into[0].append(make_key(source, ident))
        into[1].append(code)
        into[2].append(result)


def save_scores(
    conn: Connection,
    scores: pd.DataFrame,
    criteria: pd.DataFrame,
    fingerprints: Mapping[str, str],
    now: datetime,
) -> int:
    """Store results of scored assessments; rows whose result did not change are left alone.

    Returns how many assessments' stored results changed. Clears their needs_scoring flag.
    """
    criteria_by_key = _criteria_by_key(criteria)
    keys = [str(k) for k in scores["assessment_key"]]
    existing = _existing_hashes(conn, keys)
    stale: list[str] = []
    score_rows: list[dict[str, Any]] = []
    crit_rows: list[dict[str, Any]] = []
    for record in _records(scores):
        key = str(record["assessment_key"])
        source, ident = split_key(key)
        rows, texts = criteria_by_key.get(key, _NO_CRITERIA)
        score_row, hashed = _score_row(
            source, ident, record, fingerprints.get(str(record["standard"]), "")
        )
        digest = _result_hash(hashed, texts)
        if existing.get(key) == digest:
            continue
        if key in existing:
            stale.append(key)
        score_rows.append({**score_row, "result_hash": digest, "computed_at": now})
        crit_rows.extend(rows)
    for source, ids in _group(stale).items():
        for chunk in chunks(ids, KEYS_PER_QUERY):
            for table in (CriterionResult, AssessmentScore):
                conn.execute(
                    sa.delete(table).where(table.source == source, table.assessment_id.in_(chunk))
                )
    insert_many(conn, _SCORES, score_rows, as_stored=_SCORE_JSON)
    insert_many(conn, _CRITERIA, crit_rows, as_stored=("details",))
    changed = len(score_rows)
    for source, ids in _group(keys).items():
        for chunk in chunks(ids, KEYS_PER_QUERY):
            conn.execute(
                sa.update(Assessment)
                .where(
                    Assessment.source == source,
                    Assessment.assessment_id.in_(chunk),
                    Assessment.needs_scoring.is_(True),
                )
                .values(needs_scoring=False)
            )
    return changed


def clear_needs_scoring(conn: Connection, keys: Iterable[tuple[str, str]]) -> None:
    """Clear the flag of assessments that cannot be scored (their rule set is gone)."""
    for source, ids in _group([make_key(s, i) for s, i in keys]).items():
        conn.execute(
            sa.update(Assessment)
            .where(Assessment.source == source, Assessment.assessment_id.in_(ids))
            .values(needs_scoring=False)
        )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as plain dicts keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _existing_hashes(conn: Connection, keys: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for source, ids in _group(keys).items():
        for chunk in chunks(ids, KEYS_PER_QUERY):
            stmt = sa.select(AssessmentScore.assessment_id, AssessmentScore.result_hash).where(
                AssessmentScore.source == source, AssessmentScore.assessment_id.in_(chunk)
            )
            found.update({make_key(source, i): h for i, h in conn.execute(stmt).all()})
    return found


_SCORE_JSON = ("level_counts", "parts", "details")
"""An assessment score's JSON columns."""


def _score_row(
    source: str, ident: str, record: Mapping[str, Any], fingerprint: str
) -> tuple[dict[str, Any], str]:
    """An assessment_scores row (its JSON columns as the text SQLAlchemy's JSON type stores
    of `_jsonable(value)`), and the row's text as `_result_hash` reads it.

    The engine's values are plain JSON with text keys: they are encoded as they are (the
    bytes `_jsonable` then `json.dumps` gave); a value the strict encoders refuse goes
    through `_jsonable`.
    """
    row: dict[str, Any] = {
        "source": source,
        "assessment_id": ident,
        "standard": str(record["standard"]),
        "method": str(record["method"]),
        "score": _float_or_none(record.get("score")),
        "passed": _bool_or_none(record.get("passed")),
        "band": _str_or_none(record.get("band")),
        "applicable": int(record.get("applicable") or 0),
        "assessed": int(record.get("assessed") or 0),
        **{name: record.get(name) or {} for name in _SCORE_JSON},
        "rule_set_fingerprint": fingerprint,
    }
    try:
        hashed = _HASHED_JSON(row)
        stored = [_STORED_JSON(row[name]) for name in _SCORE_JSON]
    except (TypeError, ValueError):
        for name in _SCORE_JSON:
            row[name] = _jsonable(row[name])
        hashed = _hash_text(row)
        stored = [json.dumps(row[name]) for name in _SCORE_JSON]
    row.update(zip(_SCORE_JSON, stored, strict=True))
    return row, hashed


_NO_CRITERIA: tuple[list[dict[str, Any]], list[str]] = ([], [])


def _not_plain(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not plain JSON")


def _plain_encoder(item_separator: str, key_separator: str) -> Callable[[Any], str]:
    """`json.JSONEncoder(sort_keys=True, allow_nan=False, separators=..., default=_not_plain)
    .encode`, with CPython's C encoder built once (`encode` builds one per call, which cost
    more than the encoding on 30k criterion rows): the same text, the same errors."""
    encode = make_encoder(
        None, _not_plain, encode_basestring_ascii, None, key_separator, item_separator,
        True, False, False,
    )  # fmt: skip

    def text(value: Any) -> str:
        return "".join(encode(value, 0))

    return text


_STORED_JSON = _plain_encoder(", ", ": ")
"""A plain value's text as SQLAlchemy's JSON type stores `_jsonable(value)` (keys sorted)."""
_HASHED_JSON = _plain_encoder(",", ":")
"""A plain value's text as `_result_hash` reads it."""


def _criteria_by_key(
    criteria: pd.DataFrame,
) -> dict[str, tuple[list[dict[str, Any]], list[str]]]:
    """Assessment key → (its criterion rows, details as stored JSON text; each row's text as
    the result hash reads it), in the frame's order.

    The engine's details are plain JSON with text keys (see `hqsync.scoring.ScoreFrames`):
    they are encoded as they are, which gives the bytes `_jsonable` then `json.dumps` gave;
    a value the strict encoders refuse (numpy, NaN, a set, a date) goes through `_jsonable`.
    """
    grouped: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}
    names = ("assessment_key", "code", "level", "value", "status", "details")
    for assessment_key, code, level, value, status, details in zip(
        *(criteria[name].tolist() for name in names), strict=True
    ):
        key = str(assessment_key)
        source, ident = split_key(key)
        row = {
            "source": source,
            "assessment_id": ident,
            "code": str(code),
            "level": None if level is None or pd.isna(level) else int(level),
            "value": _float_or_none(value),
            "status": str(status or ""),
            "details": details or {},
        }
        try:
            hashed = _HASHED_JSON(row)
            stored = _STORED_JSON(row["details"])
        except (TypeError, ValueError):
            row["details"] = _jsonable(row["details"])
            hashed = _hash_text(row)
            stored = json.dumps(row["details"])
        row["details"] = stored
        rows, texts = grouped.setdefault(key, ([], []))
        rows.append(row)
        texts.append(hashed)
    return grouped


def _float_or_none(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    return float(value)


def _bool_or_none(value: Any) -> bool | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return bool(value)


def _str_or_none(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def _jsonable(value: Any) -> Any:
    """A plain-JSON copy: numpy scalars made plain, NaN/NA and ±infinity as None (JSON has
    none of them, and PostgreSQL refuses them), dates as ISO, sorted keys."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, set | frozenset):
        return [_jsonable(v) for v in sorted(value, key=str)]
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return _jsonable(value.tolist())
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _json_default(value: Any) -> Any:
    return _jsonable(value)


def _hash_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default, separators=(",", ":"))


def _result_hash(score_text: str, criteria_texts: Sequence[str]) -> str:
    """sha256 of `{"score": score row, "criteria": [criterion rows]}` as sorted, compact JSON
    (the rows given as their texts)."""
    text = f'{{"criteria":[{",".join(criteria_texts)}],"score":{score_text}}}'
    return hashlib.sha256(text.encode()).hexdigest()


def _group(keys: Iterable[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key in keys:
        source, ident = split_key(key)
        grouped.setdefault(source, []).append(ident)
    return grouped
