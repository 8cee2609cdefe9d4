"""Writing one source's normalised rows into the store, incrementally and losslessly.

Runs inside the caller's transaction: either every write of a source lands or none does.
Each tab goes read → decide → write: what the store holds is read by `hqsync.models
.source_rows`, the pure rules in `diff` decide what changes (inserts, updates, tombstones,
restores, history), and `source_rows` writes that plan. Then the assessments whose inputs
changed are flagged for scoring and the source's rejected rows and memos are replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from hqsync.config.settings import TabNames
from hqsync.config.utils import paused_gc
from hqsync.config.vocabulary import TAB_KINDS, TabKind
from hqsync.models import source_rows
from hqsync.models.plans import FindingBefore, StoredMemo, StoredRow, StoredRows
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.ingest import diff
from hqsync.sync.ingest.counts import UpsertCounts
from hqsync.sync.ingest.locale import SourceLocale
from hqsync.sync.ingest.memo import Settled, TabMemo
from hqsync.sync.ingest.normalise import normalise_source
from hqsync.sync.ingest.rows import NormalisedSource, Rejection, SourceRow
from hqsync.sync.interfaces import SourceSnapshot

log = logging.getLogger(__name__)


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
    columns: Mapping[str, Mapping[str, str]] | None = None,
    locale: SourceLocale | None = None,
) -> UpsertCounts:
    """Normalise `snapshot` and upsert it, inside the caller's transaction, as a sync does.

    Unchanged rows skip parsing (by stored hash) or, where the last sync left a memo, even
    hashing and the store. Raises StaleMemoError when a changed row takes the key of a row
    the memo settled: roll back and call again with `use_memos=False`. `columns` and `locale`
    are the source's column mapping and data locale (see `normalise_source`).
    """
    memos = read_memos(conn, source) if use_memos else {}
    stored = source_rows.read_stored_rows(conn, source, [k for k in TAB_KINDS if k not in memos])
    data = normalise_source(
        snapshot,
        tabs,
        rule_sets,
        timezone=timezone,
        known=stored.known(),
        memos=memos,
        columns=columns,
        locale=locale,
        source=source,
    )
    for kind, settled in data.settled.items():
        log.debug("source %s: the memo settled %d %s rows unread", source, settled.count, kind)
    return upsert_source(
        conn, source, data, now, stored=stored, memos_before=memos if use_memos else None
    )


def read_memos(conn: Connection, source: str) -> dict[str, TabMemo]:
    """Tab kind → the memo the last sync of `source` left (see `hqsync.sync.ingest.memo`), for
    `normalise_source(memos=...)`. On PostgreSQL the memo rows stay locked until the
    transaction ends, so two syncs of one source cannot both trust the same memo."""
    memos = source_rows.read_memos(conn, source)
    if not memos:
        return {}
    rejected = source_rows.rejected_keys(conn, source)
    kept: dict[str, dict[str, tuple[int, str]]] = {}
    if rejected:
        # Stored rows whose key a rejected row carried too: a duplicate the sheet keeps is
        # then rejected again with the memo (see `MemoScan.settled_holder`), not re-read.
        for kind in memos:
            holders, _ = source_rows.stored_by_key(conn, source, TabKind(kind), rejected)
            kept[kind] = {
                key: (number, digest)
                for key, (digest, deleted, number) in holders.items()
                if not deleted
            }
    return {kind: _tab_memo(memo, kept.get(kind, {})) for kind, memo in memos.items()}


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
            state=stored or source_rows.read_stored_rows(conn, source),
            memos_before=(
                None
                if memos_before is None
                else {kind: _stored_memo(memo) for kind, memo in memos_before.items()}
            ),
        )


def _upsert(
    conn: Connection,
    *,
    source: str,
    data: NormalisedSource,
    now: datetime,
    state: StoredRows,
    memos_before: Mapping[str, StoredMemo] | None,
) -> UpsertCounts:
    rejected_by_kind: dict[str, list[Rejection]] = {kind: [] for kind in TAB_KINDS}
    for rejection in data.rejections:
        rejected_by_kind.setdefault(rejection.tab_kind or "", []).append(rejection)
    outcomes: dict[str, diff.TabDiff] = {}
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
    # Assessments to score again: those whose findings or hospital changed (those written
    # themselves are flagged by their own write).
    to_flag = set(outcomes[TabKind.FINDINGS].touched)
    changed_hospitals = outcomes[TabKind.HOSPITALS].written
    if changed_hospitals:
        to_flag |= source_rows.assessments_of_hospitals(conn, source, changed_hospitals)
    to_flag -= outcomes[TabKind.ASSESSMENTS].written
    flagged = source_rows.flag_for_scoring(conn, source, to_flag)
    rejections_changed = source_rows.replace_rejections(
        conn, source, diff.rejection_rows(source, data.rejections), now
    )
    memos = [replace(memo, live=outcomes[kind].live) for kind, memo in data.memos.items()]
    source_rows.replace_memos(
        conn,
        source,
        list(map(_stored_memo, memos)),
        now,
        source_rows.read_memos(conn, source) if memos_before is None else memos_before,
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
    kind: TabKind,
    rows: Sequence[SourceRow],
    rejected: Sequence[Rejection],
    stored: Mapping[str, StoredRow] | None,
    now: datetime,
    settled: Settled | None,
) -> diff.TabDiff:
    """Read what the store holds of one tab, decide its writes (`diff`), and write them."""
    placed = diff.placed_keys(rows, rejected)
    read_all = True
    if stored is None:
        stored, read_all = source_rows.stored_by_key(conn, source, kind, [k for k, _ in placed])
    # Every stored row is at hand, and every row of the sheet is among `rows`.
    complete = read_all and settled is None
    if settled is not None:
        # With settled rows (left out of `rows`) vanished rows are found by counting.
        diff.guard_settled(
            source=source,
            kind=kind,
            placed=placed,
            stored=stored,
            settled=settled,
            duplicates=diff.duplicate_rows(rejected),
        )
    live_before = diff.known_live(stored, settled, complete=complete)
    if live_before is None:
        live_before = source_rows.count_live(conn, source, kind)
    comparison = diff.compare_rows(source=source, kind=kind, rows=rows, stored=stored)
    vanished = diff.vanished_keys(
        comparison, stored, complete=complete, settled=settled, live_before=live_before
    )
    if vanished is None:
        live = source_rows.live_rows(conn, source, kind)
        vanished = diff.vanished_among(live, comparison, settled)
    tombstones = diff.tombstone_keys(vanished, rejected)
    before: dict[str, FindingBefore] = {}
    if kind == TabKind.FINDINGS:
        # What the changed findings held before: for their history, their assessments and
        # the indexed columns an update need not set.
        keys = diff.history_keys(comparison, tombstones)
        before = source_rows.findings_before(conn, source, keys)
    result = diff.plan_tab(
        source=source,
        kind=kind,
        comparison=comparison,
        tombstones=tombstones,
        before=before,
        now=now,
        rejected=len(rejected),
        settled_count=settled.count if settled is not None else 0,
        live_before=live_before,
    )
    source_rows.apply_plan(conn, source, result.plan)
    return result


def _tab_memo(memo: StoredMemo, kept: Mapping[str, tuple[int, str]]) -> TabMemo:
    """The memo normalise reads, of a memo as stored (and the kept duplicates' holders)."""
    return TabMemo(**_memo_fields(memo), kept=kept)


def _stored_memo(memo: TabMemo) -> StoredMemo:
    """The memo as stored, of the memo normalise made."""
    return StoredMemo(**_memo_fields(memo))


def _memo_fields(memo: StoredMemo | TabMemo) -> dict[str, Any]:
    """The fields a stored memo and normalise's memo share (all of the stored one's)."""
    return {f.name: getattr(memo, f.name) for f in fields(StoredMemo)}
