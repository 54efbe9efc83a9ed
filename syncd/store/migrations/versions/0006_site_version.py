"""Record the CWMS version the ledger is on (``site``, one row), so that ``licenses upgrade --to 2.5`` on a ledger
already on 2.5 is refused instead of releasing every license again. An existing database gets no row: it follows
the configured ``[licenses] cwms_version`` until an upgrade records one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cwms_version", sa.String(length=8), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_site_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )


def downgrade() -> None:
    op.drop_table("site")
