"""dashboard inputs and layout: the digest of what each dashboard was last built from (an
unchanged one is not built again) and its Google tab layout after the last write (a write
needs no layout read)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dashboard_fingerprints") as batch:
        batch.add_column(sa.Column("inputs", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("layout", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dashboard_fingerprints") as batch:
        batch.drop_column("layout")
        batch.drop_column("inputs")
