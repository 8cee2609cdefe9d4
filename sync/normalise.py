# transitional: removed at merge
"""Transitional re-exports for modules not yet moved to `hqsync.sync.ingest` (issue 10)."""

from __future__ import annotations

from hqsync.config.utils import paused_gc
from hqsync.config.vocabulary import TAB_KINDS
from hqsync.sync.ingest.normalise import normalise_source
from hqsync.sync.ingest.rows import NormalisedSource, Rejection, SourceRow

__all__ = [
    "TAB_KINDS",
    "NormalisedSource",
    "Rejection",
    "SourceRow",
    "normalise_source",
    "paused_gc",
]
