"""`hqsync scores`: the latest results, one record per assessment (see ARCHITECTURE.md).

Level counts follow each rule set's own levels (`RuleSet.levels`, 1..max_level), so a council
rule set with 7 levels reports levels 6 and 7; the CSV has one column per level of any rule set.
An incomplete assessment (`complete` false) has no band, rank or comparisons unless
`rank_incomplete` (see `hqsync.scoring.compare`). CSV text that a spreadsheet would evaluate
is neutralised (`hqsync.config.utils.neutralise_formula`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Engine

from hqsync.config.utils import neutralise_formula
from hqsync.config.vocabulary import levels_of
from hqsync.models import reports
from hqsync.scoring.ruleset import RuleSet


def scores_json(
    engine: Engine, rule_sets: Mapping[str, RuleSet], *, rank_incomplete: bool = False
) -> list[dict[str, Any]]:
    """Every live, scored assessment with the documented fields plus comparisons and
    explanations; `level_counts` has one entry per level of the assessment's rule set.

    `complete` says whether every applicable criterion was assessed; an incomplete one has
    `band` and `rank` null unless `rank_incomplete`. `no_score_reason` says why `score` is null.
    """
    from hqsync.scoring.compare_rows import ScoredRow, compare_rows

    # Plain rows, no pandas: importing it would cost more than all the rest of this command.
    with engine.connect() as conn:
        rows = reports.load_score_rows(conn)
        levels = reports.load_criterion_levels(conn)
        names = reports.load_hospital_names(conn)
    scored = [ScoredRow.of(row) for row in rows]
    compared = compare_rows(scored, rank_incomplete=rank_incomplete)
    by_key = {comparison["assessment_key"]: comparison for comparison in compared}
    criteria_of: dict[str, dict[str, Any]] = {}
    for key, code, level, status in levels:
        value: Any = status if level is None else int(level)
        criteria_of.setdefault(key, {})[code] = value
    records = []
    for record, row in zip(rows, scored, strict=True):
        key = record["assessment_key"]
        comparison = by_key[key]
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
                "score": row.score,
                "passed": record["passed"],
                "applicable": int(record["applicable"]),
                "assessed": int(record["assessed"]),
                "level_counts": _level_counts(counts, rule_sets.get(str(record["standard"]))),
                "parts": dict(record["parts"] or {}),
                "criteria": criteria_of.get(key, {}),
                "source": record["source"],
                "hospital_name": names.get(record["hospital_key"]),
                "method": record["method"],
                "band": comparison["band"],
                "previous_score": comparison["previous_score"],
                "change": comparison["change"],
                "rank": comparison["rank"],
                "at_risk": comparison["at_risk"],
                "self_council_diff": comparison["self_council_diff"],
                "complete": comparison["complete"],
                "no_score_reason": comparison["no_score_reason"],
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


def _level_counts(counts: Mapping[str, Any], rule_set: RuleSet | None) -> dict[str, int]:
    """Stored level counts for every level of `rule_set` (0 where none); {} without counts.

    When the rule set is no longer configured (or no longer scores by levels), the levels the
    counts were stored with are reported.
    """
    if not counts:
        return {}
    levels = rule_set.levels if rule_set is not None else ()
    if not levels:
        levels = levels_of(max(int(n) for n in counts))
    return {str(n): int(counts.get(str(n), 0)) for n in levels}


def scores_csv(records: Sequence[Mapping[str, Any]], levels: Sequence[int] = ()) -> str:
    """`scores_csv_rows` as CSV text, the header first (what `hqsync scores --format csv`
    prints)."""
    buffer = io.StringIO()
    header, rows = scores_csv_rows(records, levels)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def scores_csv_rows(
    records: Sequence[Mapping[str, Any]], levels: Sequence[int] = ()
) -> tuple[list[str], list[list[Any]]]:
    """The same records flattened for a spreadsheet: one column per level and part; text that
    a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR first) starts with `'`.

    The level columns run from 1 to the highest of `levels` (pass
    `hqsync.scoring.report_levels(rule_sets.values())`) and of the records' own levels.
    """
    parts = sorted({p for r in records for p in r["parts"]})
    top = max([*levels, *(int(n) for r in records for n in r["level_counts"])], default=0)
    level_names = [str(n) for n in levels_of(top)]
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
        *[f"level_{n}" for n in level_names],
        *[f"part_{p}" for p in parts],
        "change",
        "rank",
        "at_risk",
        "self_council_diff",
        "complete",
        "no_score_reason",
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
                *[r["level_counts"].get(n, "") for n in level_names],
                *[r["parts"].get(p, "") for p in parts],
                r["change"],
                r["rank"],
                r["at_risk"],
                r["self_council_diff"],
                r["complete"],
                r["no_score_reason"],
            ]
        )
    return header, [[_csv_cell(value) for value in row] for row in rows]


def _csv_cell(value: Any) -> Any:
    """A CSV cell: text neutralised against formulas, its line breaks written as `\n` (which
    the CSV writer quotes; a bare `\r` it would not), other values as they are."""
    if not isinstance(value, str):
        return value
    return neutralise_formula(value).replace("\r\n", "\n").replace("\r", "\n")
