"""Source sheets laid out the way AppSheet apps write them, as data.

An AppSheet app owns its sheet: every table has a `Row ID` key column filled by `UNIQUEID()`,
Ref columns named after the table they point to (`Bệnh viện`, `Đợt đánh giá`) holding the
parent's Row ID, a created `Timestamp` and a ChangeTimestamp (`Last Modified`), Yes/No columns
written as TRUE/FALSE, Enum/EnumList values as text, Image/File columns as paths relative to the
app's folder (`Findings_Images/abc.jpg`), LatLong as `lat, long` text, and dates as text in the
table's data locale. Nothing here follows hqsync's own headers: the catalogue maps them.

A tab is built from records (header → value; None is a blank row), so each case changes only
what its convention needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hqsync.config.settings import TabNames
from hqsync.sync.interfaces import CellValue

Rows = list[list[CellValue]]
Record = Mapping[str, CellValue]

TABS = TabNames(hospitals="Bệnh viện", assessments="Đợt đánh giá", findings="Chi tiết đánh giá")
"""The tabs of the AppSheet app (one table each)."""

H_HEAD: tuple[str, ...] = (
    "Row ID",
    "Mã BV",
    "Tên bệnh viện",
    "Quận/Huyện",
    "Hình thức sở hữu",
    "Có sản khoa",
    "Có nhi khoa",
    "Hoạt động",
    "Vị trí",
    "Timestamp",
    "Last Modified",
)
A_HEAD: tuple[str, ...] = (
    "Row ID",
    "Bệnh viện",
    "Bộ tiêu chí",
    "Loại đánh giá",
    "Ngày đánh giá",
    "Người đánh giá",
    "Trạng thái",
    "Timestamp",
    "Last Modified",
)
F_HEAD: tuple[str, ...] = (
    "Row ID",
    "Đợt đánh giá",
    "Mã tiểu mục",
    "Đánh giá",
    "Ghi chú",
    "Ảnh",
    "Tệp đính kèm",
    "Timestamp",
    "Last Modified",
)

COLUMNS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "hospitals": MappingProxyType({"hospital_id": "Row ID"}),
        "assessments": MappingProxyType(
            {"assessment_id": "Row ID", "hospital_id": "Bệnh viện", "updated_at": "Last Modified"}
        ),
        "findings": MappingProxyType(
            {
                "finding_id": "Row ID",
                "assessment_id": "Đợt đánh giá",
                "result": "Đánh giá",
                "evidence": "Ảnh",
                "updated_at": "Last Modified",
            }
        ),
    }
)
"""The `[sources.columns.<tab>]` block that maps this app's sheet onto hqsync."""


@dataclass(frozen=True)
class Keys:
    """The Row IDs of the standard app's rows: 2 hospitals, 2 assessments, 4 findings."""

    hospitals: tuple[str, str]
    assessments: tuple[str, str]
    findings: tuple[str, str, str, str]

    def all(self) -> dict[str, set[str]]:
        """Tab kind → every key (what a clean sync stores)."""
        return {
            "hospitals": set(self.hospitals),
            "assessments": set(self.assessments),
            "findings": set(self.findings),
        }


UNIQUEID = Keys(
    ("a1b2c3d4", "04172931"),  # UNIQUEID(): 8 digits and letters; may be all digits
    ("9f8e7d6c", "5b4a3c2d"),
    ("0c1d2e3f", "7a6b5c4d", "e5f6a7b8", "3c2b1a09"),
)
UUID = Keys(
    ("6f1c0b8e-2d4a-4c1e-9b7f-3a2e1d0c9b8a", "0e7d5a3c-91b2-4f6e-8d0a-2c4b6e8f1a3d"),
    ("c3d9e2f1-7a6b-4c5d-8e9f-0a1b2c3d4e5f", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
    (
        "f0e1d2c3-b4a5-4968-8776-a5b4c3d2e1f0",
        "2b3c4d5e-6f70-4182-9a3b-4c5d6e7f8091",
        "9e8d7c6b-5a49-4837-a261-504f3e2d1c0b",
        "00000000-0000-4000-8000-000000000001",
    ),
)
PACKED_UUID = Keys(
    ("b7Zq3kT9xW2mNc4LpR8sVa", "-4Hj_9kLmN0pQrStUvWxYz"),  # 22 of [A-Za-z0-9_-]; may start '-'
    ("Qw3eRt5yUi7oPa9sDf1gHj", "Zx_cVb-nM1qW2eR3tY4uI5"),
    (
        "a_b-c_d-e_f-g_h-i_j-kl",
        "0123456789abcdefABCDEF",
        "__________________0001",
        "Mn8bV7cX6zL5kJ4hG3fD2s",
    ),
)

ITEMS = ("A1.1-2.1", "A1.1-2.2", "1.3.1", "1.1")
"""Item codes of the shipped rule sets: the first two QĐ 6858 (assessment 1), the last two
TT 35/2024 (assessment 2)."""


def hospital_records(keys: Keys = UNIQUEID) -> list[dict[str, CellValue]]:
    """The app's two hospitals: Yes/No as TRUE/FALSE booleans, LatLong as text."""
    first, second = keys.hospitals
    return [
        {
            "Row ID": first,
            "Mã BV": "BV01",
            "Tên bệnh viện": "Bệnh viện Đa khoa Cần Thơ",
            "Quận/Huyện": "Ninh Kiều",
            "Hình thức sở hữu": "Công lập",
            "Có sản khoa": True,
            "Có nhi khoa": True,
            "Hoạt động": True,
            "Vị trí": "10.0452, 105.7469",
            "Timestamp": "20/03/2026 08:00:00",
            "Last Modified": "20/03/2026 08:00:00",
        },
        {
            "Row ID": second,
            "Mã BV": "BV02",
            "Tên bệnh viện": "Bệnh viện Hoà Hảo",
            "Quận/Huyện": "Cái Răng",
            "Hình thức sở hữu": "Tư nhân",
            "Có sản khoa": False,
            "Có nhi khoa": True,
            "Hoạt động": True,
            "Vị trí": "10.0160, 105.7680",
            "Timestamp": "20/03/2026 08:05:00",
            "Last Modified": "21/03/2026 17:45:10",
        },
    ]


def assessment_records(keys: Keys = UNIQUEID) -> list[dict[str, CellValue]]:
    """The app's two assessments, Refs holding the hospitals' Row IDs, dates in vi_VN text."""
    return [
        {
            "Row ID": keys.assessments[0],
            "Bệnh viện": keys.hospitals[0],
            "Bộ tiêu chí": "QĐ 6858",
            "Loại đánh giá": "Tự đánh giá",
            "Ngày đánh giá": "25/03/2026",
            "Người đánh giá": "Nguyễn Văn A",
            "Trạng thái": "Đã nộp",
            "Timestamp": "25/03/2026 08:10:00",
            "Last Modified": "25/03/2026 14:30:00",
        },
        {
            "Row ID": keys.assessments[1],
            "Bệnh viện": keys.hospitals[1],
            "Bộ tiêu chí": "TT 35/2024",
            "Loại đánh giá": "Đoàn kiểm tra",
            "Ngày đánh giá": "28/03/2026",
            "Người đánh giá": "Trần Thị B",
            "Trạng thái": "Đã duyệt",
            "Timestamp": "28/03/2026 09:00:00",
            "Last Modified": "28/03/2026 16:00:00",
        },
    ]


def finding_records(keys: Keys = UNIQUEID) -> list[dict[str, CellValue]]:
    """The app's four findings: Enum results, an Image path, a File path."""
    first, second = keys.assessments
    results = ("Đạt", "Không đạt", "Không áp dụng", "Đạt")
    owners = (first, first, second, second)
    records: list[dict[str, CellValue]] = []
    for index, (key, item, result, owner) in enumerate(
        zip(keys.findings, ITEMS, results, owners, strict=True)
    ):
        records.append(
            {
                "Row ID": key,
                "Đợt đánh giá": owner,
                "Mã tiểu mục": item,
                "Đánh giá": result,
                "Ghi chú": "thiếu biển báo" if result == "Không đạt" else "",
                "Ảnh": f"Findings_Images/{key}.Ảnh.jpg" if index == 1 else "",
                "Tệp đính kèm": "Findings_Files/bien_ban.pdf" if index == 1 else "",
                "Timestamp": "25/03/2026 09:00:00",
                "Last Modified": "25/03/2026 09:30:00",
            }
        )
    return records


def table(head: Sequence[str], records: Sequence[Record | None]) -> Rows:
    """A tab: the header row, then one row per record in header order (None: a blank row)."""
    rows: Rows = [list(head)]
    for record in records:
        if record is None:
            rows.append([None] * len(head))
            continue
        unknown = set(record) - set(head)
        if unknown:
            raise ValueError(f"record has headers the tab lacks: {sorted(unknown)}")
        rows.append([record.get(name) for name in head])
    return rows


def changed(record: Record, values: Mapping[str, CellValue]) -> dict[str, CellValue]:
    """A copy of a record with the cells under these headers replaced."""
    return {**record, **values}


def without(head: Sequence[str], *names: str) -> tuple[str, ...]:
    """A header row without some columns."""
    return tuple(name for name in head if name not in names)


def app(
    keys: Keys = UNIQUEID,
    *,
    hospitals: Sequence[Record | None] | None = None,
    assessments: Sequence[Record | None] | None = None,
    findings: Sequence[Record | None] | None = None,
    heads: tuple[Sequence[str], Sequence[str], Sequence[str]] = (H_HEAD, A_HEAD, F_HEAD),
) -> dict[str, Rows]:
    """The three tabs of the standard app (keyword arguments replace a tab's records)."""
    h_head, a_head, f_head = heads
    return {
        "hospitals": table(h_head, hospital_records(keys) if hospitals is None else hospitals),
        "assessments": table(
            a_head, assessment_records(keys) if assessments is None else assessments
        ),
        "findings": table(f_head, finding_records(keys) if findings is None else findings),
    }


def restamp(records: Sequence[Record], stamp: str) -> list[dict[str, Any]]:
    """Records with `Last Modified` written as `stamp` (a date-time in another locale)."""
    return [changed(record, {"Last Modified": stamp}) for record in records]


def trim(records: Sequence[Record], head: Sequence[str]) -> list[dict[str, Any]]:
    """Records without the cells of columns `head` lacks."""
    return [{k: v for k, v in record.items() if k in head} for record in records]
