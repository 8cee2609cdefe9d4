"""SQLAlchemy 2 tables of the store. Schema changes go through models/migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite keeps no zone of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every hqsync table."""

    type_annotation_map = {  # noqa: RUF012
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


class SourceRowMixin:
    """Bookkeeping every row copied from a source sheet carries."""

    source: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    row_number: Mapped[int] = mapped_column(sa.Integer)
    raw: Mapped[dict[str, Any]] = mapped_column(sa.JSON, doc="header → value as read")
    extra: Mapped[dict[str, Any]] = mapped_column(sa.JSON, doc="columns hqsync does not use")
    row_hash: Mapped[str] = mapped_column(sa.String(64))
    deleted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    first_seen_at: Mapped[datetime]
    changed_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Hospital(SourceRowMixin, Base):
    """One hospital, as listed in a source's Hospitals tab."""

    __tablename__ = "hospitals"
    hospital_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.Text)
    district: Mapped[str | None] = mapped_column(sa.Text)
    ownership: Mapped[str | None] = mapped_column(sa.String(20))
    has_obstetrics: Mapped[bool | None]
    has_pediatrics: Mapped[bool | None]
    active: Mapped[bool | None]
    dashboard: Mapped[str | None] = mapped_column(
        sa.Text, doc="the hospital's own dashboard (spreadsheet id, URL or path), as written"
    )
    email: Mapped[str | None] = mapped_column(
        sa.Text, doc="its leaders' e-mail addresses for alerts, as written (',' or ';' between)"
    )


class Assessment(SourceRowMixin, Base):
    """One assessment round of one hospital against one standard."""

    __tablename__ = "assessments"
    assessment_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    hospital_id: Mapped[str] = mapped_column(sa.String(200))
    standard: Mapped[str] = mapped_column(sa.String(50))
    kind: Mapped[str] = mapped_column(sa.String(20))
    assessed_on: Mapped[date | None] = mapped_column(sa.Date)
    assessor: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20))
    updated_at: Mapped[datetime | None]
    needs_scoring: Mapped[bool] = mapped_column(sa.Boolean, default=True)

    __table_args__ = (sa.Index("ix_assessments_needs_scoring", "needs_scoring"),)


class Finding(SourceRowMixin, Base):
    """One answered sub-item of an assessment."""

    __tablename__ = "findings"
    finding_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    assessment_id: Mapped[str] = mapped_column(sa.String(200))
    item_code: Mapped[str] = mapped_column(sa.String(50))
    result: Mapped[str] = mapped_column(sa.String(20), doc="met | not_met | na | partial")
    note: Mapped[str | None] = mapped_column(sa.Text)
    evidence: Mapped[str | None] = mapped_column(sa.Text)
    updated_at: Mapped[datetime | None]

    __table_args__ = (
        sa.Index("ix_findings_assessment", "source", "assessment_id"),
        # The distinct evidence paths of a source (`hqsync.models.evidence.evidence_paths`).
        sa.Index(
            "ix_findings_evidence",
            "source",
            "evidence",
            sqlite_where=sa.text("evidence IS NOT NULL"),
            postgresql_where=sa.text("evidence IS NOT NULL"),
        ),
    )


class FindingChange(Base):
    """History of a finding's result: old and new, when hqsync saw it, the sheet's updated_at."""

    __tablename__ = "finding_changes"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(sa.String(100))
    finding_id: Mapped[str] = mapped_column(sa.String(200))
    old_result: Mapped[str | None] = mapped_column(sa.String(20))
    new_result: Mapped[str | None] = mapped_column(sa.String(20))
    seen_at: Mapped[datetime]
    sheet_updated_at: Mapped[datetime | None]

    __table_args__ = (sa.Index("ix_finding_changes_finding", "source", "finding_id"),)


class RejectedRow(Base):
    """A source row hqsync could not use, with a reason an inspector can act on."""

    __tablename__ = "rejected_rows"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(sa.String(100))
    tab: Mapped[str] = mapped_column(sa.String(200))
    row_number: Mapped[int | None]
    column: Mapped[str | None] = mapped_column(sa.String(200))
    key: Mapped[str | None] = mapped_column(sa.String(200))
    reason_en: Mapped[str] = mapped_column(sa.Text)
    reason_vi: Mapped[str] = mapped_column(sa.Text)
    raw: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    first_seen_at: Mapped[datetime]

    __table_args__ = (sa.Index("ix_rejected_rows_source", "source"),)


class SourceState(Base):
    """What hqsync last saw of a source: its change marker and when it was last synced."""

    __tablename__ = "source_state"
    source: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    modified_marker: Mapped[str | None] = mapped_column(sa.String(200))
    last_synced_at: Mapped[datetime | None]


class SourceMemo(Base):
    """A compact picture of one tab as it was after a source's last sync (see sync/ingest/memo.py).

    Lets the next sync skip the tab's unchanged rows without reading their stored hashes.
    Written in the same transaction as the rows it describes; any sync without one deletes it.
    """

    __tablename__ = "source_memos"
    source: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    tab_kind: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    context: Mapped[str] = mapped_column(sa.String(64))
    parents: Mapped[str] = mapped_column(sa.String(64))
    block_rows: Mapped[int] = mapped_column(sa.Integer)
    blocks: Mapped[bytes] = mapped_column(sa.LargeBinary)
    rows: Mapped[bytes] = mapped_column(sa.LargeBinary)
    live: Mapped[int] = mapped_column(sa.Integer)
    written_at: Mapped[datetime]


class EvidenceLink(Base):
    """The link of one evidence path of a source (a Drive file's webViewLink), as last resolved.

    `url` None: looked up and not found (retried when the source changes again).
    """

    __tablename__ = "evidence_links"
    source: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    path: Mapped[str] = mapped_column(sa.String(1000), primary_key=True)
    url: Mapped[str | None] = mapped_column(sa.Text)
    resolved_at: Mapped[datetime]


class Run(Base):
    """One run of a job (sync, score, publish): when, by whom, what it did and how it ended."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(sa.String(20))
    source: Mapped[str | None] = mapped_column(sa.String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(sa.String(20), doc="running | ok | skipped | failed")
    holder: Mapped[str] = mapped_column(sa.String(200))
    requests: Mapped[int] = mapped_column(sa.Integer, default=0)
    rows: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    error: Mapped[str | None] = mapped_column(sa.Text)
    host: Mapped[str | None] = mapped_column(
        sa.String(200), doc="the machine (and pid namespace) of the process running it"
    )
    pid: Mapped[int | None] = mapped_column(sa.Integer, doc="that process's id")

    __table_args__ = (
        sa.Index("ix_runs_started", "started_at"),
        sa.Index("ix_runs_job_source", "job", "source", "started_at"),
        sa.Index("ix_runs_outcome", "outcome", "started_at"),
    )


class AssessmentScore(Base):
    """The score of one assessment, as computed from its findings by its rule set."""

    __tablename__ = "assessment_scores"
    source: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    assessment_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    standard: Mapped[str] = mapped_column(sa.String(50))
    method: Mapped[str] = mapped_column(sa.String(20))
    score: Mapped[float | None] = mapped_column(sa.Float)
    passed: Mapped[bool | None]
    band: Mapped[str | None] = mapped_column(sa.String(100))
    applicable: Mapped[int] = mapped_column(sa.Integer)
    assessed: Mapped[int] = mapped_column(sa.Integer)
    level_counts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    parts: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    rule_set_fingerprint: Mapped[str] = mapped_column(sa.String(64))
    result_hash: Mapped[str] = mapped_column(sa.String(64))
    computed_at: Mapped[datetime]


class CriterionResult(Base):
    """The result of one criterion (or checklist item) in one assessment, with its gap list."""

    __tablename__ = "criterion_results"
    source: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    assessment_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    level: Mapped[int | None] = mapped_column(sa.Integer)
    value: Mapped[float | None] = mapped_column(sa.Float)
    status: Mapped[str] = mapped_column(sa.String(20))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON)


class Lease(Base):
    """The leader lease: which daemon runs jobs, until when."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    next_runs: Mapped[dict[str, Any] | None] = mapped_column(
        sa.JSON, doc="job → ISO time of its next run, written by the leading daemon"
    )


class DashboardFingerprint(Base):
    """What hqsync last published to one dashboard target, so an unchanged one is not rewritten.

    `fingerprint` is the sha256 of the rendered content, the About tab's times left out;
    `inputs` the digest of what it was built from (`sync.dashboard.inputs`): equal inputs skip
    the build. `layout` is the writer's record of the tabs it left (Google: ids, titles, charts,
    filters, colour rules), so the next write needs no layout read; empty after a failure.
    """

    __tablename__ = "dashboard_fingerprints"
    target: Mapped[str] = mapped_column(sa.String(500), primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(sa.String(20), doc="written | unchanged | failed")
    error: Mapped[str | None] = mapped_column(sa.Text)
    hospital_id: Mapped[str | None] = mapped_column(
        sa.String(200), doc="the hospital whose own dashboard this is; empty for the overview"
    )
    inputs: Mapped[str | None] = mapped_column(sa.String(64))
    layout: Mapped[str | None] = mapped_column(sa.Text)


class AlertDelivery(Base):
    """One alert event delivered (or tried) to one recipient: an event is sent to each
    recipient once; a failed delivery is retried on the next run while the event holds."""

    __tablename__ = "alert_deliveries"
    event_key: Mapped[str] = mapped_column(
        sa.String(1000), primary_key=True, doc="the event's stable key, e.g. overdue:QD6858:…"
    )
    channel: Mapped[str] = mapped_column(sa.String(20), primary_key=True, doc="email | google_chat")
    recipient: Mapped[str] = mapped_column(
        sa.String(320), primary_key=True, doc="an e-mail address, or 'space' for the Chat space"
    )
    event: Mapped[str] = mapped_column(sa.String(20), doc="band_drop | basic_failed | …")
    hospital_id: Mapped[str | None] = mapped_column(sa.String(200))
    outcome: Mapped[str] = mapped_column(sa.String(20), doc="sent | failed")
    attempts: Mapped[int] = mapped_column(sa.Integer)
    first_attempt_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(sa.Text, doc="why the last attempt failed")

    __table_args__ = (sa.Index("ix_alert_deliveries_outcome", "outcome"),)
