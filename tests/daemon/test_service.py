"""`hqsync run` as ops runs it: the real CLI, pipeline and workbooks, stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hqsync.jobs.demo import build_source_tabs, demo_config, write_demo_source
from hqsync.models.lease import read_lease
from hqsync.models.runs import recent_runs
from hqsync.sync.xlsx import write_source_workbook
from tests.daemon.test_processes import wait_for

pytestmark = pytest.mark.slow

SMALL = {"hospital_count": 2, "items_per_level": (1, 1, 1, 1, 1)}
TICK_S = 5.0


def published_after(engine, when: datetime):
    return [
        r
        for r in recent_runs(engine, 100, job="publish")
        if r.started_at > when and r.outcome == "ok"
    ]


def test_a_source_change_reaches_the_dashboard_within_two_ticks_and_sigterm_exits_0(
    engine, db_url, tmp_path: Path
):
    config = demo_config("en").replace('sync_every = "10m"', f'sync_every = "{TICK_S:g}s"')
    assert f'sync_every = "{TICK_S:g}s"' in config
    (tmp_path / "hqsync.toml").write_text(config + "\n[daemon]\nlease_s = 3\n", encoding="utf-8")
    write_demo_source(tmp_path / "source.xlsx", **SMALL)
    hqsync = Path(sys.executable).with_name("hqsync")
    log = (tmp_path / "daemon.log").open("wb")
    proc = subprocess.Popen(
        [str(hqsync), "run", "--config", str(tmp_path / "hqsync.toml"), "--log-format", "json"],
        cwd=tmp_path,
        env={**os.environ, "HQSYNC_DATABASE_URL": db_url},
        stdout=log,
        stderr=log,
    )
    try:
        started = datetime.now(UTC)
        wait_for(lambda: published_after(engine, started), 60, "the first dashboard")
        dashboard = tmp_path / "dashboard.xlsx"
        first_write = dashboard.stat().st_mtime_ns

        tabs = build_source_tabs(**SMALL)
        findings = tabs["Findings"]
        row = next(i for i, r in enumerate(findings) if i and r[3] == "Không đạt")
        findings[row][3] = "Đạt"
        # A finding whose change moves no level leaves the dashboard's content as it was (and
        # it is then not rewritten); the hospital's new name always shows.
        hospitals = tabs["Hospitals"]
        hospitals[1][1] = f"{hospitals[1][1]} (renamed)"
        changed_at = datetime.now(UTC)
        write_source_workbook(tmp_path / "source.xlsx", tabs)

        publish = wait_for(lambda: published_after(engine, changed_at), 30, "the republish")
        took = (publish[-1].finished_at - changed_at).total_seconds()
        assert took <= 2 * TICK_S + 2.0, f"the change took {took:.1f}s to reach the dashboard"
        assert dashboard.stat().st_mtime_ns != first_write

        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert time.monotonic() - sent < 15
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    runs = recent_runs(engine, 100)
    assert [r for r in runs if r.outcome in ("running", "failed")] == []
    assert len({r.holder for r in runs}) == 1
    assert read_lease(engine) is None
    lines = (tmp_path / "daemon.log").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    cycles = [e["message"] for e in entries if e.get("event") == "cycle"]
    assert any("1 changed" in m and "dashboard published" in m for m in cycles), cycles
