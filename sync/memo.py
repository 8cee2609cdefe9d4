# transitional: removed at merge
"""Transitional re-exports: the memo moved to `hqsync.sync.ingest.memo` (issue 10)."""

from __future__ import annotations

from hqsync.sync.ingest.memo import Settled, TabMemo

__all__ = ["Settled", "TabMemo"]
