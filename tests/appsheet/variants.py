"""The AppSheet app's sheet in the variants the catalogue's cases need (data only).

Built from `tests/appsheet/sheets.py`: the standard app with its dates written in a locale,
its Yes/No columns written differently, extra columns, blank rows, a deleted row, and an app
with English headers.
"""

from __future__ import annotations

from types import MappingProxyType

from hqsync.config.settings import TabNames
from tests.appsheet.sheets import (
    A_HEAD,
    COLUMNS,
    F_HEAD,
    H_HEAD,
    UNIQUEID,
    Rows,
    app,
    assessment_records,
    changed,
    finding_records,
    hospital_records,
    restamp,
    trim,
    without,
)

# --------------------------------------------------------------------------------------------
# Dates in a locale: each case rewrites the assessments' date cells and the findings' stamps.

K = UNIQUEID
H1, H2 = K.hospitals
A1, A2 = K.assessments
F1, F2, F3, F4 = K.findings
A3 = "d4c3b2a1"
F5 = "f5f5f5f5"
ASSESSMENTS, FINDINGS = assessment_records(K), finding_records(K)


def dated(
    first: tuple[str, str], second: tuple[str, str], third: str | None, finding_stamp: str
) -> dict[str, Rows]:
    """The standard app with assessment dates (date, Last Modified) in some locale's text, and,
    when `third` is given, a third assessment dated `third` with one finding."""
    assessments = [
        changed(ASSESSMENTS[0], {"Ngày đánh giá": first[0], "Last Modified": first[1]}),
        changed(ASSESSMENTS[1], {"Ngày đánh giá": second[0], "Last Modified": second[1]}),
    ]
    findings = restamp(FINDINGS, finding_stamp)
    if third is not None:
        assessments.append(
            changed(ASSESSMENTS[0], {"Row ID": A3, "Ngày đánh giá": third, "Last Modified": ""})
        )
        findings.append(
            changed(FINDINGS[0], {"Row ID": F5, "Đợt đánh giá": A3, "Last Modified": finding_stamp})
        )
    return app(K, assessments=assessments, findings=findings)


VI = dated(
    ("3/4/2026", "3/4/2026 2:03:00 CH"),
    ("28/03/2026", "28/03/2026 9:15 SA"),
    "11/25/2026",
    "25/03/2026 09:30:00",
)
US = dated(
    ("3/4/2026", "3/4/2026 2:03:00 PM"),
    ("11/25/2026", "11/25/2026 12:15:00 AM"),
    "25/03/2026",
    "3/25/2026 9:30:00 AM",
)
GB = dated(
    ("3/4/2026", "03/04/2026 14:03:00"),
    ("25/03/2026", "25/03/2026 12:03 PM"),
    "11/25/2026",
    "25/03/2026 09:30:00",
)
ON_GOOGLE = dated(
    ("3/4/2026", "3/4/2026 2:03:00 PM"),
    ("4/3/2026", "4/3/2026 14:03:00"),
    None,
    "3/25/2026 9:30:00 AM",
)
ON_XLSX = dated(
    ("3/4/2026", "3/4/2026 14:03:00"), ("4/3/2026", "4/3/2026 2:03 CH"), None, "25/03/2026 09:30:00"
)
AU = dated(
    ("3/4/2026", "3/4/2026 2:03:00 pm"),
    ("28/03/2026", "28/03/2026 00:00:00"),
    "11/25/2026",
    "25/03/2026 09:30:00",
)

# The reversed trend: two self-assessments of one hospital, 3 January then 1 March.
TREND = app(
    K,
    assessments=[
        changed(ASSESSMENTS[0], {"Ngày đánh giá": "1/3/2026", "Last Modified": "1/3/2026 5:00 PM"}),
        changed(
            ASSESSMENTS[0],
            {"Row ID": A2, "Ngày đánh giá": "3/1/2026", "Last Modified": "3/1/2026 5:00 PM"},
        ),
    ],
    findings=[
        changed(FINDINGS[0], {"Last Modified": "1/3/2026 4:00 PM"}),
        changed(FINDINGS[1], {"Last Modified": "1/3/2026 4:00 PM"}),
        changed(
            FINDINGS[0],
            {
                "Row ID": F3,
                "Đợt đánh giá": A2,
                "Đánh giá": "Không đạt",
                "Last Modified": "3/1/2026 4:00 PM",
            },
        ),
        changed(
            FINDINGS[1],
            {
                "Row ID": F4,
                "Đợt đánh giá": A2,
                "Đánh giá": "Đạt",
                "Last Modified": "3/1/2026 4:00 PM",
            },
        ),
    ],
)

# --------------------------------------------------------------------------------------------
# Other conventions

HOSPITALS = hospital_records(K)
YES_NO = app(
    K,
    hospitals=[
        *HOSPITALS,
        changed(
            HOSPITALS[0],
            {
                "Row ID": "h3h3h3h3",
                "Mã BV": "BV03",
                "Có sản khoa": "TRUE",
                "Có nhi khoa": "FALSE",
                "Hoạt động": "true",
            },
        ),
        changed(
            HOSPITALS[0],
            {
                "Row ID": "h4h4h4h4",
                "Mã BV": "BV04",
                "Có sản khoa": None,
                "Có nhi khoa": "",
                "Hoạt động": False,
            },
        ),
    ],
)
Y_N = app(
    K,
    hospitals=[
        changed(HOSPITALS[0], {"Có sản khoa": "Y", "Có nhi khoa": "N", "Hoạt động": "Y"}),
        changed(HOSPITALS[1], {"Có sản khoa": "n", "Có nhi khoa": "y", "Hoạt động": "N"}),
        changed(HOSPITALS[0], {"Row ID": "h5h5h5h5", "Mã BV": "BV05", "Có sản khoa": "Có thể"}),
    ],
)

ENUM_HEAD = (*F_HEAD, "Khoa")
ENUM = app(
    K,
    findings=[
        changed(FINDINGS[0], {"Khoa": "Khoa Nội , Khoa Ngoại"}),
        changed(FINDINGS[1], {"Khoa": "Khoa Sản"}),
        changed(FINDINGS[2], {"Khoa": ""}),
        changed(FINDINGS[3], {"Khoa": "Khoa Nhi , Khoa Sản , Khoa Hồi sức"}),
    ],
    heads=(H_HEAD, A_HEAD, ENUM_HEAD),
)

FILES = app(
    K,
    findings=[
        changed(FINDINGS[0], {"Ảnh": "Findings_Images/abc.jpg"}),
        FINDINGS[1],
        changed(
            FINDINGS[2],
            {
                "Ảnh": "Chi tiết đánh giá_Images/3c2b1a09.Ảnh.093512.png",
                "Tệp đính kèm": "Chi tiết đánh giá_Files/Biên bản 28-3.pdf",
            },
        ),
        FINDINGS[3],
    ],
)

LATLONG = app(
    K,
    hospitals=[HOSPITALS[0], changed(HOSPITALS[1], {"Vị trí": "-33.8688, 151.2093"})],
)

NO_CHANGE_STAMP = (
    without(H_HEAD, "Last Modified"),
    without(A_HEAD, "Last Modified"),
    without(F_HEAD, "Last Modified"),
)
CREATED_ONLY = app(
    K,
    hospitals=trim(HOSPITALS, NO_CHANGE_STAMP[0]),
    assessments=trim(ASSESSMENTS, NO_CHANGE_STAMP[1]),
    findings=trim(FINDINGS, NO_CHANGE_STAMP[2]),
    heads=NO_CHANGE_STAMP,
)
CREATED_ONLY_COLUMNS = MappingProxyType(
    {
        tab: MappingProxyType({f: h for f, h in fields.items() if h != "Last Modified"})
        for tab, fields in COLUMNS.items()
    }
)

BAD_ITEM = changed(FINDINGS[0], {"Row ID": "b4db4d00", "Mã tiểu mục": "Z9.9"})
BLANK = app(
    K,
    hospitals=[HOSPITALS[0], None, HOSPITALS[1]],
    assessments=[None, ASSESSMENTS[0], ASSESSMENTS[1], None],
    findings=[FINDINGS[0], None, None, FINDINGS[1], BAD_ITEM, FINDINGS[2], FINDINGS[3]],
)

DELETED = "d3l3t3d0"
BEFORE_DELETE = app(
    K,
    findings=[
        FINDINGS[0],
        changed(FINDINGS[0], {"Row ID": DELETED}),
        FINDINGS[1],
        FINDINGS[2],
        FINDINGS[3],
        BAD_ITEM,
    ],
)
AFTER_DELETE = app(K, findings=[FINDINGS[0], FINDINGS[1], FINDINGS[2], FINDINGS[3], BAD_ITEM])

EXTRA_HEADS = (
    (*H_HEAD, "Ghi chú nội bộ"),
    (*A_HEAD, "Email người nhập", "Tỉnh"),
    (*F_HEAD, "Người tạo", ""),
)
EXTRA = app(
    K,
    hospitals=[changed(HOSPITALS[0], {"Ghi chú nội bộ": "xem lại"}), HOSPITALS[1]],
    assessments=[
        changed(ASSESSMENTS[0], {"Email người nhập": "a@soyte.gov.vn", "Tỉnh": "Cần Thơ"}),
        changed(ASSESSMENTS[1], {"Tỉnh": "Cần Thơ"}),
    ],
    findings=[changed(FINDINGS[0], {"Người tạo": "a@soyte.gov.vn", "": "ghi tay"}), *FINDINGS[1:]],
    heads=EXTRA_HEADS,
)

KET_QUA_HEAD = (*F_HEAD, "Kết quả")
KET_QUA = app(
    K,
    findings=[changed(r, {"Kết quả": "1/1 đạt"}) for r in FINDINGS],
    heads=(H_HEAD, A_HEAD, KET_QUA_HEAD),
)

EN_TABS = TabNames(hospitals="Hospitals", assessments="Assessments", findings="Findings")
EN = {
    "hospitals": [
        ["Row ID", "Hospital code", "Hospital name"],
        [H1, "BV01", "General"],
        [H2, "BV02", "Children's"],
    ],
    "assessments": [
        ["Row ID", "Hospital", "Standard", "Kind", "Date"],
        [A1, H1, "QĐ 6858", "Self", "3/4/2026"],
        [A2, H2, "TT 35/2024", "Council", "3/5/2026"],
    ],
    "findings": [
        ["Row ID", "Assessment", "Item", "Result"],
        [F1, A1, "A1.1-2.1", "Met"],
        [F2, A1, "A1.1-2.2", "Not met"],
        [F3, A2, "1.3.1", "N/A"],
        [F4, A2, "1.1", "Met"],
    ],
}
EN_COLUMNS = {
    "hospitals": {"hospital_id": "Row ID"},
    "assessments": {"assessment_id": "Row ID", "hospital_id": "Hospital"},
    "findings": {"finding_id": "Row ID", "assessment_id": "Assessment"},
}

STANDARD = app(K)
