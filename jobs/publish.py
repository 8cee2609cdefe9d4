"""Publishing every dashboard target: the overview and each hospital's own dashboard.

A target is rewritten only when its content fingerprint (the About tab's times left out)
differs from the one stored after its last successful write; a failing target is recorded and
the others go on. Every target's outcome is kept in the store for `hqsync status`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from hqsync.config.errors import HqsyncError
from hqsync.config.settings import Settings
from hqsync.config.vocabulary import Backend, DashboardOutcome
from hqsync.models.fingerprints import TargetState, read_fingerprints, record_outcome
from hqsync.sync.dashboard.document import Dashboard
from hqsync.sync.dashboard.loader import DashboardData, is_missing
from hqsync.sync.interfaces import DashboardWriter

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
    chosen = dict(settings.dashboard.hospitals)
    base = settings.path.resolve().parent if settings.path else None
    if "dashboard" in data.hospitals:
        pairs = zip(data.hospitals["hospital_id"], data.hospitals["dashboard"], strict=True)
        for hospital, value in pairs:
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
    return [DashboardTarget(t, h) for h, t in sorted(chosen.items())]


def publish_targets(
    engine: Engine,
    targets: list[tuple[DashboardTarget, Callable[[], Dashboard]]],
    writer_for: Callable[[DashboardTarget], DashboardWriter],
    *,
    backend: Backend,
    clock: Callable[[], datetime],
) -> PublishReport:
    """Build each target's dashboard, write it when its content changed, record the outcome."""
    from hqsync.sync.dashboard.hospital import content_fingerprint

    stored = read_fingerprints(engine)
    outcomes: dict[str, DashboardOutcome] = {}
    errors: dict[str, str] = {}
    rows: dict[str, int] = {}
    requests = 0
    for target, build in targets:
        fingerprint: str | None = None
        writer: DashboardWriter | None = None
        before = 0
        try:
            dashboard = build()
            fingerprint = content_fingerprint(dashboard)
            if target.hospital_id is None:
                rows = {t.key: len(t.rows) for t in dashboard.tables}
            if _unchanged(stored.get(target.target), fingerprint, target.target, backend):
                outcome, error = DashboardOutcome.UNCHANGED, None
            else:
                writer = writer_for(target)
                before = writer.requests_made
                writer.publish(dashboard)
                outcome, error = DashboardOutcome.WRITTEN, None
        except Exception as exc:  # one target's failure never stops the others
            outcome, error = DashboardOutcome.FAILED, _describe(exc)
            log.error("dashboard %s failed: %s", _name(target), error)
        if writer is not None:
            requests += writer.requests_made - before
        outcomes[target.target] = outcome
        if error:
            errors[target.target] = error
        state = TargetState(target.target, target.hospital_id, fingerprint, outcome, clock(), error)
        record_outcome(engine, state)
    return PublishReport(outcomes=outcomes, errors=errors, requests=requests, rows=rows)


def _unchanged(state: TargetState | None, fingerprint: str, target: str, backend: Backend) -> bool:
    if state is None or state.outcome == DashboardOutcome.FAILED:
        return False
    if state.fingerprint != fingerprint:
        return False
    return backend != Backend.XLSX or Path(target).exists()  # a deleted workbook is rewritten


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
    "hospital_targets",
    "publish_targets",
]
