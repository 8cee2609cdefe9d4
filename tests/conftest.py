"""Fixtures shared by the whole suite: real stores on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hqsync.models.store import create_store_engine, migrate

PG_URL_ENV = "HQSYNC_TEST_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgresql")


def pg_base_url() -> str:
    """The PostgreSQL server the tests use (HQSYNC_TEST_PG_URL, default the local one)."""
    return os.environ.get(PG_URL_ENV, DEFAULT_PG_URL)


def pg_available() -> bool:
    """True when the test PostgreSQL server answers."""
    try:
        engine = sa.create_engine(pg_base_url())
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _require_pg() -> None:
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {pg_base_url()} (CI must start it)")
        pytest.skip("PostgreSQL is not reachable")


def pg_schema_url(schema: str) -> str:
    """A URL on the test server whose connections use `schema` as search_path."""
    sep = "&" if "?" in pg_base_url() else "?"
    return f"{pg_base_url()}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema, dropped after the test; yields its URL."""
    _require_pg()
    with fresh_pg_schema() as url:
        yield url


@contextlib.contextmanager
def fresh_pg_schema(prefix: str = "t_") -> Iterator[str]:
    """A fresh, empty PostgreSQL schema named `prefix` + random hex, dropped afterwards;
    yields its URL."""
    schema = f"{prefix}{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_base_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for an empty store, once per backend (SQLite file, PostgreSQL schema)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_schema"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated store on every backend."""
    engine = create_store_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()
