"""A catalogue of AppSheet-shaped source sheets, one per convention, each with its outcome.

Issue 11, "Proof": every case is an AppSheet app's three tabs (see `tests/appsheet/sheets.py`),
the config block that maps it (`[sources.columns.<tab>]`, `locale`), the Google spreadsheet's
own locale, and what a sync must give: keys stored per tab, rejections (tab, sheet row, code,
column header), some parsed fields and extra columns, texts the English reason must contain, or
the texts of a SourceError failing the whole source. `previous`/`removed` describe a case about
two syncs in a row. Shaped like `tests/ingest/catalogue.py` and run, like it, on the xlsx backend
and on the Google fake (`tests/appsheet/test_catalogue.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from hqsync.config.settings import TabNames
from tests.appsheet.sheets import (
    A_HEAD,
    COLUMNS,
    F_HEAD,
    H_HEAD,
    PACKED_UUID,
    TABS,
    UNIQUEID,
    UUID,
    Keys,
    Record,
    Rows,
    assessment_records,
    changed,
    finding_records,
    hospital_records,
    table,
    without,
)
from tests.ingest.catalogue import Expected

BACKENDS = ("xlsx", "google")
CONVENTIONS = (
    "Row ID key: UNIQUEID (8 characters)",
    "Row ID key: UUID",
    "Row ID key: PackedUUID",
    "Ref by Row ID",
    "Ref holding Row IDs while the natural code is mapped: a hint",
    "Ref column named after its table",
    "'Đánh giá' result beside an 'Đợt đánh giá' Ref",
    "text dates and date-times in vi_VN",
    "text dates and date-times in en_US",
    "text dates and date-times in en_GB",
    "ambiguous day 3/4",
    "12-hour times",
    "the spreadsheet's locale on Google when the config has none",
    "vi_VN on xlsx when the config has none",
    "a locale that falls back by language",
    "Yes/No as TRUE/FALSE booleans",
    "Yes/No as Y/N",
    "Enum and EnumList values",
    "Image and File paths",
    "LatLong",
    "ChangeTimestamp called 'Last Modified'",
    "a created 'Timestamp'",
    "blank rows",
    "a deleted row shifting the rows below it up",
    "extra columns",
    "a mapped header missing from the sheet",
    "an unmapped AppSheet sheet",
)
"""Every convention the issue's "Proof" lists; each is proved by at least one case."""

_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
"""The zone of naive date-times (settings' schedule.timezone default)."""


def vn(*args: int) -> datetime:
    """A Vietnamese wall-clock time as the UTC instant hqsync stores."""
    return datetime(*args, tzinfo=_ZONE).astimezone(UTC)  # type: ignore[arg-type,misc]


@dataclass(frozen=True)
class AppSheetCase:
    """An AppSheet app's sheet, how the config maps it, and what syncing it must give."""

    name: str
    proves: tuple[str, ...]
    """The conventions (from `CONVENTIONS`) this case proves."""
    hospitals: Rows
    assessments: Rows
    findings: Rows
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: COLUMNS)
    """The `[sources.columns.<tab>]` tables of the case's config."""
    locale: str | None = None
    """The `locale` of the case's config (None: the spreadsheet's on Google, vi_VN on xlsx)."""
    sheet_locale: str = "vi_VN"
    """The Google spreadsheet's `properties.locale` (set on the fake before reading)."""
    backends: tuple[str, ...] = BACKENDS
    """The backends the outcome holds on (one only when it depends on the locale default)."""
    tabs: TabNames = TABS
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
    previous: tuple[Rows, Rows, Rows] | None = None
    """The three tabs as the sync before this one read them (None: this is the first sync)."""
    removed: Mapping[str, set[str]] = field(default_factory=dict)
    """Tab kind → keys the previous sync stored that this one must mark removed."""

    def tab_rows(self) -> dict[str, Rows]:
        """Tab name → rows, as the spreadsheet holds them."""
        return _tab_rows(self.tabs, (self.hospitals, self.assessments, self.findings))

    def previous_tab_rows(self) -> dict[str, Rows] | None:
        """Tab name → rows of the previous sync's sheet, or None."""
        return None if self.previous is None else _tab_rows(self.tabs, self.previous)

    def source_config(self, backend: str, spreadsheet: str) -> dict[str, Any]:
        """The case's `[[sources]]` table as parsed TOML (for `settings_from_mapping`)."""
        config: dict[str, Any] = {
            "name": self.name.replace("_", "-")[:60],
            "backend": backend,
            "spreadsheet": spreadsheet,
            "tabs": self.tabs.as_dict(),
            "columns": {tab: dict(fields) for tab, fields in self.columns.items()},
        }
        if self.locale is not None:
            config["locale"] = self.locale
        return config

    def toml(self) -> str:
        """The case's config block as a council would write it in hqsync.toml."""
        tabs = self.tabs.as_dict()
        lines = [
            "[[sources]]",
            f'name = "{self.name}"',
            'backend = "google"',
            'spreadsheet = "1AbC"',
            "tabs = { " + ", ".join(f'{k} = "{v}"' for k, v in tabs.items()) + " }",
        ]
        if self.locale is not None:
            lines.append(f'locale = "{self.locale}"')
        for tab, fields in self.columns.items():
            lines += ["", f"[sources.columns.{tab}]"]
            lines += [f'{name} = "{header}"' for name, header in fields.items()]
        return "\n".join(lines) + "\n"


def _tab_rows(tabs: TabNames, rows: tuple[Rows, Rows, Rows]) -> dict[str, Rows]:
    names = (tabs.hospitals, tabs.assessments, tabs.findings)
    return dict(zip(names, rows, strict=True))


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


def _restamp(records: Sequence[Record], stamp: str) -> list[dict[str, Any]]:
    """Records with `Last Modified` written as `stamp` (a date-time in another locale)."""
    return [changed(record, {"Last Modified": stamp}) for record in records]


def _trim(records: Sequence[Record], head: Sequence[str]) -> list[dict[str, Any]]:
    """Records without the cells of columns `head` lacks."""
    return [{k: v for k, v in record.items() if k in head} for record in records]


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


# --------------------------------------------------------------------------------------------
# Dates in a locale: each case rewrites the assessments' date cells and the findings' stamps.

K = UNIQUEID
H1, H2 = K.hospitals
A1, A2 = K.assessments
F1, F2, F3, F4 = K.findings
A3 = "d4c3b2a1"
F5 = "f5f5f5f5"
_A, _F = assessment_records(K), finding_records(K)


def _dated(
    first: tuple[str, str], second: tuple[str, str], third: str | None, finding_stamp: str
) -> dict[str, Rows]:
    """The standard app with assessment dates (date, Last Modified) in some locale's text, and,
    when `third` is given, a third assessment dated `third` with one finding."""
    assessments = [
        changed(_A[0], {"Ngày đánh giá": first[0], "Last Modified": first[1]}),
        changed(_A[1], {"Ngày đánh giá": second[0], "Last Modified": second[1]}),
    ]
    findings = _restamp(_F, finding_stamp)
    if third is not None:
        assessments.append(
            changed(_A[0], {"Row ID": A3, "Ngày đánh giá": third, "Last Modified": ""})
        )
        findings.append(
            changed(_F[0], {"Row ID": F5, "Đợt đánh giá": A3, "Last Modified": finding_stamp})
        )
    return app(K, assessments=assessments, findings=findings)


def _third_rejected(locale_name: str) -> dict[str, Any]:
    """The outcome of `_dated(..., third=<impossible in the locale>)`."""
    return {
        "stored": K.all(),
        "rejected": (
            Expected("assessments", 4, "bad_date", "Ngày đánh giá"),
            Expected("findings", 6, "assessment_rejected", "Đợt đánh giá"),
        ),
        "reason_mentions": (("assessments", 4, locale_name), ("assessments", 4, "11/25/2026")),
    }


_VI = _dated(("3/4/2026", "3/4/2026 2:03:00 CH"), ("28/03/2026", "28/03/2026 9:15 SA"),
             "11/25/2026", "25/03/2026 09:30:00")  # fmt: skip
_US = _dated(("3/4/2026", "3/4/2026 2:03:00 PM"), ("11/25/2026", "11/25/2026 12:15:00 AM"),
             "25/03/2026", "3/25/2026 9:30:00 AM")  # fmt: skip
_GB = _dated(("3/4/2026", "03/04/2026 14:03:00"), ("25/03/2026", "25/03/2026 12:03 PM"),
             "11/25/2026", "25/03/2026 09:30:00")  # fmt: skip
_ON_GOOGLE = _dated(("3/4/2026", "3/4/2026 2:03:00 PM"), ("4/3/2026", "4/3/2026 14:03:00"),
                    None, "3/25/2026 9:30:00 AM")  # fmt: skip
_ON_XLSX = _dated(("3/4/2026", "3/4/2026 14:03:00"), ("4/3/2026", "4/3/2026 2:03 CH"),
                  None, "25/03/2026 09:30:00")  # fmt: skip
_AU = _dated(("3/4/2026", "3/4/2026 2:03:00 pm"), ("28/03/2026", "28/03/2026 00:00:00"),
             "11/25/2026", "25/03/2026 09:30:00")  # fmt: skip

# The reversed trend: two self-assessments of one hospital, 3 January then 1 March.
_TREND = app(
    K,
    assessments=[
        changed(_A[0], {"Ngày đánh giá": "1/3/2026", "Last Modified": "1/3/2026 5:00 PM"}),
        changed(
            _A[0],
            {"Row ID": A2, "Ngày đánh giá": "3/1/2026", "Last Modified": "3/1/2026 5:00 PM"},
        ),
    ],
    findings=[
        changed(_F[0], {"Last Modified": "1/3/2026 4:00 PM"}),
        changed(_F[1], {"Last Modified": "1/3/2026 4:00 PM"}),
        changed(_F[0], {"Row ID": F3, "Đợt đánh giá": A2, "Đánh giá": "Không đạt",
                        "Last Modified": "3/1/2026 4:00 PM"}),
        changed(_F[1], {"Row ID": F4, "Đợt đánh giá": A2, "Đánh giá": "Đạt",
                        "Last Modified": "3/1/2026 4:00 PM"}),
    ],
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Other conventions

_H = hospital_records(K)
_YES_NO = app(
    K,
    hospitals=[
        *_H,
        changed(_H[0], {"Row ID": "h3h3h3h3", "Mã BV": "BV03", "Có sản khoa": "TRUE",
                        "Có nhi khoa": "FALSE", "Hoạt động": "true"}),
        changed(_H[0], {"Row ID": "h4h4h4h4", "Mã BV": "BV04", "Có sản khoa": None,
                        "Có nhi khoa": "", "Hoạt động": False}),
    ],
)  # fmt: skip
_Y_N = app(
    K,
    hospitals=[
        changed(_H[0], {"Có sản khoa": "Y", "Có nhi khoa": "N", "Hoạt động": "Y"}),
        changed(_H[1], {"Có sản khoa": "n", "Có nhi khoa": "y", "Hoạt động": "N"}),
        changed(_H[0], {"Row ID": "h5h5h5h5", "Mã BV": "BV05", "Có sản khoa": "Có thể"}),
    ],
)  # fmt: skip

_ENUM_HEAD = (*F_HEAD, "Khoa")
_ENUM = app(
    K,
    findings=[
        changed(_F[0], {"Khoa": "Khoa Nội , Khoa Ngoại"}),
        changed(_F[1], {"Khoa": "Khoa Sản"}),
        changed(_F[2], {"Khoa": ""}),
        changed(_F[3], {"Khoa": "Khoa Nhi , Khoa Sản , Khoa Hồi sức"}),
    ],
    heads=(H_HEAD, A_HEAD, _ENUM_HEAD),
)

_FILES = app(
    K,
    findings=[
        changed(_F[0], {"Ảnh": "Findings_Images/abc.jpg"}),
        _F[1],
        changed(_F[2], {"Ảnh": "Chi tiết đánh giá_Images/3c2b1a09.Ảnh.093512.png",
                        "Tệp đính kèm": "Chi tiết đánh giá_Files/Biên bản 28-3.pdf"}),
        _F[3],
    ],
)  # fmt: skip

_LATLONG = app(
    K,
    hospitals=[_H[0], changed(_H[1], {"Vị trí": "-33.8688, 151.2093"})],
)

_NO_CHANGE_STAMP = (
    without(H_HEAD, "Last Modified"),
    without(A_HEAD, "Last Modified"),
    without(F_HEAD, "Last Modified"),
)
_CREATED_ONLY = app(
    K,
    hospitals=_trim(_H, _NO_CHANGE_STAMP[0]),
    assessments=_trim(_A, _NO_CHANGE_STAMP[1]),
    findings=_trim(_F, _NO_CHANGE_STAMP[2]),
    heads=_NO_CHANGE_STAMP,
)
_CREATED_ONLY_COLUMNS = MappingProxyType(
    {
        tab: MappingProxyType({f: h for f, h in fields.items() if h != "Last Modified"})
        for tab, fields in COLUMNS.items()
    }
)

_BAD_ITEM = changed(_F[0], {"Row ID": "b4db4d00", "Mã tiểu mục": "Z9.9"})
_BLANK = app(
    K,
    hospitals=[_H[0], None, _H[1]],
    assessments=[None, _A[0], _A[1], None],
    findings=[_F[0], None, None, _F[1], _BAD_ITEM, _F[2], _F[3]],
)

_DELETED = "d3l3t3d0"
_BEFORE_DELETE = app(
    K,
    findings=[_F[0], changed(_F[0], {"Row ID": _DELETED}), _F[1], _F[2], _F[3], _BAD_ITEM],
)
_AFTER_DELETE = app(K, findings=[_F[0], _F[1], _F[2], _F[3], _BAD_ITEM])

_EXTRA_HEADS = (
    (*H_HEAD, "Ghi chú nội bộ"),
    (*A_HEAD, "Email người nhập", "Tỉnh"),
    (*F_HEAD, "Người tạo", ""),
)
_EXTRA = app(
    K,
    hospitals=[changed(_H[0], {"Ghi chú nội bộ": "xem lại"}), _H[1]],
    assessments=[
        changed(_A[0], {"Email người nhập": "a@soyte.gov.vn", "Tỉnh": "Cần Thơ"}),
        changed(_A[1], {"Tỉnh": "Cần Thơ"}),
    ],
    findings=[changed(_F[0], {"Người tạo": "a@soyte.gov.vn", "": "ghi tay"}), *_F[1:]],
    heads=_EXTRA_HEADS,
)

_KET_QUA_HEAD = (*F_HEAD, "Kết quả")
_KET_QUA = app(
    K,
    findings=[changed(r, {"Kết quả": "1/1 đạt"}) for r in _F],
    heads=(H_HEAD, A_HEAD, _KET_QUA_HEAD),
)

_EN_TABS = TabNames(hospitals="Hospitals", assessments="Assessments", findings="Findings")
_EN = {
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
_EN_COLUMNS = {
    "hospitals": {"hospital_id": "Row ID"},
    "assessments": {"assessment_id": "Row ID", "hospital_id": "Hospital"},
    "findings": {"finding_id": "Row ID", "assessment_id": "Assessment"},
}

_S = app(K)


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
        _S,
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
        _S,
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
        _EN,
        columns=_EN_COLUMNS,
        tabs=_EN_TABS,
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
        _KET_QUA,
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
        _VI,
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
        _US,
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
        _GB,
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
        _TREND,
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
        _ON_GOOGLE,
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
        _ON_GOOGLE,
        locale="en_US",
        sheet_locale="vi_VN",
        backends=("google",),
        stored=K.all(),
        fields={("assessments", A1): {"assessed_on": date(2026, 3, 4)}},
    ),
    _case(
        "xlsx_reads_vi_VN_when_the_config_has_none",
        ("vi_VN on xlsx when the config has none", "ambiguous day 3/4", "12-hour times"),
        _ON_XLSX,
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
        _AU,
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
        _YES_NO,
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
        _Y_N,
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
        _ENUM,
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
        _FILES,
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
        _LATLONG,
        stored=K.all(),
        extra={
            ("hospitals", H1): {"Vị trí": "10.0452, 105.7469"},
            ("hospitals", H2): {"Vị trí": "-33.8688, 151.2093"},
        },
    ),
    _case(
        "change_timestamp_last_modified",
        ("ChangeTimestamp called 'Last Modified'", "a created 'Timestamp'"),
        _S,
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
        _CREATED_ONLY,
        columns=_CREATED_ONLY_COLUMNS,
        stored=K.all(),
        fields={("assessments", A1): {"updated_at": None}, ("findings", F1): {"updated_at": None}},
        extra={("assessments", A1): {"Timestamp": "25/03/2026 08:10:00"}},
    ),
    _case(
        "blank_rows",
        ("blank rows",),
        _BLANK,
        stored=K.all(),
        rejected=(Expected("findings", 6, "unknown_item", "Mã tiểu mục"),),
        fields={("assessments", A1): {"hospital_id": H1}},
    ),
    _case(
        "a_deleted_row_shifts_the_rows_below_it_up",
        ("a deleted row shifting the rows below it up",),
        _AFTER_DELETE,
        previous=(
            _BEFORE_DELETE["hospitals"],
            _BEFORE_DELETE["assessments"],
            _BEFORE_DELETE["findings"],
        ),
        stored=K.all(),
        removed={"findings": {_DELETED}},
        # the bad row was row 7 before the delete and is row 6 now
        rejected=(Expected("findings", 6, "unknown_item", "Mã tiểu mục"),),
        fields={("findings", F4): {"result": "met"}},
    ),
    _case(
        "extra_columns",
        ("extra columns",),
        _EXTRA,
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
        _S,
        columns={**COLUMNS, "findings": {**COLUMNS["findings"], "result": "Kết luận"}},
        source_error=("'Chi tiết đánh giá'", "'result'", "'Kết luận'", "'Đánh giá'"),
    ),
    _case(
        "an_unmapped_appsheet_sheet",
        ("an unmapped AppSheet sheet",),
        _S,
        columns={},
        source_error=("'Đợt đánh giá'", "'assessment_id'", "'Bệnh viện'"),
    ),
]
