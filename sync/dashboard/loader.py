"""What the dashboard shows, read from the store in one go, and the store's values made plain.

The result frames come from `models.reports`; `is_missing` and `plain_cell` turn their pandas
and numpy values into the plain values a spreadsheet cell (or a JSON export) holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy.engine import Engine

from hqsync.config.settings import Settings, SourceSettings
from hqsync.config.vocabulary import Job, RunOutcome
from hqsync.models import evidence, reports
from hqsync.models.runs import SourceFailure, last_finished, source_failures
from hqsync.scoring.cycles import CycleReport
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.dashboard.evidence import EvidenceIndex, evidence_index
from hqsync.sync.interfaces import CellValue


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
    evidence: EvidenceIndex = field(default_factory=dict)
    """The evidence links of failing findings (`sync.dashboard.evidence.evidence_index`)."""
    source_failures: tuple[SourceFailure, ...] = ()
    """Sources whose latest sync failed (the run log's `source_failures`), by source."""
    cycles: CycleReport | None = None
    """The current assessment cycles on the publish day (`with_cycles`); None: no [[cycles]]."""


def load_dashboard_data(
    engine: Engine,
    rule_sets: Mapping[str, RuleSet],
    sources: Sequence[SourceSettings] = (),
    *,
    rank_incomplete: bool = False,
) -> DashboardData:
    """Read scores, criteria, comparisons, hospitals, rejected rows, the failing findings'
    evidence links (each source's cells read with its `sources` settings) and the failing
    sources (those of `sources`; none given: every source in the run log) from the store.
    Incomplete assessments are compared only when `rank_incomplete`."""
    from hqsync.scoring import assessment_comparisons

    with engine.connect() as conn:
        scores, criteria = reports.load_results(conn)
        hospitals = reports.load_hospitals(conn)
        rejected = reports.load_rejected_rows(conn)
        links = evidence_index(evidence.failing_evidence(conn), sources)
        failures = source_failures(conn)
    comparisons = assessment_comparisons(scores, rank_incomplete=rank_incomplete)
    configured = {source.name for source in sources}
    last_sync = last_finished(engine, Job.SYNC, (RunOutcome.OK, RunOutcome.SKIPPED))
    return DashboardData(
        scores=scores,
        criteria=criteria,
        comparisons=comparisons,
        hospitals=hospitals,
        rejected=rejected,
        rule_sets=rule_sets,
        last_sync=last_sync,
        sources=tuple(sorted(set(hospitals["source"]))),
        evidence=links,
        source_failures=tuple(f for f in failures if not configured or f.source in configured),
    )


def with_cycles(
    data: DashboardData, engine: Engine, settings: Settings, now: datetime
) -> DashboardData:
    """`data` with the current cycles (`settings.cycles`) on the publish day: `now` in the
    schedule's time zone; unchanged when no cycle is configured. ConfigError when a cycle names
    a standard no rule set knows."""
    if not settings.cycles:
        return data
    from hqsync.models.cycles import load_cycle_report

    zone = settings.schedule.timezone
    report = load_cycle_report(
        engine,
        settings.cycles,
        data.rule_sets,
        now.astimezone(ZoneInfo(zone)).date(),
        due_soon_days=settings.alerts.due_soon_days,
        timezone=zone,
    )
    return replace(data, cycles=report)


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
