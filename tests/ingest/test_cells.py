"""Reading cells: numbers, dates, keys, free text and coded words, with their problems."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hqsync.config.vocabulary import AssessmentKind, Ownership, Result, Status
from hqsync.sync.ingest.cells import (
    KIND,
    OWNERSHIP,
    RESULT,
    STATUS,
    YES_NO,
    CellProblem,
    Coercers,
    blank,
    cell_key,
    cell_text,
    json_safe,
    parse_datetime_cell,
    parse_number,
    raw_and_extra,
)
from hqsync.sync.ingest.headers import match_headers
from tests.ingest.catalogue import F_HEAD


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("25/03/2025", datetime(2025, 3, 25)),
        ("5/3/25", datetime(2025, 3, 5)),
        ("05.03.2025 8h30", datetime(2025, 3, 5, 8, 30)),
        ("2025-03-05", datetime(2025, 3, 5)),
        ("2025-03-05 07:08:09", datetime(2025, 3, 5, 7, 8, 9)),
        ("2025-03-05T07:08:09Z", datetime(2025, 3, 5, 7, 8, 9, tzinfo=UTC)),
        (45721, datetime(2025, 3, 5)),
        (45721.5, datetime(2025, 3, 5, 12)),
        ("45721,5", datetime(2025, 3, 5, 12)),
        (date(2025, 3, 5), datetime(2025, 3, 5)),
        (None, None),
        ("  ", None),
    ],
)
def test_dates(cell, expected):
    assert parse_datetime_cell(cell) == expected


@pytest.mark.parametrize("cell", ["31/02/2025", "hôm qua", 12, True, "2025-13-01", "1/1/1800"])
def test_not_dates(cell):
    with pytest.raises(ValueError):
        parse_datetime_cell(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("  BV\u00a001 ", "BV 01"),
        ("'0123", "0123"),
        ("\u200bDG\u200d01\ufeff", "DG01"),
        (1234.0, "1234"),
        (1.1, "1.1"),
        (7, "7"),
        (True, "TRUE"),
        ("", None),
        (None, None),
    ],
)
def test_cell_text(cell, expected):
    assert cell_text(cell) == expected


@settings(deadline=None)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)))
def test_every_date_form_reads_back(day):
    midnight = datetime.combine(day, datetime.min.time())
    serial = (midnight - datetime(1899, 12, 30)).days
    for cell in (
        f"{day.day}/{day.month}/{day.year}",
        f"{day.day:02d}/{day.month:02d}/{day.year}",
        day.isoformat(),
        serial,
        float(serial),
    ):
        assert parse_datetime_cell(cell) == midnight, cell


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (3, 3.0),
        (2.5, 2.5),
        ("2,5", 2.5),
        (" 1 000 ", 1000.0),
        ("-4.25", -4.25),
        (math.nan, None),
        ("abc", None),
        (True, None),
        (None, None),
        ("1.2.3", None),
    ],
)
def test_numbers(cell, expected):
    assert parse_number(cell) == expected


@pytest.mark.parametrize(
    ("words", "cell", "expected"),
    [
        (RESULT, "Đạt", Result.MET),
        (RESULT, "  KHÔNG   ĐẠT ", Result.NOT_MET),
        (RESULT, "kad", Result.NA),
        (RESULT, "Đạt một phần", Result.PARTIAL),
        (RESULT, 1, Result.MET),
        (RESULT, 0.0, Result.NOT_MET),
        (RESULT, True, Result.MET),
        (RESULT, "", None),
        (RESULT, None, None),
        (YES_NO, "Có", True),
        (YES_NO, "không", False),
        (YES_NO, 1, True),
        (YES_NO, False, False),
        (KIND, "Hội đồng", AssessmentKind.COUNCIL),
        (KIND, "tự đánh giá", AssessmentKind.SELF),
        (STATUS, "Đã duyệt", Status.APPROVED),
        (OWNERSHIP, "ngoài công lập", Ownership.PRIVATE),
    ],
)
def test_coded_words(words, cell, expected):
    assert words(cell) == expected
    if expected is not None:
        assert type(words(cell)) is type(expected)


@pytest.mark.parametrize(
    ("words", "cell", "code"),
    [
        (RESULT, "Tốt", "bad_result"),
        (RESULT, 2, "bad_result"),
        (YES_NO, "maybe", "bad_yes_no"),
        (KIND, "x", "bad_kind"),
        (STATUS, "done", "bad_status"),
        (OWNERSHIP, "mixed", "bad_ownership"),
        (RESULT, " #N/A ", "formula_error"),
    ],
)
def test_unknown_words_are_problems_with_reasons_in_both_languages(words, cell, code):
    with pytest.raises(CellProblem) as caught:
        words(cell)
    assert caught.value.code == code
    assert caught.value.en and caught.value.vi and caught.value.en != caught.value.vi


def test_coercers_read_dates_and_moments_in_the_run_time_zone():
    coerce = Coercers(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert coerce.coerce("day", "25/03/2025 14:30") == date(2025, 3, 25)
    assert coerce.coerce("moment", "25/03/2025 14:30") == datetime(2025, 3, 25, 7, 30, tzinfo=UTC)
    assert coerce.coerce("moment", None) is None
    with pytest.raises(CellProblem) as caught:
        coerce.coerce("day", "1/1/1800")
    assert caught.value.code == "bad_date" and "1950" in caught.value.en


def test_coercers_cache_outcomes_by_type_as_well_as_value():
    coerce = Coercers(ZoneInfo("UTC"))
    assert coerce.coerce("yes_no", True) is True
    assert coerce.coerce("yes_no", 1) is True
    assert coerce.coerce("key", 1.0) == "1"
    assert coerce.coerce("key", True) == "TRUE"  # not the cached outcome of 1.0
    for _ in range(2):  # a cached problem is raised again
        with pytest.raises(CellProblem):
            coerce.coerce("result", "Tốt")


def test_a_row_s_own_key_and_references():
    coerce = Coercers(ZoneInfo("UTC"))
    assert coerce.own_key("  BV\u00a001 ") == "BV 01"
    assert cell_key(coerce.key, ["F01", "DG01"], 1) == "DG01"
    assert cell_key(coerce.key, ["F01"], 1) is None  # beyond the row
    assert cell_key(coerce.key, ["F01", "#REF!"], 1) is None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(None, True), ("", True), (" \u200b\u00a0", True), ("'", True), ("x", False), (0, False)],
)
def test_blank(cell, expected):
    assert blank(cell) is expected


def test_json_safe():
    assert json_safe(date(2025, 3, 5)) == "2025-03-05"
    assert json_safe(datetime(2025, 3, 5, 7, 8)) == "2025-03-05T07:08:00"
    assert json_safe(math.nan) is None and json_safe(math.inf) is None
    assert json_safe("x") == "x" and json_safe(1) == 1 and json_safe(True) is True


def test_raw_and_extra_name_every_column_and_keep_values_beyond_the_headers():
    match = match_headers("findings", [*F_HEAD, "Ghi chú thêm"], "Kết quả")
    short = ["F01", "DG01", "1.1", "Đạt", math.nan]
    raw, extra = raw_and_extra(match, short)
    assert list(raw) == list(match.names)
    assert raw["Ghi chú"] is None and raw["Cập nhật lúc"] is None  # NaN and padding
    assert extra == {"Ghi chú thêm": None}
    long = ["F01", "DG01", "1.1", "Đạt", None, None, date(2025, 3, 5), "x", None, "y"]
    raw, extra = raw_and_extra(match, long)
    assert raw["Cập nhật lúc"] == "2025-03-05"
    assert extra == {"Ghi chú thêm": "x", "(column J)": "y"}
    assert raw["(column J)"] == "y" and "(column I)" not in raw


@pytest.mark.parametrize(
    "floats",
    [(1.5, 2.0), (math.inf, 2.0), (-math.inf, math.inf), (math.nan, 1.0), (1e308, 1e308)],
)
def test_raw_keeps_finite_numbers_and_nulls_the_others(floats):
    match = match_headers("findings", F_HEAD, "Kết quả")
    raw, extra = raw_and_extra(match, ["F01", "DG01", "1.1", "Đạt", *floats])
    kept = [raw[name] for name in match.names[4:6]]
    assert kept == [f if math.isfinite(f) else None for f in floats]
    assert extra == {}
