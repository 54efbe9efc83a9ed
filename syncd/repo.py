"""The sync's reads and writes of stored directory state (people, source facts, cursors, runs)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from .facts import CucmFact, Fact, fact_from_data
from .reconcile import Change, PersonRow, SourceOutcome, SourceSpec
from .store import bulk, models


@dataclass
class StoredState:
    people: dict[str, PersonRow]
    facts: dict[str, dict[str, Fact]]
    cursors: dict[str, dict[str, Any]]
    active_count: int


def load_people(conn: Connection) -> dict[str, PersonRow]:
    t = models.people
    stmt = select(t.c.email, t.c.active, t.c.deleted, t.c.management, t.c.in_cucm, t.c.ad_guid,
                  t.c.display_name, t.c.inactive_reason)
    return {r[0]: PersonRow(*r) for r in conn.execution_options(yield_per=20_000).execute(stmt)}


def load_state(conn: Connection, specs: Sequence[SourceSpec]) -> StoredState:
    people = load_people(conn)
    types = {s.name: s.type for s in specs}
    facts: dict[str, dict[str, Fact]] = {s.name: {} for s in specs}
    t = models.source_records
    stmt = select(t.c.source, t.c.source_key, t.c.email_key, t.c.data).where(t.c.source.in_(list(types)))
    for source, key, email, data in conn.execution_options(yield_per=20_000).execute(stmt):
        facts[source][key] = fact_from_data(types[source], key, data, email)
    return StoredState(people, facts, bulk.load_cursors(conn), sum(1 for p in people.values() if p.active))


def person_row(c: Change, now: datetime) -> dict[str, Any]:
    a = c.after
    row: dict[str, Any] = {
        "email": a.email, "display_name": a.display_name, "active": a.active, "deleted": a.deleted,
        "management": a.management, "in_cucm": a.in_cucm, "ad_guid": a.ad_guid,
        "inactive_reason": a.inactive_reason, "updated_at": now, "created_at": now,
    }
    if c.kind == "deactivated":
        row["deactivated_at"] = now
    elif c.kind == "activated":
        row["deactivated_at"] = None
    return row


def write_people(conn: Connection, changes: Sequence[Change], now: datetime,
                 ids_for: Collection[str] | None = None) -> dict[str, int]:
    """Upsert the changed people; returns {email: id} of those in ``ids_for`` (None: of all)."""
    return bulk.upsert_people(conn, (person_row(c, now) for c in changes), ids_for=ids_for)


def write_sources(conn: Connection, outcomes: Sequence[SourceOutcome], run_id: str, now: datetime) -> None:
    """Source facts, removals and cursors of the complete sources."""
    for s in outcomes:
        if not s.complete:
            continue
        bulk.upsert_source_records(conn, (
            {"source": s.name, "source_key": f.key, "email_key": f.email, "active": _fact_active(f, now),
             "data": f.to_data(), "digest": f.digest, "seen_at": now, "run_id": run_id}
            for f in s.upserts
        ))
        if s.deletes:
            bulk.delete_source_records(conn, s.name, s.deletes)
        if s.cursor is not None:
            bulk.save_cursor(conn, s.name, s.cursor, run_id, now)


def _fact_active(f: Fact, now: datetime) -> bool:
    return f.active if isinstance(f, CucmFact) else f.active_at(now)


def record_run(conn: Connection, run_id: str, actor: str, started: datetime, finished: datetime,
               mode: str, result: str, exit_code: int, summary: dict[str, Any]) -> None:
    conn.execute(models.runs.insert().values(
        run_id=run_id, started_at=started, finished_at=finished, actor=actor, mode=mode, result=result,
        exit_code=exit_code, summary=summary))

