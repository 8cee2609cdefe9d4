"""Nothing left wrong in run state, one writer at a time (issue 13): interrupted one-shots,
abandoned runs, status beyond the recent runs, the writer lease and per-source locks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hqsync.config.errors import StoreBusyError
from hqsync.jobs.cli import cli
from hqsync.jobs.demo import demo_config, write_demo_source
from hqsync.models import tables
from hqsync.models.lease import (
    WRITER,
    lock_source,
    read_lease,
    try_acquire,
    writing,
)
from hqsync.models.runs import close_abandoned, finish_run, recent_runs, start_run, this_host
from hqsync.models.store import open_store

SMALL = {"hospital_count": 3, "items_per_level": (1, 2, 1, 1, 1)}
REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def set_process(engine, run_id: int, host: str, pid: int) -> None:
    with engine.begin() as conn:
        runs = tables.runs
        conn.execute(sa.update(runs).where(runs.c.id == run_id).values(host=host, pid=pid))


# -- abandoned runs -------------------------------------------------------------------------


def test_runs_of_gone_processes_are_closed_as_abandoned(engine):
    now = datetime.now(UTC)
    local_dead = start_run(engine, "sync", "me:1:a", source="a", started_at=now)
    set_process(engine, local_dead, this_host(), dead_pid())
    local_alive = start_run(engine, "sync", "me:2:b", source="b", started_at=now)  # this pid
    far_old = start_run(engine, "publish", "far:9:c", started_at=now - timedelta(minutes=5))
    set_process(engine, far_old, "elsewhere", 9)
    far_young = start_run(engine, "score", "far:9:d", started_at=now - timedelta(seconds=5))
    set_process(engine, far_young, "elsewhere", 9)
    far_leased = start_run(engine, "sync", "far:9:e", source="c", started_at=now - timedelta(1))
    set_process(engine, far_leased, "elsewhere", 9)
    assert try_acquire(engine, "far:9:e", 60, now, WRITER)
    legacy = start_run(engine, "sync", "old:1", source="d", started_at=now - timedelta(1))
    set_process(engine, legacy, None, None)
    try_acquire(engine, "me:1:a", 60, now, "writer-of-the-dead")

    assert close_abandoned(engine, 60, now=now) == 3
    runs = {r.id: r for r in recent_runs(engine, 50)}
    for run_id in (local_dead, far_old, legacy):
        assert runs[run_id].outcome == "failed"
        assert runs[run_id].error.startswith("abandoned")
        assert runs[run_id].finished_at is not None
    for run_id in (local_alive, far_young, far_leased):
        assert runs[run_id].outcome == "running"
    assert read_lease(engine, "writer-of-the-dead") is None  # a dead local holder's lease goes


def test_the_next_write_command_closes_abandoned_runs(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = open_store(url)
    run_id = start_run(engine, "sync", "gone:1", source="a")
    set_process(engine, run_id, this_host(), dead_pid())
    engine.dispose()
    engine = open_store(url, stale_after_s=60)
    assert recent_runs(engine)[0].outcome == "failed"
    engine.dispose()


# -- interrupted one-shots ------------------------------------------------------------------

SLOW_SYNC = textwrap.dedent(
    """
    import sys, time
    import hqsync.jobs.pipeline as pipeline

    class Slow:
        requests_made = 0
        def change_marker(self):
            print("reading", flush=True)
            time.sleep(60)

    pipeline.open_source_reader = lambda settings, source: Slow()
    from hqsync.jobs.cli import main
    sys.argv = ["hqsync", *sys.argv[1:]]
    main()
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_a_one_shot_records_the_run_as_interrupted(
    tmp_path: Path, db_url: str, signum: int
):
    config = tmp_path / "hqsync.toml"
    config.write_text(demo_config("en"), encoding="utf-8")
    env = {**os.environ, "HQSYNC_DATABASE_URL": db_url, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_SYNC, "sync", "--config", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "reading"
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("hqsync: interrupted")
    engine = sa.create_engine(db_url)
    runs = recent_runs(engine)
    engine.dispose()
    assert [(r.job, r.outcome) for r in runs] == [("sync", "failed")]
    assert runs[0].error.startswith(f"interrupted ({signal.Signals(signum).name})")
    assert read_lease(sa.create_engine(db_url), WRITER) is None  # the writer lease was given up


# -- status beyond the recent runs ----------------------------------------------------------


def test_status_keeps_the_last_publish_and_failure_however_many_runs_follow(engine, tmp_path: Path):
    published = start_run(engine, "publish", "h:1", started_at=T0)
    finish_run(engine, published, "ok", finished_at=T0 + timedelta(seconds=3))
    failed = start_run(engine, "score", "h:1", started_at=T0 + timedelta(minutes=1))
    finish_run(engine, failed, "failed", error="boom", finished_at=T0 + timedelta(minutes=2))
    for minute in range(30):
        run = start_run(
            engine, "sync", "h:1", "a", started_at=T0 + timedelta(hours=1, minutes=minute)
        )
        finish_run(engine, run, "skipped", finished_at=T0 + timedelta(hours=1, minutes=minute))
    config = tmp_path / "hqsync.toml"
    config.write_text("", encoding="utf-8")
    env = {"HQSYNC_DATABASE_URL": str(engine.url.render_as_string(hide_password=False))}
    result = CliRunner().invoke(
        cli, ["status", "--config", str(config), "--format", "json", "--limit", "5"], env=env
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"database", "leader", "next_runs", "runs"} <= set(report)
    assert len(report["runs"]) == 5 and {r["job"] for r in report["runs"]} == {"sync"}
    assert report["last_publish"]["started_at"] == T0.isoformat()
    assert report["last_failure"]["job"] == "score"
    assert report["last_failure"]["error"] == "boom"
    assert [(r["job"], r["source"], r["outcome"]) for r in report["last_runs"]] == [
        ("publish", None, "ok"),
        ("score", None, "failed"),
        ("sync", "a", "skipped"),
    ]
    assert set(report["runs"][0]) == {
        "job",
        "source",
        "started_at",
        "finished_at",
        "outcome",
        "holder",
        "requests",
        "rows",
        "error",
    }
    text = CliRunner().invoke(cli, ["status", "--config", str(config), "--limit", "2"], env=env)
    assert text.exit_code == 0, text.output
    assert "Last publish:" in text.stdout and "Last failure:" in text.stdout
    assert "score: boom" in text.stdout


# -- one writer -----------------------------------------------------------------------------


def test_no_wait_exits_75_naming_the_writer(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'hqsync.db'}"
    engine = open_store(url)
    assert try_acquire(engine, "daemon-host:42:abc", 600, datetime.now(UTC), WRITER)
    (tmp_path / "hqsync.toml").write_text(demo_config("en"), encoding="utf-8")
    write_demo_source(tmp_path / "source.xlsx", **SMALL)
    for command in (["sync"], ["score"], ["publish"], ["run", "--once"]):
        result = CliRunner().invoke(
            cli, [*command, "--no-wait", "--config", str(tmp_path / "hqsync.toml")]
        )
        assert result.exit_code == 75, result.output
        assert "daemon-host:42:abc is writing" in result.stderr
    assert recent_runs(engine) == []
    engine.dispose()


def test_a_one_shot_waits_for_the_writer_and_says_who_it_is(tmp_path: Path, caplog):
    url = f"sqlite:///{tmp_path / 'hqsync.db'}"
    engine = open_store(url)
    assert try_acquire(engine, "daemon-host:42:abc", 1.5, datetime.now(UTC), WRITER)
    (tmp_path / "hqsync.toml").write_text(demo_config("en"), encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["score", "--config", str(tmp_path / "hqsync.toml")])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 1.0
    assert "waiting for daemon-host:42:abc" in result.stderr
    engine.dispose()


def test_the_writer_lease_is_held_renewed_and_given_up(engine):
    with writing(engine, "me", 0.6):
        with (
            pytest.raises(StoreBusyError, match="me is writing"),
            writing(engine, "other", 0.6, wait=False),
        ):
            pass
        time.sleep(1.0)  # longer than the lease: renewed in the background
        assert read_lease(engine, WRITER).holder == "me"
        assert read_lease(engine, WRITER).expires_at > datetime.now(UTC)
    assert read_lease(engine, WRITER) is None


def test_a_source_lock_makes_the_second_writer_wait(pg_schema):
    engine = open_store(pg_schema)
    order: list[str] = []
    first_has_it = threading.Event()

    def second() -> None:
        first_has_it.wait(10)
        with engine.begin() as conn:
            lock_source(conn, "cantho")
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    with engine.begin() as conn:
        lock_source(conn, "cantho")
        first_has_it.set()
        time.sleep(0.5)
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
    with engine.begin() as conn:  # other sources are not held back
        lock_source(conn, "a")
        lock_source(conn, "b")
    engine.dispose()


@pytest.mark.slow
def test_two_simultaneous_forced_syncs_record_every_change_once(tmp_path: Path, pg_schema):
    (tmp_path / "hqsync.toml").write_text(demo_config("en"), encoding="utf-8")
    write_demo_source(tmp_path / "source.xlsx", **SMALL)
    env = {**os.environ, "HQSYNC_DATABASE_URL": pg_schema, "PYTHONPATH": str(REPO)}
    first = subprocess.run(
        [
            sys.executable,
            "-c",
            "from hqsync.jobs.cli import main; main()",
            "sync",
            "--config",
            str(tmp_path / "hqsync.toml"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    flipped = flip_not_met(tmp_path / "source.xlsx")
    command = [
        sys.executable,
        "-c",
        "from hqsync.jobs.cli import main; main()",
        "sync",
        "--force",
        "--config",
        str(tmp_path / "hqsync.toml"),
    ]
    procs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    assert sum("waiting for" in err for _out, err in outputs) == 1, outputs
    engine = sa.create_engine(pg_schema)
    with engine.connect() as conn:
        count = sa.select(sa.func.count())
        findings = conn.execute(count.select_from(tables.findings)).scalar_one()
        changes = conn.execute(
            sa.select(tables.finding_changes.c.finding_id, sa.func.count()).group_by(
                tables.finding_changes.c.source, tables.finding_changes.c.finding_id
            )
        ).all()
    engine.dispose()
    assert findings > flipped > 0
    assert len(changes) == flipped
    assert max(count for _finding, count in changes) == 1


def flip_not_met(path: Path) -> int:
    """Turn every not-met finding of the demo workbook into met; how many were turned."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book["Findings"]
    flipped = 0
    for (cell,) in sheet.iter_rows(min_row=2, min_col=4, max_col=4):
        if cell.value == "Không đạt":
            cell.value = "Đạt"
            flipped += 1
    book.save(path)
    return flipped
