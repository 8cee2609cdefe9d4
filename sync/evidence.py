"""Keeping the store's cache of evidence links in step with a source (see ARCHITECTURE.md).

After a source changed, the relative evidence paths of its findings that have no link yet
are resolved by its reader (a Google reader asks Drive) and cached; a path cached with a link
is never looked up again, so a re-sync costs no Drive requests unless a new photo appears.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.engine import Engine

from hqsync.config.settings import SourceSettings
from hqsync.models import evidence
from hqsync.sync.dashboard.evidence import is_url
from hqsync.sync.interfaces import EvidenceResolver

log = logging.getLogger(__name__)


def refresh_evidence_links(
    engine: Engine, source: SourceSettings, resolver: EvidenceResolver, now: datetime
) -> int:
    """Resolve and cache the links of the source's evidence paths not linked yet; forget the
    paths no finding holds any more. Returns how many paths were looked up (0: no request).

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
    wanted = sorted(p for p in paths if cached.get(p) is None)
    if not wanted:
        return 0
    links = resolver.resolve_evidence(wanted)
    with engine.begin() as conn:
        evidence.save_links(conn, source.name, {p: links.get(p) for p in wanted}, now)
    found = sum(1 for p in wanted if links.get(p))
    log.info("source %s: %d of %d evidence paths linked", source.name, found, len(wanted))
    return len(wanted)
