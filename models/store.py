"""Opening the store: engines for SQLite (WAL) and PostgreSQL, and applying migrations."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from hqsync.config.errors import StoreError
from hqsync.config.settings import redact_url

log = logging.getLogger(__name__)


def create_store_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign-key checks and a busy timeout."""
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        engine = sa.create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"database.url {redact_url(url)!r} is not usable: {exc}") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (so BEGIN IMMEDIATE works).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock up front: two daemons never deadlock upgrading a read lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(engine: Engine) -> None:
    """Bring the store's schema up to date (alembic upgrade head); safe to call on every start."""
    from alembic import command
    from alembic.config import Config

    script_location = str(resources.files("hqsync.models.migrations"))
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["engine"] = engine
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Several daemons may start together on a fresh database: one migrates at a time.
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(6858)"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StoreError(
            f"cannot reach the database {redact_url(str(engine.url))}: {exc.orig}"
        ) from exc
    log.debug("schema is up to date on %s", redact_url(str(engine.url)))


def open_store(url: str) -> Engine:
    """An engine for `url` whose schema has been migrated to the current version."""
    engine = create_store_engine(url)
    migrate(engine)
    return engine
