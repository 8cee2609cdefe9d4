"""Benchmark: read, normalise and upsert 500,000 findings; then re-sync with 1% changed.

Not a test (not collected by pytest): run it and read the figures.

    .venv/bin/python tests/benchmarks/bench_ingest.py                 # SQLite in a temp dir
    .venv/bin/python tests/benchmarks/bench_ingest.py --url postgresql+psycopg://...  # PostgreSQL
    .venv/bin/python tests/benchmarks/bench_ingest.py --findings 50000              # smaller

"Reading" parses a Google `values.batchGet` response (JSON, UNFORMATTED_VALUE/SERIAL_NUMBER)
into a SourceSnapshot, as the Google backend does; `--xlsx` reads a workbook instead.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hqsync.config.rulesets import load_rule_sets  # noqa: E402
from hqsync.config.settings import TabNames  # noqa: E402
from hqsync.models.store import create_store_engine, migrate  # noqa: E402
from hqsync.models.tables import Assessment, Finding, FindingChange, Hospital, RejectedRow  # noqa: E402
from hqsync.sync.interfaces import RawTab, SourceSnapshot  # noqa: E402
from hqsync.sync.normalise import NormalisedSource, normalise_source  # noqa: E402
from hqsync.sync.upsert import UpsertCounts, read_stored_rows, upsert_source  # noqa: E402
from tests.ingest.catalogue import A_HEAD, F_HEAD, H_HEAD  # noqa: E402

SOURCE = "bench"
RESULTS = ("Đạt", "Không đạt", "Không áp dụng", "Đ", "KĐ")


def build_cells(findings: int, per_assessment: int = 500) -> dict[str, list[list[Any]]]:
    """A realistic source: hospitals, QĐ 6858 assessments, `findings` finding rows."""
    rule_set = load_rule_sets()["QD6858"]
    codes = [
        f"{u.code}-{level}.{n}" for u in rule_set.units for level in range(1, 6) for n in (1, 2)
    ]
    codes = codes[:per_assessment]
    assessments = max(1, findings // len(codes))
    hospitals = max(1, assessments // 5)
    rng = random.Random(6858)
    h_rows = [
        [f"BV{h:04d}", f"Bệnh viện số {h}", f"Huyện {h % 9}", "Công lập", "Có", "Có", "Có"]
        for h in range(hospitals)
    ]
    a_rows = [
        [
            f"DG{a:05d}",
            f"BV{a % hospitals:04d}",
            "QĐ 6858",
            "Tự đánh giá" if a % 2 else "Đoàn kiểm tra",
            45700 + a % 300,
            "Nguyễn Văn A",
            "Đã nộp",
            45700.5 + a % 300,
        ]
        for a in range(assessments)
    ]
    f_rows: list[list[Any]] = []
    n = 0
    for a in range(assessments):
        for code in codes:
            if n >= findings:
                break
            f_rows.append(
                [
                    f"F{n:07d}",
                    f"DG{a:05d}",
                    code,
                    rng.choice(RESULTS),
                    "" if n % 7 else "ghi chú",
                    "",
                    45700.25 + a % 300,
                ]
            )
            n += 1
    return {
        "Hospitals": [H_HEAD, *h_rows],
        "Assessments": [A_HEAD, *a_rows],
        "Findings": [F_HEAD, *f_rows],
    }


def change_one_percent(cells: dict[str, list[list[Any]]]) -> int:
    """Flip the result of 1% of the findings (in place); returns how many changed."""
    rows = cells["Findings"]
    step = 100
    changed = 0
    for index in range(1, len(rows), step):
        row = rows[index]
        row[3] = "Đạt" if row[3] != "Đạt" else "Không đạt"
        row[6] = 46000.5
        changed += 1
    return changed


def google_payload(cells: dict[str, list[list[Any]]]) -> str:
    """The JSON a values.batchGet with UNFORMATTED_VALUE/SERIAL_NUMBER would return."""
    return json.dumps(
        {
            "valueRanges": [
                {"range": f"'{name}'!A1:Z", "majorDimension": "ROWS", "values": rows}
                for name, rows in cells.items()
            ]
        },
        ensure_ascii=False,
    )


def read_google(payload: str) -> SourceSnapshot:
    """Parse a batchGet response into a snapshot (what the Google reader does per read)."""
    data = json.loads(payload)
    tabs = {}
    for value_range in data["valueRanges"]:
        name = value_range["range"].split("'!", 1)[0].strip("'")
        rows = tuple(tuple(row) for row in value_range.get("values", []))
        tabs[name] = RawTab(name, rows)
    return SourceSnapshot(tabs=tabs, marker="bench", available_tabs=tuple(tabs))


def timed(label: str, fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    print(f"  {label:<11} {seconds:8.2f} s", end="", flush=True)
    return value, seconds


def one_sync(
    engine: sa.Engine, read: Callable[[], SourceSnapshot], rows: int, now: datetime
) -> tuple[UpsertCounts, float]:
    """One sync as the pipeline runs it: read; then, in one transaction, the stored hashes,
    normalising (unchanged rows are not parsed again) and the upsert."""
    rule_sets = load_rule_sets()
    snapshot, t_read = timed("read", read)
    print(f"  {rows / t_read:>12,.0f} rows/s")
    with engine.begin() as conn:
        stored, t_stored = timed("stored", lambda: read_stored_rows(conn, SOURCE))
        print(f"  {rows / t_stored:>12,.0f} rows/s  (hashes of the stored rows)")
        data: NormalisedSource
        data, t_norm = timed(
            "normalise",
            lambda: normalise_source(snapshot, TabNames(), rule_sets, known=stored.known()),
        )
        print(f"  {rows / t_norm:>12,.0f} rows/s")
        counts, t_upsert = timed(
            "upsert", lambda: upsert_source(conn, SOURCE, data, now, stored=stored)
        )
        start = time.perf_counter()
    t_commit = time.perf_counter() - start
    t_upsert += t_commit
    print(f"  {rows / t_upsert:>12,.0f} rows/s  (commit {t_commit:.2f} s included)")
    total = t_read + t_stored + t_norm + t_upsert
    print(f"  {'total':<11} {total:8.2f} s  {rows / total:>12,.0f} rows/s")
    print(f"  counts: {counts.as_rows()}")
    return counts, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="store URL (default: SQLite in a temporary folder)")
    parser.add_argument("--findings", type=int, default=500_000)
    parser.add_argument("--xlsx", action="store_true", help="read an .xlsx instead of JSON")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_store_engine(url)
        migrate(engine)
        with engine.begin() as conn:
            for model in (Finding, Assessment, Hospital, RejectedRow, FindingChange):
                conn.execute(sa.delete(model).where(model.source == SOURCE))

        cells = build_cells(args.findings)
        rows = sum(len(r) - 1 for r in cells.values())
        findings = len(cells["Findings"]) - 1
        print(f"store: {engine.dialect.name}; rows: {rows:,} ({findings:,} findings)")

        def reader() -> Callable[[], SourceSnapshot]:
            if args.xlsx:
                from hqsync.sync.xlsx import XlsxSourceReader
                from hqsync.sync.xlsx_source import write_source_workbook

                path = Path(tmp) / "source.xlsx"
                write_source_workbook(path, cells)
                return lambda: XlsxSourceReader(path).read(list(cells))
            payload = google_payload(cells)
            return lambda: read_google(payload)

        print("first full load:")
        full, t_full = one_sync(engine, reader(), rows, datetime(2026, 1, 1, tzinfo=UTC))
        changed = change_one_percent(cells)
        print(f"re-sync with {changed:,} findings changed (1%):")
        again, t_again = one_sync(engine, reader(), rows, datetime(2026, 1, 2, tzinfo=UTC))
        assert full.inserted == rows and again.findings.updated == changed, (full, again)
        print(f"re-sync / full load: {t_again / t_full:.1%} (target < 10%)")
        engine.dispose()


if __name__ == "__main__":
    main()
