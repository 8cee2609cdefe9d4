"""A catalogue of nasty source sheets, each with the outcome hqsync must produce.

Every case is the three tabs as typed cell rows (row 0 = headers) plus what must be stored
(keys per tab, optionally some parsed fields) and which rows must be rejected (tab, sheet row
number, reason code, column header). `tests/ingest/test_catalogue.py` runs every case against
every backend in `tests/ingest/backends.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from hqsync.config.settings import TabNames
from hqsync.sync.interfaces import CellValue

Rows = list[list[CellValue]]

H_HEAD: list[CellValue] = [
    "Mã bệnh viện",
    "Tên bệnh viện",
    "Huyện/Quận",
    "Hình thức sở hữu",
    "Có sản khoa",
    "Có nhi khoa",
    "Hoạt động",
]
A_HEAD: list[CellValue] = [
    "Mã đánh giá",
    "Mã bệnh viện",
    "Bộ tiêu chí",
    "Loại đánh giá",
    "Ngày đánh giá",
    "Người đánh giá",
    "Trạng thái",
    "Cập nhật lúc",
]
F_HEAD: list[CellValue] = [
    "Mã kết quả",
    "Mã đánh giá",
    "Mã tiểu mục",
    "Kết quả",
    "Ghi chú",
    "Minh chứng",
    "Cập nhật lúc",
]

BV01: list[CellValue] = [
    "BV01",
    "Bệnh viện Đa khoa Cần Thơ",
    "Ninh Kiều",
    "Công lập",
    "Có",
    "Có",
    "Có",
]
BV02: list[CellValue] = ["BV02", "Bệnh viện Hoà Hảo", "Cái Răng", "Tư nhân", "Không", "Có", "Có"]
DG01: list[CellValue] = [
    "DG01",
    "BV01",
    "QĐ 6858",
    "Tự đánh giá",
    "25/03/2025",
    "Nguyễn Văn A",
    "Đã nộp",
    "25/03/2025 14:30",
]
DG02: list[CellValue] = [
    "DG02",
    "BV02",
    "TT 35/2024",
    "Đoàn kiểm tra",
    datetime(2025, 4, 2),
    "Trần Thị B",
    "Đã duyệt",
    45749.5,
]
F01: list[CellValue] = ["F01", "DG01", "A1.1-2.1", "Đạt", "", "", None]
F02: list[CellValue] = ["F02", "DG01", "A1.1-2.2", "Không đạt", "thiếu biển", "img/f02.jpg", None]
F03: list[CellValue] = ["F03", "DG02", "1.3.1", "Không áp dụng", None, None, None]
F04: list[CellValue] = ["F04", "DG02", "1.1", "KĐ", None, None, None]

ALL_KEYS = {
    "hospitals": {"BV01", "BV02"},
    "assessments": {"DG01", "DG02"},
    "findings": {"F01", "F02", "F03", "F04"},
}


@dataclass(frozen=True)
class Expected:
    """One rejection the case must produce."""

    tab_kind: str
    row: int
    code: str
    column: str | None


@dataclass(frozen=True)
class Case:
    """A named source sheet and what normalising it must give."""

    name: str
    hospitals: Rows
    assessments: Rows
    findings: Rows
    stored: Mapping[str, set[str]] = field(default_factory=dict)
    rejected: tuple[Expected, ...] = ()
    fields: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    """(tab kind, key) → expected parsed fields (a subset)."""
    extra: Mapping[tuple[str, str], Mapping[str, Any]] = field(default_factory=dict)
    """(tab kind, key) → expected extra columns (a subset)."""
    reason_mentions: tuple[tuple[str, int, str], ...] = ()
    """(tab kind, row, text) that the English reason must contain."""
    source_error: tuple[str, ...] = ()
    """Texts a SourceError's message must contain (the case fails the whole source)."""
    tabs: TabNames = field(default_factory=TabNames)
    sheet_tabs: tuple[str, ...] | None = None
    """The tab names the sheet actually has (default: those of `tabs`)."""

    def tab_rows(self) -> dict[str, Rows]:
        """Tab name → rows, as the spreadsheet holds them."""
        names = self.sheet_tabs or (self.tabs.hospitals, self.tabs.assessments, self.tabs.findings)
        return dict(zip(names, (self.hospitals, self.assessments, self.findings), strict=True))


def _keys(**overrides: set[str]) -> dict[str, set[str]]:
    return {**ALL_KEYS, **overrides}


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


def _nfd(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFD", text)


CASES: list[Case] = [
    Case(
        "clean_vietnamese",
        [H_HEAD, BV01, BV02],
        [A_HEAD, DG01, DG02],
        [F_HEAD, F01, F02, F03, F04],
        stored=ALL_KEYS,
        fields={
            ("hospitals", "BV01"): {
                "name": "Bệnh viện Đa khoa Cần Thơ",
                "ownership": "public",
                "has_obstetrics": True,
                "active": True,
            },
            ("hospitals", "BV02"): {"ownership": "private", "has_obstetrics": False},
            ("assessments", "DG01"): {
                "standard": "QD6858",
                "kind": "self",
                "status": "submitted",
                "assessed_on": date(2025, 3, 25),
                "updated_at": _utc(2025, 3, 25, 7, 30),
            },
            ("assessments", "DG02"): {
                "standard": "TT35",
                "kind": "council",
                "status": "approved",
                "assessed_on": date(2025, 4, 2),
                "updated_at": _utc(2025, 4, 2, 5, 0),
            },
            ("findings", "F02"): {
                "result": "not_met",
                "note": "thiếu biển",
                "evidence": "img/f02.jpg",
                "item_code": "A1.1-2.2",
            },
            ("findings", "F03"): {"result": "na", "note": None},
            ("findings", "F04"): {"result": "not_met"},
        },
    ),
    Case(
        "english_headers_and_words",
        [
            ["hospital_id", "name", "district", "ownership", "has_obstetrics", "has_pediatrics"],
            ["H1", "General", "North", "public", "yes", "no"],
        ],
        [
            ["assessment_id", "hospital_id", "standard", "kind", "assessed_on", "status"],
            ["A1", "H1", "QD6858", "council", "2025-03-05", "approved"],
            ["A2", "H1", "TT35", "self", "2025-03-06", "draft"],
        ],
        [
            ["finding_id", "assessment_id", "item_code", "result", "note"],
            ["X1", "A1", "A1.1-2.1", "met", "ok"],
            ["X2", "A1", "A1.1-2.2", "not met", ""],
            ["X3", "A2", "1.1", "n/a", ""],
        ],
        stored={"hospitals": {"H1"}, "assessments": {"A1", "A2"}, "findings": {"X1", "X2", "X3"}},
        fields={
            ("hospitals", "H1"): {"has_pediatrics": False, "active": None, "district": "North"},
            ("assessments", "A1"): {"assessed_on": date(2025, 3, 5), "updated_at": None},
            ("assessments", "A2"): {"kind": "self", "status": "draft", "assessor": None},
            ("findings", "X3"): {"result": "na"},
        },
    ),
    Case(
        "nfd_upper_case_spaced_headers_and_words",
        [[_nfd("  MÃ   BỆNH VIỆN "), _nfd("tên bệnh viện")], [_nfd("BV01"), _nfd("Bệnh viện Hoà")]],
        [
            [_nfd("MÃ ĐÁNH GIÁ"), "mã bệnh   viện", _nfd("BỘ TIÊU CHÍ"), _nfd("loại đánh giá")],
            ["DG01", "BV01", _nfd("qđ 6858"), _nfd("TỰ ĐÁNH GIÁ")],
        ],
        [
            [_nfd("MÃ KẾT QUẢ"), "ma danh gia", _nfd("MÃ TIỂU MỤC"), _nfd("KẾT QUẢ")],
            ["F01", "DG01", "A1.1-2.1", _nfd("ĐẠT")],
            ["F02", "DG01", "A1.1-2.2", _nfd("không đạt")],
            ["F03", "DG01", "A1.1-2.3", _nfd("Không Áp Dụng")],
        ],
        stored={"hospitals": {"BV01"}, "assessments": {"DG01"}, "findings": {"F01", "F02", "F03"}},
        fields={
            ("hospitals", "BV01"): {"name": "Bệnh viện Hoà"},  # NFC after normalising
            ("findings", "F01"): {"result": "met"},
            ("findings", "F02"): {"result": "not_met"},
            ("findings", "F03"): {"result": "na"},
        },
    ),
    Case(
        "columns_reordered_with_extra_columns",
        [
            ["Ghi chú nội bộ", *reversed(H_HEAD)],
            ["xem lại", *reversed(BV01)],
            [None, *reversed(BV02)],
        ],
        [["Tỉnh", *A_HEAD[::-1]], ["Cần Thơ", *DG01[::-1]], ["Cần Thơ", *DG02[::-1]]],
        [
            [*F_HEAD[3:], "AppSheet _RowNumber", *F_HEAD[:3]],
            *[[*r[3:], 7, *r[:3]] for r in (F01, F02, F03, F04)],
        ],
        stored=ALL_KEYS,
        fields={
            ("hospitals", "BV01"): {"district": "Ninh Kiều"},
            ("findings", "F02"): {"result": "not_met"},
        },
        extra={
            ("hospitals", "BV01"): {"Ghi chú nội bộ": "xem lại"},
            ("assessments", "DG02"): {"Tỉnh": "Cần Thơ"},
            ("findings", "F04"): {"AppSheet _RowNumber": 7},
        },
    ),
    Case(
        "missing_required_column",
        [H_HEAD, BV01],
        [A_HEAD, DG01],
        [[h for h in F_HEAD if h != "Kết quả"], ["F01", "DG01", "A1.1-2.1", "", "", None]],
        source_error=("'Findings'", "'result'", "'Kết quả'", "'Mã kết quả'"),
    ),
    Case(
        "colliding_headers",
        [H_HEAD, BV01],
        [[*A_HEAD, "hospital id"], [*DG01, "BV01"]],
        [F_HEAD, F01],
        source_error=("'Assessments'", "'Mã bệnh viện'", "'hospital id'", "'hospital_id'"),
    ),
    Case(
        "colliding_after_accent_folding",
        [H_HEAD, BV01],
        [A_HEAD, DG01],
        [[*F_HEAD, "Ghi chu"], [*F01, "x"]],
        source_error=("'Findings'", "'Ghi chú'", "'Ghi chu'"),
    ),
    Case(
        "missing_tab",
        [H_HEAD, BV01],
        [A_HEAD, DG01],
        [F_HEAD, F01],
        sheet_tabs=("Hospitals", "Assessments", "Finding"),
        source_error=("'Findings'", "'Finding'", "tabs.findings"),
    ),
    Case(
        "tab_without_header_row",
        [],
        [A_HEAD, DG01],
        [F_HEAD, F01],
        source_error=("'Hospitals'", "header"),
    ),
    Case(
        "custom_tab_names",
        [H_HEAD, BV01, BV02],
        [A_HEAD, DG01, DG02],
        [F_HEAD, F01, F02, F03, F04],
        tabs=TabNames(hospitals="Bệnh viện", assessments="Đợt đánh giá", findings="Kết quả"),
        stored=ALL_KEYS,
    ),
    Case(
        "formula_errors_cascade",
        [H_HEAD, BV01, ["BV02", "#REF!", "Cái Răng", "Tư nhân", "Không", "Có", "Có"]],
        [A_HEAD, DG01, DG02, ["DG03", "BV01", "QĐ 6858", "Tự đánh giá", "#VALUE!", "", "", None]],
        [
            F_HEAD,
            F01,
            ["F02", "DG01", "A1.1-2.2", "#N/A", None, None, None],
            F03,
            F04,
            ["F05", "DG03", "A1.1-2.3", "Đạt", None, None, None],
            ["F06", "DG01", "#NAME?", "Đạt", None, None, None],
            ["F07", "DG01", "A1.1-2.4", "#DIV/0!", None, None, None],
            ["F08", "DG01", "A1.1-2.5", "#ERROR!", None, None, None],
        ],
        stored=_keys(hospitals={"BV01"}, assessments={"DG01"}, findings={"F01"}),
        rejected=(
            Expected("hospitals", 3, "formula_error", "Tên bệnh viện"),
            Expected("assessments", 3, "hospital_rejected", "Mã bệnh viện"),
            Expected("assessments", 4, "formula_error", "Ngày đánh giá"),
            Expected("findings", 3, "formula_error", "Kết quả"),
            Expected("findings", 4, "assessment_rejected", "Mã đánh giá"),
            Expected("findings", 5, "assessment_rejected", "Mã đánh giá"),
            Expected("findings", 6, "assessment_rejected", "Mã đánh giá"),
            Expected("findings", 7, "formula_error", "Mã tiểu mục"),
            Expected("findings", 8, "formula_error", "Kết quả"),
            Expected("findings", 9, "formula_error", "Kết quả"),
        ),
        reason_mentions=(
            ("hospitals", 3, "#REF!"),
            ("assessments", 3, "Hospitals row 3"),
            ("findings", 4, "'DG02' was rejected"),
            ("findings", 6, "Assessments row 4"),
        ),
    ),
    Case(
        "unknown_references",
        [H_HEAD, BV01],
        [A_HEAD, DG01, ["DG09", "BV99", "QĐ 6858", "Tự đánh giá", "01/01/2025", "", "", None]],
        [
            F_HEAD,
            F01,
            ["F02", "DG99", "A1.1-2.2", "Đạt", None, None, None],
            ["F03", "DG09", "A1.1-2.3", "Đạt", None, None, None],
        ],
        stored=_keys(hospitals={"BV01"}, assessments={"DG01"}, findings={"F01"}),
        rejected=(
            Expected("assessments", 3, "unknown_hospital", "Mã bệnh viện"),
            Expected("findings", 3, "unknown_assessment", "Mã đánh giá"),
            Expected("findings", 4, "assessment_rejected", "Mã đánh giá"),
        ),
        reason_mentions=(("assessments", 3, "'BV99'"), ("findings", 3, "'DG99'")),
    ),
    Case(
        "reference_case_mismatch_gets_a_hint",
        [H_HEAD, BV01],
        [A_HEAD, ["DG01", "bv01", "QĐ 6858", "Tự đánh giá", "01/01/2025", "", "", None]],
        [F_HEAD, F01],
        stored=_keys(hospitals={"BV01"}, assessments=set(), findings=set()),
        rejected=(
            Expected("assessments", 2, "unknown_hospital", "Mã bệnh viện"),
            Expected("findings", 2, "assessment_rejected", "Mã đánh giá"),
        ),
        reason_mentions=(("assessments", 2, "did you mean 'BV01'"),),
    ),
    Case(
        "unknown_item_codes",
        [H_HEAD, BV01, BV02],
        [A_HEAD, DG01, DG02],
        [
            F_HEAD,
            F01,
            ["F02", "DG01", "A1.1-9.1", "Đạt", None, None, None],
            ["F03", "DG01", "1.1", "Đạt", None, None, None],
            ["F04", "DG02", "9.9", "Đạt", None, None, None],
            ["F05", "DG02", "A1.1-2.1", "Đạt", None, None, None],
            ["F06", "DG02", " 1.3.2 ", "Đạt", None, None, None],
        ],
        stored=_keys(findings={"F01", "F06"}),
        rejected=(
            Expected("findings", 3, "unknown_item", "Mã tiểu mục"),
            Expected("findings", 4, "unknown_item", "Mã tiểu mục"),
            Expected("findings", 5, "unknown_item", "Mã tiểu mục"),
            Expected("findings", 6, "unknown_item", "Mã tiểu mục"),
        ),
        fields={("findings", "F06"): {"item_code": "1.3.2"}},
        reason_mentions=(("findings", 3, "QD6858"), ("findings", 5, "TT35")),
    ),
    Case(
        "unrecognised_and_empty_results",
        [H_HEAD, BV01],
        [A_HEAD, DG01],
        [
            F_HEAD,
            ["F01", "DG01", "A1.1-2.1", "Tốt", None, None, None],
            ["F02", "DG01", "A1.1-2.2", "?", None, None, None],
            ["F03", "DG01", "A1.1-2.3", "", None, None, None],
            ["F04", "DG01", "A1.1-2.4", 2, None, None, None],
            ["F05", "DG01", "A1.1-2.5", "Đạt", None, None, None],
        ],
        stored={"hospitals": {"BV01"}, "assessments": {"DG01"}, "findings": {"F05"}},
        rejected=(
            Expected("findings", 2, "bad_result", "Kết quả"),
            Expected("findings", 3, "bad_result", "Kết quả"),
            Expected("findings", 4, "missing_value", "Kết quả"),
            Expected("findings", 5, "bad_result", "Kết quả"),
        ),
        reason_mentions=(("findings", 2, "'Tốt'"),),
    ),
    Case(
        "missing_keys",
        [H_HEAD, BV01, ["", "Bệnh viện không mã", "", "", "", "", ""]],
        [A_HEAD, DG01, [None, "BV01", "QĐ 6858", "Tự đánh giá", "", "", "", None]],
        [
            F_HEAD,
            F01,
            ["  \u200b ", "DG01", "A1.1-2.2", "Đạt", None, None, None],
            [None, "DG01", "A1.1-2.3", "Đạt", None, None, None],
            ["'", "DG01", "A1.1-2.4", "Đạt", None, None, None],
        ],
        stored={"hospitals": {"BV01"}, "assessments": {"DG01"}, "findings": {"F01"}},
        rejected=(
            Expected("hospitals", 3, "missing_key", "Mã bệnh viện"),
            Expected("assessments", 3, "missing_key", "Mã đánh giá"),
            Expected("findings", 3, "missing_key", "Mã kết quả"),
            Expected("findings", 4, "missing_key", "Mã kết quả"),
            Expected("findings", 5, "missing_key", "Mã kết quả"),
        ),
    ),
    Case(
        "duplicate_keys_keep_the_first",
        [H_HEAD, BV01, BV02, BV01],
        [A_HEAD, DG01, DG02],
        [F_HEAD, F01, F02, F03, F04, ["F01", "DG01", "A1.1-2.1", "Không đạt", None, None, None]],
        stored=ALL_KEYS,
        rejected=(
            Expected("hospitals", 4, "duplicate_key", "Mã bệnh viện"),
            Expected("findings", 6, "duplicate_key", "Mã kết quả"),
        ),
        fields={("findings", "F01"): {"result": "met"}},
        reason_mentions=(
            ("findings", 6, "row 2"),
            ("findings", 6, "row 6"),
            ("hospitals", 4, "row 2"),
        ),
    ),
    Case(
        "date_formats",
        [H_HEAD, BV01],
        [
            A_HEAD,
            ["D1", "BV01", "QĐ 6858", "Tự đánh giá", "5/3/25", "", "", "5/3/25 8:05"],
            ["D2", "BV01", "QĐ 6858", "Tự đánh giá", "2025-03-05", "", "", "2025-03-05T08:05:00Z"],
            ["D3", "BV01", "QĐ 6858", "Tự đánh giá", 45721, "", "", 45721.25],
            ["D4", "BV01", "QĐ 6858", "Tự đánh giá", datetime(2025, 3, 5, 0, 0), "", "", None],
            [
                "D5",
                "BV01",
                "QĐ 6858",
                "Tự đánh giá",
                "05.03.2025",
                "",
                "",
                "2025-03-05 08:05+07:00",
            ],
            ["D6", "BV01", "QĐ 6858", "Tự đánh giá", "05-03-2025", "", "", "05/03/2025 08:05:30"],
            ["D7", "BV01", "QĐ 6858", "Tự đánh giá", "31/02/2025", "", "", None],
            ["D8", "BV01", "QĐ 6858", "Tự đánh giá", "hôm qua", "", "", None],
            ["D9", "BV01", "QĐ 6858", "Tự đánh giá", 2025, "", "", None],
            ["D10", "BV01", "QĐ 6858", "Tự đánh giá", "", "", "", "45721,5"],
            ["D11", "BV01", "QĐ 6858", "Tự đánh giá", "05/03/2025", "", "", True],
        ],
        [F_HEAD],
        stored={
            "hospitals": {"BV01"},
            "assessments": {"D1", "D2", "D3", "D4", "D5", "D6", "D10"},
            "findings": set(),
        },
        rejected=(
            Expected("assessments", 8, "bad_date", "Ngày đánh giá"),
            Expected("assessments", 9, "bad_date", "Ngày đánh giá"),
            Expected("assessments", 10, "bad_date", "Ngày đánh giá"),
            Expected("assessments", 12, "bad_date", "Cập nhật lúc"),
        ),
        fields={
            ("assessments", "D1"): {
                "assessed_on": date(2025, 3, 5),
                "updated_at": _utc(2025, 3, 5, 1, 5),
            },
            ("assessments", "D2"): {
                "assessed_on": date(2025, 3, 5),
                "updated_at": _utc(2025, 3, 5, 8, 5),
            },
            ("assessments", "D3"): {
                "assessed_on": date(2025, 3, 5),
                "updated_at": _utc(2025, 3, 4, 23, 0),
            },
            ("assessments", "D4"): {"assessed_on": date(2025, 3, 5)},
            ("assessments", "D5"): {
                "assessed_on": date(2025, 3, 5),
                "updated_at": _utc(2025, 3, 5, 1, 5),
            },
            ("assessments", "D6"): {
                "assessed_on": date(2025, 3, 5),
                "updated_at": _utc(2025, 3, 5, 1, 5, 30),
            },
            ("assessments", "D10"): {"assessed_on": None, "updated_at": _utc(2025, 3, 5, 5, 0)},
        },
    ),
    Case(
        "yes_no_words",
        [
            H_HEAD,
            ["H1", "A", "", "", "có", "KHÔNG", True],
            ["H2", "B", "", "", "yes", "No", False],
            ["H3", "C", "", "", 1, 0, "TRUE"],
            ["H4", "D", "", "", "1,0", "false", "x"],
            ["H5", "E", "", "", "", None, "Có"],
            ["H6", "F", "", "", "maybe", "Có", "Có"],
        ],
        [A_HEAD],
        [F_HEAD],
        stored={
            "hospitals": {"H1", "H2", "H3", "H4", "H5"},
            "assessments": set(),
            "findings": set(),
        },
        rejected=(Expected("hospitals", 7, "bad_yes_no", "Có sản khoa"),),
        fields={
            ("hospitals", "H1"): {"has_obstetrics": True, "has_pediatrics": False, "active": True},
            ("hospitals", "H2"): {"has_obstetrics": True, "has_pediatrics": False, "active": False},
            ("hospitals", "H3"): {"has_obstetrics": True, "has_pediatrics": False, "active": True},
            ("hospitals", "H4"): {"has_obstetrics": True, "has_pediatrics": False, "active": True},
            ("hospitals", "H5"): {"has_obstetrics": None, "has_pediatrics": None, "active": True},
        },
    ),
    Case(
        "design_result_words",
        [H_HEAD, BV01],
        [A_HEAD, DG01],
        [
            F_HEAD,
            *[
                [f"R{i:02d}", "DG01", f"A1.2-2.{i}", word, None, None, None]
                for i, word in enumerate(
                    [
                        "Đạt",
                        "Không đạt",
                        "Không áp dụng",
                        "Đ",
                        "KĐ",
                        "KAD",
                        "met",
                        "not met",
                        "n/a",
                        "na",
                        "yes",
                        "no",
                        "có",
                        "không",
                        "TRUE",
                        "FALSE",
                        "1",
                        "0",
                        True,
                        False,
                        1,
                        0,
                        1.0,
                        "1,0",
                        " đạt\u00a0",
                        "N/A",
                        "Chưa đạt",
                    ],
                    start=1,
                )
            ],
        ],
        stored={
            "hospitals": {"BV01"},
            "assessments": {"DG01"},
            "findings": {f"R{i:02d}" for i in range(1, 28)},
        },
        fields={
            ("findings", f"R{i:02d}"): {"result": r}
            for i, r in enumerate(
                [
                    "met",
                    "not_met",
                    "na",
                    "met",
                    "not_met",
                    "na",
                    "met",
                    "not_met",
                    "na",
                    "na",
                    "met",
                    "not_met",
                    "met",
                    "not_met",
                    "met",
                    "not_met",
                    "met",
                    "not_met",
                    "met",
                    "not_met",
                    "met",
                    "not_met",
                    "met",
                    "met",
                    "met",
                    "na",
                    "not_met",
                ],
                start=1,
            )
        },
    ),
    Case(
        "stray_spaces_apostrophes_and_invisibles",
        [H_HEAD, ["'BV01", "  Bệnh\u00a0viện   A ", "", "", "", "", ""]],
        [
            A_HEAD,
            [
                "\u200bDG01\u00a0",
                " BV01",
                "\ufeffQĐ 6858 ",
                "  tự  đánh giá",
                "'25/03/2025",
                "",
                "",
                None,
            ],
        ],
        [
            F_HEAD,
            ["F01 ", "DG01\u200b", " a1.1-2.1 ", "\u00a0Đạt ", "'=1+1", None, None],
            ["F02", "'DG01", "A1.1-2.2\u200d", "không\u200b đạt", "dòng 1\ndòng 2", None, None],
        ],
        stored={"hospitals": {"BV01"}, "assessments": {"DG01"}, "findings": {"F01", "F02"}},
        fields={
            ("hospitals", "BV01"): {"name": "Bệnh viện   A"},
            ("assessments", "DG01"): {"assessed_on": date(2025, 3, 25), "kind": "self"},
            ("findings", "F01"): {"item_code": "A1.1-2.1", "result": "met", "note": "=1+1"},
            ("findings", "F02"): {"result": "not_met", "note": "dòng 1\ndòng 2"},
        },
    ),
    Case(
        "numbers_typed_as_ids_and_codes",
        [H_HEAD, [101, "Bệnh viện 101", "", "", "", "", ""]],
        [A_HEAD, [5001, 101.0, "TT35", "Đoàn kiểm tra", "", "", "", None]],
        [F_HEAD, [1, 5001, 1.1, 1, None, None, None], [2, "5001", "1.10", 0, None, None, None]],
        stored={"hospitals": {"101"}, "assessments": {"5001"}, "findings": {"1"}},
        rejected=(Expected("findings", 3, "unknown_item", "Mã tiểu mục"),),
        fields={("findings", "1"): {"item_code": "1.1", "result": "met"}},
    ),
    Case(
        "partial_only_where_the_rule_set_has_it",
        [H_HEAD, BV01],
        [A_HEAD, DG01, ["J1", "BV01", "JCI", "Đoàn kiểm tra", "", "", "", None]],
        [
            F_HEAD,
            ["F01", "DG01", "A1.1-2.1", "partial", None, None, None],
            ["F02", "DG01", "A1.1-2.2", "Đạt một phần", None, None, None],
            ["F03", "J1", "IPSG.1-ME1", "Đạt một phần", None, None, None],
            ["F04", "J1", "IPSG.1-ME2", "partially met", None, None, None],
        ],
        stored={"hospitals": {"BV01"}, "assessments": {"DG01", "J1"}, "findings": {"F03", "F04"}},
        rejected=(
            Expected("findings", 2, "partial_not_allowed", "Kết quả"),
            Expected("findings", 3, "partial_not_allowed", "Kết quả"),
        ),
        fields={
            ("findings", "F03"): {"result": "partial"},
            ("assessments", "J1"): {"standard": "JCI-DEMO"},
        },
    ),
    Case(
        "kind_and_status_words",
        [H_HEAD, BV01],
        [
            A_HEAD,
            ["K1", "BV01", "QĐ 6858", "tự đánh giá", "", "", "nháp", None],
            ["K2", "BV01", "QĐ 6858", "Đoàn kiểm tra", "", "", "đã nộp", None],
            ["K3", "BV01", "QĐ 6858", "Hội đồng", "", "", "ĐÃ DUYỆT", None],
            ["K4", "BV01", "QĐ 6858", "self", "", "", "draft", None],
            ["K5", "BV01", "QĐ 6858", "council", "", "", "", None],
            ["K6", "BV01", "QĐ 6858", "khác", "", "", "", None],
            ["K7", "BV01", "QĐ 6858", "", "", "", "", None],
            ["K8", "BV01", "QĐ 6858", "self", "", "", "xong", None],
        ],
        [F_HEAD],
        stored={
            "hospitals": {"BV01"},
            "assessments": {"K1", "K2", "K3", "K4", "K5"},
            "findings": set(),
        },
        rejected=(
            Expected("assessments", 7, "bad_kind", "Loại đánh giá"),
            Expected("assessments", 8, "missing_value", "Loại đánh giá"),
            Expected("assessments", 9, "bad_status", "Trạng thái"),
        ),
        fields={
            ("assessments", "K1"): {"kind": "self", "status": "draft"},
            ("assessments", "K2"): {"kind": "council", "status": "submitted"},
            ("assessments", "K3"): {"kind": "council", "status": "approved"},
            ("assessments", "K4"): {"kind": "self", "status": "draft"},
            ("assessments", "K5"): {"kind": "council", "status": "submitted"},
        },
    ),
    Case(
        "unknown_standard",
        [H_HEAD, BV01],
        [A_HEAD, DG01, ["DG03", "BV01", "ISO 9001", "Tự đánh giá", "", "", "", None]],
        [F_HEAD, F01, ["F09", "DG03", "A1.1-2.1", "Đạt", None, None, None]],
        stored={"hospitals": {"BV01"}, "assessments": {"DG01"}, "findings": {"F01"}},
        rejected=(
            Expected("assessments", 3, "unknown_standard", "Bộ tiêu chí"),
            Expected("findings", 3, "assessment_rejected", "Mã đánh giá"),
        ),
        reason_mentions=(("assessments", 3, "'ISO 9001'"), ("findings", 3, "ISO 9001")),
    ),
    Case(
        "ownership_words",
        [
            H_HEAD,
            ["O1", "A", "", "công lập", "", "", ""],
            ["O2", "B", "", "TƯ NHÂN", "", "", ""],
            ["O3", "C", "", "public", "", "", ""],
            ["O4", "D", "", "Private", "", "", ""],
            ["O5", "E", "", "nhà nước", "", "", ""],
            ["O6", "F", "", "liên doanh", "", "", ""],
        ],
        [A_HEAD],
        [F_HEAD],
        stored={
            "hospitals": {"O1", "O2", "O3", "O4", "O5"},
            "assessments": set(),
            "findings": set(),
        },
        rejected=(Expected("hospitals", 7, "bad_ownership", "Hình thức sở hữu"),),
        fields={
            ("hospitals", "O1"): {"ownership": "public"},
            ("hospitals", "O2"): {"ownership": "private"},
            ("hospitals", "O5"): {"ownership": "public"},
        },
    ),
    Case(
        "empty_rows_and_rows_with_only_extras",
        [
            [*H_HEAD, "Ghi chú thêm"],
            [],
            BV01,
            [None] * 7,
            ["", " ", "\u00a0", None, None, None, None, "chỉ ghi chú"],
            BV02,
        ],
        [A_HEAD, DG01, [], [], DG02],
        [F_HEAD, F01, F02, ["", "", "", "", "", "", ""], F03, F04],
        stored=ALL_KEYS,
        fields={},
        reason_mentions=(),
    ),
    Case(
        "header_only_tabs",
        [H_HEAD],
        [A_HEAD],
        [F_HEAD],
        stored={"hospitals": set(), "assessments": set(), "findings": set()},
    ),
    Case(
        "values_under_no_header",
        [H_HEAD, [*BV01, None, "lạc cột"]],
        [A_HEAD, DG01],
        [F_HEAD, F01],
        stored={"hospitals": {"BV01"}, "assessments": {"DG01"}, "findings": {"F01"}},
        extra={("hospitals", "BV01"): {"(column I)": "lạc cột"}},
    ),
    Case(
        "several_problems_in_one_row_and_good_rows_around_it",
        [H_HEAD, BV01],
        [A_HEAD, DG01],
        [
            F_HEAD,
            ["F00", "DG01", "Z9", "Tốt", None, None, "hôm nay"],
            F01,
            ["F03", "DG01", "A1.1-2.3", "Không đạt", None, None, "#REF!"],
            F02,
        ],
        stored={"hospitals": {"BV01"}, "assessments": {"DG01"}, "findings": {"F01", "F02"}},
        rejected=(
            Expected("findings", 2, "bad_result", "Kết quả"),
            Expected("findings", 4, "formula_error", "Cập nhật lúc"),
        ),
        reason_mentions=(("findings", 2, "'Tốt'"), ("findings", 2, "'hôm nay'")),
    ),
    Case(
        "assessment_duplicate_does_not_orphan_findings",
        [H_HEAD, BV01],
        [A_HEAD, DG01, ["DG01", "BV01", "TT35", "self", "", "", "", None]],
        [F_HEAD, F01, F02],
        stored={"hospitals": {"BV01"}, "assessments": {"DG01"}, "findings": {"F01", "F02"}},
        rejected=(Expected("assessments", 3, "duplicate_key", "Mã đánh giá"),),
        fields={("assessments", "DG01"): {"standard": "QD6858"}},
    ),
]
