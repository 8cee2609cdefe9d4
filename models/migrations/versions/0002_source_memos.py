"""source memos: a compact picture of each synced tab, for fast re-syncs

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


def downgrade() -> None:
    op.drop_table("source_memos")
