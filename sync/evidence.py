"""Keeping the store's cache of evidence links in step with a source (see ARCHITECTURE.md).

After a source changed, the relative evidence paths of its findings that were never looked up
are resolved by its reader (a Google reader asks Drive) and cached. A path cached with a link
is never looked up again, one whose file was not found only with a new path or a day later,
so a re-sync costs no Drive request unless a new photo appears.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from hqsync.config.settings import SourceSettings
from hqsync.models import evidence
from hqsync.sync.dashboard.evidence import is_url
from hqsync.sync.interfaces import EvidenceResolver

log = logging.getLogger(__name__)

RETRY_NOT_FOUND_AFTER = timedelta(days=1)
"""A path whose file was not found is looked up again with the next new path, or after this
(a folder shared later, a photo uploaded after its row)."""


def refresh_evidence_links(
    engine: Engine, source: SourceSettings, resolver: EvidenceResolver, now: datetime
) -> int:
    """Resolve and cache the links of the source's new evidence paths (with those not found
    before); forget the paths no finding holds any more. Returns how many paths were looked up
    (0: no request).

    A source with an `evidence_url` template needs no lookup. Raises what the resolver raises
    (GoogleError); the cache is then left as it was."""
    if source.evidence_url is not None:
        return 0
    with engine.begin() as conn:
        paths = {
            p
            for p in evidence.evidence_paths(conn, source.name)
            if not is_url(p) and len(p) <= evidence.MAX_PATH
        }
        evidence.prune_links(conn, source.name, paths)
        cached = evidence.cached_links(conn, source.name)
    unresolved = {p for p in paths if p not in cached or cached[p].url is None}
    due = [
        p
        for p in unresolved
        if p not in cached or now - cached[p].resolved_at >= RETRY_NOT_FOUND_AFTER
    ]
    if not due:
        return 0
    wanted = sorted(unresolved)  # the same listing finds them all: no extra request
    links = resolver.resolve_evidence(wanted)
    with engine.begin() as conn:
        evidence.save_links(conn, source.name, {p: links.get(p) for p in wanted}, now)
    found = sum(1 for p in wanted if links.get(p))
    log.info("source %s: %d of %d evidence paths linked", source.name, found, len(wanted))
    return len(wanted)
