"""One hospital's own dashboard: only that hospital's results, beside the province's medians.

Built from the same `DashboardData` as the overview (read once per publish) and the failing
findings; `HospitalViews` indexes them by hospital once, so 1,700 hospitals cost one pass.
Nothing of another hospital appears: its id, name and results are filtered out before any
table is built, the province median per criterion is a number only, and a rejected row is
shown only when its raw values point at exactly this hospital (see ARCHITECTURE.md).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from hqsync.config.vocabulary import AssessmentKind, Language, Method, Status
from hqsync.sync.dashboard.builder import (
    Columns,
    ColumnSpec,
    gaps_table,
    latest_assessments,
    max_level_of,
    natural_key,
    records,
    summary_table,
    trend_table,
)
from hqsync.sync.dashboard.colours import level_colours
from hqsync.sync.dashboard.document import Dashboard, DocumentCell, Link, Table
from hqsync.sync.dashboard.evidence import evidence_cells, gap_links
from hqsync.sync.dashboard.formats import local_time, standard_name
from hqsync.sync.dashboard.health import issues_table
from hqsync.sync.dashboard.labels import LABELS
from hqsync.sync.dashboard.loader import DashboardData, is_missing, plain_cell
from hqsync.sync.dashboard.progress import hospital_progress_tables
from hqsync.sync.interfaces import CellValue

VOLATILE_TABLE = "about"
"""The tab whose times change at every publish: left out of a dashboard's fingerprint."""


def content_fingerprint(dashboard: Dashboard) -> str:
    """The sha256 of a dashboard's content, the About tab's times left out."""
    digest = hashlib.sha256()
    for table in dashboard.tables:
        rows: Iterable[tuple[DocumentCell, ...]] = table.rows
        if table.key == VOLATILE_TABLE:
            rows = (tuple(c for c in row if not isinstance(c, datetime)) for row in rows)
        head = (table.key, table.title, table.columns, sorted(table.fills.items()))
        digest.update(repr((head, table.value_colours, table.chart, table.filter)).encode())
        for row in rows:
            digest.update(repr(row).encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass(frozen=True)
class HospitalViews:
    """The store's data indexed by hospital id, and the province's medians per criterion."""

    data: DashboardData
    scores: Mapping[str, pd.DataFrame]
    criteria: Mapping[str, pd.DataFrame]
    comparisons: Mapping[str, pd.DataFrame]
    hospitals: Mapping[str, pd.DataFrame]
    rejected: Mapping[str, list[dict[str, Any]]]
    failing: Mapping[str, list[dict[str, Any]]]
    """assessment_key → its not-met findings."""
    medians: ProvinceMedians


def index_hospitals(data: DashboardData, failing: pd.DataFrame) -> HospitalViews:
    """Index the store's data by hospital id (one pass for every hospital's dashboard)."""
    scores = {str(h): f for h, f in data.scores.groupby("hospital_id")} if len(data.scores) else {}
    hospitals = (
        {str(h): f for h, f in data.hospitals.groupby("hospital_id")} if len(data.hospitals) else {}
    )
    return HospitalViews(
        data=data,
        scores=scores,
        criteria=_by_hospital(data.criteria, data.scores),
        comparisons=_by_hospital(data.comparisons, data.scores),
        hospitals=hospitals,
        rejected=_rejected_by_hospital(data),
        failing=RowsByKey(failing, "assessment_key"),
        medians=ProvinceMedians.of(data),
    )


class RowsByKey(Mapping[str, list[dict[str, Any]]]):
    """A frame's rows as plain dicts, by the value of one column; a key's rows are made dicts
    on first use, so a country's million failing findings cost only the dashboards built."""

    def __init__(self, frame: pd.DataFrame, column: str) -> None:
        self._frame = frame
        self._positions = frame.groupby(column, sort=False).indices if len(frame) else {}
        self._made: dict[str, list[dict[str, Any]]] = {}

    def __getitem__(self, key: str) -> list[dict[str, Any]]:
        if key not in self._made:
            self._made[key] = records(self._frame.iloc[self._positions[key]])
        return self._made[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)


def _by_hospital(frame: pd.DataFrame, scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """`frame` (keyed by assessment_key) split by the hospital id of each assessment."""
    if frame.empty or scores.empty:
        return {}
    owner = dict(zip(scores["assessment_key"], scores["hospital_id"], strict=True))
    hospital = frame["assessment_key"].map(owner)
    return {str(h): part for h, part in frame.groupby(hospital, sort=False)}


def _rejected_by_hospital(data: DashboardData) -> dict[str, list[dict[str, Any]]]:
    """Each rejected row under the one hospital its raw values point at (by its hospital id,
    or by the id of one of its assessments); a row pointing at none or several is left out."""
    hospital_ids = {str(h) for h in data.hospitals.get("hospital_id", [])}
    hospital_ids |= {str(h) for h in data.scores.get("hospital_id", [])}
    assessments: dict[tuple[str, str], str] = {}
    if len(data.scores):
        for source, ident, hospital in zip(
            data.scores["source"], data.scores["assessment_id"], data.scores["hospital_id"],
            strict=True,
        ):  # fmt: skip
            assessments[(str(source), str(ident))] = str(hospital)
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in data.rejected:
        values = {str(v).strip() for v in (row.get("raw") or {}).values() if v not in (None, "")}
        if row.get("key"):
            values.add(str(row["key"]).strip())
        owners = {v for v in values if v in hospital_ids}
        owners |= {
            assessments[(row["source"], v)] for v in values if (row["source"], v) in assessments
        }
        if len(owners) == 1:
            found[owners.pop()].append(row)
    return dict(found)


@dataclass(frozen=True)
class ProvinceMedians:
    """The province's median level per (standard, kind, criterion code): the overview's rule
    (`scoring.compare.criterion_medians`: each hospital's latest ranked assessment, so
    incomplete ones only when `rank_incomplete`)."""

    medians: Mapping[tuple[str, str, str], float]

    @classmethod
    def of(cls, data: DashboardData) -> ProvinceMedians:
        """The medians of the data's comparisons (ranked as the overview ranks them)."""
        if data.comparisons.empty or data.criteria.empty:
            return cls({})
        from hqsync.scoring.compare import Comparisons, criterion_medians

        table = criterion_medians(
            Comparisons(data.comparisons, data.criteria[["assessment_key", "code", "level"]])
        )
        return cls(
            {
                (str(s), str(k), str(c)): round(float(m), 2)
                for s, k, c, m in zip(
                    table["standard"], table["kind"], table["code"], table["median"], strict=True
                )
            }
        )

    def of_criterion(self, standard: str, kind: str, code: str) -> float | None:
        """The median level of one criterion among assessments of `kind` (None: none ranked)."""
        return self.medians.get((standard, kind, code))


def build_hospital_dashboard(
    views: HospitalViews,
    hospital_id: str,
    language: str,
    now: datetime,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> Dashboard:
    """One hospital's dashboard: Summary, its own Progress (with cycles), Criteria (with the
    province median), Gaps, Trend, Data issues and About, holding nothing of any other
    hospital."""
    labels = LABELS[Language(language)]
    data = views.data
    max_level = max_level_of(data.rule_sets)
    own = views.scores.get(hospital_id, data.scores.iloc[0:0])
    hospitals = views.hospitals.get(hospital_id, data.hospitals.iloc[0:0])
    hospital_frame = hospitals.set_index("hospital_key") if not hospitals.empty else None
    comparisons = views.comparisons.get(hospital_id, data.comparisons.iloc[0:0])
    criteria = views.criteria.get(hospital_id, data.criteria.iloc[0:0])
    live = own[own["status"] != Status.DRAFT] if not own.empty else own
    if not live.empty:
        live = live.assign(_date=pd.to_datetime(live["assessed_on"]))
        live = live.sort_values(["standard", "kind", "_date", "assessment_key"], ascending=[
            True, True, False, True
        ]).drop(columns="_date")  # fmt: skip
    latest = _latest_per_kind(live)
    return Dashboard(
        tables=(
            summary_table(
                live,
                hospital_frame,
                comparisons.set_index("assessment_key") if not comparisons.empty else None,
                rule_sets=data.rule_sets,
                labels=labels,
                max_level=max_level,
            ),
            *hospital_progress_tables(data.cycles, hospital_id, labels, data.rule_sets),
            _criteria(views, latest, criteria, labels, max_level),
            _gaps(views, latest_assessments(live), criteria, labels, max_level),
            trend_table(own, hospital_frame, labels, data.rule_sets),
            issues_table(
                views.rejected.get(hospital_id, []),
                (),
                labels,
                Language(language),
                ZoneInfo(timezone),
            ),
            _about(views, hospital_id, hospitals, labels, now, ZoneInfo(timezone)),
        )
    )


def _latest_per_kind(live: pd.DataFrame) -> pd.DataFrame:
    """The latest self and the latest council assessment of each standard."""
    if live.empty:
        return live
    parts = [latest_assessments(live[live["kind"] == kind]) for kind in AssessmentKind]
    return pd.concat([p for p in parts if not p.empty] or [live.iloc[0:0]], ignore_index=True)


CRITERIA_COLUMNS = (
    ColumnSpec("standard", width=10),
    ColumnSpec("kind", width=14),
    ColumnSpec("date", "date", width=12),
    ColumnSpec("criterion", width=10),
    ColumnSpec("title", width=50),
    ColumnSpec("level", "integer", width=8),
    ColumnSpec("median", "number", width=12),
)
"""A hospital's Criteria tab: one row per criterion of its latest self and council
assessments, beside the province median of that criterion among assessments of the same
standard and kind (`ProvinceMedians`: the overview's rule)."""


def _criteria(
    views: HospitalViews,
    latest: pd.DataFrame,
    criteria: pd.DataFrame,
    labels: Mapping[str, str],
    max_level: int,
) -> Table:
    columns = Columns(spec.keyed(labels) for spec in CRITERIA_COLUMNS)
    rows: list[dict[str, CellValue]] = []
    levels = latest[latest["method"] == Method.LEVELS] if not latest.empty else latest
    if not levels.empty:
        meta = {str(a["assessment_key"]): a for a in records(levels)}
        chosen = criteria[criteria["assessment_key"].isin(set(meta))]
        for record in records(chosen):
            assessment = meta[str(record["assessment_key"])]
            standard = str(assessment["standard"])
            rows.append(
                {
                    "standard": standard_name(views.data.rule_sets, standard),
                    "kind": labels.get(assessment["kind"], assessment["kind"]),
                    "date": plain_cell(assessment["assessed_on"]),
                    "criterion": record["code"],
                    "title": (record.get("details") or {}).get("title"),
                    "level": plain_cell(record["level"]),
                    "median": views.medians.of_criterion(
                        standard, str(assessment["kind"]), str(record["code"])
                    ),
                }
            )
    rows.sort(key=lambda r: (str(r["standard"]), natural_key(str(r["criterion"])), str(r["kind"])))
    return Table(
        key="criteria",
        title=labels["criteria"],
        columns=columns.columns,
        rows=tuple(columns.row(r) for r in rows),
        value_colours=level_colours((columns.index("level"),), max_level),
        freeze_rows=1,
    )


GAPS_COLUMNS = (
    ColumnSpec("standard", width=10),
    ColumnSpec("criterion", width=10),
    ColumnSpec("title", width=50),
    ColumnSpec("current", "integer", width=10),
    ColumnSpec("next", "integer", width=10),
    ColumnSpec("to_fix", width=40),
    ColumnSpec("notes", width=60),
    ColumnSpec("finding_ids", width=30),
)
"""A hospital's Gaps tab: the failing sub-items of each criterion below its top level, their
inspectors' notes, the failing findings' ids, then one column per evidence link (as on the
overview's Gaps tab)."""


def _gaps(
    views: HospitalViews,
    latest: pd.DataFrame,
    criteria: pd.DataFrame,
    labels: Mapping[str, str],
    max_level: int,
) -> Table:
    gaps: list[dict[str, DocumentCell]] = []
    links: list[tuple[Link, ...]] = []
    if not latest.empty:
        meta = {str(a["assessment_key"]): a for a in records(latest)}
        for record in records(criteria[criteria["assessment_key"].isin(set(meta))]):
            details = record.get("details") or {}
            to_fix = [str(g) for g in details.get("gaps") or []]
            if not to_fix:
                continue
            wanted = set(to_fix)
            failing = [
                f
                for f in views.failing.get(str(record["assessment_key"]), [])
                if str(f["item_code"]) in wanted
            ]
            notes = [f"{f['item_code']}: {f['note']}" for f in failing if not is_missing(f["note"])]
            row_links = gap_links(views.data.evidence, record["assessment_key"], to_fix)
            links.append(row_links)
            gaps.append(
                {
                    "standard": standard_name(
                        views.data.rule_sets, str(meta[str(record["assessment_key"])]["standard"])
                    ),
                    "criterion": record["code"],
                    "title": details.get("title"),
                    "current": plain_cell(record["level"]),
                    "next": plain_cell(details.get("next_level")),
                    "to_fix": ", ".join(to_fix),
                    "notes": "\n".join(notes) or None,
                    "finding_ids": ", ".join(str(f["finding_id"]) for f in failing) or None,
                    **evidence_cells(row_links),
                }
            )
    gaps.sort(key=lambda g: (str(g["standard"]), natural_key(str(g["criterion"]))))
    return gaps_table(gaps, GAPS_COLUMNS, links, labels, max_level)


def _about(  # noqa: PLR0917 (one tab's inputs)
    views: HospitalViews,
    hospital_id: str,
    hospitals: pd.DataFrame,
    labels: Mapping[str, str],
    now: datetime,
    zone: ZoneInfo,
) -> Table:
    from hqsync.sync.dashboard.document import Column

    try:
        version = metadata.version("hqsync")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        version = "unknown"
    names = [str(n) for n in hospitals.get("name", []) if not is_missing(n)]
    sources = sorted({str(s) for s in hospitals.get("source", [])})
    last_sync = views.data.last_sync
    rows: tuple[tuple[CellValue, ...], ...] = (
        (labels["this_hospital"], f"{names[0]} ({hospital_id})" if names else hospital_id),
        (labels["data_as_of"], local_time(last_sync, zone)),
        (labels["last_sync"], local_time(last_sync, zone)),
        (labels["generated"], local_time(now, zone)),
        (labels["version"], version),
        (labels["sources"], ", ".join(sources)),
    )
    return Table(
        key="about",
        title=labels["about"],
        columns=(Column(labels["field"], width=24), Column(labels["value"], "datetime", width=30)),
        rows=rows,
        filter=False,
    )


def hospital_names(data: DashboardData) -> dict[str, str]:
    """hospital_id → its name (the id when it has none), for every hospital in the store."""
    names: dict[str, str] = {}
    for ident, name in zip(data.hospitals["hospital_id"], data.hospitals["name"], strict=True):
        names.setdefault(str(ident), str(ident) if is_missing(name) else str(name))
    return names


__all__ = [
    "HospitalViews",
    "ProvinceMedians",
    "build_hospital_dashboard",
    "content_fingerprint",
    "hospital_names",
    "index_hospitals",
]
