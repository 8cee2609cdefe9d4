"""The store's tables, as SQLAlchemy Core tables on one `metadata`.

Schema changes go through models/migrations. The tables are plain Core `sa.Table`s, not ORM
classes: nothing uses instances or a Session, and the ORM costs every command its import.
Column docs are `doc=` (Python only); a `comment=` would change PostgreSQL's DDL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
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


metadata = sa.MetaData()
"""Every hqsync table (Alembic compares the migrations against it)."""


def _source_row_columns() -> list[sa.Column[Any]]:
    """Bookkeeping every row copied from a source sheet carries (after the tab's own columns)."""
    return [
        sa.Column("source", sa.String(100), primary_key=True),
        sa.Column("row_number", sa.Integer, nullable=False),
        sa.Column("raw", sa.JSON, nullable=False, doc="header → value as read"),
        sa.Column("extra", sa.JSON, nullable=False, doc="columns hqsync does not use"),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
    ]


hospitals = sa.Table(
    # One hospital, as listed in a source's Hospitals tab.
    "hospitals",
    metadata,
    sa.Column("hospital_id", sa.String(200), primary_key=True),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("district", sa.Text, nullable=True),
    sa.Column("ownership", sa.String(20), nullable=True),
    sa.Column("has_obstetrics", sa.Boolean, nullable=True),
    sa.Column("has_pediatrics", sa.Boolean, nullable=True),
    sa.Column("active", sa.Boolean, nullable=True),
    sa.Column(
        "dashboard",
        sa.Text,
        nullable=True,
        doc="the hospital's own dashboard (spreadsheet id, URL or path), as written",
    ),
    sa.Column(
        "email",
        sa.Text,
        nullable=True,
        doc="its leaders' e-mail addresses for alerts, as written (',' or ';' between)",
    ),
    *_source_row_columns(),
)

assessments = sa.Table(
    # One assessment round of one hospital against one standard.
    "assessments",
    metadata,
    sa.Column("assessment_id", sa.String(200), primary_key=True),
    sa.Column("hospital_id", sa.String(200), nullable=False),
    sa.Column("standard", sa.String(50), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("assessed_on", sa.Date, nullable=True),
    sa.Column("assessor", sa.Text, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=True),
    sa.Column("needs_scoring", sa.Boolean, nullable=False, default=True),
    *_source_row_columns(),
    sa.Index("ix_assessments_needs_scoring", "needs_scoring"),
)

findings = sa.Table(
    # One answered sub-item of an assessment.
    "findings",
    metadata,
    sa.Column("finding_id", sa.String(200), primary_key=True),
    sa.Column("assessment_id", sa.String(200), nullable=False),
    sa.Column("item_code", sa.String(50), nullable=False),
    sa.Column("result", sa.String(20), nullable=False, doc="met | not_met | na | partial"),
    sa.Column("note", sa.Text, nullable=True),
    sa.Column("evidence", sa.Text, nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=True),
    *_source_row_columns(),
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

finding_changes = sa.Table(
    # History of a finding's result: old and new, when hqsync saw it, the sheet's updated_at.
    "finding_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("finding_id", sa.String(200), nullable=False),
    sa.Column("old_result", sa.String(20), nullable=True),
    sa.Column("new_result", sa.String(20), nullable=True),
    sa.Column("seen_at", UTCDateTime(), nullable=False),
    sa.Column("sheet_updated_at", UTCDateTime(), nullable=True),
    sa.Index("ix_finding_changes_finding", "source", "finding_id"),
)

rejected_rows = sa.Table(
    # A source row hqsync could not use, with a reason an inspector can act on.
    "rejected_rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("tab", sa.String(200), nullable=False),
    sa.Column("row_number", sa.Integer, nullable=True),
    sa.Column("column", sa.String(200), nullable=True),
    sa.Column("key", sa.String(200), nullable=True),
    sa.Column("reason_en", sa.Text, nullable=False),
    sa.Column("reason_vi", sa.Text, nullable=False),
    sa.Column("raw", sa.JSON, nullable=False),
    sa.Column("first_seen_at", UTCDateTime(), nullable=False),
    sa.Index("ix_rejected_rows_source", "source"),
)

source_state = sa.Table(
    # What hqsync last saw of a source: its change marker and when it was last synced.
    "source_state",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("modified_marker", sa.String(200), nullable=True),
    sa.Column("last_synced_at", UTCDateTime(), nullable=True),
)

source_memos = sa.Table(
    # A compact picture of one tab as it was after a source's last sync (see
    # sync/ingest/memo.py). Lets the next sync skip the tab's unchanged rows without reading
    # their stored hashes. Written in the same transaction as the rows it describes; any sync
    # without one deletes it.
    "source_memos",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("tab_kind", sa.String(20), primary_key=True),
    sa.Column("context", sa.String(64), nullable=False),
    sa.Column("parents", sa.String(64), nullable=False),
    sa.Column("block_rows", sa.Integer, nullable=False),
    sa.Column("blocks", sa.LargeBinary, nullable=False),
    sa.Column("rows", sa.LargeBinary, nullable=False),
    sa.Column("live", sa.Integer, nullable=False),
    sa.Column("written_at", UTCDateTime(), nullable=False),
)

evidence_links = sa.Table(
    # The link of one evidence path of a source (a Drive file's webViewLink), as last resolved.
    # `url` None: looked up and not found (retried when the source changes again).
    "evidence_links",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("path", sa.String(1000), primary_key=True),
    sa.Column("url", sa.Text, nullable=True),
    sa.Column("resolved_at", UTCDateTime(), nullable=False),
)

runs = sa.Table(
    # One run of a job (sync, score, publish): when, by whom, what it did and how it ended.
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(20), nullable=False),
    sa.Column("source", sa.String(100), nullable=True),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("outcome", sa.String(20), nullable=False, doc="running | ok | skipped | failed"),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("requests", sa.Integer, nullable=False, default=0),
    sa.Column("rows", sa.JSON, nullable=False, default=dict),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column(
        "host",
        sa.String(200),
        nullable=True,
        doc="the machine (and pid namespace) of the process running it",
    ),
    sa.Column("pid", sa.Integer, nullable=True, doc="that process's id"),
    sa.Index("ix_runs_started", "started_at"),
    sa.Index("ix_runs_job_source", "job", "source", "started_at"),
    sa.Index("ix_runs_outcome", "outcome", "started_at"),
)

assessment_scores = sa.Table(
    # The score of one assessment, as computed from its findings by its rule set.
    "assessment_scores",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("assessment_id", sa.String(200), primary_key=True),
    sa.Column("standard", sa.String(50), nullable=False),
    sa.Column("method", sa.String(20), nullable=False),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("passed", sa.Boolean, nullable=True),
    sa.Column("band", sa.String(100), nullable=True),
    sa.Column("applicable", sa.Integer, nullable=False),
    sa.Column("assessed", sa.Integer, nullable=False),
    sa.Column("level_counts", sa.JSON, nullable=False),
    sa.Column("parts", sa.JSON, nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("rule_set_fingerprint", sa.String(64), nullable=False),
    sa.Column("result_hash", sa.String(64), nullable=False),
    sa.Column("computed_at", UTCDateTime(), nullable=False),
)

criterion_results = sa.Table(
    # The result of one criterion (or checklist item) in one assessment, with its gap list.
    "criterion_results",
    metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("assessment_id", sa.String(200), primary_key=True),
    sa.Column("code", sa.String(50), primary_key=True),
    sa.Column("level", sa.Integer, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
)

leases = sa.Table(
    # The leader lease: which daemon runs jobs, until when.
    "leases",
    metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column(
        "next_runs",
        sa.JSON,
        nullable=True,
        doc="job → ISO time of its next run, written by the leading daemon",
    ),
)

dashboard_fingerprints = sa.Table(
    # What hqsync last published to one dashboard target, so an unchanged one is not
    # rewritten. `fingerprint` is the sha256 of the rendered content, the About tab's times
    # left out; `inputs` the digest of what it was built from (`sync.dashboard.inputs`): equal
    # inputs skip the build. `layout` is the writer's record of the tabs it left (Google: ids,
    # titles, charts, filters, colour rules), so the next write needs no layout read; empty
    # after a failure.
    "dashboard_fingerprints",
    metadata,
    sa.Column("target", sa.String(500), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False, doc="written | unchanged | failed"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column(
        "hospital_id",
        sa.String(200),
        nullable=True,
        doc="the hospital whose own dashboard this is; empty for the overview",
    ),
    sa.Column("inputs", sa.String(64), nullable=True),
    sa.Column("layout", sa.Text, nullable=True),
)

alert_deliveries = sa.Table(
    # One alert event delivered (or tried) to one recipient: an event is sent to each
    # recipient once; a failed delivery is retried on the next run while the event holds.
    "alert_deliveries",
    metadata,
    sa.Column(
        "event_key",
        sa.String(1000),
        primary_key=True,
        doc="the event's stable key, e.g. overdue:QD6858:…",
    ),
    sa.Column("channel", sa.String(20), primary_key=True, doc="email | google_chat"),
    sa.Column(
        "recipient",
        sa.String(320),
        primary_key=True,
        doc="an e-mail address, or 'space' for the Chat space",
    ),
    sa.Column("event", sa.String(20), nullable=False, doc="band_drop | basic_failed | …"),
    sa.Column("hospital_id", sa.String(200), nullable=True),
    sa.Column("outcome", sa.String(20), nullable=False, doc="sent | failed"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("first_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("last_attempt_at", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Column("error", sa.Text, nullable=True, doc="why the last attempt failed"),
    sa.Index("ix_alert_deliveries_outcome", "outcome"),
)
