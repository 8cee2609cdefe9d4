"""Alert events: what hqsync tells people about, each under a stable key (pure; no I/O).

- `band_drop`: a hospital's latest council assessment of a standard (its latest complete,
  non-draft one with a score) fell into a lower band than its previous one.
- `basic_failed`: a hospital's latest assessment of a basic standard (a pass/fail checklist
  rule set, e.g. TT 35) fails, and the one before it passed or there was none.
- `due_soon` / `overdue`: a cycle deadline is within `due_soon_days` / has passed, with the
  assessment missing or only drafted (`hqsync.scoring.cycles`).
- `source_failed`: a source's latest sync failed (one event per streak of failures).

An event's key names what it is about (the assessment, the cycle year and kind, the failure
streak), so detecting it again on a later run finds the same key: it is sent once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from hqsync.config.vocabulary import (
    AlertEvent,
    AssessmentKind,
    DueState,
    Method,
    Status,
    Submission,
)
from hqsync.models.results import split_key
from hqsync.models.runs import SourceFailure
from hqsync.scoring.cycles import HospitalCycle
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.dashboard.loader import is_missing


@dataclass(frozen=True)
class Alert:
    """One event to tell people about; which fields are set depends on the event."""

    key: str
    event: AlertEvent
    hospital_id: str | None = None
    """None only for `source_failed` (about a source, not a hospital)."""
    standard: str | None = None
    """The rule set's id."""
    kind: AssessmentKind | None = None
    on: date | None = None
    """The assessment's date (band_drop, basic_failed)."""
    score: float | None = None
    previous_score: float | None = None
    band: str | None = None
    previous_band: str | None = None
    due: date | None = None
    days_left: int | None = None
    """Days until `due` (negative once it passed)."""
    year: int | None = None
    """The year the cycle's assessments are about."""
    drafted: bool = False
    """due_soon / overdue: a draft exists, but drafts do not count."""
    source: str | None = None
    since: datetime | None = None
    failures: int | None = None
    error: str | None = None


def score_alerts(comparisons: pd.DataFrame, rule_sets: Mapping[str, RuleSet]) -> list[Alert]:
    """`band_drop` and `basic_failed` events from `compare_assessments`' per-assessment frame."""
    alerts: list[Alert] = []
    if comparisons.empty:
        return alerts
    # `rank` is set exactly on the latest complete, non-draft, scored assessment of each
    # hospital, standard and kind (scoring/compare.py): the one an alert may be about.
    latest = comparisons[comparisons["rank"].notna() & (comparisons["status"] != Status.DRAFT)]
    for record in latest.to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        rule_set = rule_sets.get(str(row["standard"]))
        if rule_set is None:
            continue
        source, assessment_id = split_key(str(row["assessment_key"]))
        _, hospital_id = split_key(str(row["hospital_key"]))
        common: dict[str, Any] = {
            "hospital_id": hospital_id,
            "standard": rule_set.id,
            "kind": AssessmentKind(row["kind"]),
            "on": _date(row["assessed_on"]),
            "score": _number(row["score"]),
            "previous_score": _number(row["previous_score"]),
        }
        tail = f"{rule_set.id}:{hospital_id}:{source}:{assessment_id}"
        if row["kind"] == AssessmentKind.COUNCIL and _fell_band(rule_set, row):
            alerts.append(
                Alert(
                    key=f"{AlertEvent.BAND_DROP}:{tail}",
                    event=AlertEvent.BAND_DROP,
                    band=str(row["band"]),
                    previous_band=str(row["previous_band"]),
                    **common,
                )
            )
        if (
            rule_set.method == Method.CHECKLIST
            and row["passed"] is False
            and row["previous_passed"] is not False
        ):
            alerts.append(
                Alert(
                    key=f"{AlertEvent.BASIC_FAILED}:{tail}", event=AlertEvent.BASIC_FAILED, **common
                )
            )
    return alerts


def _fell_band(rule_set: RuleSet, row: Mapping[str, Any]) -> bool:
    """Whether the assessment's band is lower than its previous one's (by the bands' minima)."""
    minima = {band.label: band.min for band in rule_set.bands}
    band, previous = row["band"], row["previous_band"]
    if is_missing(band) or is_missing(previous) or band not in minima or previous not in minima:
        return False
    return minima[str(band)] < minima[str(previous)]


def cycle_alerts(states: Iterable[HospitalCycle], today: date, due_soon_days: int) -> list[Alert]:
    """`due_soon` and `overdue` events: a deadline of the current cycle within
    `due_soon_days`, or past, with its assessment missing or only drafted. One key per
    hospital, cycle year and kind: each is told once (due soon first, overdue later)."""
    alerts: list[Alert] = []
    for state in states:
        for kind in state.kinds:
            where = state.due_state(kind, today, due_soon_days)
            if where not in (DueState.DUE_SOON, DueState.OVERDUE):
                continue
            event = AlertEvent.DUE_SOON if where == DueState.DUE_SOON else AlertEvent.OVERDUE
            alerts.append(
                Alert(
                    key=f"{event}:{state.standard}:{state.year}:{kind}:{state.hospital_id}",
                    event=event,
                    hospital_id=state.hospital_id,
                    standard=state.standard,
                    kind=kind,
                    due=state.due(kind),
                    days_left=state.days_left(kind, today),
                    year=state.covered_year,
                    drafted=state.state(kind) == Submission.DRAFT_ONLY,
                )
            )
    return alerts


def source_alerts(failures: Iterable[SourceFailure]) -> list[Alert]:
    """One `source_failed` event per source failing now (a new streak is a new event)."""
    return [
        Alert(
            key=f"{AlertEvent.SOURCE_FAILED}:{f.source}:{f.since.isoformat()}",
            event=AlertEvent.SOURCE_FAILED,
            source=f.source,
            since=f.since,
            failures=f.failures,
            error=f.error,
        )
        for f in failures
    ]


def _date(value: Any) -> date | None:
    if is_missing(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def _number(value: Any) -> float | None:
    return None if is_missing(value) else float(value)
