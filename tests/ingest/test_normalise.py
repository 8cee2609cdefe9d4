"""Normalising cells, headers and rows: value tables, invariants, and skipping unchanged rows."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from hqsync.config.errors import SourceError, StoreError
from hqsync.config.settings import TabNames
from hqsync.models.source_rows import read_stored_rows, stored_hashes
from hqsync.models.tables import Finding
from hqsync.sync.ingest.store import upsert_source
from hqsync.sync.normalise import (
    FIELDS,
    accepted_words,
    cell_text,
    clean_text,
    fold,
    match_headers,
    normalise_source,
    parse_datetime_cell,
    row_hash,
)
from tests.ingest.catalogue import (
    A_HEAD,
    BV01,
    BV02,
    DG01,
    DG02,
    F01,
    F02,
    F03,
    F04,
)
from tests.ingest.sheets import normalise, rule_sets, snapshot, with_cell

T0 = datetime(2026, 1, 5, tzinfo=UTC)


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


vietnamese_words = st.sampled_from(
    ["Mã bệnh viện", "Kết quả", "Không áp dụng", "Đạt", "Tự đánh giá", "Hội đồng", "Ghi chú"]
)


@settings(deadline=None)
@given(word=vietnamese_words, upper=st.booleans(), spaces=st.integers(0, 3), nfd=st.booleans())
def test_fold_ignores_case_spacing_and_unicode_form(word, upper, spaces, nfd):
    variant = word.upper() if upper else word.lower()
    variant = " " * spaces + variant.replace(" ", " " * (spaces + 1)) + "\u00a0"
    if nfd:
        variant = unicodedata.normalize("NFD", variant)
    assert fold(variant) == fold(word)


@settings(deadline=None)
@given(st.text())
def test_clean_text_gives_trimmed_visible_nfc(text):
    cleaned = clean_text(text)
    assert cleaned == cleaned.strip()
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(c in cleaned for c in "\u200b\u200c\u200d\u2060\ufeff\u00a0")


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


@settings(deadline=None)
@given(st.permutations(A_HEAD))
def test_headers_match_by_name_in_any_order(headers):
    match = match_headers("assessments", headers, "Assessments")
    assert {f: match.names[i] for f, i in match.fields.items()} == {
        spec.name: spec.header_vi for spec in FIELDS["assessments"]
    }
    assert not match.extra


def test_every_documented_header_and_word_is_accepted():
    for kind, specs in FIELDS.items():
        for spec in specs:
            for header in (spec.name, spec.header_vi, spec.header_en, *spec.aliases):
                others = [s.header_vi for s in specs if s.required and s is not spec]
                match = match_headers(kind, [*others, header], kind)
                assert match.fields[spec.name] == len(others), (kind, header)
    assert set(accepted_words()["result"]) == {"met", "not_met", "na", "partial"}


def test_unknown_tab_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        match_headers("patients", ["x"], "Patients")


def test_a_missing_column_names_the_tab_the_field_and_the_headers_found():
    with pytest.raises(SourceError) as caught:
        match_headers("hospitals", ["Tên bệnh viện", "Huyện"], "Bệnh viện")
    message = str(caught.value)
    assert "'Bệnh viện'" in message and "'hospital_id'" in message and "'Huyện'" in message


def test_row_hash_ignores_trailing_empty_cells_only():
    assert row_hash("c", ("a", 1, None, "")) == row_hash("c", ("a", 1))
    assert row_hash("c", ("a", 1)) != row_hash("c", ("a", 1.5))
    assert row_hash("c", ("a", None, 1)) != row_hash("c", ("a", 1))
    assert row_hash("c", ("a",)) != row_hash("d", ("a",))


def test_the_time_zone_is_a_parameter():
    source = snapshot(hospitals=[BV01], assessments=[DG01], findings=[])
    utc = normalise_source(source, TabNames(), rule_sets(), timezone="UTC")
    local = normalise_source(source, TabNames(), rule_sets())
    assert utc.assessments[0].fields["updated_at"] == datetime(2025, 3, 25, 14, 30, tzinfo=UTC)
    assert local.assessments[0].fields["updated_at"] == datetime(2025, 3, 25, 7, 30, tzinfo=UTC)
    assert utc.assessments[0].row_hash != local.assessments[0].row_hash


# Skipping unchanged rows ------------------------------------------------------------------


def known_of(data):
    return {kind: {r.key: r.row_hash for r in data.rows(kind)} for kind in FIELDS}


def parsed_keys(data):
    return {r.key for kind in FIELDS for r in data.rows(kind) if r.parsed}


def test_unchanged_rows_are_not_parsed_again_and_keep_their_hash():
    full = normalise()
    rows = [F01, with_cell(F02, 3, "Đạt"), F03, F04]
    again = normalise(findings=rows, known=known_of(full))
    assert parsed_keys(again) == {"F02"}
    assert again.findings[1].fields["result"] == "met"
    assert known_of(again) == known_of(normalise(findings=rows))
    assert known_of(again)["findings"]["F02"] != known_of(full)["findings"]["F02"]


def test_a_changed_standard_reparses_its_findings():
    full = normalise()
    switched = with_cell(DG02, 2, "QĐ 6858")  # DG02's TT 35 items are not QĐ 6858 items
    again = normalise(assessments=[DG01, switched], known=known_of(full))
    assert {r.key for r in again.rejections} == {"F03", "F04"}
    assert parsed_keys(again) == {"DG02"}


def test_a_changed_rule_set_reparses_its_rows():
    full = normalise()
    changed = dict(rule_sets())
    changed["TT35"] = dataclasses.replace(changed["TT35"], fingerprint="a new catalog")
    again = normalise(known=known_of(full), rules=changed)
    assert parsed_keys(again) == {"DG02", "F03", "F04"}


def test_a_row_with_a_newly_rejected_parent_is_rejected_despite_its_known_hash():
    full = normalise()
    again = normalise(hospitals=[BV01, with_cell(BV02, 1, "#REF!")], known=known_of(full))
    assert {r.key for r in again.rejections} == {"BV02", "DG02", "F03", "F04"}


def test_syncing_with_known_hashes_stores_the_same_as_a_full_parse(engine):
    with engine.begin() as conn:
        upsert_source(conn, "a", normalise(), T0)
        upsert_source(conn, "b", normalise(), T0)
    source = snapshot(
        hospitals=[BV01, with_cell(BV02, 4, "Có")],
        findings=[F04, with_cell(F01, 3, "KĐ"), F02, ["F05", "DG01", "A2.1-3.1", "Đạt"]],
    )
    later = T0 + timedelta(hours=1)
    with engine.begin() as conn:
        stored = read_stored_rows(conn, "a")
        assert stored.known() == stored_hashes(conn, "a")
        fast = normalise_source(source, TabNames(), rule_sets(), known=stored.known())
        a = upsert_source(conn, "a", fast, later, stored=stored)
        b = upsert_source(conn, "b", normalise_source(source, TabNames(), rule_sets()), later)
    assert a == b
    assert parsed_keys(fast) == {"BV02", "F01", "F05"}
    columns = [c for c in Finding.__table__.c if c.name != "source"]
    with engine.connect() as conn:
        rows = {
            name: conn.execute(
                sa.select(*columns).where(Finding.source == name).order_by(Finding.finding_id)
            ).all()
            for name in ("a", "b")
        }
    assert rows["a"] == rows["b"]


def test_stale_known_hashes_fail_the_sync_instead_of_losing_rows(engine):
    with engine.begin() as conn:
        upsert_source(conn, "a", normalise(), T0)
        known = stored_hashes(conn, "a")
    with engine.begin() as conn:  # something else changed the store in between
        upsert_source(conn, "a", normalise(findings=[F01]), T0)
    data = normalise(known=known)
    with pytest.raises(StoreError, match="run the sync again"), engine.begin() as conn:
        upsert_source(conn, "a", data, T0)
    with engine.connect() as conn:
        live = conn.execute(
            sa.select(Finding.finding_id).where(Finding.source == "a", Finding.deleted.is_(False))
        )
        assert live.scalars().all() == ["F01"]


KEYS = ("F01", "F02", "F03", "F04")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["Đạt", "KĐ", "n/a", "Tốt", "", "#N/A"]), min_size=4, max_size=4))
def test_every_row_is_either_stored_or_rejected(results):
    rows = [with_cell(r, 3, v) for r, v in zip((F01, F02, F03, F04), results, strict=True)]
    data = normalise(findings=rows)
    stored = {r.key for r in data.findings}
    rejected = {r.key for r in data.rejections}
    assert stored | rejected == set(KEYS) and not stored & rejected
    good = {"Đạt", "KĐ", "n/a"}
    assert stored == {k for k, v in zip(KEYS, results, strict=True) if v in good}


def test_an_unchanged_row_is_an_ordinary_frozen_source_row():
    from hqsync.sync.normalise import SourceRow, _unparsed_row

    row = _unparsed_row("F01", 2, "abc")
    assert row == SourceRow("F01", 2, {}, {}, {}, "abc", parsed=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.key = "F02"


def test_dates_and_text_of_the_same_row_hash_differently_but_stably():
    from datetime import date as d

    assert row_hash("c", ("a", d(2025, 1, 2))) == row_hash("c", ("a", d(2025, 1, 2)))
    assert row_hash("c", ("a", d(2025, 1, 2))) != row_hash("c", ("a", "2025-01-02"))
    assert row_hash("c", ("a", d(2025, 1, 2))) != row_hash("c", ("a", datetime(2025, 1, 2)))
    assert row_hash("c", ("a", 1)) != row_hash("c", ("a", True))
