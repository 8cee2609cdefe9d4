"""Matching header rows onto the sheet contract's fields, by name, in any order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hqsync.config.errors import SourceError
from hqsync.config.vocabulary import TabKind
from hqsync.sync.ingest.contract import FIELDS
from hqsync.sync.ingest.headers import column_index, column_letter, match_headers
from tests.ingest.catalogue import A_HEAD, H_HEAD


@settings(deadline=None)
@given(st.permutations(A_HEAD))
def test_headers_match_by_name_in_any_order(headers):
    match = match_headers("assessments", headers, "Assessments")
    assert {f: match.names[i] for f, i in match.fields.items()} == {
        spec.name: spec.header_vi for spec in FIELDS["assessments"]
    }
    assert not match.extra


def test_unknown_tab_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        match_headers("patients", ["x"], "Patients")


def test_a_missing_column_names_the_tab_the_field_and_the_headers_found():
    with pytest.raises(SourceError) as caught:
        match_headers("hospitals", ["Tên bệnh viện", "Huyện"], "Bệnh viện")
    message = str(caught.value)
    assert "'Bệnh viện'" in message and "'hospital_id'" in message and "'Huyện'" in message


def test_two_columns_meaning_one_field_are_named_with_their_letters():
    with pytest.raises(SourceError) as caught:
        match_headers("hospitals", [*H_HEAD, "MÃ BỆNH VIỆN"], "Bệnh viện")
    message = str(caught.value)
    assert "'Mã bệnh viện' (A)" in message and "'MÃ BỆNH VIỆN' (H)" in message


def test_aliases_and_english_headers_match_and_unknown_columns_are_extra():
    match = match_headers("hospitals", ["hospital code", "TEN BV", "", "Ghi chú", "Ghi chú"], "H")
    assert match.tab_kind is TabKind.HOSPITALS
    assert match.fields == {"hospital_id": 0, "name": 1}
    assert match.names == ("hospital code", "TEN BV", "(column C)", "Ghi chú", "Ghi chú (E)")
    assert match.extra == {"(column C)": 2, "Ghi chú": 3, "Ghi chú (E)": 4}
    assert match.column("name") == "TEN BV"


@pytest.mark.parametrize(
    "header", ["Email lãnh đạo", "email", "E-mail", "Leader email", "EMAIL LANH DAO", "Thư điện tử"]
)
def test_the_leaders_email_column_goes_by_many_names(header):
    match = match_headers("hospitals", ["Mã bệnh viện", "Tên bệnh viện", header], "Bệnh viện")
    assert match.fields["email"] == 2 and not match.extra


def test_column_letters_and_indexes_are_the_spreadsheets():
    from openpyxl.utils import column_index_from_string, get_column_letter

    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert all(column_letter(i) == get_column_letter(i + 1) for i in range(18_278))
    assert all(column_index(column_letter(i)) == i for i in range(18_278))
    assert column_index("XFD") == column_index_from_string("XFD") - 1 == 16_383
    assert column_index("ab") == 27


@pytest.mark.parametrize("letters", ["", "A1", "Ä", "A B"])
def test_what_is_not_a_columns_letters_is_refused(letters):
    with pytest.raises(ValueError, match="column"):
        column_index(letters)
