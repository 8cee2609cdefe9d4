"""Assessment cycles: the yearly deadlines of a standard, and where each hospital stands.

The model (`Cycle`, `MonthDay`) is read from `[[cycles]]` by `hqsync.config.calendar_settings`.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from hqsync.config.vocabulary import Covers


@dataclass(frozen=True)
class MonthDay:
    """A yearly deadline, e.g. 30 November; 29 February falls on the 28th in common years."""

    month: int
    day: int

    def in_year(self, year: int) -> date:
        """This deadline's date in `year`."""
        last = calendar.monthrange(year, self.month)[1]
        return date(year, self.month, min(self.day, last))

    def __str__(self) -> str:
        return f"{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class Cycle:
    """One `[[cycles]]` entry: the yearly deadlines of one standard the council runs."""

    standard: str
    """The standard as written (an id or alias); matched against the rule sets when used."""
    self_due: MonthDay
    council_due: MonthDay | None = None
    """None: the council does not assess this standard on a calendar."""
    covers: Covers = Covers.CURRENT_YEAR
    applies_when: str | None = None
    """A Hospitals-tab column (yes/no) that must be yes for the cycle to apply to a hospital;
    None: it applies to every active hospital."""
    exclude: tuple[str, ...] = ()
    """Hospital ids the cycle never applies to."""
