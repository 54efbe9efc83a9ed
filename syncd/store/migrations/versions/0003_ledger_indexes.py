"""Index what a ledger decision looks up besides license holders: people with a grace window and open meetings.
Without them every meeting start scanned all people and all meetings ever held.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_people_first_grace_at", "people", ["first_grace_at"], unique=False)
    op.create_index("ix_meetings_ended_at", "meetings", ["ended_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_meetings_ended_at", table_name="meetings")
    op.drop_index("ix_people_first_grace_at", table_name="people")
