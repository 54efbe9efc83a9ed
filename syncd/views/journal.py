"""`journal [--person EMAIL] [--since T]`: the audit trail, oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from connectors.emails import email_key
from syncd import errors
from syncd.store import bulk
from syncd.views.common import iso

if TYPE_CHECKING:
    from syncd.runtime import Runtime


def journal(rt: Runtime, person: str | None, since: datetime | None, limit: int | None) -> list[dict[str, Any]]:
    """Journal rows of one person and/or at or after ``since``; with ``limit``, the newest ``limit`` of them."""
    key = email_key(person) if person else None
    if person and key is None:
        raise errors.UserError(f"not an e-mail address: {person}")
    with rt.engine.connect() as conn:
        rows = bulk.journal_rows(conn, person=key, since=since, limit=limit)
    return [{"id": r.id, "at": iso(r.at), "run_id": r.run_id, "actor": r.actor, "person": r.person,
             "event": r.event, "source": r.source, "rule": r.rule, "sentence": r.sentence, "before": r.before,
             "after": r.after} for r in rows]
