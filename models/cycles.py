"""Reading the current assessment cycles' inputs from the store (the states are
`hqsync.scoring.cycles`): live hospitals with the columns the cycles' `applies_when` name, and
the live assessments that may be dated in the cycle's year. Two queries, whatever the size."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hqsync.config.vocabulary import AssessmentKind, Status, fold
from hqsync.models.tables import assessments, hospitals
from hqsync.scoring.cycles import (
    Cycle,
    CycleAssessment,
    CycleHospital,
    CycleReport,
    HospitalCycle,
    check_cycles,
    cycle_report,
    standard_resolver,
)
from hqsync.scoring.ruleset import RuleSet

log = logging.getLogger(__name__)

PROFILE_FLAGS = ("has_obstetrics", "has_pediatrics")
"""The Hospitals tab's typed yes/no fields an `applies_when` may name by field name."""


def load_cycle_report(
    engine: Engine,
    cycles: Sequence[Cycle],
    rule_sets: Mapping[str, RuleSet],
    today: date,
    *,
    due_soon_days: int = 14,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> CycleReport:
    """The current cycles on `today` (a local date in `timezone`, the schedule's): every
    applicable hospital's state and the counts. ConfigError when a cycle names a standard no
    rule set knows. Only reads."""
    resolve = standard_resolver(rule_sets)
    check_cycles(cycles, resolve, rule_sets)
    if not cycles:
        return CycleReport(today, due_soon_days, (), ())
    with engine.connect() as conn:
        listed = load_cycle_hospitals(conn, cycles)
        dated = load_cycle_assessments(conn, today.year, ZoneInfo(timezone))
    return cycle_report(cycles, listed, dated, today, due_soon_days, resolve)


def load_cycle_states(
    engine: Engine,
    cycles: Sequence[Cycle],
    rule_sets: Mapping[str, RuleSet],
    today: date,
    *,
    timezone: str = "Asia/Ho_Chi_Minh",
) -> list[HospitalCycle]:
    """Every applicable hospital's state in the current cycle of each of `cycles` on `today`
    (see `load_cycle_report`)."""
    report = load_cycle_report(engine, cycles, rule_sets, today, timezone=timezone)
    return list(report.states)


def load_cycle_hospitals(conn: Connection, cycles: Sequence[Cycle]) -> list[CycleHospital]:
    """Every live Hospitals-tab row, with the columns the cycles' `applies_when` name: a typed
    yes/no field by its name, else any column by its header (both matched with `fold`)."""
    wanted = {fold(c.applies_when) for c in cycles if c.applies_when}
    flags = [f for f in PROFILE_FLAGS if fold(f) in wanted]
    h = hospitals.c
    columns: list[Any] = [h.hospital_id, h.name, h.active, *(h[f] for f in flags)]
    by_header = wanted - {fold(f) for f in flags}
    if by_header:
        columns.append(h.raw)
    stmt = sa.select(*columns).where(h.deleted.is_(False)).order_by(h.source, h.hospital_id)
    rows: list[CycleHospital] = []
    found: set[str] = {fold(f) for f in flags}
    for row in conn.execute(stmt):
        values = row._mapping
        cells = {fold(f): values[f] for f in flags}
        for header, value in (values.get("raw") or {}).items() if by_header else ():
            key = fold(header)
            if key in by_header and value not in (None, ""):
                cells[key] = value
        found.update(cells)
        rows.append(CycleHospital(str(row.hospital_id), row.name or "", row.active, columns=cells))
    _warn_missing(cycles, wanted - found if rows else set())
    return rows


def load_cycle_assessments(conn: Connection, year: int, zone: ZoneInfo) -> list[CycleAssessment]:
    """The live assessments that may be dated in `year`: assessed in it, or with no
    assessed_on (then dated by the local date of updated_at, else of when first seen)."""
    a = assessments.c
    stmt = sa.select(
        a.hospital_id, a.standard, a.kind, a.status, a.assessed_on, a.updated_at, a.first_seen_at
    ).where(
        a.deleted.is_(False),
        sa.or_(
            a.assessed_on.is_(None),
            a.assessed_on.between(date(year, 1, 1), date(year, 12, 31)),
        ),
    )
    kinds = {str(k): k for k in AssessmentKind}
    statuses = {str(s): s for s in Status}
    found: list[CycleAssessment] = []
    for row in conn.execute(stmt):
        kind, status = kinds.get(row.kind), statuses.get(row.status)
        if kind is None or status is None:
            continue
        dated = row.assessed_on or _local_date(row.updated_at or row.first_seen_at, zone)
        found.append(CycleAssessment(str(row.hospital_id), row.standard, kind, status, dated))
    return found


def _local_date(moment: datetime | None, zone: ZoneInfo) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # the store keeps UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def _warn_missing(cycles: Sequence[Cycle], missing: Collection[str]) -> None:
    """A cycle whose `applies_when` column no Hospitals tab has applies to no hospital: say so."""
    for index, cycle in enumerate(cycles, start=1):
        if cycle.applies_when and fold(cycle.applies_when) in missing:
            log.warning(
                "cycles[%d].applies_when = %r: no Hospitals tab has that column (or it is empty "
                "everywhere), so the %s cycle applies to no hospital; add the column or fix "
                "the name",
                index,
                cycle.applies_when,
                cycle.standard,
            )
