"""The one row hasher: what rows are stored under, pinned, and the same on every path.

The pinned values were computed before ingestion moved into `hqsync.sync.ingest` (issue 10).
A change to any of them changes the hash of every stored row, so every row of every source is
re-parsed and rewritten on the next sync: if that is intended, bump HASH_VERSION and update
the pins in the same commit.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from hqsync.config.settings import TabNames
from hqsync.config.vocabulary import TAB_KINDS, TabKind
from hqsync.sync.ingest.hashing import (
    HASH_VERSION,
    context_bytes,
    context_digests,
    row_digests,
    row_hash,
    rule_set_context,
    tab_context,
)
from hqsync.sync.ingest.headers import match_headers
from hqsync.sync.ingest.normalise import normalise_source
from hqsync.sync.interfaces import RawTab, SourceSnapshot
from tests.ingest.catalogue import A_HEAD, DG01, F01, F_HEAD, H_HEAD
from tests.ingest.sheets import normalise, rule_sets, snapshot

PINNED = {
    "BV01": "c3cff35fd800604ae9884f8c4d6b2d4689f83338",
    "BV02": "03d731dd7b99b350a43f1cc17b62d266aa75cb7f",
    "DG01": "136e0a94298ce953342224f07316fd85df9e3355",
    "DG02": "b78d6360a82fa642c96cf2520e341f4167fedddd",
    "F01": "8d4e094a276c314f06afb39c853d556071e0d7c8",
    "F02": "ad246e9bad2f931635b430e967fd4f7593f391c3",
    "F03": "b185dfd2391a35684a07f5e675f7a86a861ed8e5",
    "F04": "ec5a414a1daba12d89601d206750f9e8cb6d1e88",
}
"""Row hashes of the standard sheet (tests/ingest/sheets.py), every rule set's catalogue
fingerprint set to 'pinned' (so that editing a shipped catalogue does not move them). BV/DG
rows end in a value (hashed as they are), F rows in empty cells (trimmed first); DG02 holds a
datetime cell (hashed as tagged ISO text)."""


def pinned_rule_sets():
    return {k: dataclasses.replace(v, fingerprint="pinned") for k, v in rule_sets().items()}


def hashes(data):
    return {r.key: r.row_hash for kind in TAB_KINDS for r in data.rows(kind)}


def as_lists(source: SourceSnapshot) -> SourceSnapshot:
    """The same source with list rows (as the Google reader gives them), not tuples."""
    tabs = {
        name: RawTab(name, [list(row) for row in tab.rows]) for name, tab in source.tabs.items()
    }
    return SourceSnapshot(tabs=tabs, marker="lists", available_tabs=source.available_tabs)


def test_stored_hashes_are_pinned():
    assert HASH_VERSION == 1
    assert hashes(normalise(rules=pinned_rule_sets())) == PINNED


def test_list_rows_hash_as_tuple_rows_do():
    data = normalise_source(as_lists(snapshot()), TabNames(), pinned_rule_sets())
    assert hashes(data) == PINNED


def test_unchanged_rows_keep_the_pinned_hash():
    known = {TabKind.HOSPITALS: {k: PINNED[k] for k in ("BV01", "BV02")}}
    known[TabKind.ASSESSMENTS] = {k: PINNED[k] for k in ("DG01", "DG02")}
    known[TabKind.FINDINGS] = {k: PINNED[k] for k in ("F01", "F02", "F03", "F04")}
    again = normalise(known=known, rules=pinned_rule_sets())
    assert hashes(again) == PINNED
    assert not any(r.parsed for kind in TAB_KINDS for r in again.rows(kind))


def test_the_memo_context_is_pinned():
    memo = normalise(rules=pinned_rule_sets()).memos[TabKind.FINDINGS]
    assert memo.context == "7fb9c34f12cb019de15976cdae48a52754c92731f7a6669960e9a8dc8fe3527a"
    assert memo.parents == "f4860eb01db585cbe89874fc42cdab6795093a4f2cb92051cc043530b9343293"
    assert memo.tab_kind == "findings"


def test_row_hash_is_what_normalise_stores():
    tz = "Asia/Ho_Chi_Minh"
    hospitals = match_headers("hospitals", H_HEAD, TabNames().hospitals)
    assessments = match_headers("assessments", A_HEAD, TabNames().assessments)
    findings = match_headers("findings", F_HEAD, TabNames().findings)
    qd6858 = rule_set_context(pinned_rule_sets()["QD6858"])
    bv01 = ("BV01", "Bệnh viện Đa khoa Cần Thơ", "Ninh Kiều", "Công lập", "Có", "Có", "Có")
    assert row_hash(tab_context(TabKind.HOSPITALS, hospitals, tz), bv01) == PINNED["BV01"]
    assert row_hash(tab_context("assessments", assessments, tz) + qd6858, DG01) == PINNED["DG01"]
    assert row_hash(tab_context("findings", findings, tz) + qd6858, F01) == PINNED["F01"]


def test_row_hash_is_pinned():
    cells = ("F01", "DG01", "A1.1-1.1", "Đạt", None, "", 45700.5, True, 3)
    dates = (date(2025, 1, 2), datetime(2025, 1, 2, 3, 4, 5))
    assert row_hash("ctx", (*cells, *dates)) == "83b01f33f5e64cc464a3948ad2072d4c9e8ab696"
    assert row_hash("ctx", ["F01", "DG01", None, ""]) == "6306c77f116405e3c8ced59343e5cb17609999a2"
    assert row_hash("ctx", ("F01", "DG01")) == "6306c77f116405e3c8ced59343e5cb17609999a2"


def test_row_hash_ignores_trailing_empty_cells_only():
    assert row_hash("c", ("a", 1, None, "")) == row_hash("c", ("a", 1))
    assert row_hash("c", ("a", 1)) != row_hash("c", ("a", 1.5))
    assert row_hash("c", ("a", None, 1)) != row_hash("c", ("a", 1))
    assert row_hash("c", ("a",)) != row_hash("d", ("a",))


def test_dates_and_text_of_the_same_row_hash_differently_but_stably():
    assert row_hash("c", ("a", date(2025, 1, 2))) == row_hash("c", ("a", date(2025, 1, 2)))
    assert row_hash("c", ("a", date(2025, 1, 2))) != row_hash("c", ("a", "2025-01-02"))
    assert row_hash("c", ("a", date(2025, 1, 2))) != row_hash("c", ("a", datetime(2025, 1, 2)))
    assert row_hash("c", ("a", 1)) != row_hash("c", ("a", True))


@pytest.mark.parametrize("row", [(), [], (None,), ["", None]])
def test_an_empty_row_hashes_as_no_cells(row):
    assert row_hash("c", row) == row_hash("c", ())


def test_rows_hashed_a_tab_at_a_time_hash_as_one_by_one():
    rows = [
        ("F01", "DG01", "A1.1-1.1", "Đạt", None, "", 45700.5, True, 3),
        ["F02", "DG01", None, "", "x\udcff", -0.0, 10**30],
        [],
        ("F03",),
    ]
    contexts = ["ctx", "khác ✓", "unused", "ctx"]
    digests = row_digests(list(map(context_bytes, contexts)), rows)
    one_by_one = [row_hash(c, row) if row else "" for c, row in zip(contexts, rows, strict=True)]
    assert digests == one_by_one


@pytest.mark.parametrize("last", [None, "", date(2025, 1, 2)])
def test_rows_a_tab_cannot_hash_at_once_are_left_to_one_by_one(last):
    assert row_digests([b"c", b"c"], [("a", 1), ("b", last)]) is None


@pytest.mark.parametrize("last", ["z", None, "", date(2025, 1, 2)])
def test_rows_hashed_in_their_contexts_hash_as_one_by_one_on_either_road(last):
    """`context_digests` (a tab at a time, or row by row when a row ends empty or holds a
    date): each row's `row_hash` in the prefix and its own context; "" without a context."""
    rows = [("F01", "Đạt", 45700.5), ["F02", None, last], ("F03", True), ("F04", 10**30)]
    contexts = ["ctx", "khác ✓", None, "ctx"]
    expected = [
        row_hash("tab|" + c, row) if c is not None else ""
        for c, row in zip(contexts, rows, strict=True)
    ]
    assert context_digests("tab|", contexts, rows) == expected
