"""The Progress tests' deployment: the small demo with the 2025 cycles made varied, the clock
set in December 2025, and what the overview's Progress tab must then show."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from hqsync.config.vocabulary import Language
from hqsync.jobs.demo import build_source_tabs
from hqsync.scoring.cycles import Cycle, MonthDay
from hqsync.sync.dashboard import LABELS
from tests.dashboard.hospital_support import SMALL

VI = LABELS[Language.VI]
PUBLISHED = datetime(2025, 12, 5, 3, 0, tzinfo=UTC)
"""The publish day: 5 December 2025 in Hồ Chí Minh City."""
CYCLES = (
    Cycle("QĐ 6858", MonthDay(11, 30), MonthDay(12, 31)),
    # TT 35 here: due on 15 December (10 days after publishing), only where there is a
    # paediatrics ward (BV01, BV02, BV04), BV04 excluded.
    Cycle("TT35", MonthDay(12, 15), applies_when="has_pediatrics", exclude=("BV04",)),
)


def varied_tabs() -> dict[str, list[list[Any]]]:
    """The small demo, its 2025 QĐ 6858 round changed: BV02's self-assessment only a draft
    (overdue), BV03's made on 2 December (late), BV01's council assessment only a draft."""
    tabs = build_source_tabs(**SMALL)
    for row in tabs["Assessments"][1:]:
        hospital, standard, kind, on = row[1], row[2], row[3], row[4]
        if standard != "QD6858" or not isinstance(on, date) or on.year != 2025:
            continue
        if (hospital, kind) in (("BV02", "self"), ("BV01", "council")):
            row[6] = "nháp"
        if (hospital, kind) == ("BV03", "self"):
            row[4] = date(2025, 12, 2)
    return tabs


EXPECTED_ORDER = [
    ("QĐ 6858", "BV02"),  # overdue
    ("TT 35/2024", "BV01"),  # due soon, then by name: Bệnh viện Đa khoa Thành phố
    ("TT 35/2024", "BV02"),  # Bệnh viện Nhi đồng
    ("QĐ 6858", "BV01"),  # the rest by name
    ("QĐ 6858", "BV04"),  # Bệnh viện Đa khoa Trung ương
    ("QĐ 6858", "BV03"),  # Bệnh viện Phụ sản
]
EXPECTED_COUNTS = {
    "QĐ 6858": {
        VI["hospital"]: "Tất cả: 4 bệnh viện",
        VI["self_state"]: "3/4 đã nộp · 1 mới có bản nháp",
        VI["self_status"]: "1 quá hạn · 1 nộp muộn",
        VI["council_state"]: "3/4 đã nộp · 1 mới có bản nháp",
        VI["council_status"]: None,
    },
    "TT 35/2024": {
        VI["hospital"]: "Tất cả: 2 bệnh viện",
        VI["self_state"]: "0/2 đã nộp",
        VI["self_status"]: "2 sắp đến hạn",
        VI["council_state"]: None,
        VI["council_status"]: None,
    },
}
EXPECTED_STATUS = {
    ("QĐ 6858", "BV02"): ("Mới có bản nháp", "Quá hạn 5 ngày", "Đã nộp", "Đúng hạn"),
    ("TT 35/2024", "BV01"): ("Chưa có", "Còn 10 ngày", None, None),
    ("TT 35/2024", "BV02"): ("Chưa có", "Còn 10 ngày", None, None),
    ("QĐ 6858", "BV01"): ("Đã nộp", "Đúng hạn", "Mới có bản nháp", "Chưa đến hạn"),
    ("QĐ 6858", "BV04"): ("Đã nộp", "Đúng hạn", "Đã nộp", "Đúng hạn"),
    ("QĐ 6858", "BV03"): ("Đã nộp", "Nộp muộn 2 ngày", "Đã nộp", "Đúng hạn"),
}
"""(standard, hospital) → self state, self status, council state, council status."""


def check_overview_rows(rows: list[dict[str, Any]]) -> None:
    """The overview's Progress tab (header → value per row): the counts, then the hospitals."""
    counts, hospitals = rows[: len(EXPECTED_COUNTS)], rows[len(EXPECTED_COUNTS) :]
    for row in counts:
        expected = EXPECTED_COUNTS[row[VI["standard"]]]
        assert {k: row.get(k) for k in expected} == expected
    order = [(r[VI["standard"]], r[VI["hospital_id"]]) for r in hospitals]
    assert order == EXPECTED_ORDER
    for row in hospitals:
        key = (row[VI["standard"]], row[VI["hospital_id"]])
        shown = tuple(
            row.get(VI[k]) for k in ("self_state", "self_status", "council_state", "council_status")
        )
        assert shown == EXPECTED_STATUS[key], key
