"""Benchmark: publish a province's and a country's dashboard to (the fake) Google.

Not a test (not collected by pytest): run it and read the figures.

    .venv/bin/python tests/benchmarks/bench_google.py                       # 60 and 1,700
    .venv/bin/python tests/benchmarks/bench_google.py --hospitals 1700      # one scale only

For each scale it prints the write body sizes and request counts before (a fill in every
criteria cell) and after (criteria coloured by conditional formatting; staged in hidden
tabs when still over `--max-body-mb`). Google refuses bodies over 10,485,760 bytes. Then it
publishes the "after" dashboard to the fake twice (fresh, then republish) and times it, and
shows what a changed and an unchanged source sync cost.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hqsync.sync.dashboard import (  # noqa: E402
    LEVEL_COLOURS,
    Column,
    Dashboard,
    LineChart,
    Table,
    level_colours,
)
from hqsync.sync.google import open_google_reader, open_google_writer  # noqa: E402
from hqsync.sync.google.render import (  # noqa: E402
    DEFAULT_MAX_BODY_BYTES,
    GOOGLE_MAX_BODY_BYTES,
    plan_publish,
)
from tests.fake_google import (  # noqa: E402
    FakeGoogle,
    google_settings,
    mocked,
    service_account_key,
)

LEVEL_FILLS = tuple(LEVEL_COLOURS[level] for level in range(1, 6))


def national_dashboard(hospitals: int, seed: int = 1, *, per_cell_fills: bool = False) -> Dashboard:
    """Summary, criteria matrix (83 criteria, coloured), gaps and trend for `hospitals`.

    `per_cell_fills` colours the criteria as before conditional formatting: a fill per cell.
    """
    rnd = random.Random(seed)
    names = [f"Bệnh viện {i:04d}" for i in range(hospitals)]
    summary = Table(
        "summary",
        "Tổng hợp",
        (Column("Bệnh viện", width=30), Column("Ngày", "date"), Column("Điểm", "number"),
         Column("Hạng", "integer"), *(Column(f"Mức {k}", "integer") for k in range(1, 6))),
        tuple(
            (n, date(2025, 1, 1) + timedelta(days=rnd.randint(0, 300)),
             round(rnd.uniform(2, 4.5), 2), i + 1, *(rnd.randint(0, 30) for _ in range(5)))
            for i, n in enumerate(names)
        ),
        fills={(i, 2): rnd.choice(LEVEL_FILLS) for i in range(hospitals)},
    )  # fmt: skip
    levels = [[rnd.randint(1, 5) for _ in range(83)] for _ in names]
    criteria = Table(
        "criteria",
        "Tiêu chí",
        (Column("Bệnh viện", width=30), *(Column(f"C{j}", "integer", width=5) for j in range(83))),
        tuple((n, *row) for n, row in zip(names, levels, strict=True)),
        fills={(i, j + 1): LEVEL_FILLS[v - 1]
               for i, row in enumerate(levels) for j, v in enumerate(row)}
        if per_cell_fills else {},
        value_colours=() if per_cell_fills else level_colours(tuple(range(1, 84))),
        freeze_columns=1,
    )  # fmt: skip
    gaps = Table(
        "gaps",
        "Cần cải tiến",
        (Column("Bệnh viện"), Column("Tiêu chí"), Column("Mức"), Column("Tiểu mục", width=40)),
        tuple((n, f"A{k}.1", str(rnd.randint(2, 5)), f"A{k}.1-3.{rnd.randint(1, 9)} chưa đạt")
              for n in names for k in range(10)),
    )  # fmt: skip
    trend = Table(
        "trend",
        "Xu hướng",
        (Column("Kỳ", "date"), *(Column(n[-4:], "number") for n in names[:10])),
        tuple((date(2020 + y, 1, 1), *(round(rnd.uniform(2, 4.5), 2) for _ in range(10)))
              for y in range(6)),
        chart=LineChart("Điểm theo kỳ", 0, tuple(range(1, 11)), 12),
    )  # fmt: skip
    return Dashboard((summary, criteria, gaps, trend))


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


def _plan_figures(label: str, dashboard: Dashboard, max_body: int) -> None:
    start = time.perf_counter()
    single = plan_publish(dashboard, [], 2**62)[0]
    rendered = time.perf_counter() - start
    staged = plan_publish(dashboard, [], max_body)
    verdict = "REFUSED by Google (> 10 MB)" if len(single) > GOOGLE_MAX_BODY_BYTES else "accepted"
    print(
        f"  {label}: one body {_mb(len(single))} ({verdict}; rendered in {rendered:.2f} s) -> "
        f"{len(staged)} write request(s): " + ", ".join(_mb(len(b)) for b in staged)
    )


def _scale(hospitals: int, max_body: int) -> None:
    after = national_dashboard(hospitals)
    cells = sum(len(t.rows) * len(t.columns) for t in after.tables)
    print(f"hospitals {hospitals}: {cells:,} cells in {len(after.tables)} tabs")
    _plan_figures("before (fill per cell)", national_dashboard(hospitals, per_cell_fills=True),
                  max_body)  # fmt: skip
    _plan_figures("after (conditional colours)", after, max_body)

    fake = FakeGoogle()
    with tempfile.TemporaryDirectory() as tmp, mocked(fake):
        key = service_account_key(fake, Path(tmp) / "key.json")
        settings = google_settings(fake, key)
        sid = fake.create_spreadsheet("dashboard")
        writer = open_google_writer(settings, sid, max_body_bytes=max_body)
        start = time.perf_counter()
        writer.publish(after)
        first = time.perf_counter() - start
        writes_first = fake.count("spreadsheets.batchUpdate")
        start = time.perf_counter()
        writer.publish(after)
        second = time.perf_counter() - start
        print(
            f"  publish against the fake: fresh {first:.2f} s, republish {second:.2f} s; "
            f"{writer.requests_made} requests for both ({fake.count('spreadsheets.get')} "
            f"layout reads, {writes_first} + "
            f"{fake.count('spreadsheets.batchUpdate') - writes_first} writes)"
        )
        fake.reset_log()
        source = fake.create_spreadsheet("source", {"Hospitals": [["hospital_id"], ["H1"]]})
        reader = open_google_reader(settings, source)
        reader.change_marker()
        reader.read(["Hospitals"])
        unchanged = open_google_reader(settings, source)
        unchanged.change_marker()
        print(
            f"  source sync: changed = {reader.requests_made} requests, "
            f"unchanged = {unchanged.requests_made} request"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hospitals", type=int, action="append")
    parser.add_argument(
        "--max-body-mb", type=float, default=DEFAULT_MAX_BODY_BYTES / 1e6,
        help="staging threshold in MB (default: the writer's)",
    )  # fmt: skip
    args = parser.parse_args()
    for hospitals in args.hospitals or [60, 1700]:
        _scale(hospitals, int(args.max_body_mb * 1e6))


if __name__ == "__main__":
    main()
