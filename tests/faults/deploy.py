"""What every section of the fault suite shares: the table's rows, demo deployments on a real
store, and snapshots of what a store holds (see run_faults)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from hqsync.jobs.demo import build_source_tabs, demo_config
from hqsync.models.tables import metadata
from hqsync.sync.xlsx import write_source_workbook
from tests.conftest import fresh_pg_schema

ROOT = Path(__file__).resolve().parents[2]
HQSYNC = str(Path(sys.executable).with_name("hqsync"))
SMALL = {"hospital_count": 3, "items_per_level": (1, 2, 1, 1, 1)}
SECRET_PASSWORD = "pw-S3cr3t@faults"
WORK_TABLES = ("runs", "leases", "daemon_schedule", "dashboard_fingerprints")
"""Logs of the work itself, not data: a killed publish may have logged its outcome."""
RUN_CLOCK = {"source_state": ("last_synced_at",)}
"""Columns that hold when a job last ran, not what it stored: a run that changes nothing
still moves them. A killed sync that committed is compared with the next run's store
without them (that run, redoing the same work, stamps its own time)."""

Snapshot = dict[str, list[tuple[object, ...]]]


@dataclass
class Row:
    """One line of the table: what was tried, how often, and how many went wrong."""

    backend: str
    what: str
    trials: int = 0
    bad: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Suite:
    """The rows so far and every text the suite saw (scanned for secrets at the end)."""

    rows: list[Row] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)

    def row(self, backend: str, what: str) -> Row:
        """A new row of the table."""
        found = Row(backend, what)
        self.rows.append(found)
        return found


@contextmanager
def store_url(backend: str) -> Iterator[str]:
    """An empty store on `backend`: a SQLite file, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hqsync-faults-db-") as folder:
            yield f"sqlite:///{folder}/store.db"
        return
    with fresh_pg_schema("faults_") as url:
        yield url


@dataclass
class Deployment:
    """A demo deployment in a folder: config, source workbook, store URL."""

    folder: Path
    url: str
    environ: Mapping[str, str] = field(default_factory=dict)
    """Extra HQSYNC_* settings every command of this deployment gets."""

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run one hqsync command to its end."""
        return subprocess.run(
            [HQSYNC, *args, "--config", str(self.folder / "hqsync.toml")],
            cwd=self.folder,
            env=self.env(),
            capture_output=True,
            check=False,
            text=True,
            timeout=timeout,
        )

    def start(self, *args: str, command: Sequence[str] = (HQSYNC,)) -> subprocess.Popen[str]:
        """Start one hqsync command in the background (`command`: how hqsync is started)."""
        return subprocess.Popen(
            [*command, *args, "--config", str(self.folder / "hqsync.toml")],
            cwd=self.folder,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def env(self) -> dict[str, str]:
        """The environment of its commands: the store URL, no stray HQSYNC_* variable."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HQSYNC_")}
        return {**env, **self.environ, "HQSYNC_DATABASE_URL": self.url, "PYTHONPATH": str(ROOT)}

    def engine(self) -> sa.Engine:
        """An engine on its store (the caller disposes of it)."""
        return sa.create_engine(self.url)


@contextmanager
def deployment(
    backend: str,
    tabs: dict[str, list[list[object]]] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Deployment]:
    """A demo deployment on `backend` with the small demo source (or `tabs`)."""
    with store_url(backend) as url, tempfile.TemporaryDirectory(prefix="hqsync-faults-") as d:
        folder = Path(d)
        (folder / "hqsync.toml").write_text(demo_config("vi"), encoding="utf-8")
        write_source_workbook(folder / "source.xlsx", tabs or build_source_tabs(**SMALL))
        yield Deployment(folder, url, dict(environ or {}))


def snapshot(engine: sa.Engine, tables: Sequence[str] | None = None) -> Snapshot:
    """Every stored row (the run log and leases aside), for before/after comparisons.

    Read in one REPEATABLE READ transaction on PostgreSQL: the server may still be committing
    the transaction of a client just killed, and a snapshot must not show half of it (one
    table before that commit, the next after).
    """
    found: Snapshot = {}
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        for table in metadata.sorted_tables:
            if table.name in WORK_TABLES or (tables is not None and table.name not in tables):
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            found[table.name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(*order))]
    return found


def without_run_clock(found: Snapshot) -> Snapshot:
    """`found` with the RUN_CLOCK columns blanked."""
    blanked = dict(found)
    for name, columns in RUN_CLOCK.items():
        if name not in found:
            continue
        table = metadata.tables[name]
        hidden = {i for i, c in enumerate(table.columns) if c.name in columns}
        blanked[name] = [
            tuple(None if i in hidden else v for i, v in enumerate(row)) for row in found[name]
        ]
    return blanked


def differing(one: Snapshot, other: Snapshot) -> list[str]:
    """The tables whose rows differ between two snapshots."""
    return sorted(t for t in one.keys() | other.keys() if one.get(t) != other.get(t))


def running_runs(engine: sa.Engine) -> int:
    """Runs the run log still shows as running."""
    with engine.connect() as conn:
        return int(
            conn.execute(sa.text("SELECT count(*) FROM runs WHERE outcome='running'")).one()[0]
        )


def temp_files(folder: Path) -> int:
    """Temporary files of an atomic replace left in `folder`."""
    return sum(1 for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def change_source(dep: Deployment, rng: random.Random) -> None:
    """Change a few findings' results, so that the next sync and score have work to do."""
    tabs = build_source_tabs(**SMALL)
    for row in rng.sample(range(1, len(tabs["Findings"])), 40):
        tabs["Findings"][row][3] = rng.choice(["Đạt", "Không đạt", "Không áp dụng"])
    write_source_workbook(dep.folder / "source.xlsx", tabs)
