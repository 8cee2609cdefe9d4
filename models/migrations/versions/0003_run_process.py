"""runs name their process (host and pid), so a run whose process is gone can be closed;
indexes for the status queries (last run of each job and source, last failure)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("host", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
    op.create_index("ix_runs_job_source", "runs", ["job", "source", "started_at"])
    op.create_index("ix_runs_outcome", "runs", ["outcome", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_outcome", table_name="runs")
    op.drop_index("ix_runs_job_source", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("host")
