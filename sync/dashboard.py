"""The leaders' dashboard: what it shows, built from the store as a backend-neutral document."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Engine

from hqsync.config.rulesets import RuleSet
from hqsync.models import results
from hqsync.models.runs import last_finished
from hqsync.sync.interfaces import CellValue, Column, Dashboard, LineChart, Table, ValueColour

LEVEL_COLOURS = {1: "#F8696B", 2: "#FCAA78", 3: "#FFEB84", 4: "#B1D580", 5: "#63BE7B"}
PASS_COLOUR, FAIL_COLOUR, RISK_COLOUR = "#C6EFCE", "#FFC7CE", "#FFC7CE"
BAND_PALETTE = ("#63BE7B", "#B1D580", "#FFEB84", "#FCAA78", "#F8696B")
LEVEL_COUNT_MAX = 10_000
"""Upper bound of the level-count colour rule (far above any catalog's size)."""
TREND_SERIES_LIMIT = 25
"""Hospitals drawn on the trend chart (the table holds them all)."""

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "summary": "Tổng hợp",
        "criteria": "Tiêu chí",
        "gaps": "Cần cải tiến",
        "trend": "Xu hướng",
        "issues": "Lỗi dữ liệu",
        "about": "Thông tin",
        "hospital": "Bệnh viện",
        "hospital_id": "Mã BV",
        "district": "Quận/Huyện",
        "ownership": "Sở hữu",
        "standard": "Bộ tiêu chí",
        "kind": "Loại đánh giá",
        "date": "Ngày đánh giá",
        "score": "Điểm / % đạt",
        "band": "Xếp loại / Kết quả",
        "change": "Thay đổi",
        "rank": "Xếp hạng",
        "applicable": "Tiêu chí áp dụng",
        "level": "Mức",
        "part": "Phần",
        "self_diff": "Chênh lệch đoàn − tự đánh giá",
        "at_risk": "Cảnh báo",
        "criterion": "Tiêu chí",
        "title": "Tên tiêu chí",
        "current": "Mức hiện tại",
        "next": "Mức tiếp theo",
        "to_fix": "Tiểu mục cần đạt",
        "period": "Kỳ",
        "source": "Nguồn",
        "tab": "Bảng",
        "row": "Dòng",
        "column": "Cột",
        "key": "Mã",
        "problem": "Lỗi",
        "values": "Giá trị đã nhập",
        "item": "Mục",
        "field": "Thông tin",
        "value": "Giá trị",
        "data_as_of": "Dữ liệu tính đến",
        "last_sync": "Đồng bộ gần nhất",
        "generated": "Cập nhật bảng lúc",
        "version": "Phiên bản hqsync",
        "sources": "Nguồn dữ liệu",
        "self": "Tự đánh giá",
        "council": "Đoàn đánh giá",
        "pass": "Đạt",
        "fail": "Không đạt",
        "yes": "Có",
        "failing": "Mục không đạt",
        "trend_title": "Điểm theo kỳ",
        "public": "Công lập",
        "private": "Tư nhân",
        "fell": "Tụt hạng/không đạt",
    },
    "en": {
        "summary": "Summary",
        "criteria": "Criteria",
        "gaps": "Gaps",
        "trend": "Trend",
        "issues": "Data issues",
        "about": "About",
        "hospital": "Hospital",
        "hospital_id": "Hospital ID",
        "district": "District",
        "ownership": "Ownership",
        "standard": "Standard",
        "kind": "Kind",
        "date": "Assessed on",
        "score": "Score / % met",
        "band": "Band / result",
        "change": "Change",
        "rank": "Rank",
        "applicable": "Applicable",
        "level": "Level",
        "part": "Part",
        "self_diff": "Council − self",
        "at_risk": "At risk",
        "criterion": "Criterion",
        "title": "Title",
        "current": "Current level",
        "next": "Next level",
        "to_fix": "Items to meet",
        "period": "Period",
        "source": "Source",
        "tab": "Tab",
        "row": "Row",
        "column": "Column",
        "key": "Key",
        "problem": "Problem",
        "values": "Values entered",
        "item": "Item",
        "field": "Field",
        "value": "Value",
        "data_as_of": "Data as of",
        "last_sync": "Last sync",
        "generated": "Generated at",
        "version": "hqsync version",
        "sources": "Sources",
        "self": "Self-assessment",
        "council": "Council",
        "pass": "Pass",
        "fail": "Fail",
        "yes": "Yes",
        "failing": "Failing items",
        "trend_title": "Score by period",
        "public": "Public",
        "private": "Private",
        "fell": "Fell a band / failed",
    },
}


@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboard shows, read from the store in one go."""

    scores: pd.DataFrame
    criteria: pd.DataFrame
    comparisons: pd.DataFrame
    hospitals: pd.DataFrame
    rejected: list[dict[str, Any]]
    rule_sets: Mapping[str, RuleSet]
    last_sync: datetime | None
    sources: tuple[str, ...]


def load_dashboard_data(engine: Engine, rule_sets: Mapping[str, RuleSet]) -> DashboardData:
    """Read scores, criteria, comparisons, hospitals and rejected rows from the store."""
    from hqsync.scoring import compare_assessments

    with engine.connect() as conn:
        scores, criteria = results.load_results(conn)
        hospitals = results.load_hospitals(conn)
        rejected = results.load_rejected_rows(conn)
    comparisons = compare_assessments(scores, criteria).assessments
    last_sync = last_finished(engine, "sync", ("ok", "skipped"))
    return DashboardData(
        scores=scores,
        criteria=criteria,
        comparisons=comparisons,
        hospitals=hospitals,
        rejected=rejected,
        rule_sets=rule_sets,
        last_sync=last_sync,
        sources=tuple(sorted(set(hospitals["source"]))),
    )


def latest_assessments(scores: pd.DataFrame) -> pd.DataFrame:
    """Each hospital's latest non-draft assessment per standard (council wins a same-day tie)."""
    live = scores[scores["status"] != "draft"].copy()
    if live.empty:
        return live
    live["_council"] = (live["kind"] == "council").astype(int)
    live["_date"] = pd.to_datetime(live["assessed_on"])
    live = live.sort_values(["hospital_key", "standard", "_date", "_council", "assessment_key"])
    latest = live.groupby(["hospital_key", "standard"], sort=False).tail(1)
    return latest.drop(columns=["_council", "_date"]).reset_index(drop=True)


def build_dashboard(
    data: DashboardData, language: str, now: datetime, timezone: str = "Asia/Ho_Chi_Minh"
) -> Dashboard:
    """The dashboard's tabs (Summary, Criteria, Gaps, Trend, Data issues, About); times are
    shown in `timezone`."""
    labels = LABELS[language]
    latest = latest_assessments(data.scores)
    hospitals = data.hospitals.set_index("hospital_key") if not data.hospitals.empty else None
    comparisons = (
        data.comparisons.set_index("assessment_key") if not data.comparisons.empty else None
    )
    latest = _order_by_hospital(latest, hospitals)
    return Dashboard(
        tables=(
            _summary(latest, hospitals, comparisons, data.rule_sets, labels),
            _criteria(latest, data.criteria, hospitals, labels),
            _gaps(latest, data.criteria, hospitals, labels),
            _trend(data.scores, hospitals, labels),
            _issues(data.rejected, labels, language),
            _about(data, labels, now, ZoneInfo(timezone)),
        )
    )


def _order_by_hospital(latest: pd.DataFrame, hospitals: pd.DataFrame | None) -> pd.DataFrame:
    if latest.empty:
        return latest
    names = [_hospital_field(hospitals, k, "name") or k for k in latest["hospital_key"]]
    latest = latest.assign(_name=names)
    return latest.sort_values(["standard", "_name", "hospital_key"]).drop(columns="_name")


def _hospital_field(hospitals: pd.DataFrame | None, key: str, field: str) -> Any:
    if hospitals is None or key not in hospitals.index:
        return None
    value = hospitals.at[key, field]
    return None if is_missing(value) else value


def is_missing(value: Any) -> bool:
    """True for None, pandas NA/NaT and NaN."""
    if value is None or value is pd.NA:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def plain_cell(value: Any) -> CellValue:
    """A plain cell value (numpy scalars and NaN made plain)."""
    if is_missing(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value  # type: ignore[no-any-return,unused-ignore]


def _parts_of(latest: pd.DataFrame) -> list[str]:
    parts: set[str] = set()
    for value in latest.get("parts", []):
        if isinstance(value, Mapping):
            parts.update(str(k) for k in value)
    return sorted(parts)


def _summary(
    latest: pd.DataFrame,
    hospitals: pd.DataFrame | None,
    comparisons: pd.DataFrame | None,
    rule_sets: Mapping[str, RuleSet],
    labels: Mapping[str, str],
) -> Table:
    parts = _parts_of(latest)
    columns = [
        Column(labels["hospital"], width=34),
        Column(labels["hospital_id"], width=10),
        Column(labels["district"], width=16),
        Column(labels["standard"], width=10),
        Column(labels["kind"], width=14),
        Column(labels["date"], "date", width=12),
        Column(labels["score"], "number", width=11),
        Column(labels["band"], width=16),
        Column(labels["change"], "number", width=10),
        Column(labels["rank"], "integer", width=9),
        Column(labels["applicable"], width=11),
        *[Column(f"{labels['level']} {n}", "integer", width=8) for n in range(1, 6)],
        *[Column(f"{labels['part']} {p}", "number", width=9) for p in parts],
        Column(labels["self_diff"], "number", width=12),
        Column(labels["at_risk"], width=10),
        Column(labels["failing"], width=40),
    ]
    rows: list[tuple[CellValue, ...]] = []
    fills: dict[tuple[int, int], str] = {}
    band_col, first_level_col = 7, 11
    for index, record in enumerate(_records(latest)):
        key = record["assessment_key"]
        details = record.get("details") or {}
        comparison = (
            comparisons.loc[key].to_dict()
            if comparisons is not None and key in comparisons.index
            else {}
        )
        level_counts = record.get("level_counts") or {}
        parts_map = record.get("parts") or {}
        band = _band_text(record, labels)
        at_risk = (
            bool(comparison.get("at_risk")) if not is_missing(comparison.get("at_risk")) else False
        )
        rows.append(
            (
                _hospital_field(hospitals, record["hospital_key"], "name") or record["hospital_id"],
                record["hospital_id"],
                _hospital_field(hospitals, record["hospital_key"], "district"),
                record["standard"],
                labels.get(record["kind"], record["kind"]),
                plain_cell(record["assessed_on"]),
                plain_cell(record["score"]),
                band,
                plain_cell(comparison.get("change")),
                plain_cell(comparison.get("rank")),
                details.get("applicable_label") or f"{record['applicable']}",
                *[
                    (plain_cell(level_counts.get(str(n))) if level_counts else None)
                    for n in range(1, 6)
                ],
                *[plain_cell(parts_map.get(p)) for p in parts],
                plain_cell(comparison.get("self_council_diff")),
                labels["fell"] if at_risk else None,
                ", ".join(str(x) for x in details.get("failing_items", []) or []) or None,
            )
        )
        colour = _band_colour(record, rule_sets.get(str(record["standard"])))
        if colour:
            fills[(index, band_col)] = colour
            fills[(index, 6)] = colour
        if at_risk:
            fills[(index, len(columns) - 2)] = RISK_COLOUR
    # A level-count column is coloured wherever a hospital has criteria at that level.
    count_colours = tuple(
        ValueColour((first_level_col + n - 1,), LEVEL_COLOURS[n], 1, LEVEL_COUNT_MAX)
        for n in range(1, 6)
    )
    return Table(
        key="summary",
        title=labels["summary"],
        columns=tuple(columns),
        rows=tuple(rows),
        fills=fills,
        freeze_rows=1,
        freeze_columns=1,
        value_colours=count_colours,
    )


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


def _band_colour(record: Mapping[str, Any], rule_set: RuleSet | None) -> str | None:
    passed = record.get("passed")
    band = record.get("band")
    names = _band_names(rule_set)
    if not is_missing(band) and str(band) in names:
        position = names.index(str(band))
        scale = max(len(names) - 1, 1)
        return BAND_PALETTE[round(position * (len(BAND_PALETTE) - 1) / scale)]
    if not is_missing(passed):
        return PASS_COLOUR if passed else FAIL_COLOUR
    return None


def _band_names(rule_set: RuleSet | None) -> list[str]:
    """Band labels of a rule set, best first (empty when it has none)."""
    return [band.label for band in rule_set.bands] if rule_set else []


def level_colours(columns: tuple[int, ...]) -> tuple[ValueColour, ...]:
    """Colour levels 1–5 in `columns` by value (conditional formatting, not per-cell fills)."""
    if not columns:
        return ()
    return tuple(
        ValueColour(columns, colour, level) for level, colour in sorted(LEVEL_COLOURS.items())
    )


def _natural_key(code: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", code))


def _criteria(
    latest: pd.DataFrame,
    criteria: pd.DataFrame,
    hospitals: pd.DataFrame | None,
    labels: Mapping[str, str],
) -> Table:
    levels = latest[latest["method"] == "levels"] if not latest.empty else latest
    keys = set(levels["assessment_key"]) if not levels.empty else set()
    chosen = criteria[criteria["assessment_key"].isin(keys)] if keys else criteria.iloc[0:0]
    codes = sorted(set(chosen["code"]), key=_natural_key)
    columns = [
        Column(labels["hospital"], width=34),
        Column(labels["standard"], width=10),
        Column(labels["kind"], width=14),
        Column(labels["date"], "date", width=12),
        *[Column(code, "integer", width=7) for code in codes],
    ]
    by_key: dict[str, dict[str, Any]] = {}
    for record in _records(chosen[["assessment_key", "code", "level"]]):
        by_key.setdefault(record["assessment_key"], {})[record["code"]] = plain_cell(
            record["level"]
        )
    rows: list[tuple[CellValue, ...]] = []
    for record in _records(levels) if not levels.empty else []:
        found = by_key.get(record["assessment_key"], {})
        row_levels = [found.get(code) for code in codes]
        rows.append(
            (
                _hospital_field(hospitals, record["hospital_key"], "name") or record["hospital_id"],
                record["standard"],
                labels.get(record["kind"], record["kind"]),
                plain_cell(record["assessed_on"]),
                *row_levels,
            )
        )
    return Table(
        key="criteria",
        title=labels["criteria"],
        columns=tuple(columns),
        rows=tuple(rows),
        value_colours=level_colours(tuple(range(4, len(columns)))),
        freeze_rows=1,
        freeze_columns=1,
    )


def _gaps(
    latest: pd.DataFrame,
    criteria: pd.DataFrame,
    hospitals: pd.DataFrame | None,
    labels: Mapping[str, str],
) -> Table:
    columns = (
        Column(labels["hospital"], width=34),
        Column(labels["standard"], width=10),
        Column(labels["criterion"], width=10),
        Column(labels["title"], width=50),
        Column(labels["current"], "integer", width=10),
        Column(labels["next"], "integer", width=10),
        Column(labels["to_fix"], width=60),
    )
    rows: list[tuple[CellValue, ...]] = []
    if not latest.empty:
        meta = latest.set_index("assessment_key")
        chosen = criteria[criteria["assessment_key"].isin(set(meta.index))]
        for record in _records(chosen):
            details = record.get("details") or {}
            gaps = details.get("gaps") or []
            if not gaps:
                continue
            assessment = meta.loc[record["assessment_key"]]
            name = (
                _hospital_field(hospitals, assessment["hospital_key"], "name")
                or assessment["hospital_id"]
            )
            level = plain_cell(record["level"])
            rows.append(
                (
                    name,
                    assessment["standard"],
                    record["code"],
                    details.get("title"),
                    level,
                    plain_cell(details.get("next_level")),
                    ", ".join(str(g) for g in gaps),
                )
            )
        rows.sort(key=lambda r: (str(r[1]), str(r[0]), _natural_key(str(r[2]))))
    return Table(
        key="gaps",
        title=labels["gaps"],
        columns=columns,
        rows=tuple(rows),
        value_colours=level_colours((4,)),
        freeze_rows=1,
        freeze_columns=1,
    )


def _trend(
    scores: pd.DataFrame, hospitals: pd.DataFrame | None, labels: Mapping[str, str]
) -> Table:
    """Score of each hospital per period (year), for the main levels-method standard."""
    live = (
        scores[
            (scores["status"] != "draft") & scores["score"].notna() & scores["assessed_on"].notna()
        ]
        if not scores.empty
        else scores
    )
    standard = _main_standard(live)
    live = live[live["standard"] == standard] if standard else live.iloc[0:0]
    periods = sorted({d.year for d in live["assessed_on"]}) if not live.empty else []
    latest_per_period: dict[tuple[str, int], float] = {}
    if not live.empty:
        ordered = live.assign(
            _council=(live["kind"] == "council").astype(int),
            _year=[d.year for d in live["assessed_on"]],
        )
        ordered = ordered.sort_values(["hospital_key", "_year", "assessed_on", "_council"])
        for record in _records(ordered):
            latest_per_period[(record["hospital_key"], record["_year"])] = float(record["score"])
    hospital_keys = sorted(
        {k for k, _ in latest_per_period},
        key=lambda k: str(_hospital_field(hospitals, k, "name") or k),
    )
    names = [str(_hospital_field(hospitals, k, "name") or k) for k in hospital_keys]
    columns = (
        Column(f"{labels['period']} ({standard or '-'})", width=12),
        *[Column(name, "number", width=14) for name in names],
    )
    rows = tuple(
        (str(year), *[latest_per_period.get((k, year)) for k in hospital_keys]) for year in periods
    )
    chart = None
    if rows and hospital_keys:
        series = tuple(range(1, min(len(hospital_keys), TREND_SERIES_LIMIT) + 1))
        chart = LineChart(
            title=labels["trend_title"],
            x_column=0,
            series_columns=series,
            anchor_column=len(columns) + 1,
        )
    return Table(
        key="trend",
        title=labels["trend"],
        columns=columns,
        rows=rows,
        freeze_rows=1,
        freeze_columns=1,
        filter=False,
        chart=chart,
    )


def _main_standard(scores: pd.DataFrame) -> str | None:
    if scores.empty:
        return None
    levels = scores[scores["method"] == "levels"]
    pool = levels if not levels.empty else scores
    counts = pool["standard"].value_counts()
    return str(sorted(counts.index, key=lambda s: (-counts[s], s))[0])


def _issues(rejected: list[dict[str, Any]], labels: Mapping[str, str], language: str) -> Table:
    columns = (
        Column(labels["source"], width=12),
        Column(labels["tab"], width=14),
        Column(labels["row"], "integer", width=7),
        Column(labels["column"], width=16),
        Column(labels["key"], width=14),
        Column(labels["problem"], width=60),
        Column(labels["values"], width=60),
    )
    rows = tuple(
        (
            r["source"],
            r["tab"],
            r["row_number"],
            r["column"],
            r["key"],
            r["reason_vi"] if language == "vi" else r["reason_en"],
            "; ".join(f"{k}={v}" for k, v in (r["raw"] or {}).items() if v not in (None, "")),
        )
        for r in rejected
    )
    return Table(key="issues", title=labels["issues"], columns=columns, rows=rows, freeze_rows=1)


def _about(data: DashboardData, labels: Mapping[str, str], now: datetime, zone: ZoneInfo) -> Table:
    try:
        version = metadata.version("hqsync")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        version = "unknown"
    rows: tuple[tuple[CellValue, ...], ...] = (
        (labels["data_as_of"], _local(data.last_sync, zone)),
        (labels["last_sync"], _local(data.last_sync, zone)),
        (labels["generated"], _local(now, zone)),
        (labels["version"], version),
        (labels["sources"], ", ".join(data.sources)),
    )
    return Table(
        key="about",
        title=labels["about"],
        columns=(Column(labels["field"], width=24), Column(labels["value"], "datetime", width=30)),
        rows=rows,
        filter=False,
    )


def _local(moment: datetime | None, zone: ZoneInfo) -> CellValue:
    """An aware time as a naive local time (spreadsheets have no time zones)."""
    if moment is None:
        return None
    return moment.astimezone(zone).replace(tzinfo=None)
