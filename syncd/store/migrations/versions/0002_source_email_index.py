"""Index source records by (source, e-mail key) instead of e-mail key alone: an incremental sync finds standing
conflicts (one e-mail on two records of one source) from this index alone, without reading 400,000 records. The
index on person_id goes: nothing writes that column, and every index costs a full sync of 400,000 records time.

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
    op.drop_index("ix_source_records_email_key", table_name="source_records")
    op.drop_index("ix_source_records_person_id", table_name="source_records")


def downgrade() -> None:
    op.create_index("ix_source_records_person_id", "source_records", ["person_id"], unique=False)
    op.create_index("ix_source_records_email_key", "source_records", ["email_key"], unique=False)
    op.drop_index("ix_source_records_source_email_key", table_name="source_records")
