"""normalise_source: rows stored or rejected, the time zone, and skipping unchanged rows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from hqsync.config.errors import StoreError
from hqsync.config.settings import TabNames
from hqsync.config.vocabulary import TAB_KINDS, TabKind
from hqsync.models import tables
from hqsync.models.source_rows import read_stored_rows, stored_hashes
from hqsync.sync.ingest.normalise import _TabParser, normalise_source
from hqsync.sync.ingest.rows import SourceRow, unparsed_row
from hqsync.sync.ingest.store import upsert_source
from hqsync.sync.interfaces import CellValue
from tests.ingest.catalogue import (
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


def test_the_time_zone_is_a_parameter():
    source = snapshot(hospitals=[BV01], assessments=[DG01], findings=[])
    utc = normalise_source(source, TabNames(), rule_sets(), timezone="UTC")
    local = normalise_source(source, TabNames(), rule_sets())
    assert utc.assessments[0].fields["updated_at"] == datetime(2025, 3, 25, 14, 30, tzinfo=UTC)
    assert local.assessments[0].fields["updated_at"] == datetime(2025, 3, 25, 7, 30, tzinfo=UTC)
    assert utc.assessments[0].row_hash != local.assessments[0].row_hash


# Skipping unchanged rows ------------------------------------------------------------------


def known_of(data):
    return {kind: {r.key: r.row_hash for r in data.rows(kind)} for kind in TAB_KINDS}


def parsed_keys(data):
    return {r.key for kind in TAB_KINDS for r in data.rows(kind) if r.parsed}


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
    columns = [c for c in tables.findings.c if c.name != "source"]
    with engine.connect() as conn:
        rows = {
            name: conn.execute(
                sa.select(*columns)
                .where(tables.findings.c.source == name)
                .order_by(tables.findings.c.finding_id)
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
            sa.select(tables.findings.c.finding_id).where(
                tables.findings.c.source == "a", tables.findings.c.deleted.is_(False)
            )
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
    row = unparsed_row("F01", 2, "abc")
    assert row == SourceRow("F01", 2, {}, {}, {}, "abc", parsed=False)
    with pytest.raises(AttributeError):
        row.key = "F02"  # type: ignore[misc]


def _ending_in_a_value(row: list[CellValue]) -> list[CellValue]:
    """`row` with its last cell filled (a finding's update time): a first load then hashes
    and reads its tab a column at a time."""
    return [*row[:-1], 45700.25]


def test_a_first_load_read_a_column_at_a_time_matches_row_by_row(monkeypatch):
    f = [_ending_in_a_value(row) for row in (F01, F02, F03, F04)]
    findings = [
        *f,
        ["F05", "DG01", "a1.1-2.3", "Đạt", "", "", 45700.5],  # item code not canonical
        ["F06", "DG01", "A9.9-9.9", "Đạt", "", "", 45700.5],  # unknown item
        ["F07", "DG09", "A1.1-2.1", "Đạt", "", "", 45700.5],  # unknown assessment
        ["F01", "DG01", "A1.1-2.4", "Đạt", "", "", 45700.5],  # duplicate key
        ["F08", "DG01", "A1.1-2.5", "đạt một phần", "", "", 45700.5],  # no partial in QĐ 6858
        [],
        ["F09", "DG01", "A1.1-3.1", "Đạt", "", "", 45700.5, "beyond the headers"],
        ["F10", "DG01", "A1.1-3.2", "Đạt", None, None, 45700.5],
        ["F 11", "DG01", "A1.1-3.3", "Đạt", "", "", 45700.5],  # a key that needs cleaning
        ["F12", "DG01", "A1.1-3.3", "Tốt", "", "", 45700.5],  # an unreadable result
    ]
    parsed: list[int] = []
    parse_row = _TabParser._parse_row

    def counted(self, row_number, *args, **kwargs):
        if self.tab.kind == TabKind.FINDINGS:
            parsed.append(row_number)
        return parse_row(self, row_number, *args, **kwargs)

    monkeypatch.setattr(_TabParser, "_parse_row", counted)
    by_columns = normalise(findings=findings)
    assert 2 not in parsed and 6 not in parsed, "clean findings skip the row-by-row road"
    # A `known` hash no row has: the findings are read row by row, as on a re-sync.
    by_rows = normalise(findings=findings, known={TabKind.FINDINGS: {"F99": "0" * 40}})
    assert by_columns.findings == by_rows.findings
    assert by_columns.rejections == by_rows.rejections
    assert by_columns.memos == by_rows.memos
    assert {r.key for r in by_columns.findings} >= {"F01", "F05", "F09", "F10"}
    assert {r.code for r in by_columns.rejections} >= {
        "unknown_item",
        "unknown_assessment",
        "duplicate_key",
        "partial_not_allowed",
    }
