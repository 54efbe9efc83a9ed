"""The ledger kept between decisions and reports: one :class:`LedgerCache` per database and process, checked
against the journal before every use."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine

from policy import Ledger
from syncd.licensing.stored import load_people, load_shared, load_stored_ledger, with_people
from syncd.store import tables
from syncd.store.locks import advisory_key

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
    license holder's state from SQL, which grows with the holders.

    Why it is exact: every write that changes the ledger (sync apply, decisions of the API, the CLI or another
    node, sweeps) takes the ledger lock (:func:`syncd.licensing.ledger.lock_ledger`; on SQLite the write
    transaction) until it commits, and journals, in that transaction, every person it touched (a plan's changes, a
    decision's subject and every person its actions name). So under the lock every ledger write has committed, the
    largest journal id marks the ledger's state, and the people that changed after a snapshot are those named by
    journal rows with a larger id. Purchases, grants, the trial and the open meetings are few: a refresh reloads
    them whole. Journal rows written without the lock (a refused plan) change no ledger; they only cost a refresh.
    A snapshot read under the lock describes what was committed up to its position, so it is kept at once; the
    ledger after a decision is kept only once its transaction has committed (:meth:`remember`).

    A read without the lock (the dashboard, ``licenses report``) may keep one too (:meth:`read`), at a position
    up to which every ledger write has committed (:func:`_settled_position`); people it reads in a state from a
    later write are named by that write's journal rows, after the position, so the next refresh reloads them.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._loading = threading.Lock()     # one unlocked read brings the snapshot up to date; the others wait
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

    def read(self, engine: Engine) -> Snapshot | None:
        """The ledger as stored now, without the ledger lock, on a connection of its own (so nothing uncommitted
        is read): the kept snapshot when unchanged, else one brought up to :func:`_settled_position` and kept.
        None when there is no such position now (a ledger write is under way on PostgreSQL): read the tables."""
        with engine.connect() as conn:
            snap = self.unchanged(conn)
        if snap is not None:
            return snap
        with self._loading, engine.connect() as conn:
            snap = self.unchanged(conn)        # another read may just have brought it up to date
            if snap is not None:
                return snap
            with self._guard:
                cached = self._snapshot
            position = _settled_position(engine, conn)
            if position is None or (cached is not None and position < cached.position):
                return None
            snap = _current(conn, cached, position)
        self.remember(snap)
        return snap


def _current(conn: Connection, cached: Snapshot | None, position: int | None = None) -> Snapshot:
    """The ledger as of journal row ``position`` (every ledger write up to it committed; None: the largest id, as
    under the lock): ``cached`` if it is there already, else ``cached`` refreshed, else a fresh load."""
    if cached is None:
        return _fresh(conn, journal_position(conn) if position is None else position)
    j = tables.journal
    first, last = _journal_from(conn, cached.position)
    if cached.position and first != cached.position:    # not the journal the snapshot was taken from: a restore
        return _fresh(conn, journal_position(conn) if position is None else position)
    if position is None:
        position = last or 0
    if position == cached.position:
        return cached
    if position - cached.position > REFRESH_LIMIT:     # at most that many rows (ids may have gaps)
        return _fresh(conn, position)
    named = [e for (e,) in conn.execute(select(j.c.person).distinct().where(
        j.c.id > cached.position, j.c.id <= position, j.c.person.is_not(None)))]
    return _refreshed(conn, cached, named, position)


def _settled_position(engine: Engine, conn: Connection) -> int | None:
    """A journal position up to which every ledger write has committed and after which every later one journals,
    found without holding the ledger lock; None if there is none to be had now.

    SQLite has one writer at a time and ``conn`` reads in one transaction: its largest journal id is such a
    position (a write under way journals after it). PostgreSQL's writers draw journal ids concurrently and commit
    in any order, so the largest committed id may lie beyond a ledger write still under way. Taking the ledger
    lock for an instant, if it is free, settles it: no ledger write is under way then, and a later one draws its
    ids after the largest one committed. The lock is released at once, so no writer waits for the load."""
    if conn.dialect.name != "postgresql":
        return journal_position(conn)
    with engine.connect() as barrier:
        if not barrier.execute(text("SELECT pg_try_advisory_xact_lock(:k)"),
                               {"k": advisory_key(barrier, "ledger")}).scalar_one():
            return None
        position = journal_position(barrier)
        barrier.rollback()
    return position


def _journal_from(conn: Connection, position: int) -> tuple[int | None, int | None]:
    """The first and the last journal id from ``position`` on: one round trip, two index probes (min and max
    alone, no count: PostgreSQL then reads one index entry each instead of the range)."""
    j = tables.journal
    first, last = conn.execute(select(func.min(j.c.id), func.max(j.c.id)).where(j.c.id >= position)).one()
    return first, last


def journal_position(conn: Connection) -> int:
    """The largest journal id (0 for an empty journal): what a snapshot taken now is as of."""
    return int(conn.execute(select(func.coalesce(func.max(tables.journal.c.id), 0))).scalar_one())


def _fresh(conn: Connection, position: int) -> Snapshot:
    ledger, ids = load_stored_ledger(conn)
    return Snapshot(position, ledger, ids)


def _refreshed(conn: Connection, cached: Snapshot, named: Sequence[str], position: int) -> Snapshot:
    """``cached`` brought up to journal row ``position``: the people it names reloaded, the shared parts too."""
    people = dict(cached.ledger.people)
    ids = dict(cached.ids)
    for key in named:
        people.pop(key, None)
    load_people(conn, named, people, ids, relevant_only=True)
    return trimmed(position, with_people(load_shared(conn), people), ids)


def trimmed(position: int, ledger: Ledger, ids: dict[str, int]) -> Snapshot:
    """A snapshot of exactly the people a load of the subset would hold (holders, hosts, grace windows)."""
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


def unchanged_snapshot(conn: Connection) -> Snapshot | None:
    """The snapshot kept for ``conn``'s engine if the journal has not grown since (one index probe), else None.
    Safe without the ledger lock; nothing is refreshed or kept."""
    cache = _caches.get(conn.engine)
    return cache.unchanged(conn) if cache is not None else None


def cached_ledger(conn: Connection, cache: LedgerCache, subjects: Iterable[str] = ()
                  ) -> tuple[Ledger, dict[str, int]]:
    """The ledger subset and {email: id}, from ``cache`` brought up to date. Call with the ledger lock held."""
    return with_subjects(conn, cache.current(conn), subjects)


def with_subjects(conn: Connection, snap: Snapshot, subjects: Iterable[str]) -> tuple[Ledger, dict[str, int]]:
    """The snapshot's ledger and a copy of its ids, with the stored state of the ``subjects`` it lacks added."""
    missing = [s for s in dict.fromkeys(subjects) if s not in snap.ledger.people]
    if not missing:
        return snap.ledger, dict(snap.ids)
    people, ids = dict(snap.ledger.people), dict(snap.ids)
    load_people(conn, missing, people, ids)
    return replace(snap.ledger, people=people), ids
