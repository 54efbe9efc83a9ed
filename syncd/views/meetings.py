"""`meetings list [--host EMAIL]` and ``GET /api/v1/meetings[?host=EMAIL]``: the open meetings, each holding one of
its host's concurrent slots until it is ended or passes the meeting timeout."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from syncd.store import tables
from syncd.views.common import iso
from syncd.views.people import person_row

if TYPE_CHECKING:
    from syncd.runtime import Runtime


def open_meetings(rt: Runtime, now: datetime, host: str | None = None) -> list[dict[str, Any]]:
    """Every meeting not yet ended, oldest first, with its host and when it times out; ``host`` keeps one
    person's (UnknownPerson when nobody has that address).

    A meeting past the timeout is listed with ``timed_out`` true: it no longer counts against its host's limit,
    and the next sweep (or the host's next request with its id) closes it; `meetings end` closes it now."""
    m, p, lic = tables.meetings, tables.people, tables.licenses
    timeout = rt.settings.meeting_timeout
    stmt = (select(m.c.meeting_id, m.c.started_at, p.c.email, lic.c.kind)
            .select_from(m.join(p, p.c.id == m.c.person_id).outerjoin(lic, lic.c.person_id == p.c.id))
            .where(m.c.ended_at.is_(None)).order_by(m.c.started_at, m.c.meeting_id))
    with rt.engine.connect() as conn:
        if host is not None:
            stmt = stmt.where(p.c.email == person_row(conn, host).email)
        rows = list(conn.execute(stmt))
    return [{"meeting_id": r.meeting_id, "host": r.email, "started_at": iso(r.started_at),
             "times_out_at": iso(r.started_at + timeout), "timed_out": r.started_at + timeout <= now,
             "license_kind": r.kind} for r in rows]
