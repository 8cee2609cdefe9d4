"""hqsync's one vocabulary: every domain word is defined here once and everything derives from it.

Tab kinds and their key fields, finding results, assessment kinds, statuses, ownership, scoring
methods, backends, jobs and their outcomes, the serial-date epoch, formula error texts and the
one text-folding function used to match what people type. This module sits at the bottom of
the package graph (see ARCHITECTURE.md): it imports nothing of hqsync's, so `scoring`,
`models`, `sync` and `jobs` can all use it without an arrow between them.

Every enum is a `StrEnum`: a member *is* its stored text (`Result.MET == "met"`), so values
read back from the store, a TOML file or a JSON export compare equal to the members.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType


class TabKind(StrEnum):
    """The three tabs a source sheet holds."""

    HOSPITALS = "hospitals"
    ASSESSMENTS = "assessments"
    FINDINGS = "findings"


TAB_KINDS: tuple[TabKind, ...] = tuple(TabKind)
"""The tab kinds in load order: parents before children."""

KEY_FIELDS: Mapping[TabKind, str] = MappingProxyType(
    {
        TabKind.HOSPITALS: "hospital_id",
        TabKind.ASSESSMENTS: "assessment_id",
        TabKind.FINDINGS: "finding_id",
    }
)
"""The field that keys each tab's rows."""


class Result(StrEnum):
    """What an inspector recorded for one finding (one sub-item / checklist item / element)."""

    MET = "met"
    NOT_MET = "not_met"
    NA = "na"
    PARTIAL = "partial"


class AssessmentKind(StrEnum):
    """Who assessed: the hospital itself or the council (Hội đồng / đoàn đánh giá)."""

    SELF = "self"
    COUNCIL = "council"


class Status(StrEnum):
    """An assessment's workflow state; drafts are stored but never scored as final."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"


DEFAULT_STATUS = Status.SUBMITTED
"""The status of an assessment whose status cell (or column) is empty."""


class Ownership(StrEnum):
    """A hospital's ownership."""

    PUBLIC = "public"
    PRIVATE = "private"


class Method(StrEnum):
    """How a rule set turns findings into a score."""

    LEVELS = "levels"
    CHECKLIST = "checklist"
    POINTS = "points"


class PassRule(StrEnum):
    """How a checklist rule set decides pass/fail."""

    ALL = "all"
    PERCENT = "percent"


class UnansweredLevel(StrEnum):
    """What an unanswered sub-item does to its level: block it, or count as met."""

    BLOCKS = "blocks"
    MET = "met"


class NoScoreReason(StrEnum):
    """Why an assessment has no score (shown beside it on the dashboard and in exports)."""

    NO_USABLE_FINDINGS = "no_usable_findings"
    """Applicable criteria exist, but no finding assessed any of them."""
    ALL_NOT_APPLICABLE = "all_not_applicable"
    """Every criterion is ruled out by the hospital's profile or answered not applicable."""


class Backend(StrEnum):
    """Where a source is read from or a dashboard is written to."""

    GOOGLE = "google"
    XLSX = "xlsx"


class Language(StrEnum):
    """The dashboard's language."""

    VI = "vi"
    EN = "en"


class Job(StrEnum):
    """The jobs a run records."""

    SYNC = "sync"
    SCORE = "score"
    PUBLISH = "publish"
    ALERTS = "alerts"


class RunOutcome(StrEnum):
    """How a recorded run ended (`running` while it is in flight)."""

    RUNNING = "running"
    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"


FINISHED_OUTCOMES: tuple[RunOutcome, ...] = (RunOutcome.OK, RunOutcome.SKIPPED, RunOutcome.FAILED)


class DashboardOutcome(StrEnum):
    """What one publish did to one dashboard target (the overview or a hospital's own)."""

    WRITTEN = "written"
    UNCHANGED = "unchanged"
    """Its content (the About tab's times aside) equals what was last written: not rewritten."""
    FAILED = "failed"


class SourceOutcome(StrEnum):
    """What one sync did to one source."""

    CHANGED = "changed"
    UNCHANGED = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"


class Covers(StrEnum):
    """Which year an assessment cycle's assessments are about: the year they are due in, or
    the year before (e.g. TT 35 self-assessments made in the first quarter for the past year)."""

    CURRENT_YEAR = "current_year"
    PREVIOUS_YEAR = "previous_year"


class Submission(StrEnum):
    """Where one hospital stands with one assessment (self or council) of the current cycle."""

    SUBMITTED = "submitted"
    """At least one assessment of the cycle that is not a draft."""
    DRAFT_ONLY = "draft_only"
    """Only drafts: they do not count as submitted."""
    MISSING = "missing"


class DueState(StrEnum):
    """Where one hospital stands with one deadline (self or council) of the current cycle, on
    a given day."""

    DONE = "done"
    """Submitted on or before the due date."""
    LATE = "late"
    """Submitted after the due date."""
    PENDING = "pending"
    """Not submitted (missing or only drafts), due in more than `due_soon_days`."""
    DUE_SOON = "due_soon"
    """Not submitted, due today or within `due_soon_days`."""
    OVERDUE = "overdue"
    """Not submitted, and the due date has passed."""


class AlertEvent(StrEnum):
    """What hqsync tells people about (`[alerts] events`)."""

    BAND_DROP = "band_drop"
    """A hospital's latest council score fell into a lower band."""
    BASIC_FAILED = "basic_failed"
    """A hospital newly fails the TT 35 basic standards."""
    DUE_SOON = "due_soon"
    """A cycle deadline is within `due_soon_days` and its assessment is missing."""
    OVERDUE = "overdue"
    """A cycle deadline has passed and its assessment is missing."""
    SOURCE_FAILED = "source_failed"
    """A source failed as a whole (to ops and the department's Chat space only)."""


class Channel(StrEnum):
    """How an alert digest is delivered."""

    EMAIL = "email"
    GOOGLE_CHAT = "google_chat"


CHAT_SPACE = "space"
"""The recipient of a Google Chat delivery as the store names it: the department's space (the
webhook's URL holds a key and a token, so it is never stored)."""


class DeliveryOutcome(StrEnum):
    """How delivering one alert to one recipient went (a failed one is retried next run)."""

    SENT = "sent"
    FAILED = "failed"


YES_NO_WORDS: Mapping[bool, tuple[str, ...]] = MappingProxyType(
    {
        True: ("yes", "y", "true", "có", "x", "đúng", "ok"),
        False: ("no", "n", "false", "không", "sai"),
    }
)
"""The words of a yes/no cell, True/False → their spellings (matched after `fold`): the
Hospitals tab's yes/no fields (`sync/ingest/contract.py`) and a cycle's `applies_when` column."""

SERIAL_EPOCH = datetime(1899, 12, 30)
"""Day 0 of spreadsheet serial dates (Google Sheets and Excel's 1900 system)."""

FORMULA_ERRORS: frozenset[str] = frozenset(
    {"#REF!", "#N/A", "#VALUE!", "#NAME?", "#DIV/0!", "#ERROR!", "#NULL!", "#NUM!", "#SPILL!"}
)
"""The texts a spreadsheet shows for a formula that failed."""


def fold(text: str) -> str:
    """A matching key: no case, no accents (đ → d), only letters and digits.

    "QĐ 6858" → "qd6858"; "Mã  Bệnh viện" → "mabenhvien".
    """
    decomposed = unicodedata.normalize("NFKD", str(text).casefold().replace("đ", "d"))
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


def levels_of(max_level: int) -> tuple[int, ...]:
    """The levels a rule set with `max_level` levels reports: 1..max_level."""
    return tuple(range(1, max_level + 1))
