"""One-shot commands stay light: on a current store, `status`, `scores` and an unchanged `sync`
never import the SQLAlchemy ORM (nor Alembic: the tables are Core tables), openpyxl or pandas
(an unchanged workbook source is not read; the writers are imported when used) (issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hqsync.config.settings import load_settings
from hqsync.jobs.demo import demo_config, write_demo_source
from hqsync.jobs.pipeline import Pipeline
from hqsync.models.store import open_store

HEAVY = ("sqlalchemy.orm", "alembic", "openpyxl", "pandas")
"""Modules a command on a current store has no use for."""

_CHECK = f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\nassert not heavy, heavy\n"
_RUN = (
    "import sys\n"
    "from hqsync.jobs.cli import main\n"
    "sys.argv = ['hqsync', *sys.argv[1:]]\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exc:\n"
    "    assert exc.code in (None, 0), exc.code\n"
) + _CHECK


@pytest.fixture
def current_store(tmp_path: Path, db_url: str) -> Path:
    """A tiny demo deployment whose store has been synced, scored and published once."""
    config = tmp_path / "hqsync.toml"
    config.write_text(demo_config("en"), encoding="utf-8")
    write_demo_source(tmp_path / "source.xlsx", hospital_count=2, items_per_level=(1, 1, 1, 1, 1))
    settings = load_settings(config, environ={"HQSYNC_DATABASE_URL": db_url})
    engine = open_store(settings.database.url)
    try:
        assert not Pipeline(settings, engine).run_cycle(publish_always=True).failed
    finally:
        engine.dispose()
    return config


@pytest.mark.parametrize(
    "command",
    [["status"], ["status", "--format", "json"], ["scores", "--format", "json"], ["sync"]],
)
def test_commands_on_a_current_store_do_not_import_the_orm(
    current_store: Path, db_url: str, command: list[str]
) -> None:
    env = {**os.environ, "HQSYNC_DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *command, "--config", str(current_store)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_importing_the_cli_and_the_tables_does_not_import_the_orm() -> None:
    code = "import sys, hqsync.jobs.cli, hqsync.models.tables, hqsync.models.store\n" + _CHECK
    subprocess.run([sys.executable, "-c", code], check=True)
