"""Writing one source's normalised rows into the store, incrementally and losslessly.

Runs inside the caller's transaction: either every write of a source lands or none does.
Rows are compared by hash, so a re-sync writes only what changed; rows that vanish from the
sheet are tombstoned (kept, marked deleted) and restored when they come back; a finding's
result changes are appended to its history; the source's rejected rows are replaced.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from itertools import compress, repeat
from operator import attrgetter, eq, itemgetter, not_
from typing import Any, Self, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hqsync.config.errors import StaleMemoError, StoreError
from hqsync.config.rulesets import RuleSet
from hqsync.config.settings import TabNames
from hqsync.models.tables import (
    Assessment,
    Finding,
    FindingChange,
    Hospital,
    RejectedRow,
    SourceMemo,
)
from hqsync.sync.interfaces import SourceSnapshot
from hqsync.sync.memo import Settled, TabMemo
from hqsync.sync.normalise import (
    TAB_KINDS,
    NormalisedSource,
    Rejection,
    SourceRow,
    normalise_source,
    paused_gc,
)

log = logging.getLogger(__name__)

CHUNK = 5_000
"""Rows per executemany call (bounds memory on 500k-row loads)."""
IN_CHUNK = 500
"""Keys per `IN (...)` list (well under SQLite's bound-parameter limit)."""
ANALYZE_AFTER = 20_000
"""Rows inserted into a table at once after which PostgreSQL's statistics are refreshed."""
FETCH_ALL_AFTER = 20_000
"""Keys to look up after which reading all of a tab's stored rows beats `IN (...)` lists."""

_TABLES: dict[str, sa.Table] = {
    "hospitals": cast(sa.Table, Hospital.__table__),
    "assessments": cast(sa.Table, Assessment.__table__),
    "findings": cast(sa.Table, Finding.__table__),
}
_key_of = attrgetter("key")
_first = itemgetter(0)
_deleted_of = itemgetter(2)
_hash_of = attrgetter("row_hash")
_number_of = attrgetter("row_number")
_KEYS = {"hospitals": "hospital_id", "assessments": "assessment_id", "findings": "finding_id"}


@dataclass(frozen=True)
class TabCounts:
    """What one sync did to one tab's rows."""

    read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    """Tombstoned: vanished from the sheet, kept in the store marked deleted."""
    restored: int = 0
    unchanged: int = 0
    rejected: int = 0


_COUNT_NAMES = tuple(f.name for f in fields(TabCounts))


@dataclass(frozen=True)
class UpsertCounts(TabCounts):
    """What one sync of one source did: the totals (inherited fields) and per tab."""

    hospitals: TabCounts = TabCounts()
    assessments: TabCounts = TabCounts()
    findings: TabCounts = TabCounts()
    flagged: int = 0
    """Assessments newly marked `needs_scoring` (besides those written themselves)."""
    rejections_changed: bool = False
    """True when the source's rejected rows differ from the last sync's."""

    @classmethod
    def of(cls, tabs: Mapping[str, TabCounts], flagged: int, rejections_changed: bool) -> Self:
        """Counts with totals summed over `tabs` (tab kind → counts)."""
        totals = {name: sum(getattr(tabs[k], name) for k in TAB_KINDS) for name in _COUNT_NAMES}
        return cls(
            **totals,
            hospitals=tabs["hospitals"],
            assessments=tabs["assessments"],
            findings=tabs["findings"],
            flagged=flagged,
            rejections_changed=rejections_changed,
        )

    def tab(self, tab_kind: str) -> TabCounts:
        """The counts of one tab kind."""
        counts: TabCounts = getattr(self, tab_kind)
        return counts

    @property
    def changed(self) -> bool:
        """True when stored rows or rejected rows changed (scores or dashboard are stale)."""
        writes = self.inserted + self.updated + self.deleted + self.restored + self.flagged
        return writes > 0 or self.rejections_changed

    def as_rows(self) -> dict[str, int]:
        """Counts for the run log: totals, then non-zero per-tab counts as `<tab>_<count>`."""
        rows = {name: getattr(self, name) for name in _COUNT_NAMES}
        for kind in TAB_KINDS:
            counts = self.tab(kind)
            for name in _COUNT_NAMES:
                if getattr(counts, name):
                    rows[f"{kind}_{name}"] = getattr(counts, name)
        return rows


@dataclass
class _TabOutcome:
    counts: TabCounts
    written: set[str]
    """Keys whose row was inserted, updated, restored or tombstoned."""
    touched_assessments: set[str]
    """(findings only) assessments whose findings changed."""
    live: int
    """Live (not tombstoned) stored rows of the tab after the writes."""


@dataclass(frozen=True)
class StoredRows:
    """What the store holds of one source: tab kind → key → (row hash, deleted, row number).

    A tab kind left out (see `read_stored_rows(kinds=...)`) is looked up by key when needed.
    """

    tabs: Mapping[str, Mapping[str, tuple[str, bool, int]]]
    live: Mapping[str, Mapping[str, str]] | None = field(default=None, compare=False, repr=False)
    """Tab kind → key → row hash of the live rows, when known up front (saves a pass)."""

    def known(self) -> dict[str, dict[str, str]]:
        """Tab kind → key → row hash of the live rows (for `normalise_source(known=...)`)."""
        if self.live is not None:
            return {kind: dict(rows) for kind, rows in self.live.items()}
        return {
            kind: {key: state[0] for key, state in rows.items() if not state[1]}
            for kind, rows in self.tabs.items()
        }


def read_stored_rows(conn: Connection, source: str, kinds: Sequence[str] = TAB_KINDS) -> StoredRows:
    """Read the hash, tombstone flag and row number of every stored row of `source` in the
    tabs of the given kinds."""
    with paused_gc():
        return _read_stored_rows(conn, source, kinds)


def _read_stored_rows(conn: Connection, source: str, kinds: Sequence[str]) -> StoredRows:
    tabs: dict[str, dict[str, tuple[str, bool, int]]] = {}
    live: dict[str, dict[str, str]] = {}
    for kind in kinds:
        table = _TABLES[kind]
        columns = (table.c[_KEYS[kind]], table.c.row_hash, table.c.deleted, table.c.row_number)
        rows = _fetch_plain(conn, table, columns, source)
        tabs[kind] = {key: (digest, bool(deleted), number) for key, digest, deleted, number in rows}
        state = tabs[kind]
        if any(map(_deleted_of, rows)):
            live[kind] = {key: digest for key, digest, deleted, _ in rows if not deleted}
        else:  # the common case, in C
            live[kind] = dict(zip(state.keys(), map(_first, state.values()), strict=True))
    return StoredRows(tabs, live)


def _fetch_plain(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[sa.Column[Any]],
    source: str,
    live_only: bool = False,
) -> Sequence[Sequence[Any]]:
    """`SELECT columns FROM table WHERE source = ?` as plain DBAPI tuples.

    Building SQLAlchemy rows costs twice the query itself at 500k rows, and these columns
    (text, integers, booleans as 0/1 on SQLite) need no type processing.
    """
    quote = conn.dialect.identifier_preparer.quote
    placeholders: dict[str, tuple[str, Any]] = {
        "qmark": ("?", (source,)),
        "format": ("%s", (source,)),
        "pyformat": ("%(source)s", {"source": source}),
        "named": (":source", {"source": source}),
        "numeric": (":1", (source,)),
    }
    placeholder = placeholders.get(conn.dialect.paramstyle)
    if placeholder is None:  # an unusual driver: take the ordinary, slower road
        query = sa.select(*columns).where(table.c.source == source)
        if live_only:
            query = query.where(table.c.deleted.is_(False))
        return conn.execute(query).all()
    names = ", ".join(quote(column.name) for column in columns)
    sql = f"SELECT {names} FROM {quote(table.name)} WHERE {quote('source')} = {placeholder[0]}"
    if live_only:
        sql += f" AND NOT {quote('deleted')}"
    result = conn.exec_driver_sql(sql, placeholder[1])
    rows: Sequence[Sequence[Any]] = result.cursor.fetchall()
    result.close()
    return rows


def store_snapshot(
    conn: Connection,
    source: str,
    snapshot: SourceSnapshot,
    *,
    tabs: TabNames,
    rule_sets: Mapping[str, RuleSet],
    timezone: str,
    now: datetime,
    use_memos: bool = True,
) -> UpsertCounts:
    """Normalise `snapshot` and upsert it, inside the caller's transaction, as a sync does.

    Unchanged rows skip parsing (by stored hash) or, where the last sync left a memo, even
    hashing and the store. Raises StaleMemoError when a changed row takes the key of a row
    the memo settled: roll back and call again with `use_memos=False`.
    """
    memos = read_memos(conn, source) if use_memos else {}
    stored = read_stored_rows(conn, source, [kind for kind in TAB_KINDS if kind not in memos])
    data = normalise_source(
        snapshot, tabs, rule_sets, timezone=timezone, known=stored.known(), memos=memos
    )
    for kind, settled in data.settled.items():
        log.debug("source %s: the memo settled %d %s rows unread", source, settled.count, kind)
    return upsert_source(
        conn, source, data, now, stored=stored, memos_before=memos if use_memos else None
    )


def upsert_source(
    conn: Connection,
    source: str,
    data: NormalisedSource,
    now: datetime,
    *,
    stored: StoredRows | None = None,
    memos_before: Mapping[str, TabMemo] | None = None,
) -> UpsertCounts:
    """Write one source's rows into the store inside the caller's transaction.

    Only new and changed rows (by row hash) are written; vanished rows are tombstoned and
    restored when they return; a row that turned bad keeps its last good stored version;
    finding result changes go to the history; the source's rejected rows are replaced; every
    assessment whose own row, findings or hospital changed gets `needs_scoring = True`.
    `stored` (from `read_stored_rows` in this same transaction) and `memos_before` (from
    `read_memos`) save reading them again. The source's memos are replaced by `data.memos`.
    Raises StaleMemoError when a row carries the key of a row `data` settled from a memo (a
    duplicate normalise could not see): roll back and normalise again without memos.
    """
    if now.tzinfo is None:
        raise ValueError("upsert_source needs an aware `now` (UTC)")
    with paused_gc():
        return _upsert(
            conn,
            source=source,
            data=data,
            now=now,
            state=stored or read_stored_rows(conn, source),
            memos_before=memos_before,
        )


def _upsert(
    conn: Connection,
    *,
    source: str,
    data: NormalisedSource,
    now: datetime,
    state: StoredRows,
    memos_before: Mapping[str, TabMemo] | None,
) -> UpsertCounts:
    rejected_by_kind: dict[str, list[Rejection]] = {kind: [] for kind in TAB_KINDS}
    for rejection in data.rejections:
        rejected_by_kind.setdefault(rejection.tab_kind or "", []).append(rejection)
    outcomes: dict[str, _TabOutcome] = {}
    for kind in TAB_KINDS:
        outcomes[kind] = _sync_tab(
            conn,
            source=source,
            kind=kind,
            rows=data.rows(kind),
            rejected=rejected_by_kind[kind],
            stored=state.tabs.get(kind),
            now=now,
            settled=data.settled.get(kind),
        )
    to_flag = set(outcomes["findings"].touched_assessments)
    changed_hospitals = outcomes["hospitals"].written
    if changed_hospitals:
        table = _TABLES["assessments"]
        for chunk in _chunks(sorted(changed_hospitals), IN_CHUNK):
            found = conn.execute(
                sa.select(table.c.assessment_id).where(
                    table.c.source == source,
                    table.c.hospital_id.in_(chunk),
                    table.c.deleted.is_(False),
                )
            )
            to_flag.update(found.scalars())
    to_flag -= outcomes["assessments"].written
    flagged = _flag_for_scoring(conn, source, to_flag)
    rejections_changed = _replace_rejections(conn, source, data.rejections, now)
    _replace_memos(
        conn,
        source,
        [replace(memo, live=outcomes[kind].live) for kind, memo in data.memos.items()],
        now,
        read_memos(conn, source) if memos_before is None else memos_before,
    )
    counts = UpsertCounts.of(
        {kind: outcome.counts for kind, outcome in outcomes.items()}, flagged, rejections_changed
    )
    log.info("source %s upserted: %s", source, counts.as_rows())
    return counts


def _sync_tab(
    conn: Connection,
    *,
    source: str,
    kind: str,
    rows: Sequence[SourceRow],
    rejected: Sequence[Rejection],
    stored: Mapping[str, tuple[str, bool, int]] | None,
    now: datetime,
    settled: Settled | None,
) -> _TabOutcome:
    table = _TABLES[kind]
    keys = list(map(_key_of, rows))
    # Where rows of the sheet carry a key: usable rows and rejected ones alike.
    placed = [(row.key, row.row_number) for row in rows]
    placed += [(r.key, r.row_number or 0) for r in rejected if r.key is not None]
    settled_count = 0
    read_all = True
    if stored is None:
        stored, read_all = _stored_by_key(conn, source, kind, [key for key, _ in placed])
    # Every stored row is at hand, and every row of the sheet is among `rows`.
    complete = read_all and settled is None
    if settled is not None:
        # With settled rows (left out of `rows`) vanished rows are found by counting.
        _check_settled(source=source, kind=kind, placed=placed, stored=stored, settled=settled)
        settled_count = settled.count
        live_before = settled.expected_live
    elif complete:
        live_before = sum(not state[1] for state in stored.values())
    else:
        live_before = _count_live(conn, source, kind)

    is_assessment = kind == "assessments"
    is_finding = kind == "findings"
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    changed: list[SourceRow] = []
    written: set[str] = set()
    restored_keys: set[str] = set()
    written_rows: list[SourceRow] = []
    # Most rows of a re-sync are stored exactly as they are (same hash, live, same row number):
    # find the others column-wise, in C (map/compress), then look at those one by one.
    expected = zip(map(_hash_of, rows), repeat(False), map(_number_of, rows))
    as_stored = list(map(eq, map(stored.get, keys), expected))
    unchanged = sum(as_stored)
    candidates = compress(rows, map(not_, as_stored))
    # Rows whose key the store holds: when that is every stored key (keys are unique per tab,
    # normalise rejects duplicates), no row vanished and the set difference below is skipped.
    in_store = unchanged
    for row in candidates:
        previous = stored.get(row.key)
        in_store += previous is not None
        if not row.parsed:
            # Skipped by normalise as unchanged: verify, and note a moved row.
            if previous is None or previous[0] != row.row_hash or previous[1]:
                raise StoreError(
                    f"source {source}: {kind} row {row.row_number} ({row.key!r}) was skipped "
                    "as unchanged but the store no longer holds it as it was; run the sync again"
                )
            unchanged += 1
            if previous[2] != row.row_number:
                moves.append({"b_key": row.key, "row_number": row.row_number})
            continue
        if previous is None:
            inserts.append(_row_values(row, source, now, is_assessment, first_seen=True))
            written.add(row.key)
            written_rows.append(row)
            continue
        old_hash, was_deleted, old_number = previous
        if old_hash == row.row_hash and not was_deleted:
            unchanged += 1
            if old_number != row.row_number:
                moves.append({"b_key": row.key, "row_number": row.row_number})
            continue
        values = _row_values(row, source, now, is_assessment, first_seen=False)
        values["b_key"] = row.key
        updates.append(values)
        written.add(row.key)
        written_rows.append(row)
        changed.append(row)
        if was_deleted:
            restored_keys.add(row.key)

    # A row that turned bad keeps its last good version until it is fixed: never tombstoned.
    if complete:
        vanished = set() if in_store == len(stored) else stored.keys() - set(keys)
        vanished = {key for key in vanished if not stored[key][1]}
    else:
        vanished = _vanished(
            conn,
            source=source,
            kind=kind,
            keys=keys,
            stored=stored,
            settled=settled,
            live_before=live_before,
        )
    vanished.difference_update(r.key for r in rejected if r.key is not None)
    tombstones: list[dict[str, Any]] = []
    if vanished:
        for key in sorted(vanished):
            tombstone: dict[str, Any] = {"b_key": key, "deleted": True, "deleted_at": now}
            tombstone["changed_at"] = now
            if is_assessment:
                tombstone["needs_scoring"] = True
            tombstones.append(tombstone)
            written.add(key)

    touched: set[str] = set()
    history: list[dict[str, Any]] = []
    if is_finding:
        # What the changed findings held before: for their history and their assessments.
        before = _findings_before(
            conn, source, [r.key for r in changed] + [t["b_key"] for t in tombstones]
        )
        touched.update(row.fields["assessment_id"] for row in written_rows)
        for row in changed:
            old_result, old_assessment = before[row.key]
            touched.add(old_assessment)
            was_deleted = row.key in restored_keys
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
        for tombstone in tombstones:
            old_result, old_assessment = before[tombstone["b_key"]]
            touched.add(old_assessment)
            history.append(
                {
                    "source": source,
                    "finding_id": tombstone["b_key"],
                    "old_result": old_result,
                    "new_result": None,
                    "seen_at": now,
                    "sheet_updated_at": None,
                }
            )

    _insert_many(conn, table, inserts)
    if len(inserts) >= ANALYZE_AFTER and conn.dialect.name == "postgresql":
        # Fresh planner statistics: without them PostgreSQL reads the key look-ups below (and
        # the next sync's) through the wrong index, 100x slower on a 500k-row first load.
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(table.name)}")
    for batch in (updates, tombstones, moves):
        _update_many(conn, table, _KEYS[kind], source, batch)
    _insert_many(conn, cast(sa.Table, FindingChange.__table__), history)

    counts = TabCounts(
        read=len(rows) + len(rejected) + settled_count,
        inserted=len(inserts),
        updated=len(updates) - len(restored_keys),
        deleted=len(tombstones),
        restored=len(restored_keys),
        unchanged=unchanged + settled_count,
        rejected=len(rejected),
    )
    live = live_before + len(inserts) + len(restored_keys) - len(tombstones)
    return _TabOutcome(counts, written, touched, live)


def _stored_by_key(
    conn: Connection, source: str, kind: str, keys: Sequence[str]
) -> tuple[dict[str, tuple[str, bool, int]], bool]:
    """key → (row hash, deleted, row number) of the stored rows of `keys` in one tab; and
    whether that is every stored row of the tab (many keys: reading them all is cheaper)."""
    table = _TABLES[kind]
    key_column = table.c[_KEYS[kind]]
    columns = (key_column, table.c.row_hash, table.c.deleted, table.c.row_number)
    every = len(keys) > FETCH_ALL_AFTER
    if every:
        rows: Iterable[Sequence[Any]] = _fetch_plain(conn, table, columns, source)
    else:
        rows = _select_by_keys(conn, table, columns, source, keys)
    stored = {key: (digest, bool(deleted), number) for key, digest, deleted, number in rows}
    return stored, every


def _select_by_keys(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[sa.Column[Any]],
    source: str,
    keys: Iterable[str],
) -> list[tuple[Any, ...]]:
    """`columns` (the key first) of the rows of `source` whose key is among `keys`."""
    rows: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(keys), IN_CHUNK):
        query = sa.select(*columns).where(table.c.source == source, columns[0].in_(chunk))
        rows.extend(map(tuple, conn.execute(query)))
    return rows


def _count_live(conn: Connection, source: str, kind: str) -> int:
    """How many live (not tombstoned) rows one tab of `source` has in the store."""
    table = _TABLES[kind]
    query = sa.select(sa.func.count()).where(table.c.source == source, table.c.deleted.is_(False))
    return int(conn.execute(query).scalar_one())


def _check_settled(
    *,
    source: str,
    kind: str,
    placed: Sequence[tuple[str, int]],
    stored: Mapping[str, tuple[str, bool, int]],
    settled: Settled,
) -> None:
    """Raise StaleMemoError when a row (usable or rejected; `placed` gives its key and row
    number) carries the key of a settled row: a duplicate that normalise could not see (it
    never looked at the settled row's key), so one of the two is rejected for the wrong reason.

    That the memo describes the store needs no check: only `upsert_source` writes a source's
    rows, always replacing its memos in the same transaction, and an older hqsync (which
    keeps no memos) cannot open a store migrated past it. After editing the store by hand,
    run `hqsync sync --force`."""
    for key, row_number in placed:
        previous = stored.get(key)
        if previous is None or previous[1] or previous[2] == row_number:
            continue
        if settled.holds(previous[2], previous[0]):
            raise StaleMemoError(
                f"source {source}: {kind} key {key!r} is on row {row_number} and on "
                f"row {previous[2]}; syncing again without the memo to reject the duplicate"
            )


def _vanished(
    conn: Connection,
    *,
    source: str,
    kind: str,
    keys: Sequence[str],
    stored: Mapping[str, tuple[str, bool, int]],
    settled: Settled | None,
    live_before: int,
) -> set[str]:
    """Keys of live stored rows that are neither among `keys` nor settled.

    Settled rows are live and their keys differ from `keys` (see `_check_settled`): when they
    and the live rows among `keys` add up to every live row, none vanished."""
    settled_count = settled.count if settled is not None else 0
    live_present = settled_count + sum(
        1 for key in keys if (state := stored.get(key)) is not None and not state[1]
    )
    if live_present == live_before:
        return set()
    table = _TABLES[kind]
    columns = (table.c[_KEYS[kind]], table.c.row_hash, table.c.row_number)
    present = set(keys)
    return {
        key
        for key, digest, number in _fetch_plain(conn, table, columns, source, live_only=True)
        if key not in present and (settled is None or not settled.holds(number, digest))
    }


def _findings_before(
    conn: Connection, source: str, keys: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """finding_id → (stored result, stored assessment_id) for the given findings."""
    table = _TABLES["findings"]
    columns = (table.c.finding_id, table.c.result, table.c.assessment_id)
    rows = _select_by_keys(conn, table, columns, source, keys)
    return {key: (result, assessment) for key, result, assessment in rows}


def stored_hashes(conn: Connection, source: str) -> dict[str, dict[str, str]]:
    """Tab kind → key → row hash of the source's live stored rows (for `normalise_source`'s
    `known`, so that unchanged rows are not parsed again)."""
    return read_stored_rows(conn, source).known()


def _row_values(
    row: SourceRow, source: str, now: datetime, is_assessment: bool, *, first_seen: bool
) -> dict[str, Any]:
    values: dict[str, Any] = dict(row.fields)
    values.update(
        raw=dict(row.raw),
        extra=dict(row.extra),
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


def _flag_for_scoring(conn: Connection, source: str, assessment_ids: Iterable[str]) -> int:
    """Mark assessments as needing scoring; returns how many were not marked already."""
    table = _TABLES["assessments"]
    flagged = 0
    for chunk in _chunks(sorted(assessment_ids), IN_CHUNK):
        result = conn.execute(
            table.update()
            .where(
                table.c.source == source,
                table.c.assessment_id.in_(chunk),
                table.c.needs_scoring.is_(False),
            )
            .values(needs_scoring=True)
        )
        flagged += result.rowcount
    return flagged


def _rejection_identity(tab: str, row_number: int | None, key: str | None, reason: str) -> str:
    return json.dumps([tab, key if key is not None else row_number, reason], ensure_ascii=False)


def _rejection_content(values: Mapping[str, Any]) -> str:
    return json.dumps(
        [
            values["tab"],
            values["row_number"],
            values["column"],
            values["key"],
            values["reason_en"],
            values["reason_vi"],
            values["raw"],
        ],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )


def _replace_rejections(
    conn: Connection, source: str, rejections: Sequence[Rejection], now: datetime
) -> bool:
    """Replace the source's rejected rows (keeping when each was first seen); True if changed."""
    table = cast(sa.Table, RejectedRow.__table__)
    columns = ("tab", "row_number", "column", "key", "reason_en", "reason_vi", "raw")
    previous = [
        dict(r._mapping)
        for r in conn.execute(
            sa.select(*(table.c[c] for c in columns), table.c.first_seen_at).where(
                table.c.source == source
            )
        )
    ]
    fresh: list[dict[str, Any]] = [
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
    if sorted(map(_rejection_content, previous)) == sorted(map(_rejection_content, fresh)):
        return False
    first_seen = {
        _rejection_identity(p["tab"], p["row_number"], p["key"], p["reason_en"]): p["first_seen_at"]
        for p in previous
    }
    for values in fresh:
        identity = _rejection_identity(
            values["tab"], values["row_number"], values["key"], values["reason_en"]
        )
        values["first_seen_at"] = first_seen.get(identity, now)
    conn.execute(table.delete().where(table.c.source == source))
    _insert_many(conn, table, fresh)
    return True


def read_memos(conn: Connection, source: str) -> dict[str, TabMemo]:
    """Tab kind → the memo the last sync of `source` left (see `hqsync.sync.memo`).

    On PostgreSQL the memo rows stay locked until the transaction ends, so two syncs of one
    source cannot both trust the same memo."""
    table = cast(sa.Table, SourceMemo.__table__)
    query = sa.select(table).where(table.c.source == source)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    memos = {}
    for row in conn.execute(query).mappings():
        memos[row["tab_kind"]] = TabMemo(
            tab_kind=row["tab_kind"],
            context=row["context"],
            parents=row["parents"],
            block_rows=row["block_rows"],
            blocks=bytes(row["blocks"]),
            rows=bytes(row["rows"]),
            live=row["live"],
        )
    return memos


def _replace_memos(
    conn: Connection,
    source: str,
    memos: Sequence[TabMemo],
    now: datetime,
    before: Mapping[str, TabMemo],
) -> None:
    """Replace the source's memos `before` (none: the next sync reads every stored hash)."""
    table = cast(sa.Table, SourceMemo.__table__)
    if sorted(before.values(), key=_kind_of) == sorted(memos, key=_kind_of):
        return  # an unchanged sheet writes nothing
    conn.execute(table.delete().where(table.c.source == source))
    if memos:
        conn.execute(
            table.insert(),
            [
                {
                    "source": source,
                    "tab_kind": memo.tab_kind,
                    "context": memo.context,
                    "parents": memo.parents,
                    "block_rows": memo.block_rows,
                    "blocks": memo.blocks,
                    "rows": memo.rows,
                    "live": memo.live,
                    "written_at": now,
                }
                for memo in memos
            ],
        )


_kind_of = attrgetter("tab_kind")
_POSITIONAL = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _insert_many(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) as driver-level executemany (COPY on psycopg).

    Values go through the columns' own bind processors (so they are stored exactly as
    SQLAlchemy would store them), but a column at a time and once per distinct value for
    dates, times and booleans: SQLAlchemy's per-row parameter processing cost twice the
    database's own work on a 500k-row load.
    """
    _write_many(conn, table, rows)


def _update_many(
    conn: Connection, table: sa.Table, key: str, source: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """UPDATE the rows of `source` whose `key` column equals each row's 'b_key', setting the
    row's other values (like `_insert_many`, as driver-level executemany)."""
    _write_many(conn, table, rows, where=(key, source))


def _write_many(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    where: tuple[str, str] | None = None,
) -> None:
    if not rows:
        return
    # An UPDATE leaves the key it matches on out of SET: the database need not touch the
    # primary key's index.
    unset = {"b_key"} if where is None else {"b_key", where[0]}
    names = tuple(name for name in rows[0] if name not in unset)
    placeholder = _POSITIONAL.get(conn.dialect.paramstyle)
    if placeholder is None:  # an unusual driver: the usual road
        statement: Any = table.insert()
        if where is not None:
            statement = table.update().where(
                table.c.source == where[1], table.c[where[0]] == sa.bindparam("b_key")
            )
        for chunk in _chunks(rows, CHUNK):
            conn.execute(statement, chunk)
        return
    quote = conn.dialect.identifier_preparer.quote
    if where is None:
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
            f"VALUES ({', '.join(placeholder for _ in names)})"
        )
    else:
        sql = (
            f"UPDATE {quote(table.name)} "
            f"SET {', '.join(f'{quote(name)} = {placeholder}' for name in names)} "
            f"WHERE {quote('source')} = {placeholder} AND {quote(where[0])} = {placeholder}"
        )
    converters = [_converter(table.c[name], conn.dialect) for name in names]
    getters = [itemgetter(name) for name in names]

    def columns_of(chunk: Sequence[Mapping[str, Any]]) -> list[Iterator[Any]]:
        return [
            map(convert, map(get, chunk)) if convert is not None else map(get, chunk)
            for convert, get in zip(converters, getters, strict=True)
        ]

    if where is None and conn.dialect.driver == "psycopg":
        # PostgreSQL loads fastest with COPY (psycopg adapts each value as for a query).
        copy_sql = (
            f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
        )
        driver = cast(Any, conn.connection.driver_connection)
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for record in zip(*columns_of(rows), strict=True):
                copy.write_row(record)
        return
    for chunk in _chunks(rows, CHUNK):
        columns = columns_of(chunk)
        if where is not None:
            columns += [repeat(where[1], len(chunk)), map(_b_key_of, chunk)]
        conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))


_b_key_of = itemgetter("b_key")
_MEMOISED = (sa.DateTime, sa.Date, sa.Boolean)


def _converter(column: sa.Column[Any], dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    """The column's bind processor (None when it has none), memoised for repeated values."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    impl = column.type.impl if isinstance(column.type, sa.TypeDecorator) else column.type
    if not isinstance(impl, _MEMOISED):
        return process
    return _Memo(process).__getitem__


class _Memo(dict[Any, Any]):
    """value → processed value, computed on first use."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        super().__init__()
        self.process = process

    def __missing__(self, value: Any) -> Any:
        processed = self[value] = self.process(value)
        return processed


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
