"""Apply a sync's plan in the caller's one transaction: people, source facts, cursors, conflicts, the policy's
decisions for the people who changed, and their journal rows."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from policy import (
    AssignLicense,
    Deactivation,
    Decision,
    Event,
    Ledger,
    Management,
    ManagementChange,
    PersonState,
    Reactivation,
    ReleaseLicense,
    RemarkLicense,
    Settings,
    added_person_record,
    apply,
    decide,
)
from syncd import journal
from syncd.licensing.cache import cached_ledger, ledger_cache
from syncd.licensing.ledger import lock_ledger, save_ledger
from syncd.runtime import Runtime
from syncd.store import bulk, tables
from syncd.sync.plan import Change, Plan, SourceOutcome


def person_row(c: Change, now: datetime, decided: Mapping[str, PersonState]) -> dict[str, Any]:
    """The person's row: the change's fields, and the ``deactivated_at`` the policy decided when it decided on
    the person (a new person's row starts without one, as the AddPerson decision says)."""
    a = c.after
    row: dict[str, Any] = {
        "email": a.email, "display_name": a.display_name, "active": a.active, "deleted": a.deleted,
        "management": a.management, "in_cucm": a.in_cucm, "ad_guid": a.ad_guid,
        "inactive_reason": a.inactive_reason, "updated_at": now, "created_at": now,
    }
    state = decided.get(c.email)
    if state is not None:
        row["deactivated_at"] = state.deactivated_at
    return row


def write_people(conn: Connection, changes: Sequence[Change], now: datetime, decided: Mapping[str, PersonState],
                 ids_for: Collection[str] | None = None) -> dict[str, int]:
    """Upsert the changed people, the only writer of their fields and ``deactivated_at``, with the policy's
    state of each person in ``decided``; returns {email: id} of those in ``ids_for`` (None: of all)."""
    return bulk.upsert_people(conn, (person_row(c, now, decided) for c in changes), ids_for=ids_for)


def write_sources(conn: Connection, plan: Plan, run_id: str, now: datetime) -> None:
    """Source facts, removals and cursors of the complete sources, and the conflicts now standing.

    The plan's conflicts are every conflict of the whole store, also when it was planned over a scope: a scoped
    plan loads every standing conflict, and a new one can only come from a record this run read."""
    _write_conflicts(conn, plan.conflicts)
    for s in plan.sources:
        if not s.complete:
            continue
        bulk.upsert_source_records(conn, (
            {"source": s.name, "source_key": f.key, "email_key": f.email, "active": f.active_at(now),
             "data": f.to_data(), "digest": f.digest, "seen_at": now, "run_id": run_id}
            for f in s.upserts
        ))
        if s.deletes:
            bulk.delete_source_records(conn, s.name, s.deletes)
        if s.cursor is not None:
            bulk.save_cursor(conn, s.name, s.cursor, run_id, now)


def _write_conflicts(conn: Connection, keys: Collection[str]) -> None:
    c = tables.conflicts
    stored = {e for (e,) in conn.execute(select(c.c.email_key))}
    gone = stored.difference(keys)
    for chunk in bulk.chunks(gone, bulk.IN_CHUNK):
        conn.execute(delete(c).where(c.c.email_key.in_(chunk)))
    new = [{"email_key": e} for e in keys if e not in stored]
    if new:
        conn.execute(c.insert(), new)


def record_run(conn: Connection, run_id: str, actor: str, started: datetime, finished: datetime,
               mode: str, result: str, exit_code: int, summary: dict[str, Any],
               sources: Sequence[SourceOutcome]) -> None:
    """The run, its `sync --json` report, and how each source's read went."""
    conn.execute(tables.runs.insert().values(
        run_id=run_id, started_at=started, finished_at=finished, actor=actor, mode=mode, result=result,
        exit_code=exit_code, summary=summary))
    if sources:
        conn.execute(tables.run_sources.insert(), [
            {"run_id": run_id, "source": s.name, "complete": s.complete, "full": s.full, "records": s.records,
             "error": s.error, "seconds": s.seconds} for s in sources])


def _events_for(c: Change) -> list[Event]:
    events: list[Event] = []
    if c.kind == "deactivated":
        events.append(Deactivation(c.email))
    elif c.kind == "activated":
        events.append(Reactivation(c.email))
    if c.management_changed:
        events.append(ManagementChange(c.email, Management(c.after.management)))
    return events


@dataclass
class Effects:
    counts: dict[str, int] = field(default_factory=lambda: {"released": 0, "remarked": 0, "promoted": 0})
    notices: list[str] = field(default_factory=list)


def apply_plan(conn: Connection, rt: Runtime, plan: Plan, run_id: str, now: datetime) -> Effects:
    """Apply a plan inside the caller's transaction: people, source facts, cursors, decisions, journal.

    A created person's AddPerson decision follows from the event alone (no license effect, no ledger): its
    journal row carries the policy's record of it (:func:`policy.added_person_record`), made once a run, so a
    400,000-person first sync stays a few bulk writes, its journal streamed in chunks rather than held in memory.
    """
    write_sources(conn, plan, run_id, now)     # not ledger data: before the lock, not holding it
    lock_ledger(conn)
    decided = [c for c in plan.changes if c.kind != "created"]
    ledger, ids = cached_ledger(conn, ledger_cache(rt.engine), [c.email for c in decided])
    start = ledger
    relevant = ledger.relevant_keys()
    effects = Effects()
    rows_of: dict[str, list[dict[str, Any]]] = {}
    states: dict[str, PersonState] = {}
    for c in decided:
        events = _events_for(c)
        if not events:     # an update that is not a management change: journal the person change alone
            rows_of[c.email] = [journal.change_row(c, run_id, rt.actor, now)]
            continue
        # A person who holds no license, hosts no meeting and has no grace window cannot change anyone else's
        # license: decide on a ledger of that person alone (cheap), and keep the shared ledger for the others.
        alone = c.email not in relevant
        own = Ledger(ledger.purchases, ledger.demo_grants, ledger.trial,
                     {c.email: ledger.people[c.email]} if c.email in ledger.people else {}, {}) if alone else ledger
        rows = rows_of[c.email] = []
        for i, ev in enumerate(events):
            d = decide(own, ev, rt.settings, now)
            own = apply(own, d)
            rows.extend(journal.decision_rows(d, run_id, rt.actor, c.email, c.source, c if i == 0 else None))
            _count(effects, d)
        if (state := own.people.get(c.email)) is not None:
            states[c.email] = state
        if not alone:
            ledger = own
    ids.update(write_people(conn, plan.changes, now, states, ids_for=rows_of.keys()))
    save_ledger(conn, start, ledger, ids, now, rt.actor)
    bulk.append_journal(conn, _plan_journal(plan.changes, rows_of, run_id, rt.actor, rt.settings, now))
    return effects


def _plan_journal(changes: Sequence[Change], rows_of: dict[str, list[dict[str, Any]]], run_id: str, actor: str,
                  settings: Settings, now: datetime) -> Iterator[dict[str, Any]]:
    """The plan's journal rows in plan order; a created person's row made only when it is written."""
    added = added_person_record(settings)
    for c in changes:
        if c.kind == "created":
            yield journal.added_row(c, run_id, actor, now, added)
        else:
            yield from rows_of[c.email]


def _count(effects: Effects, d: Decision) -> None:
    for a in d.actions:
        if isinstance(a, ReleaseLicense):
            effects.counts["released"] += 1
        elif isinstance(a, RemarkLicense):
            effects.counts["remarked"] += 1
        elif isinstance(a, AssignLicense):
            effects.counts["promoted"] += 1
    effects.notices.extend(n.message for n in d.notices)
