"""The rules of a sync without a database: stored rows + normalised rows → the writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from hqsync.config.errors import StaleMemoError, StoreError
from hqsync.config.vocabulary import KEY_FIELDS, TabKind
from hqsync.models.plans import FindingBefore, StoredRow
from hqsync.sync.ingest import diff
from hqsync.sync.ingest.memo import DIGEST_BYTES, SETTLED, Settled, short_digest
from hqsync.sync.ingest.rows import Rejection, SourceRow

NOW = datetime(2026, 2, 1, 3, 0, tzinfo=UTC)
SOURCE = "cantho"


def h(n: int) -> str:
    """A row hash (64 hex digits, as the hasher makes them; a memo keeps the first 16)."""
    return f"{n:016x}" * 4


def finding(key: str, number: int, digest: int, result: str = "met", assessment: str = "DG1"):
    fields = {"finding_id": key, "assessment_id": assessment, "result": result}
    return SourceRow(key, number, fields, {"Kết quả": result}, {}, h(digest))


def rejection(key: str | None, number: int | None, kind: TabKind = TabKind.FINDINGS) -> Rejection:
    return Rejection("Findings", number, "Kết quả", key, "bad", "sai", {}, tab_kind=kind)


def settled(rows: Mapping[int, int], count_rows: int, expected_live: int) -> Settled:
    """Settled rows: row number → hash number, among `count_rows` data rows."""
    states = bytearray(count_rows)
    digests = bytearray(count_rows * DIGEST_BYTES)
    for number, digest in rows.items():
        states[number - 2] = SETTLED
        start = (number - 2) * DIGEST_BYTES
        digests[start : start + DIGEST_BYTES] = short_digest(h(digest))
    return Settled(len(rows), bytes(states), bytes(digests), expected_live)


def decide(
    kind: TabKind,
    rows: Sequence[SourceRow],
    stored: Mapping[str, StoredRow],
    rejected: Sequence[Rejection] = (),
    before: Mapping[str, FindingBefore] | None = None,
) -> diff.TabDiff:
    """The diff of one tab whose every stored row is known (as `store.py` runs it then)."""
    live_before = diff.known_live(stored, None, complete=True)
    assert live_before is not None
    comparison = diff.compare_rows(source=SOURCE, kind=kind, rows=rows, stored=stored)
    vanished = diff.vanished_keys(
        comparison, stored, complete=True, settled=None, live_before=live_before
    )
    assert vanished is not None
    tombstones = diff.tombstone_keys(vanished, rejected)
    asked = set(diff.history_keys(comparison, tombstones)) if kind == TabKind.FINDINGS else set()
    given = {key: value for key, value in (before or {}).items() if key in asked}
    assert asked <= set(given), "the test must give what the store held of these findings"
    return diff.plan_tab(
        source=SOURCE,
        kind=kind,
        comparison=comparison,
        tombstones=tombstones,
        before=given,
        now=NOW,
        rejected=len(rejected),
        settled_count=0,
        live_before=live_before,
    )


@dataclass(frozen=True)
class Case:
    rows: list[SourceRow]
    stored: dict[str, StoredRow]
    before: dict[str, FindingBefore] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    kind: TabKind = TabKind.FINDINGS
    # Expected:
    inserts: list[str] = field(default_factory=list)
    updates: list[str] = field(default_factory=list)
    tombstones: list[str] = field(default_factory=list)
    moves: list[tuple[str, int]] = field(default_factory=list)
    history: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    live: int = 0


CASES = {
    "a new row is inserted": Case(
        rows=[finding("F1", 2, 1)],
        stored={},
        inserts=["F1"],
        touched={"DG1"},
        counts={"read": 1, "inserted": 1},
        live=1,
    ),
    "a row stored as it is is unchanged": Case(
        rows=[finding("F1", 2, 1)],
        stored={"F1": (h(1), False, 2)},
        counts={"read": 1, "unchanged": 1},
        live=1,
    ),
    "a changed note is an update without history": Case(
        rows=[finding("F1", 2, 2)],
        stored={"F1": (h(1), False, 2)},
        before={"F1": ("met", "DG1", None)},
        updates=["F1"],
        touched={"DG1"},
        counts={"read": 1, "updated": 1},
        live=1,
    ),
    "a changed result is an update with history": Case(
        rows=[finding("F1", 2, 2, result="not_met")],
        stored={"F1": (h(1), False, 2)},
        before={"F1": ("met", "DG1", None)},
        updates=["F1"],
        history=[("F1", "met", "not_met")],
        touched={"DG1"},
        counts={"read": 1, "updated": 1},
        live=1,
    ),
    "a vanished row is tombstoned, with history": Case(
        rows=[finding("F1", 2, 1)],
        stored={"F1": (h(1), False, 2), "F2": (h(2), False, 3)},
        before={"F2": ("not_met", "DG2", None)},
        tombstones=["F2"],
        history=[("F2", "not_met", None)],
        touched={"DG2"},
        counts={"read": 1, "unchanged": 1, "deleted": 1},
        live=1,
    ),
    "a tombstoned row that stays away is left alone": Case(
        rows=[finding("F1", 2, 1)],
        stored={"F1": (h(1), False, 2), "F2": (h(2), True, 3)},
        counts={"read": 1, "unchanged": 1},
        live=1,
    ),
    "a tombstoned row that comes back is restored, with history": Case(
        rows=[finding("F1", 2, 1), finding("F2", 3, 2)],
        stored={"F1": (h(1), False, 2), "F2": (h(2), True, 3)},
        before={"F2": ("met", "DG1", None)},
        updates=["F2"],
        history=[("F2", None, "met")],
        touched={"DG1"},
        counts={"read": 2, "unchanged": 1, "restored": 1},
        live=2,
    ),
    "a row on another sheet row only moves": Case(
        rows=[finding("F2", 2, 2), finding("F1", 3, 1)],
        stored={"F1": (h(1), False, 2), "F2": (h(2), False, 3)},
        moves=[("F2", 2), ("F1", 3)],
        counts={"read": 2, "unchanged": 2},
        live=2,
    ),
    "a finding moved to another assessment touches both": Case(
        rows=[finding("F1", 2, 2, assessment="DG2")],
        stored={"F1": (h(1), False, 2)},
        before={"F1": ("met", "DG1", None)},
        updates=["F1"],
        touched={"DG1", "DG2"},
        counts={"read": 1, "updated": 1},
        live=1,
    ),
    "a row that turned bad keeps its last good version": Case(
        rows=[finding("F1", 2, 1)],
        stored={"F1": (h(1), False, 2), "F2": (h(2), False, 3)},
        rejected=[rejection("F2", 3)],
        counts={"read": 2, "unchanged": 1, "rejected": 1},
        live=2,
    ),
    "a rejected row without a key does not keep a vanished row": Case(
        rows=[],
        stored={"F2": (h(2), False, 3)},
        before={"F2": ("na", "DG1", None)},
        rejected=[rejection(None, 3)],
        tombstones=["F2"],
        history=[("F2", "na", None)],
        touched={"DG1"},
        counts={"read": 1, "deleted": 1, "rejected": 1},
        live=0,
    ),
    "an assessment changes without history": Case(
        kind=TabKind.ASSESSMENTS,
        rows=[SourceRow("DG1", 2, {"assessment_id": "DG1"}, {}, {}, h(5))],
        stored={"DG1": (h(4), False, 2), "DG2": (h(6), False, 3)},
        updates=["DG1"],
        tombstones=["DG2"],
        counts={"read": 1, "updated": 1, "deleted": 1},
        live=1,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_rules_of_a_sync(case: Case):
    result = decide(case.kind, case.rows, case.stored, case.rejected, case.before)
    plan = result.plan
    assert [v[KEY_FIELDS[case.kind]] for v in plan.inserts] == case.inserts
    assert [v["b_key"] for v in plan.updates] == case.updates
    assert [v["b_key"] for v in plan.tombstones] == case.tombstones
    assert [(v["b_key"], v["row_number"]) for v in plan.moves] == case.moves
    assert [(v["finding_id"], v["old_result"], v["new_result"]) for v in plan.history] == (
        case.history
    )
    assert result.touched == case.touched
    assert {k: v for k, v in vars(result.counts).items() if v} == case.counts
    assert result.written == {*case.inserts, *case.updates, *case.tombstones}
    assert result.live == case.live


UPDATE_CASES = {
    # (stored assessment, stored evidence), (new assessment, new evidence) → columns set
    "both as stored: neither is set": (("DG1", "a.pdf"), ("DG1", "a.pdf"), set()),
    "a new assessment is set": (("DG1", "a.pdf"), ("DG2", "a.pdf"), {"assessment_id"}),
    "new evidence is set": (("DG1", None), ("DG1", "a.pdf"), {"evidence"}),
    "evidence taken away is set": (("DG1", "a.pdf"), ("DG1", None), {"evidence"}),
    "both new: both are set": (("DG1", None), ("DG2", "b.pdf"), {"assessment_id", "evidence"}),
}


@pytest.mark.parametrize("case", UPDATE_CASES.values(), ids=UPDATE_CASES.keys())
def test_an_update_sets_the_indexed_columns_only_when_they_change(case):
    (assessment, evidence), (new_assessment, new_evidence), indexed = case
    row = finding("F1", 2, 9, result="na", assessment=new_assessment)
    row = row._replace(fields={**row.fields, "evidence": new_evidence})
    result = decide(
        TabKind.FINDINGS,
        [row],
        {"F1": (h(1), False, 2)},
        before={"F1": ("met", assessment, evidence)},
    )
    (update,) = result.plan.updates
    assert {"assessment_id", "evidence"} & set(update) == indexed
    assert update["result"] == "na" and update["row_hash"] == h(9)
    for name in indexed:  # what is set is the new value
        assert update[name] == row.fields[name]
    assert result.touched == {assessment, new_assessment}


def test_written_values_are_what_the_store_keeps():
    stored = {"F1": (h(1), False, 2), "F2": (h(2), False, 3)}
    rows = [finding("F1", 2, 9, result="na"), finding("F3", 4, 3)]
    result = decide(
        TabKind.FINDINGS,
        rows,
        stored,
        before={"F1": ("met", "DG1", None), "F2": ("met", "DG1", None)},
    )
    (insert,) = result.plan.inserts
    assert insert == {
        "finding_id": "F3",
        "assessment_id": "DG1",
        "result": "met",
        "raw": {"Kết quả": "met"},
        "extra": {},
        "row_hash": h(3),
        "row_number": 4,
        "deleted": False,
        "deleted_at": None,
        "changed_at": NOW,
        "source": SOURCE,
        "first_seen_at": NOW,
    }
    (update,) = result.plan.updates
    assert update["b_key"] == "F1" and "first_seen_at" not in update and "source" not in update
    assert (update["result"], update["changed_at"], update["deleted"]) == ("na", NOW, False)
    (tombstone,) = result.plan.tombstones
    assert tombstone == {"b_key": "F2", "deleted": True, "deleted_at": NOW, "changed_at": NOW}
    assert result.plan.history == [
        {
            "source": SOURCE,
            "finding_id": "F1",
            "old_result": "met",
            "new_result": "na",
            "seen_at": NOW,
            "sheet_updated_at": None,
        },
        {
            "source": SOURCE,
            "finding_id": "F2",
            "old_result": "met",
            "new_result": None,
            "seen_at": NOW,
            "sheet_updated_at": None,
        },
    ]


def test_written_assessments_are_flagged_for_scoring():
    rows = [SourceRow("DG3", 2, {"assessment_id": "DG3"}, {}, {}, h(3))]
    result = decide(TabKind.ASSESSMENTS, rows, {"DG1": (h(1), False, 5)})
    assert result.plan.inserts[0]["needs_scoring"] is True
    assert result.plan.tombstones[0]["needs_scoring"] is True
    hospitals = decide(TabKind.HOSPITALS, [], {"BV1": (h(1), False, 2)})
    assert "needs_scoring" not in hospitals.plan.tombstones[0]
    assert hospitals.plan.history == [] and hospitals.touched == set()


def test_a_row_skipped_as_unchanged_must_still_be_stored_as_it_was():
    skipped = SourceRow("F1", 2, {}, {}, {}, h(1), parsed=False)
    moved = SourceRow("F1", 3, {}, {}, {}, h(1), parsed=False)
    comparison = diff.compare_rows(
        source=SOURCE, kind=TabKind.FINDINGS, rows=[moved], stored={"F1": (h(1), False, 2)}
    )
    assert (comparison.unchanged, comparison.moves, comparison.changed) == (1, [("F1", 3)], [])
    for stored in ({}, {"F1": (h(2), False, 2)}, {"F1": (h(1), True, 2)}):
        with pytest.raises(StoreError, match="skipped as unchanged"):
            diff.compare_rows(source=SOURCE, kind=TabKind.FINDINGS, rows=[skipped], stored=stored)


GUARD = {
    "a changed row takes the key of a settled row": ([("F1", 5)], {"F1": (h(1), False, 2)}, True),
    "a rejected row takes it": ([("F1", 0)], {"F1": (h(1), False, 2)}, True),
    "the row is where it was": ([("F1", 2)], {"F1": (h(1), False, 2)}, False),
    "the stored row is tombstoned": ([("F1", 5)], {"F1": (h(1), True, 2)}, False),
    "the stored row is not settled": ([("F1", 5)], {"F1": (h(1), False, 3)}, False),
    "the settled row holds another hash": ([("F1", 5)], {"F1": (h(7), False, 2)}, False),
    "a new key": ([("F9", 5)], {"F1": (h(1), False, 2)}, False),
}


@pytest.mark.parametrize(("placed", "stored", "stale"), GUARD.values(), ids=GUARD.keys())
def test_the_duplicate_guard_on_settled_rows(placed, stored, stale):
    memo = settled({2: 1}, count_rows=4, expected_live=1)

    def guard() -> None:
        diff.guard_settled(
            source=SOURCE, kind=TabKind.FINDINGS, placed=placed, stored=stored, settled=memo
        )

    if stale:
        with pytest.raises(StaleMemoError, match="without the memo"):
            guard()
    else:
        guard()


def test_placed_keys_are_those_of_usable_and_rejected_rows():
    rows = [finding("F1", 2, 1)]
    rejected = [rejection("F2", 3), rejection(None, 4), rejection("F5", None)]
    assert diff.placed_keys(rows, rejected) == [("F1", 2), ("F2", 3), ("F5", 0)]


def test_live_rows_before_come_from_the_memo_or_the_stored_rows():
    stored = {"F1": (h(1), False, 2), "F2": (h(2), True, 3)}
    assert diff.known_live(stored, None, complete=True) == 1
    assert diff.known_live(stored, None, complete=False) is None
    memo = settled({2: 1}, count_rows=2, expected_live=7)
    assert diff.known_live(stored, memo, complete=False) == 7


def test_vanished_rows_of_a_partly_read_tab_are_found_by_counting_then_among_live_rows():
    # Only the keys of the sheet's rows were looked up: F1 on row 2 is settled (not among the
    # rows), F2 is on the sheet, F3 is stored live but gone from the sheet.
    rows = [finding("F2", 3, 2)]
    stored = {"F2": (h(2), False, 3)}
    memo = settled({2: 1}, count_rows=2, expected_live=3)
    comparison = diff.compare_rows(source=SOURCE, kind=TabKind.FINDINGS, rows=rows, stored=stored)
    assert (
        diff.vanished_keys(comparison, stored, complete=False, settled=memo, live_before=2) == set()
    )
    assert (
        diff.vanished_keys(comparison, stored, complete=False, settled=memo, live_before=3) is None
    )
    live = [("F1", h(1), 2), ("F2", h(2), 3), ("F3", h(3), 4)]
    assert diff.vanished_among(live, comparison, memo) == {"F3"}
    assert diff.vanished_among(live, comparison, None) == {"F1", "F3"}


def test_rejections_become_rows_of_the_source():
    (row,) = diff.rejection_rows(SOURCE, [rejection("F2", 3)])
    assert row == {
        "source": SOURCE,
        "tab": "Findings",
        "row_number": 3,
        "column": "Kết quả",
        "key": "F2",
        "reason_en": "bad",
        "reason_vi": "sai",
        "raw": {},
    }
