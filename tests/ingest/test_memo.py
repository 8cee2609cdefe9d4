"""Memos: a re-sync that trusts the last sync's memo stores exactly what a full re-read does.

Every case syncs the same sheets into two sources of one real store: one as the pipeline does
(with the memo, retrying without it on StaleMemoError) and one reading every stored hash. After
every step both sources must hold the same rows, history, rejections and counts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hqsync.config.errors import StaleMemoError
from hqsync.config.settings import TabNames
from hqsync.models import tables
from hqsync.models.store import create_store_engine, migrate
from hqsync.sync.ingest import diff as diff_module
from hqsync.sync.ingest import memo as memo_module
from hqsync.sync.ingest.counts import UpsertCounts
from hqsync.sync.ingest.memo import SETTLED, MemoScan, TabMemo, text_digest
from hqsync.sync.ingest.store import store_snapshot
from tests.ingest.backends import memory_snapshot
from tests.ingest.catalogue import A_HEAD, BV01, BV02, DG01, DG02, F_HEAD, H_HEAD
from tests.ingest.sheets import rule_sets, with_cell

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
Row = list[Any]


def finding_rows(count: int = 40) -> list[Row]:
    """`count` valid findings: QĐ 6858 items of DG01, then TT 35 items of DG02."""
    qd = rule_sets()["QD6858"]
    qd_codes = [f"{u.code}-{level}.{n}" for u in qd.units for level in (1, 2) for n in (1, 2)]
    tt_codes = [u.code for u in rule_sets()["TT35"].units]
    rows: list[Row] = []
    for n in range(count):
        if n % 2 == 0:
            rows.append([f"F{n:03d}", "DG01", qd_codes[n], "Đạt", "", "", 45700.5])
        else:
            rows.append([f"F{n:03d}", "DG02", tt_codes[n % len(tt_codes)], "KĐ", None, None, None])
    return rows


def sheet(
    findings: list[Row],
    assessments: list[Row] | None = None,
    findings_head: Row | None = None,
) -> dict[str, list[Row]]:
    tabs = TabNames()
    return {
        tabs.hospitals: [H_HEAD, BV01, BV02],
        tabs.assessments: [A_HEAD, *(assessments or [DG01, DG02])],
        tabs.findings: [findings_head or F_HEAD, *findings],
    }


def sync(
    engine: sa.Engine, source: str, cells: dict[str, list[Row]], now: datetime, *, memos: bool
) -> UpsertCounts:
    """One sync as the pipeline runs it (retrying without the memo when it is stale)."""
    snapshot = memory_snapshot(cells)

    def attempt(use_memos: bool) -> UpsertCounts:
        with engine.begin() as conn:
            return store_snapshot(
                conn,
                source,
                snapshot,
                tabs=TabNames(),
                rule_sets=rule_sets(),
                timezone="Asia/Ho_Chi_Minh",
                now=now,
                use_memos=use_memos,
            )

    try:
        return attempt(memos)
    except StaleMemoError:
        return attempt(False)


def state(engine: sa.Engine, source: str) -> dict[str, Any]:
    """Everything the store holds of a source, without the source's name."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in (tables.hospitals, tables.assessments, tables.findings):
            rows = conn.execute(sa.select(table).where(table.c.source == source)).mappings()
            out[table.name] = sorted(
                sorted((k, repr(v)) for k, v in row.items() if k != "source") for row in rows
            )
        changes = conn.execute(
            sa.select(
                tables.finding_changes.c.finding_id,
                tables.finding_changes.c.old_result,
                tables.finding_changes.c.new_result,
                tables.finding_changes.c.seen_at,
                tables.finding_changes.c.sheet_updated_at,
            ).where(tables.finding_changes.c.source == source)
        )
        out["history"] = sorted(map(repr, changes))
        rejected = conn.execute(
            sa.select(
                tables.rejected_rows.c.tab,
                tables.rejected_rows.c.row_number,
                tables.rejected_rows.c.column,
                tables.rejected_rows.c.key,
                tables.rejected_rows.c.reason_en,
            ).where(tables.rejected_rows.c.source == source)
        )
        out["rejected"] = sorted(map(repr, rejected))
    return out


class Twins:
    """Two sources fed the same sheets: `memo` as the pipeline syncs, `plain` without memos."""

    def __init__(self, engine: sa.Engine, prefix: str = "") -> None:
        self.engine = engine
        self.memo = f"{prefix}memo"
        self.plain = f"{prefix}plain"
        self.now = T0

    def sync(self, cells: dict[str, list[Row]]) -> UpsertCounts:
        self.now += timedelta(hours=1)
        with_memo = sync(self.engine, self.memo, cells, self.now, memos=True)
        without = sync(self.engine, self.plain, cells, self.now, memos=False)
        assert with_memo == without
        assert state(self.engine, self.memo) == state(self.engine, self.plain)
        return with_memo


def _swap(rows: list[Row], i: int, j: int) -> list[Row]:
    rows = [list(r) for r in rows]
    rows[i], rows[j] = rows[j], rows[i]
    return rows


Edit = Callable[[list[Row]], dict[str, list[Row]]]

EDITS: dict[str, Edit] = {
    "one result changed": lambda f: sheet([*f[:9], with_cell(f[9], 3, "Đạt"), *f[10:]]),
    "a key changed": lambda f: sheet([*f[:20], with_cell(f[20], 0, "F999"), *f[21:]]),
    "a row deleted in the middle": lambda f: sheet([*f[:17], *f[18:]]),
    "a row inserted at the top": lambda f: sheet([with_cell(f[0], 0, "F900"), *f]),
    "a new row at the bottom": lambda f: sheet([*f, with_cell(f[0], 0, "F901")]),
    "an early row takes a later unchanged key": lambda f: sheet(
        [*f[:3], with_cell(f[3], 0, f[30][0]), *f[4:]]
    ),
    "a late row takes an earlier unchanged key": lambda f: sheet(
        [*f[:33], with_cell(f[33], 0, f[2][0]), *f[34:]]
    ),
    "a late bad row takes an earlier unchanged key": lambda f: sheet(
        [*f[:33], with_cell(with_cell(f[33], 0, f[2][0]), 3, "???"), *f[34:]]
    ),
    "an early bad row takes a later unchanged key": lambda f: sheet(
        [*f[:3], with_cell(with_cell(f[3], 0, f[30][0]), 3, "???"), *f[4:]]
    ),
    "a row turns bad": lambda f: sheet([*f[:12], with_cell(f[12], 3, "Tốt"), *f[13:]]),
    "an item code unknown": lambda f: sheet([*f[:5], with_cell(f[5], 2, "Z9.9"), *f[6:]]),
    "an assessment changes standard": lambda f: sheet(
        f, assessments=[DG01, with_cell(DG02, 2, "QĐ 6858")]
    ),
    "an assessment rejected": lambda f: sheet(f, assessments=[DG01, with_cell(DG02, 1, "BV77")]),
    "an assessment's status changed": lambda f: sheet(
        f, assessments=[DG01, with_cell(DG02, 6, "Nháp")]
    ),
    "columns reordered": lambda f: sheet(
        [[r[1], r[0], *r[2:]] for r in f], findings_head=[F_HEAD[1], F_HEAD[0], *F_HEAD[2:]]
    ),
    "all findings removed": lambda f: sheet([]),
    "rows sorted backwards": lambda f: sheet(list(reversed(f))),
    "two rows swapped": lambda f: sheet(_swap(f, 4, 25)),
    "a blank row inserted": lambda f: sheet([*f[:8], [], *f[8:]]),
    "a row duplicated": lambda f: sheet([*f[:15], f[15], *f[15:]]),
}


@pytest.mark.parametrize("moved_after", [10_000, 0], ids=["parse-moved", "index-moved"])
@pytest.mark.parametrize("name", list(EDITS))
def test_a_resync_with_the_memo_stores_what_a_full_reread_does(
    engine, monkeypatch, name, moved_after
):
    monkeypatch.setattr(memo_module, "MOVED_AFTER", moved_after)
    twins = Twins(engine)
    base = finding_rows()
    twins.sync(sheet(base))
    counts = twins.sync(EDITS[name](base))
    assert counts.findings.read + counts.findings.rejected >= 0
    twins.sync(sheet(base))  # and back again: restores, moves and fixes
    twins.sync(EDITS[name](base))


def test_an_unchanged_resync_settles_every_finding_without_reading_their_hashes(engine):
    base = finding_rows()
    sync(engine, "s", sheet(base), T0, memos=True)
    edited = sheet([*base[:9], with_cell(base[9], 3, "Đạt"), *base[10:]])
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        counts = sync(engine, "s", edited, T0 + timedelta(hours=1), memos=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert counts.findings.updated == 1 and counts.findings.unchanged == 39
    full_reads = [
        s for s in statements if "FROM findings WHERE" in s and " IN " not in s and "count" not in s
    ]
    assert full_reads == [], full_reads


def test_after_a_hand_edit_of_the_store_a_sync_without_the_memo_repairs_it(engine):
    base = finding_rows()
    sync(engine, "s", sheet(base), T0, memos=True)
    with engine.begin() as conn:
        f = tables.findings.c
        conn.execute(sa.delete(tables.findings).where(f.source == "s", f.finding_id == "F007"))
    edited = sheet([*base[:9], with_cell(base[9], 3, "Đạt"), *base[10:]])
    counts = sync(engine, "s", edited, T0 + timedelta(hours=1), memos=False)  # sync --force
    assert counts.findings.inserted == 1 and counts.findings.updated == 1  # F007 back, F009
    assert "F007" in {key for (key,) in _keys(engine, "s")}


def _keys(engine: sa.Engine, source: str) -> list[tuple[str]]:
    with engine.connect() as conn:
        query = sa.select(tables.findings.c.finding_id).where(tables.findings.c.source == source)
        return [tuple(row) for row in conn.execute(query)]


def test_a_duplicate_of_a_settled_key_is_rejected_after_a_retry(engine):
    base = finding_rows()
    sync(engine, "s", sheet(base), T0, memos=True)
    edited = sheet([*base[:3], with_cell(base[3], 0, base[30][0]), *base[4:]])
    with pytest.raises(StaleMemoError, match="F030"), engine.begin() as conn:
        store_snapshot(
            conn,
            "s",
            memory_snapshot(edited),
            tabs=TabNames(),
            rule_sets=rule_sets(),
            timezone="Asia/Ho_Chi_Minh",
            now=T0 + timedelta(hours=1),
        )
    sync(engine, "s", edited, T0 + timedelta(hours=1), memos=True)
    with engine.connect() as conn:
        r = tables.rejected_rows.c
        rejected = conn.execute(sa.select(r.row_number, r.key)).all()
    assert rejected == [(32, "F030")]  # the later row; the earlier one (row 5) is kept


def test_every_sync_leaves_one_memo_per_source_that_describes_the_sheet(engine):
    base = finding_rows()
    sync(engine, "s", sheet(base), T0, memos=False)
    with engine.connect() as conn:
        row = conn.execute(sa.select(tables.source_memos)).mappings().one()
    assert row["tab_kind"] == "findings" and row["live"] == 40
    assert len(row["rows"]) == 40 * memo_module.DIGEST_BYTES
    assert len(row["blocks"]) == 5 * memo_module.DIGEST_BYTES  # 40 rows, blocks of 8


# --- the scan itself -------------------------------------------------------------------------

CONTEXT, PARENTS = text_digest("context"), text_digest("parents")


def scan_of(rows, previous=None, parents=PARENTS, context=CONTEXT) -> MemoScan:
    return MemoScan("findings", rows, previous, context=context, parents=parents, block_rows=4)


def stored_memo(rows) -> TabMemo:
    """The memo a sync that stored every row (hash = its key, padded) would leave."""
    scan = scan_of(rows)
    for index, row in enumerate(rows):
        if row:
            scan.hashes[index] = h(index + 1)
    memo, settled = scan.result()
    assert settled is None
    return TabMemo(**{**memo.__dict__, "live": len(rows)})


def h(number: int) -> str:
    """A row hash whose memo digest is `number`."""
    return f"{number:016x}" + "f" * 24


ROWS = [(f"F{n}", "DG01", "A1.1-1.1", "Đạt") for n in range(10)]


def test_unchanged_rows_are_all_settled_and_none_visited():
    scan = scan_of(ROWS, stored_memo(ROWS))
    assert scan.visit == [] and scan.settled == 10
    _, settled = scan.result()
    assert settled is not None and settled.count == 10 and set(settled.states) == {SETTLED}


@pytest.mark.parametrize(
    ("changed", "visit"), [(0, [(0, 4)]), (5, [(4, 8)]), (9, [(8, 10)]), (3, [(0, 4)])]
)
def test_a_changed_row_opens_only_its_block(changed, visit):
    rows = list(ROWS)
    rows[changed] = (*rows[changed][:3], "KĐ")
    scan = scan_of(rows, stored_memo(ROWS))
    assert scan.visit == visit
    assert scan.settled == 10 - (visit[0][1] - visit[0][0])


def test_rows_of_an_opened_block_settle_in_place_by_hash():
    rows = list(ROWS)
    rows[1] = (*rows[1][:3], "KĐ")
    scan = scan_of(rows, stored_memo(ROWS))
    assert scan.settled_in_place(0, h(1))
    assert not scan.settled_in_place(1, h(99))
    _, settled = scan.result()
    assert settled is not None and settled.count == 7
    assert settled.holds(2, h(1)) and not settled.holds(3, h(2))


def test_other_parents_settle_no_block_but_rows_still_settle_in_place():
    scan = scan_of(ROWS, stored_memo(ROWS), parents=text_digest("other parents"))
    assert scan.visit == [(0, 10)] and scan.has_previous
    assert scan.settled_in_place(4, h(5))


def test_another_context_ignores_the_memo():
    scan = scan_of(ROWS, stored_memo(ROWS), context=text_digest("other headers"))
    assert scan.visit == [(0, 10)] and not scan.has_previous
    assert scan.result()[1] is None


def test_a_block_with_a_row_not_stored_is_never_settled():
    scan = scan_of(ROWS)
    for index in range(10):
        if index != 6:
            scan.hashes[index] = h(index + 1)
    memo, _ = scan.result()
    step = memo_module.DIGEST_BYTES
    assert memo.blocks[step : 2 * step] == bytes(step)  # rows 4-7 hold the unstored row 6
    assert memo.blocks[:step] != bytes(step)
    again = scan_of(ROWS, TabMemo(**{**memo.__dict__, "live": 9}))
    assert again.visit == [(4, 8)]


def test_moved_rows_are_recognised_once_enough_rows_missed_their_place(monkeypatch):
    monkeypatch.setattr(memo_module, "MOVED_AFTER", 2)
    scan = scan_of(ROWS[1:], stored_memo(ROWS))  # everything moved up one row
    assert not scan.seen_before(h(2))  # the first misses: parse rather than index
    assert scan.seen_before(h(3))
    assert not scan.seen_before(h(99))


# --- random edits ----------------------------------------------------------------------------


@st.composite
def edits(draw: st.DrawFn) -> list[tuple[str, int, int]]:
    kinds = st.sampled_from(["result", "delete", "insert", "steal_key", "bad", "swap", "blank"])
    return draw(
        st.lists(st.tuples(kinds, st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=4)
    )


def apply(rows: list[Row], edit: tuple[str, int, int], serial: int) -> list[Row]:
    kind, i, j = edit
    rows = [list(r) for r in rows]
    if not rows:
        return [finding_rows(1)[0]]
    i, j = i % len(rows), j % len(rows)
    if kind == "result" and rows[i]:
        rows[i][3] = "Đạt" if rows[i][3] != "Đạt" else "KĐ"
    elif kind == "delete":
        del rows[i]
    elif kind == "insert" and rows[j]:
        rows.insert(i, with_cell(rows[j], 0, f"N{serial}"))
    elif kind == "steal_key" and rows[i] and rows[j]:
        rows[i][0] = rows[j][0]
    elif kind == "bad" and rows[i]:
        rows[i][3] = "???"
    elif kind == "swap":
        rows[i], rows[j] = rows[j], rows[i]
    elif kind == "blank":
        rows.insert(i, [])
    return rows


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory):
    engine = create_store_engine(f"sqlite:///{tmp_path_factory.mktemp('memo') / 'store.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(edits(), min_size=1, max_size=4), block_rows=st.sampled_from([2, 4, 8]))
@example(steps=[[("steal_key", 1, 0), ("bad", 1, 0)]], block_rows=2)  # found by CI
@example(steps=[[("steal_key", 0, 1), ("bad", 0, 0)]], block_rows=2)
def test_random_edits_store_the_same_with_and_without_the_memo(
    sqlite_engine, monkeypatch, steps, block_rows
):
    monkeypatch.setattr(memo_module, "BLOCK_ROWS", block_rows)
    monkeypatch.setattr(memo_module, "MOVED_AFTER", 3)
    prefix = f"h{id(steps)}-{datetime.now(UTC).timestamp()}-"
    twins = Twins(sqlite_engine, prefix)
    rows = finding_rows(30)
    twins.sync(sheet(rows))
    serial = 0
    for step in steps:
        for edit in step:
            serial += 1
            rows = apply(rows, edit, serial)
        twins.sync(sheet(rows))


@pytest.mark.parametrize(
    ("edit_row", "block_rows"),
    [(9, 8), (37, 8), (2, 8), (9, 2)],
    ids=["above", "below", "in-the-kept-block", "small-blocks"],
)
def test_a_duplicate_the_sheet_keeps_does_not_throw_the_memo_away(
    engine, monkeypatch, edit_row, block_rows
):
    monkeypatch.setattr(memo_module, "BLOCK_ROWS", block_rows)
    retries: list[StaleMemoError] = []
    guard = diff_module.guard_settled

    def counting_guard(**kwargs: Any) -> None:
        try:
            guard(**kwargs)
        except StaleMemoError as exc:
            retries.append(exc)
            raise

    monkeypatch.setattr(diff_module, "guard_settled", counting_guard)
    twins = Twins(engine)
    base = finding_rows()
    base[25] = with_cell(base[25], 0, base[3][0])  # row 27 repeats the key of row 5, for good
    twins.sync(sheet(base))
    for result in ("Đạt", "KĐ", "Đạt"):
        twins.sync(
            sheet([*base[:edit_row], with_cell(base[edit_row], 3, result), *base[edit_row + 1 :]])
        )
        twins.sync(sheet(base))
    assert retries == []
    with engine.connect() as conn:
        rejected = conn.execute(
            sa.select(tables.rejected_rows.c.row_number, tables.rejected_rows.c.key).where(
                tables.rejected_rows.c.source == "memo"
            )
        ).all()
    assert rejected == [(27, base[3][0])]
