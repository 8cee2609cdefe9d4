"""One line, one exit code, every path (issue 13): config mistakes, a corrupt or missing
store, database errors mid-command, unusable paths and unexpected errors."""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from hqsync.config.errors import ConfigError
from hqsync.config.settings import settings_from_mapping
from hqsync.jobs.cli import cli
from hqsync.jobs.demo import demo_config, write_demo_source
from hqsync.models.store import head_revision, migrate, open_store

SMALL = {"hospital_count": 3, "items_per_level": (1, 2, 1, 1, 1)}
COMMANDS = (
    ["status"],
    ["status", "--format", "json"],
    ["scores"],
    ["check"],
    ["sync"],
    ["score"],
    ["publish"],
    ["run", "--once"],
)
READ_ONLY = (["status"], ["status", "--format", "json"], ["scores"])


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=True)


def assert_one_line(result: Result, code: int, *words: str) -> str:
    """The command failed with `code`, one line on stderr naming `words`, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("hqsync: ")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], (word, errors[0])
    return errors[0]


def write_config(directory: Path, text: str = "") -> Path:
    path = directory / "hqsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def demo_deployment(directory: Path) -> Path:
    config = write_config(directory, demo_config("en"))
    write_demo_source(directory / "source.xlsx", **SMALL)
    return config


# -- config mistakes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fix"),
    [
        ("postgres://hq:pw@db/hq", "use 'postgresql+psycopg://hq:***@db/hq'"),
        ("/var/lib/hqsync/hqsync.db", "use 'sqlite:////var/lib/hqsync/hqsync.db'"),
        ("hqsync.db", "use 'sqlite:///hqsync.db'"),
        ("data/hqsync", "use sqlite:///path/to/hqsync.db"),
        ("sqlite://hqsync.db", "use 'sqlite:///hqsync.db'"),
        ("mysql://u@h/db", "SQLite or PostgreSQL"),
    ],
)
def test_a_database_url_mistake_exits_2_with_the_fix(tmp_path: Path, url: str, fix: str):
    config = write_config(tmp_path, f'[database]\nurl = "{url}"\n')
    for command in (["status"], ["sync"]):
        line = assert_one_line(invoke([*command, "--config", str(config)]), 2, "database.url", fix)
        assert "pw" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hqsync.toml"]


def test_the_database_url_from_the_environment_is_checked_too(tmp_path: Path):
    config = write_config(tmp_path)
    env = {"HQSYNC_DATABASE_URL": "postgres://hq:pw@db/hq"}
    assert_one_line(invoke(["sync", "--config", str(config)], env), 2, "postgresql+psycopg://")


@pytest.mark.parametrize(
    ("name", "nearest"),
    [
        ("HQSYNC_DATABSE_URL", "HQSYNC_DATABASE_URL"),
        ("HQSYNC_DATABASE_URI", "HQSYNC_DATABASE_URL"),
        ("HQSYNC_SCHEDULE_SYNC_EVRY", "HQSYNC_SCHEDULE_SYNC_EVERY"),
        ("HQSYNC_DASHBORD_LANGUAGE", "HQSYNC_DASHBOARD_LANGUAGE"),
        ("HQSYNC_CONFG", "HQSYNC_CONFIG"),
    ],
)
def test_an_unknown_hqsync_variable_exits_2_naming_the_nearest_key(
    tmp_path: Path, name: str, nearest: str
):
    config = write_config(tmp_path, '[database]\nurl = "sqlite:///store.db"\n')
    result = invoke(["status", "--config", str(config)], {name: "x"})
    assert_one_line(result, 2, name, f"did you mean {nearest}?")
    with pytest.raises(ConfigError, match=nearest):
        settings_from_mapping({}, {name: "x"})


def test_documented_variables_that_are_not_settings_are_allowed():
    env = {
        "HQSYNC_CONFIG": "a.toml",
        "HQSYNC_TEST_PG_URL": "postgresql+psycopg://postgres@127.0.0.1/test",
        "HQSYNC_ALERTS_EMAIL_PASSWORD": "pw",
        "HQSYNC_CASSETTES": "/tmp/cassettes",
        "HQSYNC_DATABASE_URL": "sqlite:///x.db",
    }
    assert settings_from_mapping({}, env).database.url.endswith("x.db")


# -- a corrupt, missing or not yet migrated store -------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_corrupt_sqlite_file_is_one_line_for_every_command(tmp_path: Path, command):
    config = demo_deployment(tmp_path)
    (tmp_path / "hqsync.db").write_bytes(b"this is not a database\n" * 200)
    result = invoke([*command, "--config", str(config)])
    line = assert_one_line(result, 1, "hqsync.db")
    if command != ["check"]:
        assert "file is not a database" in line and "restore it from a backup" in line


@pytest.mark.parametrize("command", [*READ_ONLY, ["check"]], ids=" ".join)
def test_read_only_commands_on_a_missing_store_create_nothing(tmp_path: Path, command):
    config = write_config(tmp_path, '[database]\nurl = "sqlite:///typo/dir/hqsync.db"\n')
    result = invoke([*command, "--config", str(config)])
    if command == ["check"]:
        assert result.exit_code == 0, result.output
        assert "does not exist yet" in result.stdout
    else:
        assert_one_line(result, 1, "store missing", "run `hqsync sync` first", "database.url")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hqsync.toml"]


@pytest.mark.parametrize("command", READ_ONLY, ids=" ".join)
def test_read_only_commands_on_an_empty_postgresql_schema_create_nothing(pg_schema, command):
    result = invoke([*command], {"HQSYNC_DATABASE_URL": pg_schema, "HQSYNC_CONFIG": _empty()})
    assert_one_line(result, 1, "store missing", "run `hqsync sync` first")
    engine = sa.create_engine(pg_schema)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()


def _empty() -> str:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"hqsync-empty-{uuid.uuid4().hex}.toml"
    path.write_text("", encoding="utf-8")
    return str(path)


def test_status_reads_a_store_that_needs_a_migration_without_migrating_it(tmp_path: Path):
    from alembic import command
    from alembic.config import Config

    db = tmp_path / "hqsync.db"
    engine = sa.create_engine(f"sqlite:///{db}")
    alembic_config = Config()
    alembic_config.set_main_option(
        "script_location", str(Path(migrate.__code__.co_filename).parent / "migrations")
    )
    with engine.begin() as conn:
        alembic_config.attributes["connection"] = conn
        command.upgrade(alembic_config, "0002")
        conn.execute(
            sa.text(
                "INSERT INTO runs (job, source, started_at, outcome, holder, requests, rows) "
                "VALUES ('sync', 'a', '2026-01-01 00:00:00', 'ok', 'h:1', 1, '{}')"
            )
        )
    before = db.read_bytes()
    config = write_config(tmp_path, f'[database]\nurl = "sqlite:///{db}"\n')
    result = invoke(["status", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"Schema:    0002, this hqsync expects {head_revision()}" in result.stdout
    assert "sync" in result.stdout
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0002"
    engine.dispose()
    assert db.read_bytes() == before


def test_status_does_not_wait_behind_a_long_writer(tmp_path: Path):
    config = demo_deployment(tmp_path)
    open_store(f"sqlite:///{tmp_path / 'hqsync.db'}").dispose()
    writer = sqlite3.connect(tmp_path / "hqsync.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO leases (name, holder, acquired_at, expires_at) "
        "VALUES ('x', 'y', '2026-01-01', '2026-01-01')"
    )
    try:
        result = invoke(["status", "--config", str(config), "--format", "json"])
        assert result.exit_code == 0, result.output
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# -- database errors mid-command ------------------------------------------------------------


@pytest.fixture
def limited_role(pg_schema):
    """A PostgreSQL role that may use the store's run log and leases, but not its data."""
    engine = open_store(pg_schema)
    schema = pg_schema.rsplit("%3D", 1)[1]
    role = f"r_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(sa.text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        for table in ("alembic_version", "runs", "leases"):
            conn.execute(
                sa.text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{schema}"."{table}" TO "{role}"')
            )
        conn.execute(sa.text(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO "{role}"'))
    url = pg_schema.replace("postgres@", f"{role}@", 1)
    try:
        yield url
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
            conn.execute(sa.text(f'DROP ROLE "{role}"'))
        engine.dispose()


@pytest.mark.parametrize("command", [["scores"], ["score"], ["publish"], ["status"]], ids=" ".join)
def test_revoked_privileges_mid_command_are_one_line(tmp_path: Path, limited_role, command):
    if "postgres@" not in os.environ.get("HQSYNC_TEST_PG_URL", "postgres@"):
        pytest.skip("needs the default test server URL (user postgres)")
    config = demo_deployment(tmp_path)
    env = {"HQSYNC_DATABASE_URL": limited_role}
    result = invoke([*command, "--config", str(config)], env)
    if command == ["status"]:
        assert result.exit_code == 0, result.output  # status only needs the run log
        return
    assert_one_line(result, 1, "database error", "permission denied", "grant the database role")


def test_a_statement_timeout_mid_command_is_one_line(tmp_path: Path, pg_schema):
    config = demo_deployment(tmp_path)
    env = {"HQSYNC_DATABASE_URL": pg_schema}
    assert invoke(["sync", "--config", str(config)], env).exit_code == 0
    slow = pg_schema.replace("options=", "options=-cstatement_timeout%3D1%20", 1)
    env = {"HQSYNC_DATABASE_URL": slow}
    result = invoke(["scores", "--config", str(config)], env)
    if result.exit_code == 0:
        pytest.skip("the server answered within 1 ms")
    assert_one_line(result, 1, "database error", "statement", "statement_timeout")


def test_a_read_only_sqlite_store_is_one_line_for_write_commands(tmp_path: Path):
    if os.geteuid() == 0:
        pytest.skip("root writes read-only files")
    config = demo_deployment(tmp_path)
    assert invoke(["sync", "--config", str(config)]).exit_code == 0
    (tmp_path / "hqsync.db").chmod(0o444)
    try:
        result = invoke(["score", "--config", str(config)])
        assert_one_line(result, 1, "database error", "permissions")
    finally:
        (tmp_path / "hqsync.db").chmod(0o644)


# -- paths ----------------------------------------------------------------------------------


def test_a_store_folder_that_is_a_file_is_one_line(tmp_path: Path):
    (tmp_path / "afile").write_text("x")
    config = write_config(tmp_path, '[database]\nurl = "sqlite:///afile/sub/hqsync.db"\n')
    line = assert_one_line(invoke(["sync", "--config", str(config)]), 1, "afile")
    assert "folder" in line


def test_a_dashboard_folder_that_is_a_file_is_one_line(tmp_path: Path):
    config = demo_deployment(tmp_path)
    (tmp_path / "afile").write_text("x")
    env = {"HQSYNC_DASHBOARD_SPREADSHEET": str(tmp_path / "afile" / "dashboard.xlsx")}
    assert invoke(["sync", "--config", str(config)], env).exit_code == 0
    assert_one_line(invoke(["publish", "--config", str(config)], env), 1, "afile")


def test_an_unexpected_error_is_one_line_with_its_type(tmp_path: Path, monkeypatch):
    from hqsync.jobs.pipeline import Pipeline

    def boom(self, *args, **kwargs):
        raise ValueError("boom\nsecond line postgresql://u:SECRET@h/db")

    monkeypatch.setattr(Pipeline, "score", boom)
    config = demo_deployment(tmp_path)
    line = assert_one_line(invoke(["score", "--config", str(config)]), 1)
    assert line.startswith("hqsync: unexpected error: ValueError: boom second line")
    assert "SECRET" not in line


def test_run_once_says_publish_failed_when_it_failed(tmp_path: Path):
    config = demo_deployment(tmp_path)
    (tmp_path / "afile").write_text("x")
    env = {"HQSYNC_DASHBOARD_SPREADSHEET": str(tmp_path / "afile" / "dashboard.xlsx")}
    result = invoke(["run", "--once", "--config", str(config)], env)
    assert result.exit_code == 1
    assert "publish: failed" in result.stdout
    assert "not needed" not in result.stdout
    assert "Traceback" not in result.output
