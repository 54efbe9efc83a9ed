"""Indexes for the dashboard at 400,000 people: the people search (a display name by the start of its first or
last word, a CUCM userid exactly; the indexed expressions are syncd/store/search.py's, which the search compiles
too) and the pool's Grace licenses by expiry.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from syncd.store.search import LAST_WORD_INDEX_KEY, NAME_INDEX_KEY, last_word_key, name_key, userid_key

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_people_display_name_lower", "people",
                    [name_key(sa.column("display_name")).label(NAME_INDEX_KEY)],
                    postgresql_ops={NAME_INDEX_KEY: "text_pattern_ops"})
    op.create_index("ix_people_display_name_last_word", "people",
                    [last_word_key(sa.column("display_name")).label(LAST_WORD_INDEX_KEY)],
                    postgresql_ops={LAST_WORD_INDEX_KEY: "text_pattern_ops"})
    op.create_index("ix_source_records_source_userid", "source_records",
                    [sa.column("source"), userid_key(sa.column("data"))])
    op.create_index("ix_licenses_kind_state_expires_at", "licenses", ["kind", "state", "expires_at", "person_id"])


def downgrade() -> None:
    op.drop_index("ix_licenses_kind_state_expires_at", table_name="licenses")
    op.drop_index("ix_source_records_source_userid", table_name="source_records")
    op.drop_index("ix_people_display_name_last_word", table_name="people")
    op.drop_index("ix_people_display_name_lower", table_name="people")
