"""The policy ledger in the database: load the subset a decision needs, decide, save the difference, journal.

The store never loads all people into a :class:`policy.Ledger`: it loads every person who holds a license, hosts
an open meeting or has a grace window, plus the decision's subjects (see :mod:`policy.engine`). After deciding,
only the difference between the ledger before and after is written. On PostgreSQL every ledger transaction
first takes a transaction-scoped advisory lock, so two nodes can never grant the same free license twice; on
SQLite the write transaction (BEGIN IMMEDIATE) already serialises them.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, or_, select, text, update
from sqlalchemy.engine import Connection, Engine

from policy import (
    AddPerson,
    Decision,
    DemoGrant,
    Event,
    HeldLicense,
    Ledger,
    LicenseKind,
    LicenseState,
    Management,
    Meeting,
    PersonState,
    Purchase,
    TrialWindow,
    apply,
    decide,
)
from syncd import journal
from syncd.store import bulk, tables
from syncd.store.locks import advisory_key

if TYPE_CHECKING:
    from syncd.runtime import Runtime


def lock_ledger(conn: Connection) -> None:
    """Serialise ledger decisions across processes (PostgreSQL; SQLite's write transaction already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(conn, "ledger")})


def _person_state(row: Any) -> PersonState:
    lic = None
    if row.kind is not None:
        lic = HeldLicense(LicenseKind(row.kind), Management(row.lic_management), row.assigned_at, row.expires_at,
                          LicenseState(row.state), row.demo_grant_id)
    return PersonState(active=row.active, deleted=row.deleted, management=Management(row.management), license=lic,
                       first_grace_at=row.first_grace_at, last_hosted_at=row.last_hosted_at,
                       deactivated_at=row.deactivated_at)


_PEOPLE = select(tables.people.c.id, tables.people.c.email, tables.people.c.active, tables.people.c.deleted,
                 tables.people.c.management, tables.people.c.first_grace_at, tables.people.c.last_hosted_at,
                 tables.people.c.deactivated_at, tables.licenses.c.kind,
                 tables.licenses.c.management.label("lic_management"), tables.licenses.c.assigned_at,
                 tables.licenses.c.expires_at, tables.licenses.c.state, tables.licenses.c.demo_grant_id,
                 ).select_from(tables.people.outerjoin(tables.licenses,
                                                       tables.licenses.c.person_id == tables.people.c.id))


def load_ledger(conn: Connection, subjects: Iterable[str] = ()) -> tuple[Ledger, dict[str, int]]:
    """The ledger subset (license holders, open-meeting hosts, grace windows, plus ``subjects``) and {email: id}:
    the engine's :class:`LedgerCache` snapshot when the journal has not grown since (one index probe), else
    :func:`load_stored_ledger`. Without the ledger lock a snapshot is only used, never refreshed or kept."""
    cache = _caches.get(conn.engine)
    snap = cache.unchanged(conn) if cache is not None else None
    if snap is None:
        return load_stored_ledger(conn, subjects)
    return _with_subjects(conn, snap, subjects)


def load_stored_ledger(conn: Connection, subjects: Iterable[str] = ()) -> tuple[Ledger, dict[str, int]]:
    """What :func:`load_ledger` returns, always read from the tables."""
    p, lic, m = tables.people, tables.licenses, tables.meetings
    open_hosts = select(m.c.person_id).where(m.c.ended_at.is_(None))
    graced = p.alias("graced")
    people: dict[str, PersonState] = {}
    ids: dict[str, int] = {}
    # Three lookups by key rather than one OR over the outer join, which scanned every person (400,000 on a large
    # site) on every meeting start. Each is an IN (subquery): SQLite, without statistics, would otherwise scan
    # people for the join instead of starting from the few licenses, grace windows or open meetings.
    for stmt in (_PEOPLE.where(p.c.id.in_(select(lic.c.person_id))),
                 _PEOPLE.where(p.c.id.in_(select(graced.c.id).where(graced.c.first_grace_at.is_not(None)))),
                 _PEOPLE.where(p.c.id.in_(open_hosts))):
        for row in conn.execute(stmt):
            if row.email not in people:
                people[row.email] = _person_state(row)
                ids[row.email] = row.id
    _load_people(conn, [s for s in dict.fromkeys(subjects) if s not in people], people, ids)
    return _with_people(_load_shared(conn), people), ids


# A person the ledger subset holds: a license, a grace window or an open meeting (Ledger.relevant_keys)
_RELEVANT = or_(tables.licenses.c.person_id.is_not(None), tables.people.c.first_grace_at.is_not(None),
                tables.people.c.id.in_(select(tables.meetings.c.person_id).where(tables.meetings.c.ended_at.is_(None))))


def _load_people(conn: Connection, emails: Sequence[str], people: dict[str, PersonState], ids: dict[str, int],
                 relevant_only: bool = False) -> None:
    """Add the stored state of these people (those that exist; with ``relevant_only``, those the ledger subset
    holds) to ``people`` and ``ids``."""
    stmt = _PEOPLE.where(_RELEVANT) if relevant_only else _PEOPLE
    for chunk in bulk.chunks(emails, bulk.IN_CHUNK):
        for row in conn.execute(stmt.where(tables.people.c.email.in_(chunk))):
            people[row.email] = _person_state(row)
            ids[row.email] = row.id


def _load_shared(conn: Connection) -> Ledger:
    """Purchases, demonstration grants, the trial and the open meetings: the ledger without its people."""
    p, m = tables.people, tables.meetings
    purchases = tuple(Purchase(r.count, r.at) for r in conn.execute(
        select(tables.purchases).order_by(tables.purchases.c.id)))
    grants = tuple(DemoGrant(r.id, r.count, r.expires_at, r.granted_at) for r in conn.execute(
        select(tables.demo_grants).order_by(tables.demo_grants.c.granted_at, tables.demo_grants.c.id)))
    t = conn.execute(select(tables.trial)).first()
    trial = TrialWindow(t.start, t.ends_at, t.ended_at is not None) if t is not None else None
    meetings = {
        r.meeting_id: Meeting(r.meeting_id, r.email, r.started_at)
        for r in conn.execute(select(m.c.meeting_id, m.c.started_at, p.c.email)
                              .select_from(m.join(p, p.c.id == m.c.person_id)).where(m.c.ended_at.is_(None)))
    }
    return Ledger(purchases, grants, trial, {}, meetings)


def _with_people(shared: Ledger, people: dict[str, PersonState]) -> Ledger:
    return Ledger(shared.purchases, shared.demo_grants, shared.trial, people, shared.meetings)


# -- the ledger kept between decisions ------------------------------------------------------------------------

REFRESH_LIMIT = 2000    # journal rows since the cached position beyond which a fresh load is cheaper than a refresh


@dataclass(frozen=True)
class Snapshot:
    """The ledger subset (:meth:`policy.Ledger.subset`) and {email: id} of its people as of journal row ``position``
    (the largest journal id; 0 for an empty journal)."""

    position: int
    ledger: Ledger
    ids: dict[str, int]


class LedgerCache:
    """The last ledger of one database that this process decided on, so that a decision need not rebuild every
    license holder's state from SQL (about 30 ms for 1,000 holders).

    Why it is exact: every write that changes the ledger (sync apply, decisions of the API, the CLI or another
    node, sweeps) takes the ledger lock (:func:`lock_ledger`; on SQLite the write transaction) until it commits,
    and journals, in that transaction, every person it touched (a plan's changes, a decision's subject and every
    person its actions name). So under the lock every ledger write has committed, the largest journal id
    marks the ledger's state, and the people that changed after a snapshot are those named by journal rows with a
    larger id. Purchases, grants, the trial and the open meetings are few: a refresh reloads them whole. Journal
    rows written without the lock (a refused plan) change no ledger; they only cost a refresh. A snapshot read
    under the lock describes what was committed up to its position, so it is kept at once; the ledger after a
    decision is kept only once its transaction has committed (:meth:`remember`). Without the lock a snapshot is
    only read, and only when no journal row came after it (:meth:`unchanged`).
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._snapshot: Snapshot | None = None

    def current(self, conn: Connection) -> Snapshot:
        """The ledger as stored now; call with the ledger lock held, in the caller's transaction."""
        with self._guard:
            cached = self._snapshot
        snap = _current(conn, cached)
        if snap is not cached:
            with self._guard:   # under the lock nothing later can have been committed: keep it even after a restore
                self._snapshot = snap
        return snap

    def unchanged(self, conn: Connection) -> Snapshot | None:
        """The kept snapshot if no journal row was committed after it (safe without the lock: a ledger write
        after the snapshot commits a journal row after its position), else None."""
        with self._guard:
            cached = self._snapshot
        if cached is None:
            return None
        first, last = _journal_from(conn, cached.position)
        return cached if first == (cached.position or None) and last == (cached.position or None) else None

    def remember(self, snapshot: Snapshot) -> None:
        """Keep ``snapshot`` (its transaction has committed) unless a later one is kept already."""
        with self._guard:
            if self._snapshot is None or snapshot.position >= self._snapshot.position:
                self._snapshot = snapshot


def _current(conn: Connection, cached: Snapshot | None) -> Snapshot:
    """``cached`` if the journal has not grown since, else ``cached`` refreshed, else a fresh load."""
    if cached is None:
        return _fresh(conn)
    j = tables.journal
    first, position = _journal_from(conn, cached.position)
    if cached.position and first != cached.position:    # not the journal the snapshot was taken from: a restore
        return _fresh(conn)
    if position is None or position == cached.position:
        return cached
    if position - cached.position > REFRESH_LIMIT:     # at most that many rows (ids may have gaps)
        return _fresh(conn)
    named = [e for (e,) in conn.execute(select(j.c.person).distinct().where(
        j.c.id > cached.position, j.c.id <= position, j.c.person.is_not(None)))]
    return _refreshed(conn, cached, named, position)


def _journal_from(conn: Connection, position: int) -> tuple[int | None, int | None]:
    """The first and the last journal id from ``position`` on: one round trip, two index probes (min and max
    alone, no count: PostgreSQL then reads one index entry each instead of the range)."""
    j = tables.journal
    first, last = conn.execute(select(func.min(j.c.id), func.max(j.c.id)).where(j.c.id >= position)).one()
    return first, last


def _position(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(tables.journal.c.id), 0))).scalar_one())


def _fresh(conn: Connection) -> Snapshot:
    position = _position(conn)
    ledger, ids = load_stored_ledger(conn)
    return Snapshot(position, ledger, ids)


def _refreshed(conn: Connection, cached: Snapshot, named: Sequence[str], position: int) -> Snapshot:
    """``cached`` brought up to journal row ``position``: the people it names reloaded, the shared parts too."""
    people = dict(cached.ledger.people)
    ids = dict(cached.ids)
    for key in named:
        people.pop(key, None)
    _load_people(conn, named, people, ids, relevant_only=True)
    return _trimmed(position, _with_people(_load_shared(conn), people), ids)


def _trimmed(position: int, ledger: Ledger, ids: dict[str, int]) -> Snapshot:
    """A snapshot of exactly the people :func:`load_ledger` would load (holders, hosts, grace windows)."""
    ledger = ledger.subset()
    return Snapshot(position, ledger, {k: ids[k] for k in ledger.people})


_caches: weakref.WeakKeyDictionary[Engine, LedgerCache] = weakref.WeakKeyDictionary()
_caches_guard = threading.Lock()


def ledger_cache(engine: Engine) -> LedgerCache:
    """The cache of ``engine``'s database (one per engine, so per process and database). Pass the runtime's engine:
    a connection's ``engine`` may be a copy with other execution options (SQLite's BEGIN IMMEDIATE)."""
    with _caches_guard:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = LedgerCache()
        return cache


def cached_ledger(conn: Connection, cache: LedgerCache, subjects: Iterable[str] = ()
                  ) -> tuple[Ledger, dict[str, int]]:
    """What :func:`load_ledger` returns, from ``cache`` brought up to date. Call with the ledger lock held."""
    return _with_subjects(conn, cache.current(conn), subjects)


def _with_subjects(conn: Connection, snap: Snapshot, subjects: Iterable[str]) -> tuple[Ledger, dict[str, int]]:
    """The snapshot's ledger and a copy of its ids, with the stored state of the ``subjects`` it lacks added."""
    missing = [s for s in dict.fromkeys(subjects) if s not in snap.ledger.people]
    if not missing:
        return snap.ledger, dict(snap.ids)
    people, ids = dict(snap.ledger.people), dict(snap.ids)
    _load_people(conn, missing, people, ids)
    return replace(snap.ledger, people=people), ids


def save_ledger(conn: Connection, before: Ledger, after: Ledger, ids: dict[str, int], now: datetime,
                actor: str) -> None:
    """Write what changed between ``before`` and ``after`` (people must already have rows in ``ids``)."""
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
    lic_upserts: list[dict[str, Any]] = []
    lic_deletes: list[int] = []
    person_updates: list[dict[str, Any]] = []
    for key, pa in after.people.items():
        pb = before.people.get(key)
        if pb == pa:
            continue
        pid = ids[key]
        old_lic = pb.license if pb else None
        if pa.license != old_lic:
            if pa.license is None:
                lic_deletes.append(pid)
            else:
                lic_upserts.append(_license_row(pid, pa.license))
        if pb is None or (pb.first_grace_at, pb.last_hosted_at, pb.deactivated_at) != (
                pa.first_grace_at, pa.last_hosted_at, pa.deactivated_at):
            person_updates.append({"b_id": pid, "first_grace_at": pa.first_grace_at,
                                   "last_hosted_at": pa.last_hosted_at, "deactivated_at": pa.deactivated_at})
    if lic_deletes:
        for i in range(0, len(lic_deletes), 500):
            conn.execute(delete(tables.licenses).where(tables.licenses.c.person_id.in_(lic_deletes[i:i + 500])))
    if lic_upserts:
        bulk.upsert_licenses(conn, lic_upserts)
    if person_updates:
        p = tables.people
        conn.execute(update(p).where(p.c.id == bindparam("b_id")).values(
            first_grace_at=bindparam("first_grace_at"), last_hosted_at=bindparam("last_hosted_at"),
            deactivated_at=bindparam("deactivated_at")), person_updates)
    opened = [mt for mid, mt in after.meetings.items() if mid not in before.meetings]
    closed = [mid for mid in before.meetings if mid not in after.meetings]
    if opened:
        conn.execute(tables.meetings.insert(), [
            {"meeting_id": mt.meeting_id, "person_id": ids[mt.host], "started_at": mt.started_at, "ended_at": None}
            for mt in opened])
    for i in range(0, len(closed), 500):
        mt = tables.meetings
        conn.execute(update(mt).where(mt.c.meeting_id.in_(closed[i:i + 500])).values(ended_at=now))


def _license_row(pid: int, lic: HeldLicense) -> dict[str, Any]:
    return {"person_id": pid, "kind": lic.kind.value, "management": lic.management.value,
            "assigned_at": lic.assigned_at, "expires_at": lic.expires_at, "state": lic.state.value,
            "demo_grant_id": lic.grant_id}


def decide_and_save(conn: Connection, rt: Runtime, event: Event, subjects: Sequence[str], now: datetime,
                    run_id: str | None = None) -> tuple[Decision, Ledger, Snapshot]:
    """One admin or host decision in the caller's write transaction; returns it, the ledger after it, and the
    snapshot to :meth:`LedgerCache.remember` once the transaction has committed."""
    lock_ledger(conn)
    ledger, ids = cached_ledger(conn, ledger_cache(rt.engine), subjects)
    d = decide(ledger, event, rt.settings, now)
    after = apply(ledger, d)
    save_ledger(conn, ledger, after, ids, now, rt.actor)
    subject = subjects[0] if subjects else None
    bulk.append_journal(conn, journal.decision_rows(d, run_id, rt.actor, subject))
    return d, after, _trimmed(_position(conn), after, ids)


def replay_journal(conn: Connection) -> Ledger:
    """Rebuild the ledger from the journal alone (DESIGN.md section 5: the journal reproduces the ledger)."""
    from policy import Settings, decision_from_dict, replay

    settings = Settings()
    j = tables.journal
    decisions: list[Decision] = []
    stmt = select(j.c.person, j.c.event, j.c.at, j.c.after, j.c.decision).order_by(j.c.id)
    for person, event, at, after, decision in conn.execution_options(yield_per=10_000).execute(stmt):
        if decision is not None:
            decisions.append(decision_from_dict(decision))
        elif event == "created" and after is not None:
            ev = AddPerson(person, bool(after["active"]), Management(after["management"]))
            decisions.append(decide(Ledger.empty(), ev, settings, at))
    return replay(decisions)


def verify(conn: Connection, settings: Any) -> list[str]:
    """Problems with the stored ledger: broken invariants, or a journal that does not replay to it."""
    ledger, _ = load_stored_ledger(conn)
    problems: list[str] = []
    if ledger.permanent_in_use > ledger.installed_permanent:
        problems.append(f"{ledger.permanent_in_use} Permanent licenses bound but only "
                        f"{ledger.installed_permanent} installed")
    for key, p in ledger.people.items():
        lic = p.license
        if lic is not None and lic.state is LicenseState.ACTIVE and not p.active and not (
                lic.kind is LicenseKind.PERMANENT and settings.release_hold and p.deactivated_at is not None):
            problems.append(f"{key} is inactive but holds an active {lic.kind.value} license")
    replayed = replay_journal(conn).subset()
    stored = ledger.subset()
    if (replayed.purchases, replayed.demo_grants, replayed.trial, dict(replayed.meetings)) != (
            stored.purchases, stored.demo_grants, stored.trial, dict(stored.meetings)):
        problems.append("the journal does not replay to the stored purchases, grants, trial or meetings")
    for key in sorted(set(replayed.people) | set(stored.people)):
        if replayed.people.get(key) != stored.people.get(key):
            problems.append(f"the journal does not replay to the stored license state of {key}: "
                            f"journal {replayed.people.get(key)}, stored {stored.people.get(key)}")
    return problems
