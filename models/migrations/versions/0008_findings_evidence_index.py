"""findings' evidence index: the distinct evidence paths of a source (read after every changed
sync, to cache their links) without reading every finding; partial, so findings without
evidence cost it nothing

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WITH_EVIDENCE = sa.text("evidence IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_findings_evidence",
        "findings",
        ["source", "evidence"],
        unique=False,
        sqlite_where=_WITH_EVIDENCE,
        postgresql_where=_WITH_EVIDENCE,
    )


def downgrade() -> None:
    op.drop_index("ix_findings_evidence", table_name="findings")
