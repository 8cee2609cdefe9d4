"""each hospital's own dashboard: the Hospitals tab's `dashboard` column, and the fingerprint of
what was last published to every dashboard target (an unchanged one is not rewritten)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hospitals") as batch:
        batch.add_column(sa.Column("dashboard", sa.Text(), nullable=True))
    op.create_table(
        "dashboard_fingerprints",
        sa.Column("target", sa.String(length=500), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("hospital_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("target"),
    )


def downgrade() -> None:
    op.drop_table("dashboard_fingerprints")
    with op.batch_alter_table("hospitals") as batch:
        batch.drop_column("dashboard")
