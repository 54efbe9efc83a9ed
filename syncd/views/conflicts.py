"""`conflicts`: the standing conflicts (one e-mail address on several records of a source, left unchanged by
every sync until a directory is fixed), each with the records that share the address."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from syncd.store import tables
from syncd.views.people import sources_of

if TYPE_CHECKING:
    from syncd.runtime import Runtime


def conflicts(rt: Runtime) -> list[dict[str, Any]]:
    """By e-mail: ``{"email", "sources": {NAME: record or [records]}}`` (the `users show` sources shape)."""
    c = tables.conflicts
    with rt.engine.connect() as conn:
        keys = conn.execute(select(c.c.email_key).order_by(c.c.email_key)).scalars().all()
        return [{"email": key, "sources": sources_of(conn, rt, key, None)} for key in keys]
