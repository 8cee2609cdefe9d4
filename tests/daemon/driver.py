"""A real daemon process for the process tests: `python -m tests.daemon.driver --db-url URL ...`.

It runs `run_daemon` (real signals, real APScheduler, real lease) around a fake pipeline whose
jobs take `--work` seconds and log their runs in the store, like the real pipeline does.
"""

from __future__ import annotations

import argparse
import sys

from hqsync.config.settings import settings_from_mapping
from hqsync.jobs.daemon import run_daemon
from hqsync.jobs.logs import configure_logging
from hqsync.models.store import open_store
from tests.daemon.fakes import FakePipeline


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--holder", required=True)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--every", default="1s")
    parser.add_argument("--work", type=float, default=0.3)
    args = parser.parse_args(argv)
    configure_logging("json")
    settings = settings_from_mapping(
        {
            "database": {"url": args.db_url},
            "schedule": {"sync_every": args.every},
            "daemon": {"lease_s": args.lease, "misfire_grace_s": 30},
        }
    )
    engine = open_store(settings.database.url)
    pipeline = FakePipeline(engine, args.holder, work_s=args.work)
    return run_daemon(settings, engine, pipeline, args.holder)


if __name__ == "__main__":
    sys.exit(main())
