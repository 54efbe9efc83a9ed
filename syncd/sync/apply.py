"""Apply a sync's plan in the caller's one transaction: people, source facts, cursors, conflicts, the policy's
decisions for the people who changed, and their journal rows; or, for a dry run, decide the same and write nothing."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from policy import (
    Action,
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
from syncd.licensing.ledger import load_ledger, lock_ledger, save_ledger
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
    _record_sources(conn, run_id, sources)


def _record_sources(conn: Connection, run_id: str, sources: Sequence[SourceOutcome]) -> None:
    if sources:
        conn.execute(tables.run_sources.insert(), [
            {"run_id": run_id, "source": s.name, "complete": s.complete, "full": s.full, "records": s.records,
             "error": s.error, "seconds": s.seconds} for s in sources])


def rerecord_run(conn: Connection, run_id: str, result: str, exit_code: int, summary: dict[str, Any],
                 sources: Sequence[SourceOutcome]) -> None:
    """A recorded run's outcome once its CWMS pushes were sent after commit: its report and its sources again."""
    conn.execute(tables.runs.update().where(tables.runs.c.run_id == run_id).values(
        result=result, exit_code=exit_code, summary=summary))
    conn.execute(tables.run_sources.delete().where(tables.run_sources.c.run_id == run_id))
    _record_sources(conn, run_id, sources)


def _events_for(c: Change) -> list[Event]:
    events: list[Event] = []
    if c.kind == "deactivated":
        events.append(Deactivation(c.email))
    elif c.kind == "activated":
        events.append(Reactivation(c.email))
    if c.management_changed:
        events.append(ManagementChange(c.email, Management(c.after.management)))
    return events


@dataclass(frozen=True, slots=True)
class Operation:
    """One license effect of a plan, with its sentence: what a dry run prints as "would ..." and lists in
    ``license_plan`` of `sync --json`."""

    change: str         # the e-mail of the planned change whose decision has this effect
    person: str         # whose license it is (a promotion names another person than the change)
    effect: str         # released | remarked | promoted: the `licenses` count it adds to
    rule: str
    sentence: str


@dataclass
class Effects:
    """What a plan's decisions do to licenses: the `licenses` counts of `sync --json`, the policy's notices, and
    each effect with its sentence."""

    counts: dict[str, int] = field(default_factory=lambda: {"released": 0, "remarked": 0, "promoted": 0})
    notices: list[str] = field(default_factory=list)
    operations: list[Operation] = field(default_factory=list)


@dataclass
class Decided:
    """The policy's decisions on a plan's changed people, made on one ledger and not yet written: the apply writes
    them (:func:`apply_plan`), a dry run reports their effects (:func:`preview_plan`). So both come from one
    function, :func:`decide_plan`, and a dry run's license counts are the apply's."""

    ledger: Ledger                          # the shared ledger after the decisions
    decisions: dict[str, list[Decision]]    # by e-mail, for every decided change (empty: no policy event)
    states: dict[str, PersonState]          # the policy's state of each person it decided on
    effects: Effects


def decided_changes(plan: Plan) -> list[Change]:
    """The changes the policy decides on. A created person's AddPerson decision follows from the event alone (no
    license effect, no ledger)."""
    return [c for c in plan.changes if c.kind != "created"]


def decide_plan(ledger: Ledger, changes: Sequence[Change], settings: Settings, now: datetime) -> Decided:
    """Decide every change on ``ledger`` in plan order, writing nothing."""
    relevant = ledger.relevant_keys()
    decided = Decided(ledger, {}, {}, Effects())
    for c in changes:
        events = _events_for(c)
        ds = decided.decisions[c.email] = []
        if not events:     # an update that is not a management change: no decision
            continue
        # A person who holds no license, hosts no meeting and has no grace window cannot change anyone else's
        # license: decide on a ledger of that person alone (cheap), and keep the shared ledger for the others.
        alone = c.email not in relevant
        own = Ledger(ledger.purchases, ledger.demo_grants, ledger.trial,
                     {c.email: ledger.people[c.email]} if c.email in ledger.people else {}, {}) if alone else ledger
        for ev in events:
            d = decide(own, ev, settings, now)
            own = apply(own, d)
            ds.append(d)
            _count(decided.effects, c.email, d)
        if (state := own.people.get(c.email)) is not None:
            decided.states[c.email] = state
        if not alone:
            ledger = own
    decided.ledger = ledger
    return decided


def preview_plan(conn: Connection, rt: Runtime, plan: Plan, now: datetime) -> Effects:
    """The license effects that applying ``plan`` at ``now`` would have: :func:`decide_plan` on the ledger as
    stored, as :func:`apply_plan` decides them, with nothing written and no lock taken (a dry run holds none)."""
    changes = decided_changes(plan)
    if not changes:
        return Effects()
    ledger, _ = load_ledger(conn, [c.email for c in changes])
    return decide_plan(ledger, changes, rt.settings, now).effects


def apply_plan(conn: Connection, rt: Runtime, plan: Plan, run_id: str, now: datetime) -> Effects:
    """Apply a plan inside the caller's transaction: people, source facts, cursors, decisions, journal.

    A created person's journal row carries the policy's record of its AddPerson decision
    (:func:`policy.added_person_record`), made once a run, so a 400,000-person first sync stays a few bulk writes,
    its journal streamed in chunks rather than held in memory.
    """
    write_sources(conn, plan, run_id, now)     # not ledger data: before the lock, not holding it
    lock_ledger(conn)
    changes = decided_changes(plan)
    start, ids = cached_ledger(conn, ledger_cache(rt.engine), [c.email for c in changes])
    decided = decide_plan(start, changes, rt.settings, now)
    rows_of: dict[str, list[dict[str, Any]]] = {}
    for c in changes:
        ds = decided.decisions[c.email]
        if not ds:     # an update that is not a management change: journal the person change alone
            rows_of[c.email] = [journal.change_row(c, run_id, rt.actor, now)]
            continue
        rows = rows_of[c.email] = []
        for i, d in enumerate(ds):
            rows.extend(journal.decision_rows(d, run_id, rt.actor, c.email, c.source, c if i == 0 else None))
    ids.update(write_people(conn, plan.changes, now, decided.states, ids_for=rows_of.keys()))
    save_ledger(conn, start, decided.ledger, ids, now, rt.actor)
    bulk.append_journal(conn, _plan_journal(plan.changes, rows_of, run_id, rt.actor, rt.settings, now))
    return decided.effects


def _plan_journal(changes: Sequence[Change], rows_of: dict[str, list[dict[str, Any]]], run_id: str, actor: str,
                  settings: Settings, now: datetime) -> Iterator[dict[str, Any]]:
    """The plan's journal rows in plan order; a created person's row made only when it is written."""
    added = added_person_record(settings)
    for c in changes:
        if c.kind == "created":
            yield journal.added_row(c, run_id, actor, now, added)
        else:
            yield from rows_of[c.email]


def _count(effects: Effects, change: str, d: Decision) -> None:
    for a in d.actions:
        op = _operation(change, d, a)
        if op is not None:
            effects.counts[op.effect] += 1
            effects.operations.append(op)
    effects.notices.extend(n.message for n in d.notices)


def _operation(change: str, d: Decision, a: Action) -> Operation | None:
    """The license effect of action ``a`` of ``d``, None for an action that is none (a person's flags)."""
    rule = a.rule or d.rule
    if isinstance(a, ReleaseLicense):
        return Operation(change, a.person, "released", rule,
                         f"release the {a.kind.label} license of {a.person} ({rule})")
    if isinstance(a, RemarkLicense):
        return Operation(change, a.person, "remarked", rule,
                         f"re-mark the license of {a.person} {a.management.value} ({rule})")
    if isinstance(a, AssignLicense):
        return Operation(change, a.person, "promoted", rule,
                         f"promote {a.person} to a {a.license.kind.label} license ({rule})")
    return None
