"""What each alert receiver was last told of each alert condition (syncd/daemon/alerts), so that a condition
alerts once when it starts and once when it clears, never once per run.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_state",
        sa.Column("condition", sa.String(length=96), nullable=False),
        sa.Column("receiver", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("told_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("condition", "receiver", name=op.f("pk_alert_state")),
    )


def downgrade() -> None:
    op.drop_table("alert_state")
