"""Benchmark: publish a national-scale dashboard to (the fake) Google in one batchUpdate.

Not a test (not collected by pytest): run it and read the figures.

    .venv/bin/python tests/benchmarks/bench_google.py                  # 1,700 hospitals
    .venv/bin/python tests/benchmarks/bench_google.py --hospitals 60   # one province

Prints the time to render the requests, the size of the batchUpdate body (Google accepts
request bodies up to about 10 MB; smaller is faster for leaders' phones to refresh), and the
requests one publish and one unchanged source sync cost against the fake.
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

from hqsync.sync.google import compact_json, open_google_reader, open_google_writer  # noqa: E402
from hqsync.sync.google_render import render_dashboard  # noqa: E402
from hqsync.sync.interfaces import Column, Dashboard, LineChart, Table  # noqa: E402
from tests.fake_google import (  # noqa: E402
    FakeGoogle,
    google_settings,
    mocked,
    service_account_key,
)

LEVEL_FILLS = ("#F8696B", "#FBAA77", "#FFEB84", "#B1D580", "#63BE7B")


def national_dashboard(hospitals: int, seed: int = 1) -> Dashboard:
    """Summary, criteria matrix (83 criteria, coloured), gaps and trend for `hospitals`."""
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
               for i, row in enumerate(levels) for j, v in enumerate(row)},
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hospitals", type=int, default=1700)
    args = parser.parse_args()

    dashboard = national_dashboard(args.hospitals)
    cells = sum(len(t.rows) * len(t.columns) for t in dashboard.tables)
    start = time.perf_counter()
    requests = render_dashboard(dashboard, [])
    rendered = time.perf_counter() - start
    size = len(compact_json({"requests": requests}))
    print(f"hospitals {args.hospitals}: {cells:,} cells in {len(dashboard.tables)} tabs")
    print(f"render: {rendered * 1000:.0f} ms, {len(requests)} requests in the batch")
    print(f"batchUpdate body: {size / 1e6:.2f} MB")

    fake = FakeGoogle()
    with tempfile.TemporaryDirectory() as tmp, mocked(fake):
        key = service_account_key(fake, Path(tmp) / "key.json")
        settings = google_settings(fake, key)
        sid = fake.create_spreadsheet("dashboard")
        writer = open_google_writer(settings, sid)
        start = time.perf_counter()
        writer.publish(dashboard)
        first = time.perf_counter() - start
        writer.publish(dashboard)
        print(
            f"publish against the fake: {first:.2f} s; two publishes = {writer.requests_made} "
            f"requests ({fake.count('spreadsheets.get')} metadata reads, "
            f"{fake.count('spreadsheets.batchUpdate')} writes)"
        )
        fake.reset_log()
        source = fake.create_spreadsheet("source", {"Hospitals": [["hospital_id"], ["H1"]]})
        reader = open_google_reader(settings, source)
        reader.change_marker()
        reader.read(["Hospitals"])
        unchanged = open_google_reader(settings, source)
        unchanged.change_marker()
        print(
            f"source sync: changed = {reader.requests_made} requests, "
            f"unchanged = {unchanged.requests_made} request"
        )


if __name__ == "__main__":
    main()
