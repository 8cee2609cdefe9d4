"""SQL of the evidence links: the failing findings' evidence, and the cache of resolved links.

The cache (`evidence_links`: source, path → url) is filled after a source changes
(`hqsync.sync.evidence.refresh_evidence_links`) and read when the dashboard is built, so a
source that did not change costs no Drive requests.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hqsync.config.utils import IN_CHUNK, chunks
from hqsync.config.vocabulary import Result
from hqsync.models.tables import evidence_links, findings

MAX_PATH = 1000
"""Longest evidence text kept in the cache (its key column's size); longer ones get no link."""
FAILING = (Result.NOT_MET, Result.PARTIAL)
"""Results whose findings keep a criterion from its next level."""


@dataclass(frozen=True)
class FailingEvidence:
    """The evidence cell of one failing finding, with its cached link (if any)."""

    source: str
    assessment_id: str
    item_code: str
    evidence: str
    cached_url: str | None


def evidence_paths(conn: Connection, source: str) -> set[str]:
    """The distinct evidence texts of a source's live findings (empty cells left out)."""
    return {str(row[0]) for row in conn.execute(evidence_paths_statement(source))}


def evidence_paths_statement(source: str) -> sa.Select[str | None]:
    """The query of `evidence_paths`; its `evidence IS NOT NULL` lets the database read the
    partial index `ix_findings_evidence` instead of every finding."""
    f = findings.c
    return (
        sa.select(f.evidence)
        .where(f.source == source, f.deleted.is_(False), f.evidence.is_not(None), f.evidence != "")
        .distinct()
    )


@dataclass(frozen=True)
class CachedLink:
    """What the cache holds for one evidence path: its link (None: not found), and when."""

    url: str | None
    resolved_at: datetime


def cached_links(conn: Connection, source: str) -> dict[str, CachedLink]:
    """Evidence path → its cached link of one source."""
    e = evidence_links.c
    rows = conn.execute(sa.select(e.path, e.url, e.resolved_at).where(e.source == source))
    return {str(path): CachedLink(url, at) for path, url, at in rows.all()}


def save_links(
    conn: Connection, source: str, links: Mapping[str, str | None], now: datetime
) -> None:
    """Store (replace) the links of `links`' paths; paths longer than MAX_PATH are skipped."""
    kept = {p: u for p, u in links.items() if len(p) <= MAX_PATH}
    e = evidence_links.c
    for chunk in chunks(sorted(kept), IN_CHUNK):
        conn.execute(sa.delete(evidence_links).where(e.source == source, e.path.in_(chunk)))
    if kept:
        conn.execute(
            sa.insert(evidence_links),
            [{"source": source, "path": p, "url": u, "resolved_at": now} for p, u in kept.items()],
        )


def prune_links(conn: Connection, source: str, keep: Collection[str]) -> int:
    """Forget a source's cached links whose path no live finding holds any more."""
    gone = sorted(set(cached_links(conn, source)) - set(keep))
    e = evidence_links.c
    for chunk in chunks(gone, IN_CHUNK):
        conn.execute(sa.delete(evidence_links).where(e.source == source, e.path.in_(chunk)))
    return len(gone)


def failing_evidence(conn: Connection) -> list[FailingEvidence]:
    """Every live failing finding that has an evidence cell, with the cached link of its path."""
    f, e = findings.c, evidence_links.c
    stmt = (
        sa.select(f.source, f.assessment_id, f.item_code, f.evidence, e.url)
        .outerjoin(evidence_links, sa.and_(e.source == f.source, e.path == f.evidence))
        .where(
            f.deleted.is_(False),
            f.result.in_([str(r) for r in FAILING]),
            f.evidence.is_not(None),
            f.evidence != "",
        )
        .order_by(f.source, f.assessment_id, f.item_code, f.finding_id)
    )
    return [
        FailingEvidence(str(s), str(a), str(i), str(ev), url)
        for s, a, i, ev, url in conn.execute(stmt).all()
    ]
