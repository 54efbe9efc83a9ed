"""The policy ledger in the database: load the subset a decision needs, decide, save the difference, journal.

After deciding, only the difference between the ledger before and after is written. On PostgreSQL every ledger
transaction first takes a transaction-scoped advisory lock, so two nodes can never grant the same free license
twice; on SQLite the write transaction (BEGIN IMMEDIATE) already serialises them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, text, update
from sqlalchemy.engine import Connection, Engine

from policy import Decision, Event, HeldLicense, Ledger, apply, decide
from syncd import journal
from syncd.licensing.cache import (
    Snapshot,
    cached_ledger,
    journal_position,
    ledger_cache,
    trimmed,
    unchanged_snapshot,
    with_subjects,
)
from syncd.licensing.stored import load_stored_ledger
from syncd.runtime import Runtime
from syncd.store import bulk, tables
from syncd.store.locks import advisory_key


def lock_ledger(conn: Connection) -> None:
    """Serialise ledger decisions across processes (PostgreSQL; SQLite's write transaction already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(conn, "ledger")})


def load_ledger(conn: Connection, subjects: Iterable[str] = ()) -> tuple[Ledger, dict[str, int]]:
    """The ledger subset (license holders, open-meeting hosts, grace windows, plus ``subjects``) and {email: id}:
    the engine's kept snapshot when the journal has not grown since (one index probe), else
    :func:`~syncd.licensing.stored.load_stored_ledger`. Without the ledger lock a snapshot is only used, never
    refreshed or kept."""
    snap = unchanged_snapshot(conn)
    if snap is None:
        return load_stored_ledger(conn, subjects)
    return with_subjects(conn, snap, subjects)


def read_ledger(engine: Engine, conn: Connection, subjects: Iterable[str] = ()) -> tuple[Ledger, dict[str, int]]:
    """As :func:`load_ledger`, for a read that writes nothing (a report, a page): a stale snapshot is brought up
    to date and kept (:meth:`~syncd.licensing.cache.LedgerCache.read`, on a connection of its own), so the next
    read is one index probe; ``subjects`` it lacks are read on ``conn``. ``engine``: the runtime's."""
    snap = ledger_cache(engine).read(engine)
    if snap is None:
        return load_stored_ledger(conn, subjects)
    return with_subjects(conn, snap, subjects)


def save_ledger(conn: Connection, before: Ledger, after: Ledger, ids: dict[str, int], now: datetime,
                actor: str) -> None:
    """Write what changed between ``before`` and ``after`` (people must already have rows in ``ids``).

    A person's flags and ``deactivated_at`` are not written here: only people events change them, and those
    come from a sync, whose apply writes them with the person's row from the same decisions
    (:func:`syncd.sync.apply.write_people`)."""
    _save_shared(conn, before, after, actor)
    lic_upserts: list[dict[str, Any]] = []
    lic_deletes: list[int] = []
    person_updates: list[dict[str, Any]] = []
    for key, pa in after.people.items():
        pb = before.people.get(key)
        if pb == pa:
            continue
        pid = ids[key]
        if pa.license != (pb.license if pb else None):
            if pa.license is None:
                lic_deletes.append(pid)
            else:
                lic_upserts.append(_license_row(pid, pa.license))
        if pb is None or (pb.first_grace_at, pb.last_hosted_at) != (pa.first_grace_at, pa.last_hosted_at):
            person_updates.append({"b_id": pid, "first_grace_at": pa.first_grace_at,
                                   "last_hosted_at": pa.last_hosted_at})
    lic = tables.licenses
    for chunk in bulk.chunks(lic_deletes, bulk.IN_CHUNK):
        conn.execute(delete(lic).where(lic.c.person_id.in_(chunk)))
    if lic_upserts:
        bulk.upsert_licenses(conn, lic_upserts)
    if person_updates:
        p = tables.people
        conn.execute(update(p).where(p.c.id == bindparam("b_id")).values(
            first_grace_at=bindparam("first_grace_at"), last_hosted_at=bindparam("last_hosted_at")), person_updates)
    opened = [mt for mid, mt in after.meetings.items() if mid not in before.meetings]
    closed = [mid for mid in before.meetings if mid not in after.meetings]
    mt = tables.meetings
    if opened:
        conn.execute(mt.insert(), [
            {"meeting_id": m.meeting_id, "person_id": ids[m.host], "started_at": m.started_at, "ended_at": None}
            for m in opened])
    for chunk in bulk.chunks(closed, bulk.IN_CHUNK):
        conn.execute(update(mt).where(mt.c.meeting_id.in_(chunk)).values(ended_at=now))


def _save_shared(conn: Connection, before: Ledger, after: Ledger, actor: str) -> None:
    """New purchases and demonstration grants, and the trial and the CWMS version when they changed."""
    if len(after.purchases) > len(before.purchases):
        conn.execute(tables.purchases.insert(), [
            {"count": pu.count, "at": pu.at, "actor": actor} for pu in after.purchases[len(before.purchases):]])
    known = {g.grant_id for g in before.demo_grants}
    new_grants = [g for g in after.demo_grants if g.grant_id not in known]
    if new_grants:
        conn.execute(tables.demo_grants.insert(), [
            {"id": g.grant_id, "count": g.count, "granted_at": g.granted_at, "expires_at": g.expires_at,
             "actor": actor} for g in new_grants])
    if after.trial != before.trial and after.trial is not None:
        tr = after.trial
        conn.execute(delete(tables.trial))
        conn.execute(tables.trial.insert().values(id=1, start=tr.start, ends_at=tr.ends_at,
                                                  ended_at=tr.ends_at if tr.ended else None))
    if after.cwms_version != before.cwms_version and after.cwms_version is not None:
        conn.execute(delete(tables.site))
        conn.execute(tables.site.insert().values(id=1, cwms_version=after.cwms_version))


def _license_row(pid: int, lic: HeldLicense) -> dict[str, Any]:
    return {"person_id": pid, "kind": lic.kind.value, "management": lic.management.value,
            "assigned_at": lic.assigned_at, "expires_at": lic.expires_at, "state": lic.state.value,
            "demo_grant_id": lic.grant_id}


def decide_and_save(conn: Connection, rt: Runtime, event: Event, subjects: Sequence[str], now: datetime,
                    run_id: str | None = None, about_first: bool = True) -> tuple[Decision, Ledger, Snapshot]:
    """One admin or host decision in the caller's write transaction; returns it, the ledger after it, and the
    snapshot to :meth:`~syncd.licensing.cache.LedgerCache.remember` once the transaction has committed.

    The decision's journal row is about the first subject, unless ``about_first`` is False (an import: its row
    sums up, and each person's license has a row of its own)."""
    lock_ledger(conn)
    ledger, ids = cached_ledger(conn, ledger_cache(rt.engine), subjects)
    d = decide(ledger, event, rt.settings, now)
    after = apply(ledger, d)
    save_ledger(conn, ledger, after, ids, now, rt.actor)
    subject = subjects[0] if subjects and about_first else None
    bulk.append_journal(conn, journal.decision_rows(d, run_id, rt.actor, subject))
    return d, after, trimmed(journal_position(conn), after, ids)
