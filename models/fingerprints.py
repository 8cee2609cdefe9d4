"""The fingerprint of what was last published to each dashboard target, and how that went.

A publish builds a dashboard only when the digest of its inputs changed, and rewrites it only
when its content fingerprint changed (see jobs/publish.py); `hqsync status` shows every
target's last outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hqsync.config.vocabulary import DashboardOutcome
from hqsync.models.tables import dashboard_fingerprints


@dataclass(frozen=True)
class TargetState:
    """One dashboard target's last publish: its content fingerprint and outcome, the digest of
    its inputs, and the layout its writer left (opaque text; None: unknown)."""

    target: str
    hospital_id: str | None
    fingerprint: str | None
    outcome: DashboardOutcome
    updated_at: datetime
    error: str | None
    inputs: str | None = None
    layout: str | None = None

    def as_json(self) -> dict[str, str | None]:
        """The state as `status --format json` shows it."""
        return {
            "target": self.target,
            "hospital_id": self.hospital_id,
            "outcome": str(self.outcome),
            "updated_at": self.updated_at.isoformat(),
            "error": self.error,
        }


def read_fingerprints(engine: Engine, *, with_cache: bool = True) -> dict[str, TargetState]:
    """Every dashboard target's last publish, by target; without `with_cache`, the inputs and
    layout are left out (`status` reads a store of an older schema too)."""
    f = dashboard_fingerprints.c
    columns = [f.target, f.hospital_id, f.fingerprint, f.outcome, f.updated_at, f.error]
    if with_cache:
        columns += [f.inputs, f.layout]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).order_by(f.target)).all()
    return {
        r.target: TargetState(
            r.target,
            r.hospital_id,
            r.fingerprint,
            DashboardOutcome(r.outcome),
            r.updated_at,
            r.error,
            r.inputs if with_cache else None,
            r.layout if with_cache else None,
        )
        for r in rows
    }


def forget_layout(engine: Engine, target: str) -> None:
    """Forget a target's layout before writing it: a write killed half-way (staging tabs
    added, a batch applied but not recorded) leaves a layout nobody knows, to be read again."""
    f = dashboard_fingerprints.c
    with engine.begin() as conn:
        conn.execute(
            sa.update(dashboard_fingerprints).where(f.target == target).values(layout=None)
        )


def record_outcome(engine: Engine, state: TargetState) -> None:
    """Store one target's publish outcome (see `record_outcomes`)."""
    record_outcomes(engine, (state,))


def record_outcomes(engine: Engine, states: Iterable[TargetState]) -> None:
    """Store targets' publish outcomes in one transaction. A failure keeps the last good
    fingerprint (so the next publish retries the write) and forgets the layout (a failed
    write may have left it anything)."""
    f = dashboard_fingerprints.c
    with engine.begin() as conn:
        for state in states:
            values: dict[str, Any] = {
                "hospital_id": state.hospital_id,
                "outcome": str(state.outcome),
                "updated_at": state.updated_at,
                "error": state.error,
                "layout": None if state.outcome == DashboardOutcome.FAILED else state.layout,
            }
            if state.outcome != DashboardOutcome.FAILED:
                values |= {"fingerprint": state.fingerprint, "inputs": state.inputs}
            done = conn.execute(
                sa.update(dashboard_fingerprints).where(f.target == state.target).values(**values)
            )
            if done.rowcount == 0:
                values.setdefault("fingerprint", state.fingerprint)
                values.setdefault("inputs", state.inputs)
                conn.execute(
                    sa.insert(dashboard_fingerprints).values(target=state.target, **values)
                )
