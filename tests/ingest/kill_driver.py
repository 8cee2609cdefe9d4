"""Sync driver for the kill test: upserts a changed source, signals readiness, then blocks.

Run as `python -m tests.ingest.kill_driver DB_URL READY_FILE`; it never commits on its own.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from hqsync.models.store import create_store_engine
from hqsync.sync.ingest.store import upsert_source
from tests.ingest.sheets import changed_source


def main(url: str, ready_file: str) -> None:
    """Write every change of `changed_source()` in one transaction and wait to be killed."""
    engine = create_store_engine(url)
    with engine.begin() as conn:
        counts = upsert_source(conn, "cantho", changed_source(), datetime(2026, 2, 1, tzinfo=UTC))
        Path(ready_file).write_text(json.dumps(counts.as_rows()))  # written, not committed
        while True:  # the test kills us here, mid-transaction
            time.sleep(1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
