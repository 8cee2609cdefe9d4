"""The source sheet contract: the tabs' fields, their header aliases and the coded words.

What an AppSheet app (or a person) must write for hqsync to read a source: per tab kind the
fields (DB column names), which columns must exist, the Vietnamese and English headers
`init-source` writes and the other spellings accepted, and the words accepted in each coded
column (results, yes/no, assessment kind, status, ownership), keyed by the vocabulary's enums.
Data only: matching is in headers.py and cells.py (see ARCHITECTURE.md, the source sheet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from hqsync.config.vocabulary import (
    YES_NO_WORDS,
    AssessmentKind,
    Ownership,
    Result,
    Status,
    TabKind,
)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a source tab: its DB column, whether its column must exist, its aliases."""

    name: str
    required: bool
    header_vi: str
    header_en: str
    aliases: tuple[str, ...] = ()


FIELDS: Mapping[str, tuple[FieldSpec, ...]] = MappingProxyType(
    {
        TabKind.HOSPITALS: (
            FieldSpec(
                "hospital_id",
                True,
                "Mã bệnh viện",
                "hospital_id",
                ("hospital id", "hospital code", "ma bv", "ma co so", "ma csyt", "ma benh vien"),
            ),
            FieldSpec(
                "name",
                True,
                "Tên bệnh viện",
                "name",
                ("hospital name", "hospital", "ten bv", "ten co so", "ten", "ten csyt"),
            ),
            FieldSpec(
                "district",
                False,
                "Huyện/Quận",
                "district",
                ("huyen", "quan", "quan/huyen", "huyen/quan", "quan huyen", "dia ban", "khu vuc"),
            ),
            FieldSpec(
                "ownership",
                False,
                "Hình thức sở hữu",
                "ownership",
                ("so huu", "cong lap/tu nhan", "loai hinh so huu", "sector", "owner"),
            ),
            FieldSpec(
                "has_obstetrics",
                False,
                "Có sản khoa",
                "has_obstetrics",
                ("obstetrics", "san khoa", "khoa san", "has obstetrics"),
            ),
            FieldSpec(
                "has_pediatrics",
                False,
                "Có nhi khoa",
                "has_pediatrics",
                ("has_paediatrics", "pediatrics", "paediatrics", "nhi khoa", "khoa nhi"),
            ),
            FieldSpec(
                "active",
                False,
                "Hoạt động",
                "active",
                ("is active", "dang hoat dong", "con hoat dong", "enabled"),
            ),
            FieldSpec(
                "dashboard",
                False,
                "Bảng điều khiển",
                "dashboard",
                ("bang dieu khien", "dashboard url", "dashboard link", "dashboard spreadsheet"),
            ),
            FieldSpec(
                "email",
                False,
                "Email lãnh đạo",
                "email",
                (
                    "email lanh dao",
                    "email",
                    "e-mail",
                    "leader email",
                    "leaders email",
                    "leader emails",
                    "email giam doc",
                    "thu dien tu",
                    "dia chi email",
                ),
            ),
        ),
        TabKind.ASSESSMENTS: (
            FieldSpec(
                "assessment_id",
                True,
                "Mã đánh giá",
                "assessment_id",
                ("assessment id", "assessment code", "ma dot danh gia", "ma phieu danh gia"),
            ),
            FieldSpec(
                "hospital_id",
                True,
                "Mã bệnh viện",
                "hospital_id",
                ("hospital id", "hospital code", "hospital", "ma bv", "ma co so", "ma csyt"),
            ),
            FieldSpec(
                "standard",
                True,
                "Bộ tiêu chí",
                "standard",
                ("rule set", "ruleset", "bo tieu chuan", "tieu chuan", "tieu chi", "bo tieu chi"),
            ),
            FieldSpec(
                "kind",
                True,
                "Loại đánh giá",
                "kind",
                ("assessment kind", "assessment type", "type", "hinh thuc danh gia", "loai"),
            ),
            FieldSpec(
                "assessed_on",
                False,
                "Ngày đánh giá",
                "assessed_on",
                ("assessed on", "assessment date", "date", "ngay"),
            ),
            FieldSpec(
                "assessor",
                False,
                "Người đánh giá",
                "assessor",
                ("inspector", "assessed by", "can bo danh gia", "doan danh gia", "nguoi cham"),
            ),
            FieldSpec("status", False, "Trạng thái", "status", ("state", "tinh trang")),
            FieldSpec(
                "updated_at",
                False,
                "Cập nhật lúc",
                "updated_at",
                ("updated at", "updated", "last updated", "modified", "ngay cap nhat", "cap nhat"),
            ),
        ),
        TabKind.FINDINGS: (
            FieldSpec(
                "finding_id",
                True,
                "Mã kết quả",
                "finding_id",
                ("finding id", "finding code", "ma dong", "ma chi tiet", "ma phat hien"),
            ),
            FieldSpec(
                "assessment_id",
                True,
                "Mã đánh giá",
                "assessment_id",
                ("assessment id", "assessment code", "ma dot danh gia", "ma phieu danh gia"),
            ),
            FieldSpec(
                "item_code",
                True,
                "Mã tiểu mục",
                "item_code",
                ("item code", "item", "sub-item", "tieu muc", "ma muc", "ma tieu chi"),
            ),
            FieldSpec("result", True, "Kết quả", "result", ("outcome", "answer", "danh gia")),
            FieldSpec(
                "note", False, "Ghi chú", "note", ("notes", "comment", "comments", "nhan xet")
            ),
            FieldSpec(
                "evidence",
                False,
                "Minh chứng",
                "evidence",
                ("photo", "image", "attachment", "hinh anh", "anh minh chung", "tai lieu"),
            ),
            FieldSpec(
                "updated_at",
                False,
                "Cập nhật lúc",
                "updated_at",
                ("updated at", "updated", "last updated", "modified", "ngay cap nhat", "cap nhat"),
            ),
        ),
    }
)
"""Tab kind → its fields, in the order `init-source` writes their columns."""

# The words each coded column accepts, matched after `fold` (any case, with or without accents
# or spaces). Every member of the column's enum has words (tests/ingest/test_contract.py).

RESULT_WORDS: Mapping[Result, tuple[str, ...]] = {
    Result.MET: ("đạt", "đ", "met", "yes", "y", "có", "true", "pass", "passed", "ok"),
    Result.NOT_MET: (
        "không đạt",
        "chưa đạt",
        "kđ",
        "cđ",
        "not met",
        "no",
        "n",
        "không",
        "false",
        "fail",
        "failed",
    ),
    Result.NA: (
        "không áp dụng",
        "kad",
        "kapd",
        "kap",
        "n/a",
        "na",
        "not applicable",
        "none applicable",
    ),
    Result.PARTIAL: ("partial", "partially met", "partly met", "đạt một phần", "một phần", "đmp"),
}
"""Finding result → the words an inspector may write for it."""
# Yes/no fields (has_obstetrics, has_pediatrics, active) take the vocabulary's YES_NO_WORDS
# (imported above): a cycle's `applies_when` column reads the same words (scoring/cycles.py).
KIND_WORDS: Mapping[AssessmentKind, tuple[str, ...]] = {
    AssessmentKind.SELF: (
        "self",
        "self assessment",
        "tự đánh giá",
        "bệnh viện tự đánh giá",
        "tđg",
        "nội bộ",
    ),
    AssessmentKind.COUNCIL: (
        "council",
        "inspection",
        "inspection team",
        "external",
        "đoàn kiểm tra",
        "hội đồng",
        "hội đồng đánh giá",
        "đoàn đánh giá",
        "kiểm tra",
        "đkt",
        "sở y tế",
        "phúc tra",
    ),
}
"""Assessment kind → its words."""
STATUS_WORDS: Mapping[Status, tuple[str, ...]] = {
    Status.DRAFT: ("draft", "nháp", "bản nháp", "đang làm", "đang nhập"),
    Status.SUBMITTED: ("submitted", "submit", "đã nộp", "nộp", "đã gửi", "gửi"),
    Status.APPROVED: ("approved", "đã duyệt", "duyệt", "phê duyệt", "đã phê duyệt"),
}
"""Assessment status → its words."""
OWNERSHIP_WORDS: Mapping[Ownership, tuple[str, ...]] = {
    Ownership.PUBLIC: ("public", "công lập", "nhà nước", "state", "government"),
    Ownership.PRIVATE: ("private", "tư nhân", "ngoài công lập", "tư"),
}
"""Hospital ownership → its words."""

REQUIRED_VALUES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        TabKind.HOSPITALS: ("name",),
        TabKind.ASSESSMENTS: ("hospital_id", "standard", "kind"),
        TabKind.FINDINGS: ("assessment_id", "item_code", "result"),
    }
)
"""Tab kind → the fields (besides the key) whose cell must hold a value."""

ROW_NOUNS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        TabKind.HOSPITALS: ("hospital", "bệnh viện"),
        TabKind.ASSESSMENTS: ("assessment", "đánh giá"),
        TabKind.FINDINGS: ("finding", "kết quả"),
    }
)
"""Tab kind → what one of its rows is called (English, Vietnamese), for reasons."""


def accepted_words() -> dict[str, dict[str, tuple[str, ...]]]:
    """The words accepted for each coded column (for documentation and `init-source`)."""
    return {
        "result": {k: tuple(v) for k, v in RESULT_WORDS.items()},
        "yes_no": {("yes" if k else "no"): tuple(v) for k, v in YES_NO_WORDS.items()},
        "kind": {k: tuple(v) for k, v in KIND_WORDS.items()},
        "status": {k: tuple(v) for k, v in STATUS_WORDS.items()},
        "ownership": {k: tuple(v) for k, v in OWNERSHIP_WORDS.items()},
    }
