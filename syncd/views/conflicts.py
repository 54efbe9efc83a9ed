"""`conflicts`: the standing conflicts (one e-mail address on several records of a source, left unchanged by
every sync until a directory is fixed), each with the records that share the address and the person who has it,
if any (left as they were)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from syncd.store import tables
from syncd.views.people import sources_of

if TYPE_CHECKING:
    from syncd.runtime import Runtime


def conflict_count(conn: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(tables.conflicts)).scalar_one())


def conflicts(rt: Runtime) -> list[dict[str, Any]]:
    """By e-mail: ``{"email", "known", "active", "sources": {NAME: record or [records]}}`` (the `users show`
    sources shape); ``known``: a person has the address (``active`` is theirs, else null)."""
    c, p = tables.conflicts, tables.people
    with rt.engine.connect() as conn:
        rows = conn.execute(select(c.c.email_key, p.c.active).select_from(
            c.outerjoin(p, p.c.email == c.c.email_key)).order_by(c.c.email_key)).all()
        return [{"email": key, "known": active is not None, "active": active,
                 "sources": sources_of(conn, rt, key, None)} for key, active in rows]
