"""Initial schema: people, source records, the license ledger, cursors, runs and the append-only journal.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


# The journal is append-only: the database itself rejects changing or removing its rows.
PG_APPEND_ONLY = """
CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER journal_no_update_delete BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION journal_append_only();
"""
SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal "
    "BEGIN SELECT RAISE(ABORT, 'journal is append-only: UPDATE refused'); END",
    "CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal "
    "BEGIN SELECT RAISE(ABORT, 'journal is append-only: DELETE refused'); END",
]


def upgrade() -> None:
    op.create_table(
        "cursors",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_cursors")),
    )
    op.create_table(
        "demo_grants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_demo_grants")),
    )
    op.create_table(
        "journal",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("person", sa.String(length=320), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("rule", sa.String(length=16), nullable=True),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal")),
    )
    op.create_index(op.f("ix_journal_at"), "journal", ["at"], unique=False)
    op.create_index("ix_journal_person_id", "journal", ["person", "id"], unique=False)
    op.create_index(op.f("ix_journal_run_id"), "journal", ["run_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_APPEND_ONLY)
    else:
        for statement in SQLITE_APPEND_ONLY:
            op.execute(statement)
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=256), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("management", sa.String(length=8), nullable=False),
        sa.Column("in_cucm", sa.Boolean(), nullable=False),
        sa.Column("ad_guid", sa.String(length=128), nullable=True),
        sa.Column("inactive_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_hosted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_grace_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("management IN ('local', 'remote')", name=op.f("ck_people_management")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("email", name=op.f("uq_people_email")),
    )
    op.create_index(op.f("ix_people_ad_guid"), "people", ["ad_guid"], unique=False)
    op.create_table(
        "purchases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchases")),
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_started_at"), "runs", ["started_at"], unique=False)
    op.create_table(
        "trial",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_trial_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial")),
    )
    op.create_table(
        "licenses",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("management", sa.String(length=8), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("demo_grant_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN ('trial', 'permanent', 'grace', 'demonstration')", name=op.f("ck_licenses_kind")),
        sa.CheckConstraint("management IN ('local', 'remote')", name=op.f("ck_licenses_management")),
        sa.CheckConstraint("state IN ('active', 'expired')", name=op.f("ck_licenses_state")),
        sa.ForeignKeyConstraint(
            ["demo_grant_id"], ["demo_grants.id"], name=op.f("fk_licenses_demo_grant_id_demo_grants")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_licenses_person_id_people")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_licenses")),
    )
    op.create_table(
        "meetings",
        sa.Column("meeting_id", sa.String(length=128), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_meetings_person_id_people")),
        sa.PrimaryKeyConstraint("meeting_id", name=op.f("pk_meetings")),
    )
    op.create_index(op.f("ix_meetings_person_id"), "meetings", ["person_id"], unique=False)
    op.create_table(
        "source_records",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=128), nullable=False),
        sa.Column("email_key", sa.String(length=320), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_source_records_person_id_people")),
        sa.PrimaryKeyConstraint("source", "source_key", name=op.f("pk_source_records")),
    )
    op.create_index(op.f("ix_source_records_email_key"), "source_records", ["email_key"], unique=False)
    op.create_index(op.f("ix_source_records_person_id"), "source_records", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_source_records_person_id"), table_name="source_records")
    op.drop_index(op.f("ix_source_records_email_key"), table_name="source_records")
    op.drop_table("source_records")
    op.drop_index(op.f("ix_meetings_person_id"), table_name="meetings")
    op.drop_table("meetings")
    op.drop_table("licenses")
    op.drop_table("trial")
    op.drop_index(op.f("ix_runs_started_at"), table_name="runs")
    op.drop_table("runs")
    op.drop_table("purchases")
    op.drop_index(op.f("ix_people_ad_guid"), table_name="people")
    op.drop_table("people")
    op.drop_index(op.f("ix_journal_run_id"), table_name="journal")
    op.drop_index("ix_journal_person_id", table_name="journal")
    op.drop_index(op.f("ix_journal_at"), table_name="journal")
    op.drop_table("journal")  # drops its triggers too
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION journal_append_only()")
    op.drop_table("demo_grants")
    op.drop_table("cursors")
