"""alerts: the Hospitals tab's `email` column (its leaders' addresses), and every alert event's
delivery to every recipient (each sent once; a failed one retried)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hospitals") as batch:
        batch.add_column(sa.Column("email", sa.Text(), nullable=True))
    op.create_table(
        "alert_deliveries",
        sa.Column("event_key", sa.String(length=1000), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("hospital_id", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_key", "channel", "recipient"),
    )
    op.create_index("ix_alert_deliveries_outcome", "alert_deliveries", ["outcome"])


def downgrade() -> None:
    op.drop_index("ix_alert_deliveries_outcome", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    with op.batch_alter_table("hospitals") as batch:
        batch.drop_column("email")
