"""A source's column mapping and locale in ingestion (issue 11): mapped headers, alias headers
of mapped fields kept as extra columns, text dates in the source's locale, hash contexts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hqsync.config.errors import SourceError
from hqsync.sync.ingest.cells import CellProblem, Coercers, parse_datetime_cell
from hqsync.sync.ingest.hashing import tab_context
from hqsync.sync.ingest.headers import header_problems, match_headers
from hqsync.sync.ingest.locale import EN_GB, EN_US, VI_VN, source_locale
from hqsync.sync.ingest.mapping import TabHeaders, columns_block, suggest_columns
from tests.appsheet import variants as v
from tests.appsheet.sheets import A_HEAD, COLUMNS, F_HEAD, H_HEAD, TABS
from tests.ingest.catalogue import H_HEAD as OWN_H_HEAD

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_mapped_field_takes_its_header_and_an_alias_of_it_stays_extra():
    match = match_headers("hospitals", H_HEAD, "Bệnh viện", {"hospital_id": "row id"})
    assert match.column("hospital_id") == "Row ID" and match.by_mapping("hospital_id")
    assert "Mã BV" in match.extra and not match.by_mapping("name")
    assert match.column("name") == "Tên bệnh viện"


def test_danh_gia_mapped_as_the_result_keeps_ket_qua_as_an_extra_column():
    headers = [*F_HEAD, "Kết quả"]
    with pytest.raises(SourceError, match="both mean 'result'"):
        match_headers("findings", headers, "Chi tiết đánh giá", {"finding_id": "Row ID"})
    match = match_headers("findings", headers, "Chi tiết đánh giá", COLUMNS["findings"])
    assert match.column("result") == "Đánh giá" and "Kết quả" in match.extra
    assert match.column("assessment_id") == "Đợt đánh giá"


def test_a_missing_mapped_header_names_tab_field_header_and_headers_found():
    with pytest.raises(SourceError) as caught:
        match_headers("findings", F_HEAD, "Chi tiết đánh giá", {"result": "Kết luận"})
    message = str(caught.value)
    for text in ("'Chi tiết đánh giá'", "'result'", "'Kết luận'", "'Đánh giá'", "'Row ID'"):
        assert text in message
    problems = header_problems("findings", F_HEAD, "x", {"result": "Kết luận"})
    assert problems.mapped_missing == (("result", "Kết luận"),)


def test_the_suggestion_maps_row_ids_refs_named_after_their_tabs_and_last_modified():
    names = TABS.as_dict()
    tabs = {kind: TabHeaders(names[kind], v.STANDARD[kind][0]) for kind in names}
    guessed = suggest_columns(tabs, {})
    assert guessed == {
        "hospitals": {"hospital_id": "Row ID"},
        "assessments": {
            "assessment_id": "Row ID",
            "hospital_id": "Bệnh viện",
            "updated_at": "Last Modified",
        },
        "findings": {
            "finding_id": "Row ID",
            "assessment_id": "Đợt đánh giá",
            "updated_at": "Last Modified",
        },
    }
    assert suggest_columns(tabs, COLUMNS) == {}
    assert columns_block("findings", {"result": 'Đánh "giá"'}) == (
        '[sources.columns.findings]\nresult = "Đánh \\"giá\\""'
    )


def test_hqsync_s_own_headers_need_no_suggestion():
    tab = TabHeaders("Hospitals", OWN_H_HEAD)
    assert suggest_columns({"hospitals": tab}, {}) == {}


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("3/4/2026", VI_VN, datetime(2026, 4, 3)),
        ("3/4/2026", EN_GB, datetime(2026, 4, 3)),
        ("3/4/2026", EN_US, datetime(2026, 3, 4)),
        ("11/25/2026 2:03:00 PM", EN_US, datetime(2026, 11, 25, 14, 3)),
        ("25/11/2026 2:03 CH", VI_VN, datetime(2026, 11, 25, 14, 3)),
        (46085, EN_US, datetime(2026, 3, 4)),  # a serial number means the same everywhere
        (date(2026, 3, 4), EN_US, datetime(2026, 3, 4)),
    ],
)
def test_text_dates_are_read_in_the_source_locale(text, locale, expected):
    assert parse_datetime_cell(text, locale) == expected


@pytest.mark.parametrize("locale", [VI_VN, EN_GB, EN_US, source_locale("en_AU")])
def test_an_impossible_date_is_rejected_naming_the_locale(locale):
    text = "25/11/2026" if not locale.day_first else "11/25/2026"
    coerce = Coercers(ZONE, locale)
    with pytest.raises(CellProblem) as caught:
        coerce.coerce("day", text)
    assert caught.value.code == "bad_date"
    assert locale.name in caught.value.en and locale.name in caught.value.vi
    assert locale.order in caught.value.en


def test_moments_in_en_us_keep_the_run_time_zone():
    moment = Coercers(ZONE, EN_US).coerce("moment", "3/4/2026 2:03:00 PM")
    assert moment == datetime(2026, 3, 4, 14, 3, tzinfo=ZONE).astimezone(UTC)


@pytest.mark.parametrize("cell", ["1", "0", "1.0", "TRUE", "yes", "có", True, 1])
def test_word_columns_read_the_same_in_every_locale(cell):
    read = [Coercers(ZONE, locale).coerce("yes_no", cell) for locale in (VI_VN, EN_US, EN_GB)]
    assert read[0] is not None and read == [read[0]] * 3


def test_the_hash_context_is_unchanged_for_vi_vn_without_a_mapping():
    match = match_headers("hospitals", OWN_H_HEAD, "Hospitals")
    plain = tab_context("hospitals", match, "Asia/Ho_Chi_Minh")
    assert tab_context("hospitals", match, "Asia/Ho_Chi_Minh", VI_VN) == plain
    assert tab_context("hospitals", match, "Asia/Ho_Chi_Minh", EN_US) != plain
    mapped = match_headers("hospitals", OWN_H_HEAD, "Hospitals", {"hospital_id": "Mã bệnh viện"})
    assert mapped.fields == match.fields
    assert tab_context("hospitals", mapped, "Asia/Ho_Chi_Minh", VI_VN) != plain


def test_a_header_row_of_the_appsheet_assessments_maps_with_the_catalogue_block():
    match = match_headers("assessments", A_HEAD, "Đợt đánh giá", COLUMNS["assessments"])
    assert match.column("hospital_id") == "Bệnh viện"
    assert match.column("updated_at") == "Last Modified"
    assert {name for name, _ in match.mapped} == set(COLUMNS["assessments"])
