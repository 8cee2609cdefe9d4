"""Benchmark: what the alerts step costs a daemon cycle, in CPU seconds.

Not a test (not collected by pytest): run it and read the figures.

    .venv/bin/python tests/benchmarks/bench_alerts.py              # the demo province (14)
    .venv/bin/python tests/benchmarks/bench_alerts.py --repeat 10

On the seeded demo province (synced and scored for real, with the issue's two cycles), it
times `Pipeline.alerts_due` when nothing changed (what every idle cycle pays), a dry run of
the alerts step (detect every event, plan and word every digest: what a due cycle pays before
the network) and, for scale, one publish of the overview. Each figure is the median of
`--repeat` runs, interleaved.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hqsync.config.settings import settings_from_mapping  # noqa: E402
from hqsync.jobs.demo import write_demo_source  # noqa: E402
from hqsync.jobs.pipeline import Pipeline  # noqa: E402
from hqsync.models.runs import finish_run, start_run  # noqa: E402
from hqsync.models.store import open_store  # noqa: E402

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # ten days before QĐ 6858's self deadline


def cpu(action: Callable[[], object]) -> float:
    """CPU seconds `action` took in this process."""
    start = time.process_time()
    action()
    return time.process_time() - start


def main() -> None:
    """Build the province, then print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        write_demo_source(directory / "source.xlsx")
        settings = settings_from_mapping(
            {
                "database": {"url": f"sqlite:///{directory / 'hqsync.db'}"},
                "sources": [{"name": "demo", "backend": "xlsx", "spreadsheet": "source.xlsx"}],
                "dashboard": {"backend": "xlsx", "spreadsheet": "dashboard.xlsx"},
                "cycles": [
                    {"standard": "QD6858", "self_due": "11-30", "council_due": "12-31"},
                    {"standard": "TT35", "self_due": "03-31", "covers": "previous_year"},
                ],
                "alerts": {"google_chat": {"webhook": "http://127.0.0.1:9/hook?key=k&token=t"}},
            },
            {},
            base_dir=directory,
        )
        engine = open_store(settings.database.url)
        pipeline = Pipeline(settings, engine, clock=lambda: NOW)
        pipeline.sync()
        pipeline.score()
        pipeline.publish()
        # an alerts run after the publish, as the daemon leaves it: the next cycle is not due
        run = start_run(engine, "alerts", "bench", started_at=NOW)
        finish_run(engine, run, "ok", rows={"sent": 0}, finished_at=NOW)
        assert not pipeline.alerts_due()
        report = pipeline.alerts(dry_run=True)
        figures: dict[str, list[float]] = {"gate": [], "dry run": [], "publish": []}
        for _ in range(args.repeat):
            figures["gate"].append(cpu(pipeline.alerts_due))
            figures["dry run"].append(cpu(lambda: pipeline.alerts(dry_run=True)))
            figures["publish"].append(cpu(pipeline.publish))
        engine.dispose()
    events: dict[str, int] = {}
    for alert in report.alerts:
        events[str(alert.event)] = events.get(str(alert.event), 0) + 1
    print(f"events holding: {len(report.alerts)} {events}; digests: {len(report.digests)}")
    for name, values in figures.items():
        print(
            f"{name:<8} median {statistics.median(values) * 1000:8.1f} ms CPU  ({args.repeat} runs)"
        )


if __name__ == "__main__":
    main()
