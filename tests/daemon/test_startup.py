"""Several daemons started at once on one fresh store: each migrates on start."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

# Alembic keeps its migration context in module globals, so the race is only real between
# processes (threads of one process would trip over each other instead).
MIGRATE_AT = """
import sys, time
from hqsync.models.store import create_store_engine, migrate
engine = create_store_engine(sys.argv[1])
with engine.connect():
    pass
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
migrate(engine)
"""


@pytest.mark.slow
def test_daemons_starting_together_on_a_fresh_postgresql_all_come_up(pg_schema):
    # (On SQLite, BEGIN IMMEDIATE already makes concurrent migrations wait for each other.)
    db_url = pg_schema
    start_at = time.time() + 2.0
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_AT, db_url, str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ},
        )
        for _ in range(3)
    ]
    outputs = []
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        outputs.append((proc.returncode, out.decode(errors="replace")[-500:]))
    assert [code for code, _ in outputs] == [0, 0, 0], outputs
