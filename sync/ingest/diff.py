"""The rules of a sync, without a database: stored rows + normalised rows → what to write.

Pure: everything it knows of the store comes in as values (`StoredRow`s, live rows, findings'
results before) and everything it decides goes out as a `TabPlan`, which
`hqsync.models.source_rows.apply_plan` writes. The rules:

- a row whose key the store lacks is inserted; one whose hash differs is updated; one that is
  stored as it is (same hash, live) is unchanged, and only its row number is moved if it moved;
- a live stored row that vanished from the sheet is tombstoned (kept, marked deleted), and
  restored (updated, live again) when it comes back; a row that turned bad (rejected, with its
  key) keeps its last good version and is never tombstoned;
- a finding's result that changed, appeared again or went is appended to its history, and the
  assessments it belonged to before and after are touched (to be scored again);
- a row (usable or rejected) that takes the key of a row the memo settled raises
  StaleMemoError: normalise could not see that duplicate, so the sync runs again without memo.

`store.py` calls these in order, reading what each step asks for in between (see
ARCHITECTURE.md): `placed_keys` / `guard_settled`, `known_live`, `compare_rows`,
`vanished_keys` (or `vanished_among` the live rows), `tombstone_keys`, `plan_tab`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import compress, repeat
from operator import attrgetter, eq, itemgetter, not_
from typing import overload

from hqsync.config.errors import StaleMemoError, StoreError
from hqsync.config.vocabulary import TabKind
from hqsync.models.plans import ColumnRows, FindingBefore, LiveRow, StoredRow, TabPlan, Values
from hqsync.sync.ingest.counts import TabCounts
from hqsync.sync.ingest.memo import Settled
from hqsync.sync.ingest.rows import DUPLICATE_KEY, Rejection, SourceRow

_key_of = attrgetter("key")
_hash_of = attrgetter("row_hash")
_number_of = attrgetter("row_number")
_parsed_of = attrgetter("parsed")
_assessment_of = itemgetter("assessment_id")


@dataclass
class TabComparison:
    """The usable rows of one tab set against what the store holds under their keys."""

    keys: list[str]
    """The keys of the usable rows, in sheet order."""
    inserts: list[SourceRow] = field(default_factory=list)
    """Rows whose key the store lacks."""
    changed: list[SourceRow] = field(default_factory=list)
    """Rows stored under another hash, or tombstoned: updated (restored when in `restored`)."""
    restored: set[str] = field(default_factory=set)
    """Keys of `changed` rows that were tombstoned."""
    moves: list[tuple[str, int]] = field(default_factory=list)
    """(key, new row number) of unchanged rows found on another sheet row."""
    unchanged: int = 0
    in_store: int = 0
    """Rows whose key the store holds (live or tombstoned)."""


@dataclass(frozen=True)
class TabDiff:
    """Everything one sync decided for one tab."""

    plan: TabPlan
    counts: TabCounts
    written: set[str]
    """Keys whose row is inserted, updated, restored or tombstoned."""
    touched: set[str]
    """(findings only) assessments whose findings changed: to be scored again."""
    live: int
    """Live (not tombstoned) stored rows of the tab once the plan is written."""


def duplicate_rows(rejected: Sequence[Rejection]) -> set[tuple[str, int]]:
    """(key, row number) of the rows rejected as duplicates of an earlier row's key."""
    return {
        (r.key, r.row_number or 0)
        for r in rejected
        if r.code == DUPLICATE_KEY and r.key is not None
    }


def placed_keys(rows: Sequence[SourceRow], rejected: Sequence[Rejection]) -> list[tuple[str, int]]:
    """(key, row number) wherever a row of the sheet carries a key: usable and rejected rows."""
    placed = list(zip(map(_key_of, rows), map(_number_of, rows), strict=True))
    placed += [(r.key, r.row_number or 0) for r in rejected if r.key is not None]
    return placed


def guard_settled(
    *,
    source: str,
    kind: TabKind,
    placed: Sequence[tuple[str, int]],
    stored: Mapping[str, StoredRow],
    settled: Settled,
    duplicates: Collection[tuple[str, int]] = (),
) -> None:
    """Raise StaleMemoError when a row (usable or rejected; `placed` gives its key and row
    number) carries the key of a settled row: a duplicate that normalise could not see (it
    never looked at the settled row's key), so one of the two is rejected for the wrong reason.

    `duplicates` ((key, row number) of the rows rejected as duplicates) are not raised for
    when the settled row is above them: normalise rejected them as duplicates of that row
    (see `MemoScan.settled_holder`), as reading every row would.

    That the memo describes the store needs no check: only `upsert_source` writes a source's
    rows, always replacing its memos in the same transaction, and an older hqsync (which
    keeps no memos) cannot open a store migrated past it. After editing the store by hand,
    run `hqsync sync --force`."""
    for key, row_number in placed:
        previous = stored.get(key)
        if previous is None or previous[1] or previous[2] == row_number:
            continue
        if previous[2] < row_number and (key, row_number) in duplicates:
            continue
        if settled.holds(previous[2], previous[0]):
            raise StaleMemoError(
                f"source {source}: {kind} key {key!r} is on row {row_number} and on "
                f"row {previous[2]}; syncing again without the memo to reject the duplicate"
            )


def known_live(
    stored: Mapping[str, StoredRow], settled: Settled | None, *, complete: bool
) -> int | None:
    """The tab's live stored rows before the sync, when known without asking the store: from
    the memo, or by counting `stored` when it is `complete` (every stored row of the tab)."""
    if settled is not None:
        return settled.expected_live
    if complete:
        return sum(not state[1] for state in stored.values())
    return None


def compare_rows(
    *, source: str, kind: TabKind, rows: Sequence[SourceRow], stored: Mapping[str, StoredRow]
) -> TabComparison:
    """Sort the usable rows into inserts, changes (and restores), moves and unchanged rows.

    Raises StoreError when a row normalise skipped as unchanged (`parsed` False) is no longer
    stored as it was (the store changed between reading its hashes and now)."""
    keys = list(map(_key_of, rows))
    if not stored and all(map(_parsed_of, rows)):
        # A first load: every row is new (a row skipped as unchanged would need a stored row).
        return TabComparison(keys, inserts=list(rows))
    # Most rows of a re-sync are stored exactly as they are (same hash, live, same row number):
    # find the others column-wise, in C (map/compress), then look at those one by one.
    expected = zip(map(_hash_of, rows), repeat(False), map(_number_of, rows))
    as_stored = list(map(eq, map(stored.get, keys), expected))
    unchanged = sum(as_stored)
    result = TabComparison(keys, unchanged=unchanged, in_store=unchanged)
    for row in compress(rows, map(not_, as_stored)):
        previous = stored.get(row.key)
        result.in_store += previous is not None
        if not row.parsed:
            # Skipped by normalise as unchanged: verify, and note a moved row.
            if previous is None or previous[0] != row.row_hash or previous[1]:
                raise StoreError(
                    f"source {source}: {kind} row {row.row_number} ({row.key!r}) was skipped "
                    "as unchanged but the store no longer holds it as it was; run the sync again"
                )
        elif previous is None:
            result.inserts.append(row)
            continue
        elif previous[0] != row.row_hash or previous[1]:
            result.changed.append(row)
            if previous[1]:
                result.restored.add(row.key)
            continue
        result.unchanged += 1
        if previous[2] != row.row_number:
            result.moves.append((row.key, row.row_number))
    return result


def vanished_keys(
    comparison: TabComparison,
    stored: Mapping[str, StoredRow],
    *,
    complete: bool,
    settled: Settled | None,
    live_before: int,
) -> set[str] | None:
    """Keys of live stored rows that are neither among the usable rows nor settled; None when
    that needs every live stored row of the tab (then call `vanished_among` with them).

    Settled rows are live and their keys differ from the rows' (see `guard_settled`): when
    they and the live rows among the usable ones add up to every live row, none vanished."""
    keys = comparison.keys
    if complete:
        # Keys are unique per tab (normalise rejects duplicates): when the rows hold every
        # stored key, no row vanished and the set difference is skipped.
        vanished = set() if comparison.in_store == len(stored) else stored.keys() - set(keys)
        return {key for key in vanished if not stored[key][1]}
    settled_count = settled.count if settled is not None else 0
    live_present = settled_count + sum(
        1 for key in keys if (state := stored.get(key)) is not None and not state[1]
    )
    if live_present == live_before:
        return set()
    return None


def vanished_among(
    live: Iterable[LiveRow], comparison: TabComparison, settled: Settled | None
) -> set[str]:
    """Keys of the `live` stored rows that are neither among the usable rows nor settled."""
    present = set(comparison.keys)
    return {
        key
        for key, digest, number in live
        if key not in present and (settled is None or not settled.holds(number, digest))
    }


def tombstone_keys(vanished: Iterable[str], rejected: Sequence[Rejection]) -> list[str]:
    """The vanished keys to tombstone, sorted: not those of rejected rows, which keep their
    last good version until they are fixed."""
    keep = {r.key for r in rejected if r.key is not None}
    return sorted(key for key in vanished if key not in keep)


def history_keys(comparison: TabComparison, tombstones: Sequence[str]) -> list[str]:
    """The findings whose result before the sync `plan_tab` needs (changed and tombstoned)."""
    return [row.key for row in comparison.changed] + list(tombstones)


def plan_tab(
    *,
    source: str,
    kind: TabKind,
    comparison: TabComparison,
    tombstones: Sequence[str],
    before: Mapping[str, FindingBefore],
    now: datetime,
    rejected: int,
    settled_count: int,
    live_before: int,
) -> TabDiff:
    """The writes, counts and touched assessments of one tab.

    `before` gives the stored result, assessment and evidence of the findings `history_keys`
    names (empty for other tabs); `rejected` and `settled_count` count the tab's rejected rows
    and the rows the memo settled (left out of the comparison)."""
    is_assessment = kind == TabKind.ASSESSMENTS
    inserts = NewRows(comparison.inserts, source=source, now=now, is_assessment=is_assessment)
    updates = []
    for row in comparison.changed:
        values = _row_values(row, source, now, is_assessment, first_seen=False)
        values["b_key"] = row.key
        if row.key in before:
            _leave_out_unchanged_indexed(values, before[row.key])
        updates.append(values)
    dead: list[Values] = []
    for key in tombstones:
        tombstone: Values = {"b_key": key, "deleted": True, "deleted_at": now}
        tombstone["changed_at"] = now
        if is_assessment:
            tombstone["needs_scoring"] = True
        dead.append(tombstone)
    moves: list[Values] = [{"b_key": key, "row_number": n} for key, n in comparison.moves]
    history: list[Values] = []
    touched: set[str] = set()
    if kind == TabKind.FINDINGS:
        history, touched = finding_history(
            source=source, comparison=comparison, tombstones=tombstones, before=before, now=now
        )
    restored = len(comparison.restored)
    counts = TabCounts(
        read=len(comparison.keys) + rejected + settled_count,
        inserted=len(inserts),
        updated=len(updates) - restored,
        deleted=len(dead),
        restored=restored,
        unchanged=comparison.unchanged + settled_count,
        rejected=rejected,
    )
    written = set(map(_key_of, comparison.inserts))
    written.update(map(_key_of, comparison.changed))
    written.update(tombstones)
    live = live_before + len(inserts) + restored - len(dead)
    plan = TabPlan(kind, inserts, updates, dead, moves, history)
    return TabDiff(plan, counts, written, touched, live)


def _leave_out_unchanged_indexed(values: Values, before: FindingBefore) -> None:
    """Drop from a finding's UPDATE the columns of the findings' secondary indexes
    (assessment_id, evidence) that it would set to what they hold: the database then leaves
    those indexes alone, which on a re-sync of scattered edits cuts the pages its commit
    writes by a third. The stored row is the same."""
    _, assessment, evidence = before
    if values.get("assessment_id") == assessment:
        del values["assessment_id"]
    if "evidence" in values and values["evidence"] == evidence:
        del values["evidence"]


def finding_history(
    *,
    source: str,
    comparison: TabComparison,
    tombstones: Sequence[str],
    before: Mapping[str, FindingBefore],
    now: datetime,
) -> tuple[list[Values], set[str]]:
    """Rows of `finding_changes` for the findings whose result changed, came back or went, and
    the assessments they belong to (before and after): these must be scored again."""
    touched = set(map(str, map(_assessment_of, map(_fields_of, comparison.inserts))))
    touched.update(map(str, map(_assessment_of, map(_fields_of, comparison.changed))))
    history: list[Values] = []
    for row in comparison.changed:
        old_result, old_assessment, _ = before[row.key]
        touched.add(old_assessment)
        was_deleted = row.key in comparison.restored
        if was_deleted or old_result != row.fields["result"]:
            history.append(
                {
                    "source": source,
                    "finding_id": row.key,
                    "old_result": None if was_deleted else old_result,
                    "new_result": row.fields["result"],
                    "seen_at": now,
                    "sheet_updated_at": row.fields.get("updated_at"),
                }
            )
    for key in tombstones:
        old_result, old_assessment, _ = before[key]
        touched.add(old_assessment)
        history.append(
            {
                "source": source,
                "finding_id": key,
                "old_result": old_result,
                "new_result": None,
                "seen_at": now,
                "sheet_updated_at": None,
            }
        )
    return history, touched


def rejection_rows(source: str, rejections: Iterable[Rejection]) -> list[Values]:
    """Rows of `rejected_rows` for the source's rejections (`first_seen_at` left to the store)."""
    return [
        {
            "source": source,
            "tab": r.tab,
            "row_number": r.row_number,
            "column": r.column,
            "key": r.key,
            "reason_en": r.reason_en,
            "reason_vi": r.reason_vi,
            "raw": dict(r.raw),
        }
        for r in rejections
    ]


class NewRows(ColumnRows):
    """The values of new rows, each built when it is read, or a column at a time (`columns`,
    what the writer reads): the 500k dicts of a first load are never all held at once (they
    were a third of its peak memory), nor built at all by the bulk writer. Reading a row twice
    builds it twice (the same values)."""

    def __init__(
        self, rows: Sequence[SourceRow], *, source: str, now: datetime, is_assessment: bool
    ) -> None:
        self._rows = rows
        self._build = partial(_new_row, source, now, is_assessment)
        self._source, self._now, self._is_assessment = source, now, is_assessment
        self._fields = tuple(rows[0].fields) if rows else ()
        tail = ("source", "first_seen_at", *(("needs_scoring",) if is_assessment else ()))
        self.names = (*self._fields, *_ROW_COLUMNS, *tail)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Values: ...

    @overload
    def __getitem__(self, index: slice) -> list[Values]: ...

    def __getitem__(self, index: int | slice) -> Values | list[Values]:
        if isinstance(index, slice):
            return list(map(self._build, self._rows[index]))
        return self._build(self._rows[index])

    def columns(self, start: int, stop: int) -> list[Iterable[object]]:
        """The columns `_new_row` sets of rows[start:stop], in `names` order."""
        rows = self._rows[start:stop]
        count, now = len(rows), self._now
        fields = list(map(_fields_of, rows))
        columns: list[Iterable[object]] = [map(itemgetter(name), fields) for name in self._fields]
        columns += [
            _as_dicts(list(map(_raw_of, rows))),
            _as_dicts(list(map(_extra_of, rows))),
            map(_hash_of, rows),
            map(_number_of, rows),
            repeat(False, count),
            repeat(None, count),
            repeat(now, count),
            repeat(self._source, count),
            repeat(now, count),
        ]
        if self._is_assessment:
            columns.append(repeat(True, count))
        return columns


_ROW_COLUMNS = ("raw", "extra", "row_hash", "row_number", "deleted", "deleted_at", "changed_at")
"""The columns `_row_values` sets besides a row's fields, in its order."""
_fields_of = attrgetter("fields")
_raw_of = attrgetter("raw")
_extra_of = attrgetter("extra")


def _as_dicts(values: list[Mapping[str, object]]) -> list[Mapping[str, object]]:
    """`values` as plain dicts (normalise builds each row's own: most are already)."""
    if {dict}.issuperset(map(type, values)):
        return values
    return list(map(dict, values))


def _new_row(source: str, now: datetime, is_assessment: bool, row: SourceRow) -> Values:
    """The columns a new row sets (see `_row_values`)."""
    return _row_values(row, source, now, is_assessment, first_seen=True)


def _row_values(
    row: SourceRow, source: str, now: datetime, is_assessment: bool, *, first_seen: bool
) -> Values:
    """The columns a usable row sets: its fields, raw values, hash and bookkeeping."""
    values: Values = dict(row.fields)
    raw, extra = row.raw, row.extra
    values.update(
        # normalise builds each row's own dicts: written as they are (JSON), not copied
        raw=raw if type(raw) is dict else dict(raw),
        extra=extra if type(extra) is dict else dict(extra),
        row_hash=row.row_hash,
        row_number=row.row_number,
        deleted=False,
        deleted_at=None,
        changed_at=now,
    )
    if first_seen:
        values["source"] = source
        values["first_seen_at"] = now
    if is_assessment:
        values["needs_scoring"] = True
    return values
