"""Writing one source's normalised rows into the store, incrementally and losslessly.

Runs inside the caller's transaction: either every write of a source lands or none does.
Rows are compared by hash, so a re-sync writes only what changed; rows that vanish from the
sheet are tombstoned (kept, marked deleted) and restored when they come back; a finding's
result changes are appended to its history; the source's rejected rows are replaced.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hqsync.config.errors import StoreError
from hqsync.models.tables import Assessment, Finding, FindingChange, Hospital, RejectedRow
from hqsync.sync.normalise import TAB_KINDS, NormalisedSource, Rejection, SourceRow, paused_gc

log = logging.getLogger(__name__)

CHUNK = 5_000
"""Rows per executemany call (bounds memory on 500k-row loads)."""
IN_CHUNK = 500
"""Keys per `IN (...)` list (well under SQLite's bound-parameter limit)."""

_TABLES: dict[str, sa.Table] = {
    "hospitals": Hospital.__table__,
    "assessments": Assessment.__table__,
    "findings": Finding.__table__,
}
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


@dataclass(frozen=True)
class StoredRows:
    """What the store holds of one source: tab kind → key → (row hash, deleted, row number)."""

    tabs: Mapping[str, Mapping[str, tuple[str, bool, int]]]

    def known(self) -> dict[str, dict[str, str]]:
        """Tab kind → key → row hash of the live rows (for `normalise_source(known=...)`)."""
        return {
            kind: {key: state[0] for key, state in rows.items() if not state[1]}
            for kind, rows in self.tabs.items()
        }


def read_stored_rows(conn: Connection, source: str) -> StoredRows:
    """Read the hash, tombstone flag and row number of every stored row of `source`."""
    tabs: dict[str, dict[str, tuple[str, bool, int]]] = {}
    for kind in TAB_KINDS:
        table = _TABLES[kind]
        columns = (table.c[_KEYS[kind]], table.c.row_hash, table.c.deleted, table.c.row_number)
        tabs[kind] = {
            key: (digest, bool(deleted), number)
            for key, digest, deleted, number in _fetch_plain(conn, table, columns, source)
        }
    return StoredRows(tabs)


def _fetch_plain(
    conn: Connection, table: sa.Table, columns: Sequence[sa.Column[Any]], source: str
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
        return conn.execute(sa.select(*columns).where(table.c.source == source)).all()
    names = ", ".join(quote(column.name) for column in columns)
    sql = f"SELECT {names} FROM {quote(table.name)} WHERE {quote('source')} = {placeholder[0]}"
    result = conn.exec_driver_sql(sql, placeholder[1])
    rows: Sequence[Sequence[Any]] = result.cursor.fetchall()
    result.close()
    return rows


def upsert_source(
    conn: Connection,
    source: str,
    data: NormalisedSource,
    now: datetime,
    *,
    stored: StoredRows | None = None,
) -> UpsertCounts:
    """Write one source's rows into the store inside the caller's transaction.

    Only new and changed rows (by row hash) are written; vanished rows are tombstoned and
    restored when they return; a row that turned bad keeps its last good stored version;
    finding result changes go to the history; the source's rejected rows are replaced; every
    assessment whose own row, findings or hospital changed gets `needs_scoring = True`.
    `stored` (from `read_stored_rows` in this same transaction) saves reading it again.
    """
    if now.tzinfo is None:
        raise ValueError("upsert_source needs an aware `now` (UTC)")
    with paused_gc():
        return _upsert(conn, source, data, now, stored or read_stored_rows(conn, source))


def _upsert(
    conn: Connection, source: str, data: NormalisedSource, now: datetime, state: StoredRows
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
            stored=state.tabs[kind],
            now=now,
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
    stored: Mapping[str, tuple[str, bool, int]],
    now: datetime,
) -> _TabOutcome:
    table = _TABLES[kind]
    key_column = table.c[_KEYS[kind]]

    is_assessment = kind == "assessments"
    is_finding = kind == "findings"
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    changed: list[SourceRow] = []
    written: set[str] = set()
    restored_keys: set[str] = set()
    unchanged = 0
    for row in rows:
        previous = stored.get(row.key)
        if not row.parsed and (previous is None or previous[0] != row.row_hash or previous[1]):
            raise StoreError(
                f"source {source}: {kind} row {row.row_number} ({row.key!r}) was skipped as "
                "unchanged but the store no longer holds it as it was; run the sync again"
            )
        if previous is None:
            inserts.append(_row_values(row, source, now, is_assessment, first_seen=True))
            written.add(row.key)
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
        changed.append(row)
        if was_deleted:
            restored_keys.add(row.key)

    present = {row.key for row in rows}
    # A row that turned bad keeps its last good version until it is fixed: never tombstoned.
    kept = {r.key for r in rejected if r.key is not None}
    tombstones: list[dict[str, Any]] = []
    for key, (_, was_deleted, _) in stored.items():
        if was_deleted or key in present or key in kept:
            continue
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
        touched.update(row.fields["assessment_id"] for row in rows if row.key in written)
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

    for chunk in _chunks(inserts, CHUNK):
        conn.execute(table.insert(), chunk)
    by_key = table.update().where(table.c.source == source, key_column == sa.bindparam("b_key"))
    for batch in (updates, tombstones, moves):
        for chunk in _chunks(batch, CHUNK):
            conn.execute(by_key, chunk)
    for chunk in _chunks(history, CHUNK):
        conn.execute(sa.insert(FindingChange), chunk)

    counts = TabCounts(
        read=len(rows) + len(rejected),
        inserted=len(inserts),
        updated=len(updates) - len(restored_keys),
        deleted=len(tombstones),
        restored=len(restored_keys),
        unchanged=unchanged,
        rejected=len(rejected),
    )
    return _TabOutcome(counts, written, touched)


def _findings_before(
    conn: Connection, source: str, keys: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """finding_id → (stored result, stored assessment_id) for the given findings."""
    table = _TABLES["findings"]
    before: dict[str, tuple[str, str]] = {}
    for chunk in _chunks(sorted(keys), IN_CHUNK):
        query = sa.select(table.c.finding_id, table.c.result, table.c.assessment_id).where(
            table.c.source == source, table.c.finding_id.in_(chunk)
        )
        for key, result, assessment in conn.execute(query):
            before[key] = (result, assessment)
    return before


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
    table = RejectedRow.__table__
    columns = ("tab", "row_number", "column", "key", "reason_en", "reason_vi", "raw")
    previous = [
        dict(r._mapping)
        for r in conn.execute(
            sa.select(*(table.c[c] for c in columns), table.c.first_seen_at).where(
                table.c.source == source
            )
        )
    ]
    fresh = [
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
    for chunk in _chunks(fresh, CHUNK):
        conn.execute(table.insert(), chunk)
    return True


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
