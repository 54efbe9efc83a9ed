"""The ``alert_state`` table: what each receiver was last told of each condition. A row stands from the delivered
"started" alert to the delivered "cleared" one; ``told_at`` is the last alert delivered for it (the daily digest
goes by it). Only delivered alerts change it: a failed send leaves the row as it was, so the alert is sent again
at the next evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from syncd.store import tables


@dataclass(frozen=True)
class Told:
    since: datetime                 # when the receiver was told the condition started
    told_at: datetime               # the last alert it got about it


Known = dict[tuple[str, str], Told]         # (condition, receiver) -> what it was told


def told(conn: Connection) -> Known:
    t = tables.alert_state
    return {(r.condition, r.receiver): Told(r.since, r.told_at) for r in conn.execute(select(t))}


def started(conn: Connection, condition: str, receiver: str, since: datetime, now: datetime) -> None:
    """The receiver was told that ``condition`` stands (a start or a digest)."""
    t = tables.alert_state
    conn.execute(delete(t).where(t.c.condition == condition, t.c.receiver == receiver))
    conn.execute(t.insert().values(condition=condition, receiver=receiver, since=since, told_at=now))


def cleared(conn: Connection, condition: str, receiver: str) -> None:
    t = tables.alert_state
    conn.execute(delete(t).where(t.c.condition == condition, t.c.receiver == receiver))


def forget_others(conn: Connection, receivers: set[str]) -> None:
    """Drop what receivers no longer configured were told: a URL added back starts from nothing told."""
    t = tables.alert_state
    conn.execute(delete(t).where(t.c.receiver.not_in(receivers)))
