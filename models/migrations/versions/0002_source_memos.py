"""source memos: a compact picture of each synced tab, for fast re-syncs; room on
PostgreSQL's findings pages for updates in place

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "source_memos",
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("tab_kind", sa.String(length=20), nullable=False),
        sa.Column("context", sa.String(length=64), nullable=False),
        sa.Column("parents", sa.String(length=64), nullable=False),
        sa.Column("block_rows", sa.Integer(), nullable=False),
        sa.Column("blocks", sa.LargeBinary(), nullable=False),
        sa.Column("rows", sa.LargeBinary(), nullable=False),
        sa.Column("live", sa.Integer(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "tab_kind"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Inspectors edit findings in place: a tenth of each page kept free lets PostgreSQL
        # update a row on its own page without touching the indexes (a HOT update).
        op.execute("ALTER TABLE findings SET (fillfactor = 90)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE findings RESET (fillfactor)")
    op.drop_table("source_memos")
