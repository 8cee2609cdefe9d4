"""Opening the store: engines for SQLite (WAL) and PostgreSQL, and applying migrations.

Write commands open it with `open_store` (creates a missing SQLite file, migrates, closes the
runs dead processes left 'running'); read-only commands with `open_store_readonly`, which never
creates a file or folder, never migrates and takes no write lock.
"""

from __future__ import annotations

import ast
import functools
import logging
import re
import sqlite3
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from hqsync.config.errors import StoreError
from hqsync.config.utils import redact_url

log = logging.getLogger(__name__)

_BUSY_TIMEOUT_S = 30


def create_store_engine(url: str, *, readonly: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign-key checks and a busy timeout.

    With `readonly`, a SQLite file is opened with `mode=ro` (a missing file is a StoreError,
    nothing is created) and transactions begin DEFERRED (no write lock); PostgreSQL sessions
    are READ ONLY.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"database.url {redact_url(url)!r} is not a database URL: {exc}") from exc
    sqlite_path = sqlite_file(url) if parsed.get_backend_name() == "sqlite" else None
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": _BUSY_TIMEOUT_S})
        if readonly:
            if sqlite_path is None:
                raise StoreError(f"database.url {url!r} is not a SQLite file: nothing to read")
            kwargs["creator"] = _readonly_connector(sqlite_path)
        elif sqlite_path is not None:
            _make_parent(sqlite_path, url)
    try:
        engine = sa.create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"database.url {redact_url(url)!r} is not usable: {exc}") from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_readonly if readonly else _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin_deferred if readonly else _sqlite_begin)
    elif readonly and engine.dialect.name == "postgresql":
        sa.event.listen(engine, "connect", _postgresql_readonly)
    return engine


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None for an in-memory database or another backend)."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database or ""
    if not database or database == ":memory:" or "mode=memory" in url:
        return None
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database)


def _make_parent(path: Path, url: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder of the SQLite store {redact_url(url)}: "
            f"{exc.strerror or exc} ({exc.filename or path.parent}); check database.url, and "
            "that every folder on the path is a folder hqsync may write"
        ) from exc


def _readonly_connector(path: Path) -> Any:
    def connect() -> sqlite3.Connection:
        if not path.is_file():
            raise StoreError(
                f"store missing: {path} does not exist; run `hqsync sync` first to create it, "
                "or check database.url"
            )
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=_BUSY_TIMEOUT_S, check_same_thread=False)

    return connect


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (so BEGIN IMMEDIATE works).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def _sqlite_readonly(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # Take the write lock up front: two daemons never deadlock upgrading a read lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(connection: Any) -> None:
    # A reader takes no write lock: it never waits behind a long writer (WAL readers don't).
    connection.exec_driver_sql("BEGIN")


def _postgresql_readonly(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


_REVISION = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)


@functools.cache
def head_revision() -> str:
    """The schema version this hqsync expects (the newest migration).

    Read from the migration files' `revision` / `down_revision` lines, without importing
    alembic (a test holds it equal to alembic's own head).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in resources.files("hqsync.models.migrations.versions").iterdir():
        if not path.name.endswith(".py") or path.name.startswith("__"):
            continue
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            literal = ast.literal_eval(value)
            found = literal if isinstance(literal, (tuple, list)) else (literal,)
            (revisions if name == "revision" else parents).update(v for v in found if v)
    heads = revisions - parents
    if len(heads) != 1:
        raise StoreError(f"the migrations have {len(heads)} heads ({sorted(heads)}), expected one")
    return heads.pop()


def known_revisions() -> frozenset[str]:
    """Every schema version this hqsync knows (its migrations): a store at any other version
    was made by a newer hqsync."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(resources.files("hqsync.models.migrations")))
    return frozenset(
        script.revision for script in ScriptDirectory.from_config(config).walk_revisions()
    )


def schema_version(engine: Engine) -> str | None:
    """The store's schema version (alembic revision), None when it has no hqsync schema.

    One query when the store exists; the catalogue is looked at only when it fails.
    """
    try:
        with engine.connect() as conn:
            try:
                return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
            except (sa.exc.OperationalError, sa.exc.ProgrammingError):
                conn.rollback()
                if sa.inspect(conn).has_table("alembic_version"):
                    raise
                return None
    except SQLAlchemyError as exc:
        raise store_error(exc, str(engine.url)) from exc


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
    except (SQLAlchemyError, sqlite3.Error) as exc:
        raise store_error(exc, str(engine.url), "migrating the schema") from exc
    log.debug("schema is up to date on %s", redact_url(str(engine.url)))


def open_store(
    url: str, *, stale_after_s: float | None = None, now: datetime | None = None
) -> Engine:
    """An engine for `url` whose schema has been migrated to the current version.

    With `stale_after_s` (the lease time), runs whose process is gone are closed as
    'failed: abandoned' (see models.runs.close_abandoned).
    """
    engine = create_store_engine(url)
    if schema_version(engine) != head_revision():
        migrate(engine)
    if stale_after_s is not None:
        from hqsync.models.runs import close_abandoned

        try:
            closed = close_abandoned(engine, stale_after_s, now=now)
        except SQLAlchemyError as exc:
            raise store_error(exc, url, "closing abandoned runs") from exc
        if closed:
            log.warning("closed %d run(s) whose process is gone as failed (abandoned)", closed)
    return engine


def open_store_readonly(url: str) -> Engine:
    """An engine that only reads the store: no file or folder is created, no migration runs,
    no write lock is taken. A missing or empty store is a StoreError; a store whose schema is
    behind is read as it is, with a warning."""
    engine = create_store_engine(url, readonly=True)
    try:
        version = schema_version(engine)
    except StoreError:
        engine.dispose()
        raise
    if version is None:
        engine.dispose()
        raise StoreError(
            f"store missing: {redact_url(url)} holds no hqsync store; run `hqsync sync` first "
            "to create it, or check database.url"
        )
    head = head_revision()
    if version != head:
        log.warning(
            "the store's schema is at %s, this hqsync expects %s: reading it as it is; "
            "run a write command (`hqsync sync`) to migrate it",
            version,
            head,
        )
    return engine


_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("file is not a database", "disk image is malformed", "malformed database schema"),
        "the SQLite file is damaged or is not an hqsync store: restore it from a backup, or "
        "point database.url at the right file",
    ),
    (
        ("readonly database", "read-only file system"),
        "hqsync may not write the SQLite file or its folder (the folder must be writable for "
        "the -wal file): check their owner and permissions",
    ),
    (
        ("unable to open database file",),
        "check that the SQLite file and its folder exist and hqsync may read and write them",
    ),
    (
        ("database is locked",),
        "another process held the write lock too long: retry; `hqsync status` shows who runs",
    ),
    (
        ("permission denied", "must be owner"),
        "grant the database role in database.url the privileges on hqsync's tables",
    ),
    (
        ("statement timeout", "canceling statement", "lock timeout"),
        "the database cancelled a statement: raise statement_timeout for hqsync's role, or "
        "retry when the database is less busy",
    ),
    (
        ("read-only transaction",),
        "the database only allows reading (a standby?): point database.url at the primary",
    ),
    (
        (
            "no such table",
            "no such column",
            "does not exist",
            "undefinedtable",
            "undefinedcolumn",
        ),
        "the store's schema is missing or behind: run `hqsync sync` to create or migrate it",
    ),
    (
        (
            "connection refused",
            "could not connect",
            "could not translate host",
            "authentication failed",
            "connection failed",
            "timeout expired",
            "server closed the connection",
            "name or service not known",
        ),
        "check database.url (host, port, user, password) and that the database server runs",
    ),
)


def store_error(exc: BaseException, url: str, doing: str | None = None) -> StoreError:
    """A database error as one line for people: what failed, where (password masked) and
    what to do."""
    orig: BaseException = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).strip().splitlines() if line.strip()]
    first = lines[0] if lines else type(orig).__name__
    text = f"{type(orig).__name__} {orig}".lower()
    hint = next(
        (hint for needles, hint in _HINTS if any(n in text for n in needles)),
        "check the database and retry; `hqsync status` shows the recent failures",
    )
    what = f"database error{f' while {doing}' if doing else ''} on {redact_url(url)}"
    return StoreError(f"{what}: {first}; {hint}")
