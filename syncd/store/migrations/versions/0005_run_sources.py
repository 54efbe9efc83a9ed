"""Keep how each source's read went in each run in a table of its own (``run_sources``), so that health, the
metrics and the dashboard judge a source by its rows instead of reading the runs' stored `sync --json` reports.
This fills the table from the reports already stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_RUNS = sa.table("runs", sa.column("run_id", sa.String), sa.column("summary", sa.JSON))


def upgrade() -> None:
    run_sources = op.create_table(
        "run_sources",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name=op.f("fk_run_sources_run_id_runs")),
        sa.PrimaryKeyConstraint("run_id", "source", name=op.f("pk_run_sources")),
    )
    op.create_index(op.f("ix_run_sources_source"), "run_sources", ["source"], unique=False)
    conn = op.get_bind()
    rows = []
    for run_id, summary in conn.execute(sa.select(_RUNS.c.run_id, _RUNS.c.summary)):
        for s in (summary or {}).get("sources", []):
            rows.append({"run_id": run_id, "source": s["name"], "complete": bool(s.get("complete")),
                         "full": bool(s.get("full")), "records": int(s.get("records") or 0),
                         "error": s.get("error"), "seconds": float(s.get("seconds") or 0.0)})
    if rows:
        op.bulk_insert(run_sources, rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_run_sources_source"), table_name="run_sources")
    op.drop_table("run_sources")
