"""Index source records by (source, e-mail key): an incremental sync finds standing conflicts (one e-mail on two
records of one source) from this index alone, without reading the 400,000 records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_source_records_source_email_key", "source_records", ["source", "email_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_source_records_source_email_key", table_name="source_records")
