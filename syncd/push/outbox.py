"""The CWMS outbox (DESIGN.md 12): one row per write a committed plan asks of CWMS, worked by the sender.

A plan's pushes are written in the apply's own transaction (:func:`enqueue`), so a plan that did not commit never
reaches CWMS and one that did is sent even when the process dies right after. A row is ``pending`` until the
sender records its outcome: ``done`` (written, or already in the target state) or ``failed`` (CWMS refused it for
good); a temporary fault leaves it pending with one more attempt counted. Every function takes the caller's
connection and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.engine import Connection

from syncd.push.drift import TARGET, PlannedPush
from syncd.store import tables
from syncd.store.bulk import CHUNK, chunks

PENDING, DONE, FAILED = "pending", "done", "failed"
STATES = (PENDING, DONE, FAILED)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One stored row; a sink item (``webex_id``, ``target``)."""

    id: int
    run_id: str
    created_at: datetime
    updated_at: datetime
    email: str
    webex_id: str
    action: str
    state: str
    attempts: int
    exception_id: str | None
    reason: str | None

    @property
    def target(self) -> str:
        return TARGET[self.action]

    @property
    def push(self) -> PlannedPush:
        return PlannedPush(self.email, self.webex_id, self.action)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "run_id": self.run_id, "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat(), "email": self.email, "webex_id": self.webex_id,
                "action": self.action, "state": self.state, "attempts": self.attempts,
                "exception_id": self.exception_id, "reason": self.reason}


def _rows(conn: Connection, stmt: Any) -> list[OutboxRow]:
    return [OutboxRow(**r._mapping) for r in conn.execute(stmt)]


def enqueue(conn: Connection, run_id: str, now: datetime, pushes: Sequence[PlannedPush]) -> int:
    """Add ``pushes`` as pending rows, in bulk, in the caller's transaction; a push whose (webex_id, action) is
    already pending (a crash or an outage left it) is not added again. Returns the rows added."""
    t = tables.outbox
    queued = set(conn.execute(select(t.c.webex_id, t.c.action).where(t.c.state == PENDING)).tuples())
    rows = []
    for p in pushes:
        if (p.webex_id, p.action) in queued:
            continue
        queued.add((p.webex_id, p.action))
        rows.append({"run_id": run_id, "created_at": now, "updated_at": now, "email": p.email,
                     "webex_id": p.webex_id, "action": p.action, "state": PENDING, "attempts": 0})
    for chunk in chunks(rows, CHUNK):
        conn.execute(t.insert(), chunk)
    return len(rows)


def pending(conn: Connection, limit: int | None = None) -> list[OutboxRow]:
    """The pending rows, oldest first (the order they are sent in)."""
    t = tables.outbox
    return _rows(conn, select(t).where(t.c.state == PENDING).order_by(t.c.id).limit(limit))


def mark(conn: Connection, row_id: int, state: str, now: datetime, *, exception_id: str | None = None,
         reason: str | None = None, attempt: bool = True) -> None:
    """Record a row's outcome: its new ``state``, what CWMS said, and (``attempt``) one more attempt."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, not {state!r}")
    t = tables.outbox
    values: dict[str, Any] = {"state": state, "updated_at": now, "exception_id": exception_id, "reason": reason}
    if attempt:
        values["attempts"] = t.c.attempts + 1
    conn.execute(update(t).where(t.c.id == row_id).values(**values))


def counts(conn: Connection) -> dict[str, int]:
    """Rows by state: ``{"pending": n, "failed": n, "done": n}``. A failure stops counting once a later write of the
    same account and action was done (a host limit refused an activation that a later run got through), so the
    failed count, its metric and its alert come back to 0 when the site is in step."""
    t = tables.outbox
    later = t.alias("later")
    mended = exists().where(and_(later.c.webex_id == t.c.webex_id, later.c.action == t.c.action,
                                 later.c.state == DONE, later.c.id > t.c.id))
    found = {state: n for state, n in conn.execute(
        select(t.c.state, func.count()).where(or_(t.c.state != FAILED, ~mended)).group_by(t.c.state))}
    return {s: int(found.get(s, 0)) for s in (PENDING, FAILED, DONE)}


def listed(conn: Connection, *, state: str | None = None, limit: int | None = 100) -> list[OutboxRow]:
    """Rows for a view, newest first; only those in ``state`` when given."""
    if state is not None and state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}, not {state!r}")
    t = tables.outbox
    stmt = select(t).order_by(t.c.id.desc()).limit(limit)
    return _rows(conn, stmt.where(t.c.state == state) if state is not None else stmt)
