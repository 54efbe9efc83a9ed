"""Keep the e-mail keys in conflict (one e-mail on several records of one source) in a table of their own. An
incremental sync re-plans every standing conflict; finding them by grouping 400,000 source records cost it 0.1 s
on SQLite and 0.2 s on PostgreSQL, every run. Each applied run now writes its plan's conflicts; this fills the
table from the records once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conflicts",
        sa.Column("email_key", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("email_key", name=op.f("pk_conflicts")),
    )
    op.execute(
        "INSERT INTO conflicts (email_key) SELECT DISTINCT email_key FROM ("
        "SELECT email_key FROM source_records WHERE email_key IS NOT NULL "
        "GROUP BY source, email_key HAVING count(*) > 1) shared"
    )


def downgrade() -> None:
    op.drop_table("conflicts")
