"""The journal is append-only in the database itself: UPDATE and DELETE (and TRUNCATE on PostgreSQL) fail."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError

from syncd.store import bulk, tables
from tests.integration.store.storehelp import NOW


def _one_row(engine: Engine) -> None:
    with engine.begin() as conn:
        bulk.append_journal(
            conn,
            [
                {
                    "run_id": "r1",
                    "at": NOW,
                    "actor": "scheduler",
                    "person": "a@example.com",
                    "event": "created",
                    "sentence": "a@example.com was created.",
                }
            ],
        )


def test_update_is_rejected(engine: Engine) -> None:
    _one_row(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(update(tables.journal).values(sentence="rewritten history"))
    with engine.connect() as conn:
        assert [r.sentence for r in bulk.journal_rows(conn)] == ["a@example.com was created."]


def test_delete_is_rejected(engine: Engine) -> None:
    _one_row(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(delete(tables.journal))
    with engine.connect() as conn:
        assert len(bulk.journal_rows(conn)) == 1


@pytest.mark.postgres
def test_truncate_is_rejected_on_postgresql(pg_engine: Engine) -> None:
    _one_row(pg_engine)
    with pytest.raises(DatabaseError, match="append-only"), pg_engine.begin() as conn:
        conn.execute(text("TRUNCATE journal"))
    with pg_engine.connect() as conn:
        assert len(bulk.journal_rows(conn)) == 1


def test_appending_still_works_after_a_rejected_change(engine: Engine) -> None:
    _one_row(engine)
    with pytest.raises(DatabaseError), engine.begin() as conn:
        conn.execute(delete(tables.journal).where(tables.journal.c.person == "a@example.com"))
    _one_row(engine)
    with engine.connect() as conn:
        rows = bulk.journal_rows(conn, person="a@example.com")
    assert len(rows) == 2 and rows[0].id < rows[1].id
