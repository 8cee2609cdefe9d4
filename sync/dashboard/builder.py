"""The leaders' dashboard: what each tab shows, built from the store's data as a document.

Every table's columns are declared under keys (`Columns`): cells are given by key and colours
are placed on the columns of their keys, so adding or moving a column cannot shift a colour
onto another column. The level columns and colours run over 1..max_level of the configured
levels rule sets (`levels_of`), not a fixed five.

The Summary and Criteria tabs hold each hospital's latest self-assessment and latest council
assessment per standard, side by side; an incomplete one shows "assessed/applicable" and why it
has no band or rank (see `hqsync.scoring.compare`). Names are in Vietnamese alphabetical order
(`hqsync.config.utils.name_sort_key`), standards by their display names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from hqsync.config.utils import name_sort_key
from hqsync.config.vocabulary import AssessmentKind, Language, Method, Status, levels_of
from hqsync.scoring.ruleset import RuleSet, report_levels
from hqsync.sync.dashboard.colours import (
    DEFAULT_MAX_LEVEL,
    LEVEL_COUNT_MAX,
    RISK_COLOUR,
    band_colour,
    level_colour,
    level_colours,
)
from hqsync.sync.dashboard.columns import Columns, ColumnSpec
from hqsync.sync.dashboard.document import (
    Column,
    Dashboard,
    DocumentCell,
    LineChart,
    Link,
    Table,
    ValueColour,
)
from hqsync.sync.dashboard.evidence import (
    EvidenceIndex,
    evidence_cells,
    evidence_columns,
    gap_links,
)
from hqsync.sync.dashboard.formats import (
    as_fraction,
    is_percent_standard,
    reason_text,
    signed,
    standard_name,
)
from hqsync.sync.dashboard.health import about_table, issues_table
from hqsync.sync.dashboard.labels import LABELS
from hqsync.sync.dashboard.loader import DashboardData, is_missing, plain_cell
from hqsync.sync.dashboard.progress import progress_tables
from hqsync.sync.interfaces import CellValue

TREND_SERIES_LIMIT = 25
"""Hospitals drawn on the trend chart (the table holds them all)."""


SUMMARY_LEADING = (
    ColumnSpec("hospital", width=34),
    ColumnSpec("hospital_id", width=10),
    ColumnSpec("district", width=16),
    ColumnSpec("standard", width=10),
    ColumnSpec("kind", width=14),
    ColumnSpec("date", "date", width=12),
    ColumnSpec("score", "number", width=11),
    ColumnSpec("percent", "percent", width=11),
    ColumnSpec("band", width=16),
    ColumnSpec("note", width=30),
    ColumnSpec("change", "signed", width=10),
    ColumnSpec("rank", "integer", width=9),
    ColumnSpec("applicable", width=11),
)
"""The Summary's columns before its level-count and part columns."""
SUMMARY_TRAILING = (
    ColumnSpec("self_diff", "signed", width=12),
    ColumnSpec("at_risk", width=10),
    ColumnSpec("failing", width=40),
)
"""The Summary's columns after its level-count and part columns."""


def level_key(level: int) -> str:
    """The key of the Summary's column counting the criteria at `level`."""
    return f"level_{level}"


def part_key(part: str) -> str:
    """The key of the Summary's column scoring part `part`."""
    return f"part_{part}"


def max_level_of(rule_sets: Mapping[str, RuleSet]) -> int:
    """The top level the dashboard shows: the highest `max_level` of the levels rule sets."""
    return len(report_levels(rule_sets.values())) or DEFAULT_MAX_LEVEL


def latest_assessments(scores: pd.DataFrame, *, by_kind: bool = False) -> pd.DataFrame:
    """Each hospital's latest non-draft assessment per standard (council wins a same-day tie);
    `by_kind`: its latest self-assessment and its latest council assessment per standard."""
    live = scores[scores["status"] != Status.DRAFT].copy()
    if live.empty:
        return live
    live["_council"] = (live["kind"] == AssessmentKind.COUNCIL).astype(int)
    live["_date"] = pd.to_datetime(live["assessed_on"])
    live = live.sort_values(["hospital_key", "standard", "_date", "_council", "assessment_key"])
    series = ["hospital_key", "standard", *(["kind"] if by_kind else [])]
    latest = live.groupby(series, sort=False).tail(1)
    return latest.drop(columns=["_council", "_date"]).reset_index(drop=True)


def build_dashboard(
    data: DashboardData, language: str, now: datetime, timezone: str = "Asia/Ho_Chi_Minh"
) -> Dashboard:
    """The dashboard's tabs (Summary, Progress when cycles are configured, Criteria, Gaps,
    Trend, Data issues, About); times are shown in `timezone`."""
    labels = LABELS[Language(language)]
    zone = ZoneInfo(timezone)
    max_level = max_level_of(data.rule_sets)
    hospitals = data.hospitals.set_index("hospital_key") if not data.hospitals.empty else None
    comparisons = (
        data.comparisons.set_index("assessment_key") if not data.comparisons.empty else None
    )
    latest = _order_by_hospital(latest_assessments(data.scores), hospitals)
    both_kinds = _order_by_hospital(latest_assessments(data.scores, by_kind=True), hospitals)
    return Dashboard(
        tables=(
            _summary(
                both_kinds,
                hospitals,
                comparisons,
                rule_sets=data.rule_sets,
                labels=labels,
                max_level=max_level,
            ),
            *progress_tables(data.cycles, labels, data.rule_sets),
            _criteria(
                both_kinds,
                data.criteria,
                hospitals,
                labels,
                rule_sets=data.rule_sets,
                max_level=max_level,
            ),
            _gaps(
                latest,
                data.criteria,
                hospitals,
                labels,
                rule_sets=data.rule_sets,
                max_level=max_level,
                evidence=data.evidence,
            ),
            _trend(data.scores, hospitals, labels, data.rule_sets),
            issues_table(data.rejected, data.source_failures, labels, Language(language), zone),
            about_table(data, labels, now, zone),
        )
    )


def _order_by_hospital(latest: pd.DataFrame, hospitals: pd.DataFrame | None) -> pd.DataFrame:
    """By standard, hospital name (Vietnamese order), then council before self."""
    if latest.empty:
        return latest
    keys = [
        (
            str(record["standard"]),
            *hospital_name_key(hospitals, record["hospital_key"]),
            record["kind"] != AssessmentKind.COUNCIL,
        )
        for record in _records(latest[["standard", "hospital_key", "kind"]])
    ]
    order = sorted(range(len(keys)), key=keys.__getitem__)
    return latest.iloc[order].reset_index(drop=True)


def hospital_name_key(hospitals: pd.DataFrame | None, hospital_key: str) -> tuple[Any, ...]:
    """The sort key of a hospital by its name (Vietnamese order), then its key."""
    name = _hospital_field(hospitals, hospital_key, "name")
    return (name_sort_key(str(name or hospital_key)), str(hospital_key))


def _hospital_field(hospitals: pd.DataFrame | None, key: str, field: str) -> Any:
    if hospitals is None or key not in hospitals.index:
        return None
    value = hospitals.at[key, field]
    return None if is_missing(value) else value


def _parts_of(latest: pd.DataFrame) -> list[str]:
    parts: set[str] = set()
    for value in latest.get("parts", []):
        if isinstance(value, Mapping):
            parts.update(str(k) for k in value)
    return sorted(parts)


def _summary_columns(
    labels: Mapping[str, str], levels: Sequence[int], parts: Sequence[str]
) -> Columns:
    return Columns(
        [
            *(spec.keyed(labels) for spec in SUMMARY_LEADING),
            *((level_key(n), Column(f"{labels['level']} {n}", "integer", width=8)) for n in levels),
            *((part_key(p), Column(f"{labels['part']} {p}", "number", width=9)) for p in parts),
            *(spec.keyed(labels) for spec in SUMMARY_TRAILING),
        ]
    )


def _summary(
    latest: pd.DataFrame,
    hospitals: pd.DataFrame | None,
    comparisons: pd.DataFrame | None,
    *,
    rule_sets: Mapping[str, RuleSet],
    labels: Mapping[str, str],
    max_level: int,
) -> Table:
    parts = _parts_of(latest)
    levels = levels_of(max_level)
    columns = _summary_columns(labels, levels, parts)
    rows: list[tuple[CellValue, ...]] = []
    fills: dict[tuple[int, int], str] = {}
    for index, stored in enumerate(_records(latest)):
        key = stored["assessment_key"]
        comparison = (
            comparisons.loc[key].to_dict()
            if comparisons is not None and key in comparisons.index
            else {}
        )
        # An incomplete assessment has no band (unless incomplete ones are ranked).
        record = {**stored, "band": comparison.get("band", stored["band"])}
        cells = _summary_cells(
            record,
            comparison,
            hospitals,
            rule_sets=rule_sets,
            labels=labels,
            levels=levels,
            parts=parts,
        )
        rows.append(columns.row(cells))
        colour = band_colour(record, rule_sets.get(str(record["standard"])))
        if colour:
            score_key = "percent" if is_percent_standard(rule_sets, record["standard"]) else "score"
            fills[(index, columns.index("band"))] = colour
            fills[(index, columns.index(score_key))] = colour
        if cells["at_risk"] is not None:
            fills[(index, columns.index("at_risk"))] = RISK_COLOUR
    # A level-count column is coloured wherever a hospital has criteria at that level.
    count_colours = tuple(
        ValueColour((columns.index(level_key(n)),), level_colour(n, max_level), 1, LEVEL_COUNT_MAX)
        for n in levels
    )
    return Table(
        key="summary",
        title=labels["summary"],
        columns=columns.columns,
        rows=tuple(rows),
        fills=fills,
        freeze_rows=1,
        freeze_columns=1,
        value_colours=count_colours,
    )


def _summary_cells(
    record: Mapping[str, Any],
    comparison: Mapping[str, Any],
    hospitals: pd.DataFrame | None,
    *,
    rule_sets: Mapping[str, RuleSet],
    labels: Mapping[str, str],
    levels: Sequence[int],
    parts: Sequence[str],
) -> dict[str, CellValue]:
    """One assessment's Summary cells by column key."""
    details = record.get("details") or {}
    level_counts = record.get("level_counts") or {}
    parts_map = record.get("parts") or {}
    at_risk = not is_missing(comparison.get("at_risk")) and bool(comparison.get("at_risk"))
    failing = ", ".join(str(x) for x in details.get("failing_items", []) or [])
    percent = is_percent_standard(rule_sets, record["standard"])
    note = reason_text(comparison.get("no_score_reason"), labels)
    if note is None and comparison.get("complete") is False:
        note = labels["incomplete"]
    return {
        "hospital": _hospital_field(hospitals, record["hospital_key"], "name")
        or record["hospital_id"],
        "hospital_id": record["hospital_id"],
        "district": _hospital_field(hospitals, record["hospital_key"], "district"),
        "standard": standard_name(rule_sets, record["standard"]),
        "kind": labels.get(record["kind"], record["kind"]),
        "date": plain_cell(record["assessed_on"]),
        "score": None if percent else plain_cell(record["score"]),
        "percent": as_fraction(record["score"]) if percent else None,
        "band": _band_text(record, labels),
        "note": note,
        "change": signed(comparison.get("change")),
        "rank": plain_cell(comparison.get("rank")),
        "applicable": f"{int(record['assessed'])}/{int(record['applicable'])}",
        **{
            level_key(n): plain_cell(level_counts.get(str(n))) if level_counts else None
            for n in levels
        },
        **{part_key(p): plain_cell(parts_map.get(p)) for p in parts},
        "self_diff": signed(comparison.get("self_council_diff")),
        "at_risk": labels["fell"] if at_risk else None,
        "failing": failing or None,
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as plain dicts keyed by column name."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _band_text(record: Mapping[str, Any], labels: Mapping[str, str]) -> CellValue:
    band = record.get("band")
    if not is_missing(band):
        return str(band)
    passed = record.get("passed")
    if is_missing(passed):
        return None
    return labels["pass"] if passed else labels["fail"]


def _natural_key(code: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", code))


CRITERIA_LEADING = (
    ColumnSpec("hospital", width=34),
    ColumnSpec("standard", width=10),
    ColumnSpec("kind", width=14),
    ColumnSpec("date", "date", width=12),
)
"""The Criteria tab's columns before one column per criterion code."""


def _criteria(
    latest: pd.DataFrame,
    criteria: pd.DataFrame,
    hospitals: pd.DataFrame | None,
    labels: Mapping[str, str],
    *,
    rule_sets: Mapping[str, RuleSet],
    max_level: int,
) -> Table:
    levels = latest[latest["method"] == Method.LEVELS] if not latest.empty else latest
    keys = set(levels["assessment_key"]) if not levels.empty else set()
    chosen = criteria[criteria["assessment_key"].isin(keys)] if keys else criteria.iloc[0:0]
    codes = sorted(set(chosen["code"]), key=_natural_key)
    code_keys = [f"code:{code}" for code in codes]
    columns = Columns(
        [
            *(spec.keyed(labels) for spec in CRITERIA_LEADING),
            *(
                (k, Column(code, "integer", width=7))
                for k, code in zip(code_keys, codes, strict=True)
            ),
        ]
    )
    by_key: dict[str, dict[str, CellValue]] = {}
    for record in _records(chosen[["assessment_key", "code", "level"]]):
        cells = by_key.setdefault(record["assessment_key"], {})
        cells[f"code:{record['code']}"] = plain_cell(record["level"])
    rows: list[tuple[CellValue, ...]] = []
    for record in _records(levels) if not levels.empty else []:
        cells = {
            "hospital": _hospital_field(hospitals, record["hospital_key"], "name")
            or record["hospital_id"],
            "standard": standard_name(rule_sets, record["standard"]),
            "kind": labels.get(record["kind"], record["kind"]),
            "date": plain_cell(record["assessed_on"]),
            **by_key.get(record["assessment_key"], {}),
        }
        rows.append(columns.row(cells))
    return Table(
        key="criteria",
        title=labels["criteria"],
        columns=columns.columns,
        rows=tuple(rows),
        value_colours=level_colours(columns.indexes(code_keys), max_level),
        freeze_rows=1,
        freeze_columns=1,
    )


GAPS_COLUMNS = (
    ColumnSpec("hospital", width=34),
    ColumnSpec("standard", width=10),
    ColumnSpec("criterion", width=10),
    ColumnSpec("title", width=50),
    ColumnSpec("current", "integer", width=10),
    ColumnSpec("next", "integer", width=10),
    ColumnSpec("to_fix", width=60),
)
"""The Gaps tab's leading columns: one row per criterion below its top level, with what to fix
(then one column per evidence link of its failing sub-items)."""


def _gaps(
    latest: pd.DataFrame,
    criteria: pd.DataFrame,
    hospitals: pd.DataFrame | None,
    labels: Mapping[str, str],
    *,
    rule_sets: Mapping[str, RuleSet],
    max_level: int,
    evidence: EvidenceIndex,
) -> Table:
    """One row per criterion below its top level: what to fix, and the failing sub-items'
    evidence links (`gap_links`)."""
    gaps: list[dict[str, DocumentCell]] = []
    links: list[tuple[Link, ...]] = []
    if not latest.empty:
        meta = latest.set_index("assessment_key")
        chosen = criteria[criteria["assessment_key"].isin(set(meta.index))]
        for record in _records(chosen):
            details = record.get("details") or {}
            to_fix = details.get("gaps") or []
            if not to_fix:
                continue
            assessment = meta.loc[record["assessment_key"]]
            name = (
                _hospital_field(hospitals, assessment["hospital_key"], "name")
                or assessment["hospital_id"]
            )
            row_links = gap_links(evidence, record["assessment_key"], to_fix)
            links.append(row_links)
            gaps.append(
                {
                    "hospital": name,
                    "standard": standard_name(rule_sets, assessment["standard"]),
                    "criterion": record["code"],
                    "title": details.get("title"),
                    "current": plain_cell(record["level"]),
                    "next": plain_cell(details.get("next_level")),
                    "to_fix": ", ".join(str(g) for g in to_fix),
                    **evidence_cells(row_links),
                }
            )
        gaps.sort(
            key=lambda g: (
                str(g["standard"]),
                name_sort_key(str(g["hospital"])),
                _natural_key(str(g["criterion"])),
            )
        )
    return gaps_table(gaps, GAPS_COLUMNS, links, labels, max_level, freeze_columns=1)


def gaps_table(  # noqa: PLR0917 (one tab's inputs)
    gaps: Sequence[Mapping[str, DocumentCell]],
    specs: Sequence[ColumnSpec],
    links: Sequence[Any],
    labels: Mapping[str, str],
    max_level: int,
    freeze_columns: int = 0,
) -> Table:
    """A Gaps tab of `gaps` (cells by key) with the `specs` columns, then one evidence column
    per link the longest row has; the current level coloured on the `max_level` scale."""
    columns = Columns([*(spec.keyed(labels) for spec in specs), *evidence_columns(labels, links)])
    return Table(
        key="gaps",
        title=labels["gaps"],
        columns=columns.columns,
        rows=tuple(columns.row(g) for g in gaps),
        value_colours=level_colours((columns.index("current"),), max_level),
        freeze_rows=1,
        freeze_columns=freeze_columns,
    )


def _trend(
    scores: pd.DataFrame,
    hospitals: pd.DataFrame | None,
    labels: Mapping[str, str],
    rule_sets: Mapping[str, RuleSet],
) -> Table:
    """Score of each hospital per period (year), for the main levels-method standard."""
    live = (
        scores[
            (scores["status"] != Status.DRAFT)
            & scores["score"].notna()
            & scores["assessed_on"].notna()
        ]
        if not scores.empty
        else scores
    )
    standard = _main_standard(live)
    shown_standard = standard_name(rule_sets, standard) if standard else "-"
    live = live[live["standard"] == standard] if standard else live.iloc[0:0]
    periods = sorted({d.year for d in live["assessed_on"]}) if not live.empty else []
    latest_per_period: dict[tuple[str, int], float] = {}
    if not live.empty:
        ordered = live.assign(
            _council=(live["kind"] == AssessmentKind.COUNCIL).astype(int),
            _year=[d.year for d in live["assessed_on"]],
        )
        ordered = ordered.sort_values(["hospital_key", "_year", "assessed_on", "_council"])
        for record in _records(ordered):
            latest_per_period[(record["hospital_key"], record["_year"])] = float(record["score"])
    hospital_keys = sorted(
        {k for k, _ in latest_per_period},
        key=lambda k: hospital_name_key(hospitals, k),
    )
    series_keys = [f"hospital:{k}" for k in hospital_keys]
    columns = Columns(
        [
            ("period", Column(f"{labels['period']} ({shown_standard})", width=12)),
            *(
                (
                    series,
                    Column(str(_hospital_field(hospitals, k, "name") or k), "number", width=14),
                )
                for series, k in zip(series_keys, hospital_keys, strict=True)
            ),
        ]
    )
    rows = tuple(
        columns.row(
            {
                "period": str(year),
                **{
                    s: latest_per_period.get((k, year))
                    for s, k in zip(series_keys, hospital_keys, strict=True)
                },
            }
        )
        for year in periods
    )
    chart = None
    if rows and hospital_keys:
        chart = LineChart(
            title=labels["trend_title"],
            x_column=columns.index("period"),
            series_columns=columns.indexes(series_keys[:TREND_SERIES_LIMIT]),
            anchor_column=len(columns) + 1,
        )
    return Table(
        key="trend",
        title=labels["trend"],
        columns=columns.columns,
        rows=rows,
        freeze_rows=1,
        freeze_columns=1,
        filter=False,
        chart=chart,
    )


def _main_standard(scores: pd.DataFrame) -> str | None:
    if scores.empty:
        return None
    levels = scores[scores["method"] == Method.LEVELS]
    pool = levels if not levels.empty else scores
    counts = pool["standard"].value_counts()
    return str(sorted(counts.index, key=lambda s: (-counts[s], s))[0])


# The tab builders a hospital's own dashboard (sync/dashboard/hospital.py) reuses on its rows.
summary_table = _summary
trend_table = _trend
records = _records
natural_key = _natural_key
