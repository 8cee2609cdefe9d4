"""What the dashboard shows, read from the store in one go, and the store's values made plain.

The result frames come from `models.results`; `is_missing` and `plain_cell` turn their pandas
and numpy values into the plain values a spreadsheet cell (or a JSON export) holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine

from hqsync.config.settings import SourceSettings
from hqsync.config.vocabulary import Job, RunOutcome
from hqsync.models import evidence, results
from hqsync.models.runs import last_finished
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


def load_dashboard_data(
    engine: Engine,
    rule_sets: Mapping[str, RuleSet],
    sources: Sequence[SourceSettings] = (),
) -> DashboardData:
    """Read scores, criteria, comparisons, hospitals, rejected rows and the failing findings'
    evidence links (each source's cells read with its `sources` settings) from the store."""
    from hqsync.scoring import compare_assessments

    with engine.connect() as conn:
        scores, criteria = results.load_results(conn)
        hospitals = results.load_hospitals(conn)
        rejected = results.load_rejected_rows(conn)
        links = evidence_index(evidence.failing_evidence(conn), sources)
    comparisons = compare_assessments(scores, criteria).assessments
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
    )


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
