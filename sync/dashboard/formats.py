"""How dashboard values read to a leader: standards by name, percentages, zoned times, reasons.

Small public helpers shared by every dashboard built from the store (the department's overview
and each hospital's own): the builder computes values, these say how they are shown. Names are
ordered with `hqsync.config.utils.name_sort_key` (Vietnamese collation) everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hqsync.config.vocabulary import Method, NoScoreReason
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.dashboard.loader import is_missing
from hqsync.sync.interfaces import CellValue

TIME_FORMAT = "%Y-%m-%d %H:%M"
"""A time shown as text: 2026-11-29 18:00 (followed by its zone)."""


def standard_name(rule_sets: Mapping[str, RuleSet], standard: str) -> str:
    """The standard as leaders call it ("QĐ 6858", "TT 35/2024"), its id when unknown."""
    rule_set = rule_sets.get(str(standard))
    return rule_set.display_name if rule_set is not None else str(standard)


def is_percent_standard(rule_sets: Mapping[str, RuleSet], standard: str) -> bool:
    """True when the standard's score is a percentage (the checklist method, e.g. TT 35)."""
    rule_set = rule_sets.get(str(standard))
    return rule_set is not None and rule_set.method == Method.CHECKLIST


def as_fraction(percent: Any) -> CellValue:
    """A percentage score (0–100) as the fraction a `percent` column shows (100 → 100.00%)."""
    if is_missing(percent):
        return None
    return round(float(percent) / 100, 10)


def zone_label(label: str, zone: str | ZoneInfo) -> str:
    """A header or field name that says the zone of the times under it: "Since (Asia/…)"."""
    return f"{label} ({zone})"


def local_time(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """An aware time as a naive local time in `zone` (spreadsheets have no time zones)."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # the store keeps UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None)


def zoned_time_text(moment: datetime | None, zone: ZoneInfo) -> str:
    """A time as text with its zone: "2026-11-29 18:00 (Asia/Ho_Chi_Minh)" ('' for None)."""
    local = local_time(moment, zone)
    return "" if local is None else f"{local.strftime(TIME_FORMAT)} ({zone})"


def reason_text(reason: Any, labels: Mapping[str, str]) -> str | None:
    """Why an assessment has no score, in the dashboard's language (None when it has one)."""
    if is_missing(reason) or not reason:
        return None
    return labels[f"reason_{NoScoreReason(reason).value}"]


def signed(value: Any) -> CellValue:
    """A change or difference for a `signed` column (a plain number; the column shows its sign)."""
    if is_missing(value):
        return None
    return float(value)
