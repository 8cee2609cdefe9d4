"""A sync killed mid-transaction (SIGKILL, real subprocess) leaves the store exactly as before."""

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
import sqlalchemy as sa

from hqsync.models import tables
from hqsync.sync.ingest.store import upsert_source
from tests.ingest.sheets import changed_source, normalise

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, tzinfo=UTC)
T1 = datetime(2026, 2, 2, tzinfo=UTC)


def store_contents(engine) -> dict[str, list[tuple]]:
    ordered = {
        "hospitals": (tables.hospitals, tables.hospitals.c.hospital_id),
        "assessments": (tables.assessments, tables.assessments.c.assessment_id),
        "findings": (tables.findings, tables.findings.c.finding_id),
        "finding_changes": (tables.finding_changes, tables.finding_changes.c.id),
        "rejected_rows": (tables.rejected_rows, tables.rejected_rows.c.id),
    }
    with engine.connect() as conn:
        return {
            name: [tuple(row) for row in conn.execute(sa.select(table).order_by(order)).all()]
            for name, (table, order) in ordered.items()
        }


@pytest.mark.slow
def test_a_killed_sync_changes_nothing_and_the_next_sync_completes(engine, db_url, tmp_path):
    with engine.begin() as conn:
        upsert_source(conn, "cantho", normalise(), T0)
    before = store_contents(engine)

    ready = tmp_path / "ready"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.ingest.kill_driver", db_url, str(ready)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() or not ready.read_text():
            assert process.poll() is None, "the driver died before writing"
            assert time.monotonic() < deadline, "the driver never got ready"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()

    written = json.loads(ready.read_text())
    assert written["inserted"] == 1 and written["updated"] == 2 and written["deleted"] == 1
    assert store_contents(engine) == before

    with engine.begin() as conn:
        result = upsert_source(conn, "cantho", changed_source(), T1)
    assert (result.inserted, result.updated, result.deleted, result.rejected) == (1, 2, 1, 1)
    after = store_contents(engine)
    assert live_results(engine) == {
        "F01": "met",
        "F02": "met",
        "F04": "not_met",
        "F05": "met",
    }
    assert len(after["finding_changes"]) == 2  # F02 not_met → met, F03 tombstoned
    with engine.connect() as conn:
        assert conn.execute(sa.select(tables.rejected_rows.c.key)).scalars().all() == ["F06"]


def live_results(engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(tables.findings.c.finding_id, tables.findings.c.result).where(
                tables.findings.c.deleted.is_(False)
            )
        )
        return {row.finding_id: row.result for row in rows}
