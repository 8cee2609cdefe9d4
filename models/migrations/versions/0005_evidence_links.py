"""evidence links: the Drive link of each evidence path of a source, so an unchanged source
costs no Drive requests

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_links",
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "path"),
    )


def downgrade() -> None:
    op.drop_table("evidence_links")
