"""Upserting normalised rows into real stores (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from hqsync.models import bulk, source_rows, tables
from hqsync.models.bulk import insert_many, update_many
from hqsync.models.source_rows import read_stored_rows
from hqsync.sync.ingest.counts import UpsertCounts
from hqsync.sync.ingest.store import upsert_source
from tests.ingest.catalogue import BV01, BV02, DG01, DG02, F01, F02, F03, F04
from tests.ingest.sheets import normalise, with_cell

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


def sync(engine, data, now, source="cantho") -> UpsertCounts:
    with engine.begin() as conn:
        return upsert_source(conn, source, data, now)


def findings(engine, source="cantho"):
    with engine.connect() as conn:
        stmt = sa.select(tables.findings).where(tables.findings.c.source == source)
        rows = conn.execute(stmt).mappings()
        return {r["finding_id"]: dict(r) for r in rows}


def scoring_flags(engine, source="cantho"):
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(tables.assessments.c.assessment_id, tables.assessments.c.needs_scoring).where(
                tables.assessments.c.source == source
            )
        )
        return {r[0]: r[1] for r in rows}


def clear_flags(engine):
    with engine.begin() as conn:
        conn.execute(sa.update(tables.assessments).values(needs_scoring=False))


def history(engine):
    with engine.connect() as conn:
        stmt = sa.select(tables.finding_changes).order_by(tables.finding_changes.c.id)
        rows = conn.execute(stmt).mappings()
        return [
            (r["source"], r["finding_id"], r["old_result"], r["new_result"], r["seen_at"])
            for r in rows
        ]


def rejected(engine, source="cantho"):
    with engine.connect() as conn:
        stmt = sa.select(tables.rejected_rows).where(tables.rejected_rows.c.source == source)
        rows = conn.execute(stmt).mappings()
        return [dict(r) for r in rows]


def counts(result: UpsertCounts, tab: str) -> dict[str, int]:
    t = result.tab(tab)
    return {
        k: v
        for k, v in vars(t).items()
        if v and k in ("inserted", "updated", "deleted", "restored", "unchanged", "rejected")
    }


def test_first_sync_inserts_every_row_with_raw_values(engine):
    result = sync(engine, normalise(), T0)
    assert counts(result, "hospitals") == {"inserted": 2}
    assert counts(result, "assessments") == {"inserted": 2}
    assert counts(result, "findings") == {"inserted": 4}
    assert result.read == 8 and result.changed
    stored = findings(engine)
    assert set(stored) == {"F01", "F02", "F03", "F04"}
    f02 = stored["F02"]
    assert (f02["result"], f02["item_code"], f02["note"]) == ("not_met", "A1.1-2.2", "thiếu biển")
    assert f02["raw"]["Kết quả"] == "Không đạt"
    assert f02["row_number"] == 3 and not f02["deleted"]
    assert f02["first_seen_at"] == T0 and f02["changed_at"] == T0
    with engine.connect() as conn:
        a, h = tables.assessments, tables.hospitals
        dg02 = conn.execute(sa.select(a).where(a.c.assessment_id == "DG02")).one()
        bv01 = conn.execute(sa.select(h).where(h.c.hospital_id == "BV01")).one()
    assert dg02.updated_at == datetime(2025, 4, 2, 5, 0, tzinfo=UTC)
    assert dg02.standard == "TT35" and dg02.needs_scoring
    assert bv01.has_obstetrics is True and bv01.ownership == "public"
    assert history(engine) == []


@pytest.mark.parametrize("with_known_hashes", [False, True])
def test_unchanged_resync_writes_nothing(engine, with_known_hashes):
    sync(engine, normalise(), T0)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.split(None, 1)[0].upper())

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        if with_known_hashes:
            with engine.begin() as conn:
                stored = read_stored_rows(conn, "cantho")
                data = normalise(known=stored.known())
                result = upsert_source(conn, "cantho", data, T1, stored=stored)
        else:
            result = sync(engine, normalise(), T1)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements), statements
    assert result.unchanged == 8 and not result.changed
    assert all(f["changed_at"] == T0 for f in findings(engine).values())


def test_a_changed_result_updates_the_row_keeps_history_and_flags_its_assessment(engine):
    sync(engine, normalise(), T0)
    clear_flags(engine)
    edited = with_cell(with_cell(F02, 3, "Đạt"), 6, "06/01/2026 09:00")
    result = sync(engine, normalise(findings=[F01, edited, F03, F04]), T1)
    assert counts(result, "findings") == {"updated": 1, "unchanged": 3}
    f02 = findings(engine)["F02"]
    assert f02["result"] == "met" and f02["changed_at"] == T1 and f02["first_seen_at"] == T0
    assert f02["updated_at"] == datetime(2026, 1, 6, 2, 0, tzinfo=UTC)
    assert history(engine) == [("cantho", "F02", "not_met", "met", T1)]
    with engine.connect() as conn:
        change = conn.execute(sa.select(tables.finding_changes)).one()
    assert change.sheet_updated_at == datetime(2026, 1, 6, 2, 0, tzinfo=UTC)
    assert scoring_flags(engine) == {"DG01": True, "DG02": False}


def test_a_note_change_is_an_update_without_history(engine):
    sync(engine, normalise(), T0)
    result = sync(engine, normalise(findings=[F01, with_cell(F02, 4, "đã sửa"), F03, F04]), T1)
    assert counts(result, "findings") == {"updated": 1, "unchanged": 3}
    assert history(engine) == []


def test_vanished_rows_are_tombstoned_then_restored(engine):
    sync(engine, normalise(), T0)
    clear_flags(engine)
    gone = sync(engine, normalise(findings=[F01, F02, F04]), T1)
    assert counts(gone, "findings") == {"deleted": 1, "unchanged": 3}
    f03 = findings(engine)["F03"]
    assert f03["deleted"] and f03["deleted_at"] == T1 and f03["result"] == "na"
    assert scoring_flags(engine) == {"DG01": False, "DG02": True}

    again = sync(engine, normalise(findings=[F01, F02, F04]), T2)
    assert not again.changed  # already tombstoned: nothing more to do

    clear_flags(engine)
    back = sync(engine, normalise(), T2)
    assert counts(back, "findings") == {"restored": 1, "unchanged": 3}
    f03 = findings(engine)["F03"]
    assert not f03["deleted"] and f03["deleted_at"] is None and f03["changed_at"] == T2
    assert f03["first_seen_at"] == T0
    assert history(engine) == [
        ("cantho", "F03", "na", None, T1),
        ("cantho", "F03", None, "na", T2),
    ]
    assert scoring_flags(engine) == {"DG01": False, "DG02": True}


def test_a_tombstoned_assessment_is_flagged_so_its_scores_can_go(engine):
    sync(engine, normalise(), T0)
    clear_flags(engine)
    result = sync(engine, normalise(assessments=[DG01], findings=[F01, F02]), T1)
    assert counts(result, "assessments") == {"deleted": 1, "unchanged": 1}
    assert counts(result, "findings") == {"deleted": 2, "unchanged": 2}
    assert scoring_flags(engine) == {"DG01": False, "DG02": True}


def test_a_hospital_profile_change_flags_its_assessments(engine):
    sync(engine, normalise(), T0)
    clear_flags(engine)
    result = sync(engine, normalise(hospitals=[with_cell(BV01, 4, "Không"), BV02]), T1)
    assert counts(result, "hospitals") == {"updated": 1, "unchanged": 1}
    assert result.flagged == 1
    assert scoring_flags(engine) == {"DG01": True, "DG02": False}


def test_an_assessment_change_flags_only_itself(engine):
    sync(engine, normalise(), T0)
    clear_flags(engine)
    sync(engine, normalise(assessments=[DG01, with_cell(DG02, 6, "Đã nộp")]), T1)
    assert scoring_flags(engine) == {"DG01": False, "DG02": True}


def test_rejected_rows_are_replaced_kept_and_gone_once_fixed(engine):
    bad = with_cell(F02, 3, "Tốt")
    sync(engine, normalise(findings=[F01, bad, F03, F04, ["F05", "DG99", "1.1", "Đạt"]]), T0)
    first = {(r["tab"], r["row_number"], r["key"]): r for r in rejected(engine)}
    assert set(first) == {("Findings", 3, "F02"), ("Findings", 6, "F05")}
    f02 = first["Findings", 3, "F02"]
    assert (
        f02["column"] == "Kết quả" and "'Tốt'" in f02["reason_en"] and "'Tốt'" in f02["reason_vi"]
    )
    assert f02["raw"]["Kết quả"] == "Tốt" and f02["first_seen_at"] == T0

    same = sync(engine, normalise(findings=[F01, bad, F03, F04, ["F05", "DG99", "1.1", "Đạt"]]), T1)
    assert not same.rejections_changed and not same.changed

    partly = sync(engine, normalise(findings=[F01, bad, F03, F04]), T2)
    assert partly.rejections_changed
    (left,) = rejected(engine)
    assert left["key"] == "F02" and left["first_seen_at"] == T0  # first seen is kept

    sync(engine, normalise(), T2)
    assert rejected(engine) == []


def test_a_row_that_turns_bad_keeps_its_last_good_version(engine):
    sync(engine, normalise(), T0)
    clear_flags(engine)
    result = sync(engine, normalise(findings=[F01, with_cell(F02, 3, "Tốt"), F03, F04]), T1)
    assert counts(result, "findings") == {"unchanged": 3, "rejected": 1}
    assert result.findings.read == 4
    f02 = findings(engine)["F02"]
    assert f02["result"] == "not_met" and not f02["deleted"] and f02["changed_at"] == T0
    assert scoring_flags(engine) == {"DG01": False, "DG02": False}


def test_two_sources_with_colliding_ids_are_kept_apart(engine):
    sync(engine, normalise(), T0, source="district-a")
    other = normalise(findings=[with_cell(F01, 3, "Không đạt"), F02, F03, F04])
    result = sync(engine, other, T0, source="district-b")
    assert result.inserted == 8
    assert findings(engine, "district-a")["F01"]["result"] == "met"
    assert findings(engine, "district-b")["F01"]["result"] == "not_met"

    sync(engine, normalise(findings=[F02]), T1, source="district-a")
    assert findings(engine, "district-a")["F01"]["deleted"]
    assert not findings(engine, "district-b")["F01"]["deleted"]
    sync(engine, normalise(findings=[["F09", "DG99", "1.1", "Đạt"]]), T1, source="district-a")
    assert [r["key"] for r in rejected(engine, "district-a")] == ["F09"]
    assert rejected(engine, "district-b") == []


def test_moved_rows_update_their_row_number_only(engine):
    sync(engine, normalise(), T0)
    result = sync(engine, normalise(findings=[F04, F01, F02, F03]), T1)
    assert counts(result, "findings") == {"unchanged": 4}
    stored = findings(engine)
    assert stored["F04"]["row_number"] == 2 and stored["F01"]["row_number"] == 3
    assert stored["F04"]["changed_at"] == T0


def test_counts_for_the_run_log(engine):
    sync(engine, normalise(), T0)
    result = sync(engine, normalise(findings=[F01, with_cell(F02, 3, "?")]), T1)
    rows = result.as_rows()
    assert rows["read"] == 6 and rows["rejected"] == 1 and rows["deleted"] == 2
    assert rows["findings_deleted"] == 2 and rows["findings_rejected"] == 1
    assert rows["unchanged"] == 5 and "hospitals_inserted" not in rows
    assert all(isinstance(v, int) for v in rows.values())


def test_a_failing_transaction_leaves_the_store_as_it_was(engine):
    sync(engine, normalise(), T0)
    before = findings(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        upsert_source(conn, "cantho", normalise(findings=[F01]), T1)
        raise RuntimeError("crash after the writes, before commit")
    assert findings(engine) == before


def test_naive_now_is_refused(engine):
    with pytest.raises(ValueError, match="aware"), engine.begin() as conn:
        upsert_source(conn, "cantho", normalise(), datetime(2026, 1, 1))


WRITTEN = [
    {
        "source": "bulk",
        "finding_id": f"F{n}",
        "assessment_id": "DG01",
        "item_code": "A1.1-1.1",
        "result": "met",
        "note": note,
        "evidence": None,
        "updated_at": updated,
        "row_number": n + 2,
        "raw": {"Kết quả": "Đạt", "n": n, "x": None, "d": "2025-01-02"},
        "extra": {},
        "row_hash": f"h{n}",
        "deleted": n == 2,
        "first_seen_at": T0,
        "changed_at": T1,
        "deleted_at": T2 if n == 2 else None,
    }
    for n, (note, updated) in enumerate(
        [
            ("ghi chú\nhai dòng", None),
            (None, datetime(2025, 3, 1, 1, 2, 3, 456789, tzinfo=UTC)),
            ("'quoted' \\ tab\t", T0.astimezone(timezone(timedelta(hours=7)))),
        ]
    )
]


@pytest.mark.parametrize("driver_level", [True, False])
def test_bulk_writes_store_exactly_what_sqlalchemy_would(engine, driver_level, monkeypatch):
    """The driver-level executemany / COPY path (and the fallback for other drivers) against
    SQLAlchemy's own insert."""
    table = tables.findings
    rows = [dict(r) for r in WRITTEN]
    if not driver_level:
        monkeypatch.setattr(bulk, "PLACEHOLDERS", {})
    with engine.begin() as conn:
        insert_many(conn, table, rows)
        conn.execute(table.insert(), [{**r, "source": "plain"} for r in WRITTEN])
    assert {k: {**v, "source": "plain"} for k, v in findings(engine, "bulk").items()} == findings(
        engine, "plain"
    )
    with engine.begin() as conn:
        update_many(
            conn,
            table,
            "finding_id",
            "bulk",
            [{"b_key": "F1", "result": "na", "deleted": True, "deleted_at": T2}],
        )
    stored = findings(engine, "bulk")["F1"]
    assert (stored["result"], stored["deleted"], stored["deleted_at"]) == ("na", True, T2)
    assert findings(engine, "bulk")["F0"]["result"] == "met"


def test_an_update_of_rows_setting_different_columns_sets_each_rows_own(engine):
    table = tables.findings
    with engine.begin() as conn:
        insert_many(conn, table, [dict(r) for r in WRITTEN])
    before = findings(engine, "bulk")
    rows = [
        {"b_key": "F0", "result": "na", "assessment_id": "DG9"},
        {"b_key": "F1", "result": "not_met"},
        {"b_key": "F2", "result": "partial", "assessment_id": "DG8"},
    ]
    with engine.begin() as conn:
        update_many(conn, table, "finding_id", "bulk", rows)
    after = findings(engine, "bulk")
    assert (after["F0"]["result"], after["F0"]["assessment_id"]) == ("na", "DG9")
    assert (after["F1"]["result"], after["F1"]["assessment_id"]) == (
        "not_met",
        before["F1"]["assessment_id"],
    )
    assert (after["F2"]["result"], after["F2"]["assessment_id"]) == ("partial", "DG8")
    unchanged = {"result", "assessment_id"}
    for key in after:
        assert {k: v for k, v in after[key].items() if k not in unchanged} == {
            k: v for k, v in before[key].items() if k not in unchanged
        }


def test_the_findings_indexes_are_the_ones_an_update_may_leave_alone():
    """`diff._leave_out_unchanged_indexed` leaves assessment_id and evidence out of an UPDATE
    that would not change them: a new index on another column must be added there too."""
    indexed = {c.name for index in tables.findings.indexes for c in index.columns}
    assert indexed == {"source", "assessment_id", "evidence"}


def test_refreshing_statistics_after_a_big_load_stays_inside_the_transaction(engine, monkeypatch):
    monkeypatch.setattr(source_rows, "ANALYZE_AFTER", 1)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        upsert_source(conn, "cantho", normalise(), T0)
        raise RuntimeError("crash after the writes, before commit")
    assert findings(engine) == {}
    result = sync(engine, normalise(), T0)
    assert result.inserted == 8 and set(findings(engine)) == {"F01", "F02", "F03", "F04"}


def test_known_hashes_leave_out_tombstoned_rows_so_a_returning_row_is_restored(engine):
    sync(engine, normalise(), T0)
    sync(engine, normalise(findings=[F02, F03, F04]), T1)
    with engine.begin() as conn:
        stored = read_stored_rows(conn, "cantho")
        assert stored.tabs["findings"]["F01"][1] is True
        assert set(stored.known()["findings"]) == {"F02", "F03", "F04"}
        assert stored.known() == {
            kind: {key: state[0] for key, state in rows.items() if not state[1]}
            for kind, rows in stored.tabs.items()
        }
        result = upsert_source(conn, "cantho", normalise(known=stored.known()), T2, stored=stored)
    assert counts(result, "findings") == {"restored": 1, "unchanged": 3}
    assert not findings(engine)["F01"]["deleted"]
