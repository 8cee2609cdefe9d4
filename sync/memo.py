# transitional: removed at merge
"""Transitional re-exports: the memo moved to `hqsync.sync.ingest.memo` (issue 10)."""

from __future__ import annotations

from hqsync.sync.ingest.memo import MemoScan, Settled, TabMemo, marshallable, text_digest

__all__ = ["MemoScan", "Settled", "TabMemo", "marshallable", "text_digest"]
