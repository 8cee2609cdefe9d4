"""The store's schema and migrations, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hqsync.models import tables
from hqsync.models.store import migrate


def test_migrations_match_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), tables.metadata)
    assert diff == [], "models changed without a migration: " + repr(diff)


def test_migrate_is_idempotent(engine):
    migrate(engine)
    names = set(sa.inspect(engine).get_table_names())
    assert {"hospitals", "assessments", "findings", "runs", "leases"} <= names


def test_timestamps_come_back_as_aware_utc(engine):
    local = datetime(2026, 1, 2, 10, 0, tzinfo=UTC).astimezone()
    with engine.begin() as conn:
        conn.execute(
            sa.insert(tables.leases).values(
                name="x", holder="h", acquired_at=local, expires_at=local + timedelta(seconds=5)
            )
        )
        row = conn.execute(sa.select(tables.leases.c.acquired_at)).scalar_one()
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


def test_head_revision_is_alembics_head():
    from importlib import resources

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from hqsync.models.store import head_revision

    config = Config()
    config.set_main_option("script_location", str(resources.files("hqsync.models.migrations")))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_open_store_on_a_current_store_does_not_run_alembic(tmp_path, monkeypatch):
    from hqsync.models import store

    url = f"sqlite:///{tmp_path / 'hq.db'}"
    store.open_store(url).dispose()
    calls = []
    monkeypatch.setattr(store, "migrate", calls.append)
    engine = store.open_store(url)
    assert calls == []
    assert store.schema_version(engine) == store.head_revision()
    engine.dispose()


def test_schema_version_of_an_empty_store_is_none(engine):
    from hqsync.models.store import schema_version

    assert schema_version(engine) is not None
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")
    assert schema_version(engine) is None
