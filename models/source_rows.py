"""The SQL of ingestion: a source's stored rows, rejected rows, memos and change marker.

Reads what a sync compares against (row hashes, tombstone flags, row numbers, a finding's
result before), writes the plan `hqsync.sync.ingest.diff` decided (a `TabPlan`), flags
assessments for scoring, replaces the source's rejected rows and memos, and keeps the source's
change marker. Every function runs inside the caller's transaction (see ARCHITECTURE.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hqsync.config.utils import IN_CHUNK, chunks, paused_gc
from hqsync.config.vocabulary import KEY_FIELDS, TAB_KINDS, TabKind
from hqsync.models.bulk import insert_many, update_many
from hqsync.models.plans import (
    FindingBefore,
    LiveRow,
    StoredMemo,
    StoredRow,
    StoredRows,
    TabPlan,
    Values,
)
from hqsync.models.tables import (
    assessments,
    finding_changes,
    findings,
    hospitals,
    rejected_rows,
    source_memos,
    source_state,
)

ANALYZE_AFTER = 20_000
"""Rows inserted into a table at once after which PostgreSQL's statistics are refreshed."""
FETCH_ALL_AFTER = 20_000
"""Keys to look up after which reading all of a tab's stored rows beats `IN (...)` lists."""

_TABLES: Mapping[str, sa.Table] = {
    TabKind.HOSPITALS: hospitals,
    TabKind.ASSESSMENTS: assessments,
    TabKind.FINDINGS: findings,
}
_first = itemgetter(0)
_deleted_of = itemgetter(2)
_kind_of = attrgetter("tab_kind")

# --------------------------------------------------------------------------------------------
# Stored rows


def read_stored_rows(
    conn: Connection, source: str, kinds: Sequence[TabKind] = TAB_KINDS
) -> StoredRows:
    """Read the hash, tombstone flag and row number of every stored row of `source` in the
    tabs of the given kinds."""
    with paused_gc():
        return _read_stored_rows(conn, source, kinds)


def _read_stored_rows(conn: Connection, source: str, kinds: Sequence[TabKind]) -> StoredRows:
    tabs: dict[str, dict[str, StoredRow]] = {}
    live: dict[str, dict[str, str]] = {}
    for kind in kinds:
        table = _TABLES[kind]
        columns = (table.c[KEY_FIELDS[kind]], table.c.row_hash, table.c.deleted, table.c.row_number)
        rows = _fetch_plain(conn, table, columns, source)
        tabs[kind] = {key: (digest, bool(deleted), number) for key, digest, deleted, number in rows}
        state = tabs[kind]
        if any(map(_deleted_of, rows)):
            live[kind] = {key: digest for key, digest, deleted, _ in rows if not deleted}
        else:  # the common case, in C
            live[kind] = dict(zip(state.keys(), map(_first, state.values()), strict=True))
    return StoredRows(tabs, live)


def stored_hashes(conn: Connection, source: str) -> dict[str, dict[str, str]]:
    """Tab kind → key → row hash of the source's live stored rows (for `normalise_source`'s
    `known`, so that unchanged rows are not parsed again)."""
    return read_stored_rows(conn, source).known()


def stored_by_key(
    conn: Connection, source: str, kind: TabKind, keys: Sequence[str]
) -> tuple[dict[str, StoredRow], bool]:
    """key → (row hash, deleted, row number) of the stored rows of `keys` in one tab; and
    whether that is every stored row of the tab (many keys: reading them all is cheaper)."""
    table = _TABLES[kind]
    key_column = table.c[KEY_FIELDS[kind]]
    columns = (key_column, table.c.row_hash, table.c.deleted, table.c.row_number)
    every = len(keys) > FETCH_ALL_AFTER
    if every:
        rows: Iterable[Sequence[Any]] = _fetch_plain(conn, table, columns, source)
    else:
        rows = _select_by_keys(conn, table, columns, source, keys)
    stored = {key: (digest, bool(deleted), number) for key, digest, deleted, number in rows}
    return stored, every


def count_live(conn: Connection, source: str, kind: TabKind) -> int:
    """How many live (not tombstoned) rows one tab of `source` has in the store."""
    table = _TABLES[kind]
    query = sa.select(sa.func.count()).where(table.c.source == source, table.c.deleted.is_(False))
    return int(conn.execute(query).scalar_one())


def live_rows(conn: Connection, source: str, kind: TabKind) -> Sequence[LiveRow]:
    """(key, row hash, row number) of every live (not tombstoned) row of one tab of `source`."""
    table = _TABLES[kind]
    columns = (table.c[KEY_FIELDS[kind]], table.c.row_hash, table.c.row_number)
    return cast(Sequence[LiveRow], _fetch_plain(conn, table, columns, source, live_only=True))


def findings_before(conn: Connection, source: str, keys: Sequence[str]) -> dict[str, FindingBefore]:
    """finding_id → (stored result, assessment_id, evidence) for the given findings."""
    table = _TABLES[TabKind.FINDINGS]
    columns = (table.c.finding_id, table.c.result, table.c.assessment_id, table.c.evidence)
    rows = _select_by_keys(conn, table, columns, source, keys)
    return {key: (result, assessment, evidence) for key, result, assessment, evidence in rows}


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


def _select_by_keys(
    conn: Connection,
    table: sa.Table,
    columns: Sequence[sa.Column[Any]],
    source: str,
    keys: Iterable[str],
) -> list[tuple[Any, ...]]:
    """`columns` (the key first) of the rows of `source` whose key is among `keys`."""
    rows: list[tuple[Any, ...]] = []
    for chunk in chunks(sorted(keys), IN_CHUNK):
        query = sa.select(*columns).where(table.c.source == source, columns[0].in_(chunk))
        rows.extend(map(tuple, conn.execute(query)))
    return rows


# --------------------------------------------------------------------------------------------
# Writing a plan, flagging for scoring


def apply_plan(conn: Connection, source: str, plan: TabPlan) -> None:
    """Make the writes `plan` holds to one tab of `source` (and its findings' history)."""
    table = _TABLES[plan.kind]
    insert_many(conn, table, plan.inserts)
    if len(plan.inserts) >= ANALYZE_AFTER and conn.dialect.name == "postgresql":
        # Fresh planner statistics: without them PostgreSQL reads the key look-ups below (and
        # the next sync's) through the wrong index, 100x slower on a 500k-row first load.
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(table.name)}")
    for batch in (plan.updates, plan.tombstones, plan.moves):
        update_many(conn, table, KEY_FIELDS[plan.kind], source, batch)
    insert_many(conn, finding_changes, plan.history)


def assessments_of_hospitals(
    conn: Connection, source: str, hospital_ids: Iterable[str]
) -> set[str]:
    """The live assessments of `source` of the given hospitals."""
    table = _TABLES[TabKind.ASSESSMENTS]
    found: set[str] = set()
    for chunk in chunks(sorted(hospital_ids), IN_CHUNK):
        rows = conn.execute(
            sa.select(table.c.assessment_id).where(
                table.c.source == source,
                table.c.hospital_id.in_(chunk),
                table.c.deleted.is_(False),
            )
        )
        found.update(rows.scalars())
    return found


def flag_for_scoring(conn: Connection, source: str, assessment_ids: Iterable[str]) -> int:
    """Mark assessments as needing scoring; returns how many were not marked already."""
    table = _TABLES[TabKind.ASSESSMENTS]
    flagged = 0
    for chunk in chunks(sorted(assessment_ids), IN_CHUNK):
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


# --------------------------------------------------------------------------------------------
# Rejected rows

_REJECTION_COLUMNS = ("tab", "row_number", "column", "key", "reason_en", "reason_vi", "raw")


def replace_rejections(
    conn: Connection, source: str, fresh: Sequence[Values], now: datetime
) -> bool:
    """Replace the source's rejected rows by `fresh` (rows of `rejected_rows` without
    `first_seen_at`, which is kept from the last sync or set to `now`); True if changed."""
    table = rejected_rows
    previous = [
        dict(r._mapping)
        for r in conn.execute(
            sa.select(*(table.c[c] for c in _REJECTION_COLUMNS), table.c.first_seen_at).where(
                table.c.source == source
            )
        )
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
    insert_many(conn, table, fresh)
    return True


def rejected_keys(conn: Connection, source: str) -> list[str]:
    """The distinct keys the source's rejected rows carry."""
    table = rejected_rows
    query = (
        sa.select(table.c.key)
        .where(table.c.source == source, table.c.key.is_not(None))
        .distinct()
        .order_by(table.c.key)
    )
    return list(conn.execute(query).scalars())


def _rejection_identity(tab: str, row_number: int | None, key: str | None, reason: str) -> str:
    return json.dumps([tab, key if key is not None else row_number, reason], ensure_ascii=False)


def _rejection_content(values: Mapping[str, Any]) -> str:
    return json.dumps(
        [values[column] for column in _REJECTION_COLUMNS],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )


# --------------------------------------------------------------------------------------------
# Memos


def read_memos(conn: Connection, source: str) -> dict[str, StoredMemo]:
    """Tab kind → the memo the last sync of `source` left.

    On PostgreSQL the memo rows stay locked until the transaction ends, so two syncs of one
    source cannot both trust the same memo."""
    table = source_memos
    query = sa.select(table).where(table.c.source == source)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    memos = {}
    for row in conn.execute(query).mappings():
        memos[row["tab_kind"]] = StoredMemo(
            tab_kind=row["tab_kind"],
            context=row["context"],
            parents=row["parents"],
            block_rows=row["block_rows"],
            blocks=bytes(row["blocks"]),
            rows=bytes(row["rows"]),
            live=row["live"],
        )
    return memos


def replace_memos(
    conn: Connection,
    source: str,
    memos: Sequence[StoredMemo],
    now: datetime,
    before: Mapping[str, StoredMemo],
) -> None:
    """Replace the source's memos `before` (none: the next sync reads every stored hash)."""
    table = source_memos
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


# --------------------------------------------------------------------------------------------
# Source state


def read_change_marker(conn: Connection, source: str) -> str | None:
    """The change marker (e.g. a sheet's modifiedTime) the last sync of `source` stored."""
    return conn.execute(
        sa.select(source_state.c.modified_marker).where(source_state.c.source == source)
    ).scalar_one_or_none()


def write_change_marker(conn: Connection, source: str, marker: str | None, now: datetime) -> None:
    """Store `source`'s change marker and when it was synced (`now`)."""
    updated = conn.execute(
        sa.update(source_state)
        .where(source_state.c.source == source)
        .values(modified_marker=marker, last_synced_at=now)
    )
    if not updated.rowcount:
        conn.execute(
            sa.insert(source_state).values(
                source=source, modified_marker=marker, last_synced_at=now
            )
        )
