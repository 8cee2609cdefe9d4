"""The store's schema and migrations, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hqsync.models.store import migrate
from hqsync.models.tables import Base, Lease


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "models changed without a migration: " + repr(diff)


def test_migrate_is_idempotent(engine):
    migrate(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert {"hospitals", "assessments", "findings", "runs", "leases"} <= tables


def test_timestamps_come_back_as_aware_utc(engine):
    local = datetime(2026, 1, 2, 10, 0, tzinfo=UTC).astimezone()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Lease).values(
                name="x", holder="h", acquired_at=local, expires_at=local + timedelta(seconds=5)
            )
        )
        row = conn.execute(sa.select(Lease.acquired_at)).scalar_one()
    assert row == local
    assert row.tzinfo is not None


def test_last_finished_is_the_latest_run_with_a_wanted_outcome(engine):
    from hqsync.models.runs import finish_run, last_finished, start_run

    assert last_finished(engine, "sync", ("ok", "skipped")) is None
    base = datetime(2026, 1, 2, 3, 0, tzinfo=UTC)
    for minutes, outcome in ((0, "ok"), (10, "skipped"), (20, "failed")):
        run = start_run(engine, "sync", "h", "s", base + timedelta(minutes=minutes))
        finish_run(engine, run, outcome, finished_at=base + timedelta(minutes=minutes + 1))
    assert last_finished(engine, "sync", ("ok", "skipped")) == base + timedelta(minutes=11)
    assert last_finished(engine, "publish", ("ok",)) is None


def test_postgresql_findings_pages_keep_room_for_updates_in_place(engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL storage setting")
    with engine.connect() as conn:
        options = conn.execute(
            sa.text("SELECT reloptions FROM pg_class WHERE oid = 'findings'::regclass")
        ).scalar_one()
    assert "fillfactor=90" in options
