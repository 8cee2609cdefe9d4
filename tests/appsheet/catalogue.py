"""A catalogue of AppSheet-shaped source sheets, one per convention, each with its outcome.

Issue 11, "Proof": every case is an AppSheet app's three tabs (`tests/appsheet/variants.py`),
the config block that maps it (`[sources.columns.<tab>]`, `locale`), the Google spreadsheet's
own locale, and what a sync must give: keys stored per tab, rejections (tab, sheet row, code,
column header), some parsed fields and extra columns, texts the English reason must contain, or
the texts of a SourceError failing the whole source. `previous`/`removed` describe a case about
two syncs in a row. Shaped like `tests/ingest/catalogue.py` and run, like it, on the xlsx backend
and on the Google fake (`tests/appsheet/test_catalogue.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from tests.appsheet import variants as v
from tests.appsheet.case import BACKENDS, CONVENTIONS, AppSheetCase, vn
from tests.appsheet.sheets import (
    COLUMNS,
    PACKED_UUID,
    UNIQUEID,
    UUID,
    Keys,
    Rows,
    app,
)
from tests.appsheet.variants import A1, A2, F1, F2, F3, F4, H1, H2, K
from tests.ingest.catalogue import Expected

__all__ = ["BACKENDS", "CASES", "CONVENTIONS", "AppSheetCase"]


def _standard_fields(keys: Keys) -> dict[tuple[str, str], dict[str, Any]]:
    """The parsed fields every case built on the standard app must store."""
    h1, h2 = keys.hospitals
    a1, a2 = keys.assessments
    f1, f2, f3, _ = keys.findings
    return {
        ("hospitals", h1): {
            "hospital_id": h1,
            "name": "Bệnh viện Đa khoa Cần Thơ",
            "ownership": "public",
            "has_obstetrics": True,
            "active": True,
        },
        ("hospitals", h2): {"hospital_id": h2, "ownership": "private", "has_obstetrics": False},
        ("assessments", a1): {
            "assessment_id": a1,
            "hospital_id": h1,
            "standard": "QD6858",
            "kind": "self",
            "status": "submitted",
            "assessed_on": date(2026, 3, 25),
            "updated_at": vn(2026, 3, 25, 14, 30),
        },
        ("assessments", a2): {
            "hospital_id": h2,
            "standard": "TT35",
            "kind": "council",
            "status": "approved",
            "assessed_on": date(2026, 3, 28),
        },
        ("findings", f1): {"finding_id": f1, "assessment_id": a1, "result": "met"},
        ("findings", f2): {
            "result": "not_met",
            "note": "thiếu biển báo",
            "evidence": f"Findings_Images/{f2}.Ảnh.jpg",
            "updated_at": vn(2026, 3, 25, 9, 30),
        },
        ("findings", f3): {"assessment_id": a2, "result": "na", "item_code": "1.3.1"},
    }


def _keys_case(name: str, keys: Keys, proves: str) -> AppSheetCase:
    tabs = app(keys)
    return AppSheetCase(
        name,
        (proves, "Ref by Row ID", "Ref column named after its table"),
        tabs["hospitals"],
        tabs["assessments"],
        tabs["findings"],
        stored=keys.all(),
        fields=_standard_fields(keys),
        extra={("hospitals", keys.hospitals[0]): {"Mã BV": "BV01"}},
    )


def _third_rejected(locale_name: str) -> dict[str, Any]:
    """The outcome of `v.dated(..., third=<impossible in the locale>)`."""
    return {
        "stored": K.all(),
        "rejected": (
            Expected("assessments", 4, "bad_date", "Ngày đánh giá"),
            Expected("findings", 6, "assessment_rejected", "Đợt đánh giá"),
        ),
        "reason_mentions": (("assessments", 4, locale_name), ("assessments", 4, "11/25/2026")),
    }


def _case(name: str, proves: tuple[str, ...], sheet: Mapping[str, Rows], **kw: Any) -> AppSheetCase:
    return AppSheetCase(
        name, proves, sheet["hospitals"], sheet["assessments"], sheet["findings"], **kw
    )


CASES: list[AppSheetCase] = [
    _keys_case("uniqueid_row_id_keys", UNIQUEID, "Row ID key: UNIQUEID (8 characters)"),
    _keys_case("uuid_row_id_keys", UUID, "Row ID key: UUID"),
    _keys_case("packed_uuid_row_id_keys", PACKED_UUID, "Row ID key: PackedUUID"),
    _case(
        "ref_by_row_id_beside_the_natural_code",
        ("Ref by Row ID", "extra columns"),
        v.STANDARD,
        stored=K.all(),
        fields={
            ("assessments", A1): {"hospital_id": H1},
            ("assessments", A2): {"hospital_id": H2},
            ("findings", F3): {"assessment_id": A2},
        },
        # `Mã BV` would match hospital_id by alias: with `Row ID` mapped it is an extra column
        extra={("hospitals", H1): {"Mã BV": "BV01"}, ("hospitals", H2): {"Mã BV": "BV02"}},
    ),
    _case(
        "ref_holds_row_ids_but_the_code_column_is_mapped",
        ("Ref holding Row IDs while the natural code is mapped: a hint",),
        v.STANDARD,
        columns={**COLUMNS, "hospitals": {"hospital_id": "Mã BV"}},
        stored={"hospitals": {"BV01", "BV02"}, "assessments": set(), "findings": set()},
        rejected=(
            Expected("assessments", 2, "unknown_hospital", "Bệnh viện"),
            Expected("assessments", 3, "unknown_hospital", "Bệnh viện"),
            Expected("findings", 2, "assessment_rejected", "Đợt đánh giá"),
            Expected("findings", 3, "assessment_rejected", "Đợt đánh giá"),
            Expected("findings", 4, "assessment_rejected", "Đợt đánh giá"),
            Expected("findings", 5, "assessment_rejected", "Đợt đánh giá"),
        ),
        extra={("hospitals", "BV01"): {"Row ID": H1}},
        # the reference matches no key but the hospitals' `Row ID` column: the hint names it
        reason_mentions=(
            ("assessments", 2, f"'{H1}'"),
            ("assessments", 2, "'Row ID'"),
            ("assessments", 3, "'Row ID'"),
        ),
    ),
    _case(
        "ref_columns_named_after_their_tables_in_english",
        ("Ref column named after its table",),
        v.EN,
        columns=v.EN_COLUMNS,
        tabs=v.EN_TABS,
        stored=K.all(),
        fields={
            ("assessments", A1): {
                "hospital_id": H1,
                "kind": "self",
                "standard": "QD6858",
                "assessed_on": date(2026, 4, 3),
            },
            ("findings", F2): {"assessment_id": A1, "result": "not_met"},
            ("findings", F3): {"assessment_id": A2, "result": "na"},
        },
        extra={("hospitals", H1): {"Hospital code": "BV01"}},
    ),
    _case(
        "danh_gia_result_beside_dot_danh_gia_ref_and_ket_qua",
        ("'Đánh giá' result beside an 'Đợt đánh giá' Ref", "extra columns"),
        v.KET_QUA,
        stored=K.all(),
        fields={
            ("findings", F1): {"assessment_id": A1, "result": "met"},
            ("findings", F2): {"result": "not_met"},
            ("findings", F3): {"result": "na"},
        },
        # `Kết quả` would mean result by alias: with `Đánh giá` mapped it is an extra column
        extra={("findings", F1): {"Kết quả": "1/1 đạt"}},
    ),
    _case(
        "text_dates_vi_VN",
        ("text dates and date-times in vi_VN", "ambiguous day 3/4", "12-hour times"),
        v.VI,
        locale="vi_VN",
        fields={
            ("assessments", A1): {
                "assessed_on": date(2026, 4, 3),
                "updated_at": vn(2026, 4, 3, 14, 3),
            },
            ("assessments", A2): {
                "assessed_on": date(2026, 3, 28),
                "updated_at": vn(2026, 3, 28, 9, 15),
            },
            ("findings", F1): {"updated_at": vn(2026, 3, 25, 9, 30)},
        },
        **_third_rejected("vi_VN"),
    ),
    _case(
        "text_dates_en_US",
        ("text dates and date-times in en_US", "ambiguous day 3/4", "12-hour times"),
        v.US,
        locale="en_US",
        fields={
            ("assessments", A1): {
                "assessed_on": date(2026, 3, 4),
                "updated_at": vn(2026, 3, 4, 14, 3),
            },
            ("assessments", A2): {
                "assessed_on": date(2026, 11, 25),
                "updated_at": vn(2026, 11, 25, 0, 15),
            },
            ("findings", F1): {"updated_at": vn(2026, 3, 25, 9, 30)},
        },
        **{
            **_third_rejected("en_US"),
            "reason_mentions": (
                ("assessments", 4, "en_US"),
                ("assessments", 4, "25/03/2026"),
                ("assessments", 4, "mm/dd/yyyy"),
            ),
        },
    ),
    _case(
        "text_dates_en_GB",
        ("text dates and date-times in en_GB", "ambiguous day 3/4", "12-hour times"),
        v.GB,
        locale="en_GB",
        fields={
            ("assessments", A1): {
                "assessed_on": date(2026, 4, 3),
                "updated_at": vn(2026, 4, 3, 14, 3),
            },
            ("assessments", A2): {
                "assessed_on": date(2026, 3, 25),
                "updated_at": vn(2026, 3, 25, 12, 3),
            },
        },
        **_third_rejected("en_GB"),
    ),
    _case(
        "ambiguous_days_keep_the_trend_in_en_US",
        ("text dates and date-times in en_US", "ambiguous day 3/4", "12-hour times"),
        v.TREND,
        locale="en_US",
        stored={"hospitals": {H1, H2}, "assessments": {A1, A2}, "findings": {F1, F2, F3, F4}},
        fields={
            ("assessments", A1): {
                "hospital_id": H1,
                "assessed_on": date(2026, 1, 3),
                "updated_at": vn(2026, 1, 3, 17, 0),
            },
            ("assessments", A2): {
                "hospital_id": H1,
                "assessed_on": date(2026, 3, 1),
                "updated_at": vn(2026, 3, 1, 17, 0),
            },
            ("findings", F3): {"result": "not_met", "updated_at": vn(2026, 3, 1, 16, 0)},
        },
    ),
    _case(
        "google_reads_in_the_spreadsheet_locale",
        ("the spreadsheet's locale on Google when the config has none", "12-hour times"),
        v.ON_GOOGLE,
        sheet_locale="en_US",
        backends=("google",),
        stored=K.all(),
        fields={
            ("assessments", A1): {
                "assessed_on": date(2026, 3, 4),
                "updated_at": vn(2026, 3, 4, 14, 3),
            },
            ("assessments", A2): {
                "assessed_on": date(2026, 4, 3),
                "updated_at": vn(2026, 4, 3, 14, 3),
            },
            ("findings", F1): {"updated_at": vn(2026, 3, 25, 9, 30)},
        },
    ),
    _case(
        "the_config_locale_beats_the_spreadsheet_locale",
        ("the spreadsheet's locale on Google when the config has none",),
        v.ON_GOOGLE,
        locale="en_US",
        sheet_locale="vi_VN",
        backends=("google",),
        stored=K.all(),
        fields={("assessments", A1): {"assessed_on": date(2026, 3, 4)}},
    ),
    _case(
        "xlsx_reads_vi_VN_when_the_config_has_none",
        ("vi_VN on xlsx when the config has none", "ambiguous day 3/4", "12-hour times"),
        v.ON_XLSX,
        sheet_locale="en_US",
        backends=("xlsx",),
        stored=K.all(),
        fields={
            ("assessments", A1): {
                "assessed_on": date(2026, 4, 3),
                "updated_at": vn(2026, 4, 3, 14, 3),
            },
            ("assessments", A2): {
                "assessed_on": date(2026, 3, 4),
                "updated_at": vn(2026, 3, 4, 14, 3),
            },
        },
    ),
    _case(
        "a_spreadsheet_locale_falling_back_by_language",
        ("a locale that falls back by language", "12-hour times"),
        v.AU,
        sheet_locale="en_AU",
        backends=("google",),
        fields={
            ("assessments", A1): {
                "assessed_on": date(2026, 4, 3),
                "updated_at": vn(2026, 4, 3, 14, 3),
            },
            ("assessments", A2): {"updated_at": vn(2026, 3, 28, 0, 0)},
        },
        **_third_rejected("en_AU"),
    ),
    _case(
        "yes_no_as_true_false",
        ("Yes/No as TRUE/FALSE booleans",),
        v.YES_NO,
        stored={**K.all(), "hospitals": {H1, H2, "h3h3h3h3", "h4h4h4h4"}},
        fields={
            ("hospitals", H1): {"has_obstetrics": True, "has_pediatrics": True, "active": True},
            ("hospitals", H2): {"has_obstetrics": False, "has_pediatrics": True},
            ("hospitals", "h3h3h3h3"): {
                "has_obstetrics": True,
                "has_pediatrics": False,
                "active": True,
            },
            ("hospitals", "h4h4h4h4"): {
                "has_obstetrics": None,
                "has_pediatrics": None,
                "active": False,
            },
        },
    ),
    _case(
        "yes_no_as_y_n",
        ("Yes/No as Y/N",),
        v.Y_N,
        stored=K.all(),
        rejected=(Expected("hospitals", 4, "bad_yes_no", "Có sản khoa"),),
        fields={
            ("hospitals", H1): {"has_obstetrics": True, "has_pediatrics": False, "active": True},
            ("hospitals", H2): {"has_obstetrics": False, "has_pediatrics": True, "active": False},
        },
        reason_mentions=(("hospitals", 4, "'Có thể'"),),
    ),
    _case(
        "enum_and_enumlist_values",
        ("Enum and EnumList values",),
        v.ENUM,
        stored=K.all(),
        fields={
            ("assessments", A1): {"kind": "self", "status": "submitted"},
            ("assessments", A2): {"kind": "council", "status": "approved"},
            ("findings", F1): {"result": "met"},
            ("findings", F2): {"result": "not_met"},
            ("findings", F3): {"result": "na"},
        },
        # an EnumList is kept as AppSheet wrote it: values joined by " , "
        extra={
            ("findings", F1): {"Khoa": "Khoa Nội , Khoa Ngoại"},
            ("findings", F4): {"Khoa": "Khoa Nhi , Khoa Sản , Khoa Hồi sức"},
        },
    ),
    _case(
        "image_and_file_paths",
        ("Image and File paths",),
        v.FILES,
        stored=K.all(),
        fields={
            ("findings", F1): {"evidence": "Findings_Images/abc.jpg"},
            ("findings", F2): {"evidence": f"Findings_Images/{F2}.Ảnh.jpg"},
            ("findings", F3): {"evidence": "Chi tiết đánh giá_Images/3c2b1a09.Ảnh.093512.png"},
            ("findings", F4): {"evidence": None},
        },
        extra={
            ("findings", F2): {"Tệp đính kèm": "Findings_Files/bien_ban.pdf"},
            ("findings", F3): {"Tệp đính kèm": "Chi tiết đánh giá_Files/Biên bản 28-3.pdf"},
        },
    ),
    _case(
        "latlong_kept_as_text",
        ("LatLong",),
        v.LATLONG,
        stored=K.all(),
        extra={
            ("hospitals", H1): {"Vị trí": "10.0452, 105.7469"},
            ("hospitals", H2): {"Vị trí": "-33.8688, 151.2093"},
        },
    ),
    _case(
        "change_timestamp_last_modified",
        ("ChangeTimestamp called 'Last Modified'", "a created 'Timestamp'"),
        v.STANDARD,
        stored=K.all(),
        fields={
            ("assessments", A1): {"updated_at": vn(2026, 3, 25, 14, 30)},
            ("assessments", A2): {"updated_at": vn(2026, 3, 28, 16, 0)},
            ("findings", F1): {"updated_at": vn(2026, 3, 25, 9, 30)},
        },
        extra={
            ("assessments", A1): {"Timestamp": "25/03/2026 08:10:00"},
            ("hospitals", H2): {"Last Modified": "21/03/2026 17:45:10"},
        },
    ),
    _case(
        "created_timestamp_only",
        ("a created 'Timestamp'",),
        v.CREATED_ONLY,
        columns=v.CREATED_ONLY_COLUMNS,
        stored=K.all(),
        fields={("assessments", A1): {"updated_at": None}, ("findings", F1): {"updated_at": None}},
        extra={("assessments", A1): {"Timestamp": "25/03/2026 08:10:00"}},
    ),
    _case(
        "blank_rows",
        ("blank rows",),
        v.BLANK,
        stored=K.all(),
        rejected=(Expected("findings", 6, "unknown_item", "Mã tiểu mục"),),
        fields={("assessments", A1): {"hospital_id": H1}},
    ),
    _case(
        "a_deleted_row_shifts_the_rows_below_it_up",
        ("a deleted row shifting the rows below it up",),
        v.AFTER_DELETE,
        previous=(
            v.BEFORE_DELETE["hospitals"],
            v.BEFORE_DELETE["assessments"],
            v.BEFORE_DELETE["findings"],
        ),
        stored=K.all(),
        removed={"findings": {v.DELETED}},
        # the bad row was row 7 before the delete and is row 6 now
        rejected=(Expected("findings", 6, "unknown_item", "Mã tiểu mục"),),
        fields={("findings", F4): {"result": "met"}},
    ),
    _case(
        "extra_columns",
        ("extra columns",),
        v.EXTRA,
        stored=K.all(),
        extra={
            ("hospitals", H1): {"Ghi chú nội bộ": "xem lại", "Mã BV": "BV01"},
            ("assessments", A1): {"Email người nhập": "a@soyte.gov.vn", "Tỉnh": "Cần Thơ"},
            ("findings", F1): {"Người tạo": "a@soyte.gov.vn", "(column K)": "ghi tay"},
        },
    ),
    _case(
        "a_mapped_header_missing_from_the_sheet",
        ("a mapped header missing from the sheet",),
        v.STANDARD,
        columns={**COLUMNS, "findings": {**COLUMNS["findings"], "result": "Kết luận"}},
        source_error=("'Chi tiết đánh giá'", "'result'", "'Kết luận'", "'Đánh giá'"),
    ),
    _case(
        "an_unmapped_appsheet_sheet",
        ("an unmapped AppSheet sheet",),
        v.STANDARD,
        columns={},
        source_error=("'Đợt đánh giá'", "'assessment_id'", "'Bệnh viện'"),
    ),
]
