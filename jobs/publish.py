"""Publishing every dashboard target: the overview and each hospital's own dashboard.

A target is built only when the digest of its inputs (`sync.dashboard.inputs`) differs from
the one stored after its last publish, and rewritten only when its content fingerprint (the
About tab's times left out) differs from the one stored after its last successful write; a
writer that keeps layouts (`LayoutKeeper`: Google) is told the one its last write left, so a
write needs no layout read. A failing target is recorded and the others go on. Every target's
outcome is kept in the store for `hqsync status`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TypeGuard

from sqlalchemy.engine import Engine

from hqsync.config.errors import HqsyncError
from hqsync.config.settings import Settings
from hqsync.config.vocabulary import Backend, DashboardOutcome
from hqsync.models.fingerprints import (
    TargetState,
    forget_layout,
    read_fingerprints,
    record_outcome,
    record_outcomes,
)
from hqsync.sync.dashboard.document import Dashboard
from hqsync.sync.dashboard.loader import DashboardData, is_missing
from hqsync.sync.interfaces import DashboardWriter, LayoutKeeper

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DashboardTarget:
    """Where one dashboard goes: the overview (hospital_id None) or one hospital's own."""

    target: str
    hospital_id: str | None = None


@dataclass(frozen=True)
class PublishReport:
    """What one publish did to every target."""

    outcomes: Mapping[str, DashboardOutcome]
    errors: Mapping[str, str]
    requests: int
    rows: Mapping[str, int]

    @property
    def written(self) -> tuple[str, ...]:
        """The targets rewritten by this publish."""
        return tuple(t for t, o in self.outcomes.items() if o == DashboardOutcome.WRITTEN)


def hospital_targets(settings: Settings, data: DashboardData) -> list[DashboardTarget]:
    """Each hospital's dashboard: `[dashboard.hospitals]` first, then the Hospitals tab's
    `dashboard` column for the hospitals the config leaves out."""
    column: list[tuple[object, object]] = []
    if "dashboard" in data.hospitals:
        column = list(zip(data.hospitals["hospital_id"], data.hospitals["dashboard"], strict=True))
    chosen = hospital_dashboards(settings, column)
    return [DashboardTarget(t, h) for h, t in sorted(chosen.items())]


def hospital_dashboards(
    settings: Settings, column: Iterable[tuple[object, object]]
) -> dict[str, str]:
    """hospital_id → its dashboard's target: `[dashboard.hospitals]`, then the Hospitals tab's
    `dashboard` column (`column`: hospital_id, cell) for the hospitals the config leaves out;
    a cell naming a dashboard already in use is skipped with a warning."""
    chosen = dict(settings.dashboard.hospitals)
    base = settings.path.resolve().parent if settings.path else None
    for hospital, value in column:
        if is_missing(value) or not str(value).strip() or str(hospital) in chosen:
            continue
        target = settings.dashboard.hospital_target(str(value), base)
        if target == settings.dashboard.spreadsheet or target in chosen.values():
            log.warning(
                "hospital %s's dashboard column names a dashboard already in use; skipped",
                hospital,
            )
            continue
        chosen[str(hospital)] = target
    return chosen


def publish_targets(
    engine: Engine,
    targets: list[tuple[DashboardTarget, Callable[[], Dashboard]]],
    writer_for: Callable[[DashboardTarget], DashboardWriter],
    *,
    backend: Backend,
    clock: Callable[[], datetime],
    inputs: Mapping[str, str] | None = None,
) -> PublishReport:
    """Publish every target: one whose input digest (`inputs`, target → digest) equals the one
    stored after its last publish is not even built; the others are built and written when
    their content changed. Each outcome is recorded in the store."""
    from hqsync.sync.dashboard.hospital import content_fingerprint

    stored = read_fingerprints(engine)
    inputs = inputs or {}
    outcomes: dict[str, DashboardOutcome] = {}
    errors: dict[str, str] = {}
    rows: dict[str, int] = {}
    skipped: list[TargetState] = []
    requests = 0
    for target, build in targets:
        state = stored.get(target.target)
        digest = inputs.get(target.target)
        if _built_from(state, digest, target.target, backend):
            outcomes[target.target] = DashboardOutcome.UNCHANGED
            skipped.append(replace(state, outcome=DashboardOutcome.UNCHANGED, updated_at=clock()))
            continue
        fingerprint: str | None = None
        writer: DashboardWriter | None = None
        layout = state.layout if state is not None else None
        before = 0
        try:
            dashboard = build()
            fingerprint = content_fingerprint(dashboard)
            if target.hospital_id is None:
                rows = {t.key: len(t.rows) for t in dashboard.tables}
            if (
                state is not None
                and _current(state, target.target, backend)
                and state.fingerprint == fingerprint
            ):
                outcome, error = DashboardOutcome.UNCHANGED, None
            else:
                writer = writer_for(target)
                before = writer.requests_made
                keeper = writer if isinstance(writer, LayoutKeeper) else None
                if keeper is not None:
                    keeper.known_layout = _usable_layout(state)
                    if keeper.known_layout is not None:
                        forget_layout(engine, target.target)
                writer.publish(dashboard)
                layout = keeper.layout if keeper is not None else None
                outcome, error = DashboardOutcome.WRITTEN, None
        except Exception as exc:  # one target's failure never stops the others
            outcome, error = DashboardOutcome.FAILED, _describe(exc)
            log.error("dashboard %s failed: %s", _name(target), error)
        if writer is not None:
            requests += writer.requests_made - before
        outcomes[target.target] = outcome
        if error:
            errors[target.target] = error
        record_outcome(
            engine,
            TargetState(
                target.target, target.hospital_id, fingerprint, outcome, clock(), error,
                inputs=digest, layout=layout,
            ),
        )  # fmt: skip
    record_outcomes(engine, skipped)  # bookkeeping only: one transaction for them all
    return PublishReport(outcomes=outcomes, errors=errors, requests=requests, rows=rows)


def _built_from(
    state: TargetState | None, digest: str | None, target: str, backend: Backend
) -> TypeGuard[TargetState]:
    """True when the target's last publish was built from inputs of digest `digest`."""
    return (
        digest is not None
        and state is not None
        and state.inputs == digest
        and _current(state, target, backend)
    )


def _current(state: TargetState, target: str, backend: Backend) -> bool:
    """True when the target's last publish succeeded and its workbook is still there (a deleted
    one is rewritten)."""
    if state.outcome == DashboardOutcome.FAILED:
        return False
    return backend != Backend.XLSX or Path(target).exists()


def _usable_layout(state: TargetState | None) -> str | None:
    """The layout the last successful write left (a failed one forgets it)."""
    if state is None or state.outcome == DashboardOutcome.FAILED:
        return None
    return state.layout


def _name(target: DashboardTarget) -> str:
    return f"of hospital {target.hospital_id}" if target.hospital_id else "overview"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, HqsyncError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot write: {exc}"
    return f"unexpected error: {type(exc).__name__}: {exc}"


__all__ = [
    "DashboardTarget",
    "PublishReport",
    "hospital_dashboards",
    "hospital_targets",
    "publish_targets",
]
