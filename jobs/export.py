"""`hqsync scores`: the latest results, one record per assessment (DESIGN.md, Interfaces)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine

from hqsync.config.rulesets import RuleSet
from hqsync.models import results
from hqsync.sync.dashboard.loader import is_missing, plain_cell

LEVELS = ("1", "2", "3", "4", "5")


def scores_json(engine: Engine, rule_sets: Mapping[str, RuleSet]) -> list[dict[str, Any]]:
    """Every live, scored assessment with DESIGN's fields plus comparisons and explanations."""
    from hqsync.scoring import compare_assessments

    with engine.connect() as conn:
        scores, criteria = results.load_results(conn)
        hospitals = results.load_hospitals(conn)
    comparisons = compare_assessments(scores, criteria).assessments
    by_key = comparisons.set_index("assessment_key") if not comparisons.empty else None
    names = dict(zip(hospitals["hospital_key"], hospitals["name"], strict=True))
    levels_of: dict[str, dict[str, Any]] = {}
    for record in criteria.to_dict("records"):
        level = record["level"]
        value: Any = record["status"] if is_missing(level) else int(level)
        levels_of.setdefault(record["assessment_key"], {})[record["code"]] = value
    records = []
    for record in scores.to_dict("records"):
        key = record["assessment_key"]
        comparison = by_key.loc[key].to_dict() if by_key is not None and key in by_key.index else {}
        counts = record["level_counts"] or {}
        details = record["details"] or {}
        records.append(
            {
                "assessment_id": record["assessment_id"],
                "hospital_id": record["hospital_id"],
                "standard": record["standard"],
                "kind": record["kind"],
                "assessed_on": record["assessed_on"].isoformat() if record["assessed_on"] else None,
                "status": record["status"],
                "score": plain_cell(record["score"]),
                "passed": plain_cell(record["passed"]),
                "applicable": int(record["applicable"]),
                "assessed": int(record["assessed"]),
                "level_counts": {n: int(counts.get(n, 0)) for n in LEVELS} if counts else {},
                "parts": dict(record["parts"] or {}),
                "criteria": levels_of.get(key, {}),
                "source": record["source"],
                "hospital_name": plain_cell(names.get(record["hospital_key"])),
                "method": record["method"],
                "band": plain_cell(record["band"]),
                "previous_score": plain_cell(comparison.get("previous_score")),
                "change": plain_cell(comparison.get("change")),
                "rank": plain_cell(comparison.get("rank")),
                "at_risk": plain_cell(comparison.get("at_risk")),
                "self_council_diff": plain_cell(comparison.get("self_council_diff")),
                "details": details,
            }
        )
    records.sort(
        key=lambda r: (
            r["source"],
            r["hospital_id"],
            r["standard"],
            r["assessed_on"] or "",
            r["assessment_id"],
        )
    )
    return records


def scores_csv_rows(records: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """The same records flattened for a spreadsheet: one column per level and part."""
    parts = sorted({p for r in records for p in r["parts"]})
    header = [
        "source",
        "assessment_id",
        "hospital_id",
        "hospital_name",
        "standard",
        "kind",
        "assessed_on",
        "status",
        "score",
        "passed",
        "band",
        "applicable",
        "assessed",
        *[f"level_{n}" for n in LEVELS],
        *[f"part_{p}" for p in parts],
        "change",
        "rank",
        "at_risk",
        "self_council_diff",
    ]
    rows = []
    for r in records:
        rows.append(
            [
                r["source"],
                r["assessment_id"],
                r["hospital_id"],
                r["hospital_name"],
                r["standard"],
                r["kind"],
                r["assessed_on"],
                r["status"],
                r["score"],
                r["passed"],
                r["band"],
                r["applicable"],
                r["assessed"],
                *[r["level_counts"].get(n, "") for n in LEVELS],
                *[r["parts"].get(p, "") for p in parts],
                r["change"],
                r["rank"],
                r["at_risk"],
                r["self_council_diff"],
            ]
        )
    return header, rows
