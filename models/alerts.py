"""The alerts' SQL: the hospitals' leaders' addresses, and what was delivered to whom.

An alert event (its stable key, see `hqsync.sync.alerts.events`) is delivered to each of its
recipients once: a `sent` row is never sent again, a `failed` one is retried on the next run
(its attempts counted, its last error kept for `hqsync status`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hqsync.config.utils import IN_CHUNK, chunks
from hqsync.config.vocabulary import Channel, DeliveryOutcome
from hqsync.models.tables import alert_deliveries, hospitals

DeliveryKey = tuple[str, Channel, str]
"""(event key, channel, recipient): one alert to one recipient."""


@dataclass(frozen=True)
class HospitalContact:
    """A live hospital as alerts need it: its name, leaders' addresses and dashboard cells."""

    hospital_id: str
    name: str | None
    email: str | None
    """The Hospitals tab's `email` cell as written (addresses separated by ',' or ';')."""
    dashboard: str | None
    active: bool | None


@dataclass(frozen=True)
class DeliveryState:
    """How delivering one alert to one recipient stands."""

    event_key: str
    channel: Channel
    recipient: str
    event: str
    hospital_id: str | None
    outcome: DeliveryOutcome
    attempts: int
    first_attempt_at: datetime
    last_attempt_at: datetime
    sent_at: datetime | None
    error: str | None

    @property
    def key(self) -> DeliveryKey:
        """(event key, channel, recipient)."""
        return (self.event_key, self.channel, self.recipient)


@dataclass(frozen=True)
class DeliveryAttempt:
    """One alert handed to one recipient by this run, and whether that worked."""

    event_key: str
    channel: Channel
    recipient: str
    event: str
    hospital_id: str | None
    error: str | None = None
    """None: delivered."""


def load_contacts(conn: Connection) -> list[HospitalContact]:
    """Every live hospital of every source, by source and id."""
    h = hospitals.c
    stmt = (
        sa.select(h.hospital_id, h.name, h.email, h.dashboard, h.active)
        .where(h.deleted.is_(False))
        .order_by(h.source, h.hospital_id)
    )
    return [HospitalContact(*row) for row in conn.execute(stmt).all()]


_COLUMNS = (
    alert_deliveries.c.event_key,
    alert_deliveries.c.channel,
    alert_deliveries.c.recipient,
    alert_deliveries.c.event,
    alert_deliveries.c.hospital_id,
    alert_deliveries.c.outcome,
    alert_deliveries.c.attempts,
    alert_deliveries.c.first_attempt_at,
    alert_deliveries.c.last_attempt_at,
    alert_deliveries.c.sent_at,
    alert_deliveries.c.error,
)


def _state(row: Any) -> DeliveryState:
    return DeliveryState(
        event_key=row.event_key,
        channel=Channel(row.channel),
        recipient=row.recipient,
        event=row.event,
        hospital_id=row.hospital_id,
        outcome=DeliveryOutcome(row.outcome),
        attempts=row.attempts,
        first_attempt_at=row.first_attempt_at,
        last_attempt_at=row.last_attempt_at,
        sent_at=row.sent_at,
        error=row.error,
    )


def delivery_states(
    conn: Connection, event_keys: Collection[str]
) -> dict[DeliveryKey, DeliveryState]:
    """The deliveries recorded for these events (to any recipient), by delivery key."""
    found: dict[DeliveryKey, DeliveryState] = {}
    for chunk in chunks(sorted(set(event_keys)), IN_CHUNK):
        stmt = sa.select(*_COLUMNS).where(alert_deliveries.c.event_key.in_(chunk))
        for row in conn.execute(stmt).all():
            state = _state(row)
            found[state.key] = state
    return found


def record_deliveries(conn: Connection, attempts: Sequence[DeliveryAttempt], now: datetime) -> None:
    """Store what this run delivered (sent) and what it could not (failed: attempts + 1)."""
    known = delivery_states(conn, {a.event_key for a in attempts})
    for attempt in attempts:
        key = (attempt.event_key, attempt.channel, attempt.recipient)
        before = known.get(key)
        sent = attempt.error is None
        values: dict[str, Any] = {
            "outcome": str(DeliveryOutcome.SENT if sent else DeliveryOutcome.FAILED),
            "attempts": (before.attempts if before else 0) + 1,
            "last_attempt_at": now,
            "sent_at": now if sent else None,
            "error": attempt.error,
        }
        if before is None:
            conn.execute(
                sa.insert(alert_deliveries).values(
                    event_key=attempt.event_key,
                    channel=str(attempt.channel),
                    recipient=attempt.recipient,
                    event=attempt.event,
                    hospital_id=attempt.hospital_id,
                    first_attempt_at=now,
                    **values,
                )
            )
        elif before.outcome != DeliveryOutcome.SENT:  # a sent alert is never sent again
            conn.execute(
                sa.update(alert_deliveries)
                .where(
                    alert_deliveries.c.event_key == attempt.event_key,
                    alert_deliveries.c.channel == str(attempt.channel),
                    alert_deliveries.c.recipient == attempt.recipient,
                )
                .values(**values)
            )


def failing_deliveries(bind: Engine | Connection) -> list[DeliveryState]:
    """Every delivery whose last attempt failed (retried on the next run), oldest first."""
    stmt = (
        sa.select(*_COLUMNS)
        .where(alert_deliveries.c.outcome == str(DeliveryOutcome.FAILED))
        .order_by(alert_deliveries.c.first_attempt_at, alert_deliveries.c.event_key)
    )
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return [_state(r) for r in conn.execute(stmt).all()]
    return [_state(r) for r in bind.execute(stmt).all()]


def sent_count(bind: Engine | Connection) -> int:
    """How many alert deliveries were ever sent."""
    stmt = sa.select(sa.func.count()).where(alert_deliveries.c.outcome == str(DeliveryOutcome.SENT))
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return int(conn.execute(stmt).scalar_one())
    return int(bind.execute(stmt).scalar_one())
