"""The dashboard's Data issues and About tabs: rejected rows, failing sources, data freshness.

A source that fails as a whole (a renamed tab, a revoked share) is shown on both tabs, with
since when it fails, the cause (the failed sync's error) and what to do, until a later sync of
it succeeds. Times carry their zone (in the header or the text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from importlib import metadata
from typing import Any
from zoneinfo import ZoneInfo

from hqsync.config.vocabulary import Language
from hqsync.models.runs import SourceFailure
from hqsync.sync.dashboard.columns import Columns, ColumnSpec
from hqsync.sync.dashboard.document import Column, Table
from hqsync.sync.dashboard.formats import local_time, zone_label, zoned_time_text
from hqsync.sync.dashboard.loader import DashboardData
from hqsync.sync.interfaces import CellValue

ISSUES_COLUMNS = (
    ColumnSpec("source", width=12),
    ColumnSpec("tab", width=14),
    ColumnSpec("row", "integer", width=7),
    ColumnSpec("column", width=16),
    ColumnSpec("key", width=14),
    ColumnSpec("problem", width=60),
    ColumnSpec("values", width=60),
    ColumnSpec("since", "datetime", width=18),
    ColumnSpec("action", width=60),
)
"""The Data issues tab's columns: one row per failing source (first), then per rejected row."""


def failure_action(failure: SourceFailure, labels: Mapping[str, str]) -> str:
    """What to do about a failing source, in the dashboard's language."""
    return labels["source_failed_action"].format(source=failure.source)


def failure_problem(failure: SourceFailure, labels: Mapping[str, str]) -> str:
    """A failing source's problem: that it fails, and the cause (its last sync's error)."""
    return f"{labels['source_failed']}: {failure.error}"


def issues_table(
    rejected: Sequence[Mapping[str, Any]],
    failures: Sequence[SourceFailure],
    labels: Mapping[str, str],
    language: Language,
    zone: ZoneInfo,
) -> Table:
    """The Data issues tab: failing sources first, then every rejected row."""
    columns = Columns(
        (key, Column(zone_label(column.header, zone), column.kind, width=column.width))
        if key == "since"
        else (key, column)
        for key, column in (spec.keyed(labels) for spec in ISSUES_COLUMNS)
    )
    failing = [
        columns.row(
            {
                "source": f.source,
                "tab": labels["whole_source"],
                "problem": failure_problem(f, labels),
                "since": local_time(f.since, zone),
                "action": failure_action(f, labels),
            }
        )
        for f in failures
    ]
    rows = [
        columns.row(
            {
                "source": r["source"],
                "tab": r["tab"],
                "row": r["row_number"],
                "column": r["column"],
                "key": r["key"],
                "problem": r["reason_vi"] if language == Language.VI else r["reason_en"],
                "values": "; ".join(
                    f"{k}={v}" for k, v in (r["raw"] or {}).items() if v not in (None, "")
                ),
            }
        )
        for r in rejected
    ]
    return Table(
        key="issues",
        title=labels["issues"],
        columns=columns.columns,
        rows=(*failing, *rows),
        freeze_rows=1,
    )


def about_table(
    data: DashboardData, labels: Mapping[str, str], now: datetime, zone: ZoneInfo
) -> Table:
    """The About tab: when the data is from (times in `zone`, named beside each), the version,
    the sources, and each failing source with since when, the cause and what to do."""
    try:
        version = metadata.version("hqsync")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        version = "unknown"
    rows: list[tuple[CellValue, ...]] = [
        (zone_label(labels["data_as_of"], zone), local_time(data.last_sync, zone)),
        (zone_label(labels["last_sync"], zone), local_time(data.last_sync, zone)),
        (zone_label(labels["generated"], zone), local_time(now, zone)),
        (labels["version"], version),
        (labels["sources"], ", ".join(data.sources)),
    ]
    for f in data.source_failures:
        rows.append(
            (
                f"{labels['source_failed']}: {f.source}",
                f"{labels['since']} {zoned_time_text(f.since, zone)}. {f.error}. "
                f"{labels['action']}: {failure_action(f, labels)}",
            )
        )
    return Table(
        key="about",
        title=labels["about"],
        columns=(Column(labels["field"], width=24), Column(labels["value"], "datetime", width=30)),
        rows=tuple(rows),
        filter=False,
    )
