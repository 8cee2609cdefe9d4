"""What a sync did to a source's rows, per tab and in total (for the run log and the pipeline)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Self

from hqsync.config.vocabulary import TAB_KINDS, TabKind


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
            hospitals=tabs[TabKind.HOSPITALS],
            assessments=tabs[TabKind.ASSESSMENTS],
            findings=tabs[TabKind.FINDINGS],
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
