"""The fingerprint of what was last published to each dashboard target, and how that went.

A publish rewrites a dashboard only when its fingerprint changed (see jobs/pipeline.py);
`hqsync status` shows every target's last outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hqsync.config.vocabulary import DashboardOutcome
from hqsync.models.tables import DashboardFingerprint


@dataclass(frozen=True)
class TargetState:
    """One dashboard target's last publish: its content fingerprint and outcome."""

    target: str
    hospital_id: str | None
    fingerprint: str | None
    outcome: DashboardOutcome
    updated_at: datetime
    error: str | None

    def as_json(self) -> dict[str, str | None]:
        """The state as `status --format json` shows it."""
        return {
            "target": self.target,
            "hospital_id": self.hospital_id,
            "outcome": str(self.outcome),
            "updated_at": self.updated_at.isoformat(),
            "error": self.error,
        }


def read_fingerprints(engine: Engine) -> dict[str, TargetState]:
    """Every dashboard target's last publish, by target."""
    f = DashboardFingerprint
    stmt = sa.select(f.target, f.hospital_id, f.fingerprint, f.outcome, f.updated_at, f.error)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(f.target)).all()
    return {
        r.target: TargetState(
            r.target,
            r.hospital_id,
            r.fingerprint,
            DashboardOutcome(r.outcome),
            r.updated_at,
            r.error,
        )
        for r in rows
    }


def record_outcome(engine: Engine, state: TargetState) -> None:
    """Store one target's publish outcome; a failure keeps the last good fingerprint
    (so the next publish retries the write)."""
    f = DashboardFingerprint
    values: Mapping[str, object] = {
        "hospital_id": state.hospital_id,
        "outcome": str(state.outcome),
        "updated_at": state.updated_at,
        "error": state.error,
    }
    with engine.begin() as conn:
        found = conn.execute(sa.select(f.target).where(f.target == state.target)).first()
        if found is None:
            conn.execute(
                sa.insert(f).values(target=state.target, fingerprint=state.fingerprint, **values)
            )
            return
        if state.outcome != DashboardOutcome.FAILED:
            values = {**values, "fingerprint": state.fingerprint}
        conn.execute(sa.update(f).where(f.target == state.target).values(**values))
