"""`journal [--person EMAIL] [--since T]`: the audit trail, oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from connectors.emails import email_key
from syncd import errors
from syncd.store import bulk, tables
from syncd.views.common import iso

if TYPE_CHECKING:
    from syncd.runtime import Runtime


def journal(rt: Runtime, person: str | None, since: datetime | None, limit: int | None) -> list[dict[str, Any]]:
    """Journal rows of one person and/or at or after ``since``; with ``limit``, the newest ``limit`` of them.
    UnknownPerson when ``person`` is neither a person nor named by any row (so a typo is not "no rows")."""
    key = email_key(person) if person else None
    if person and key is None:
        raise errors.UserError(f"not an e-mail address: {person}")
    with rt.engine.connect() as conn:
        rows = bulk.journal_rows(conn, person=key, since=since, limit=limit)
        if key is not None and not rows and not _named(conn, key):
            raise errors.UnknownPerson(person.strip() if person else key)
    return [{"id": r.id, "at": iso(r.at), "run_id": r.run_id, "actor": r.actor, "person": r.person,
             "event": r.event, "source": r.source, "rule": r.rule, "sentence": r.sentence, "before": r.before,
             "after": r.after} for r in rows]


def _named(conn: Any, key: str) -> bool:
    """Whether ``key`` is a person's e-mail or is named by a journal row (of a person since renamed, say)."""
    p, j = tables.people, tables.journal
    return (conn.execute(select(p.c.id).where(p.c.email == key)).first() is not None
            or conn.execute(select(j.c.id).where(j.c.person == key).limit(1)).first() is not None)
