"""The run lock (one sync at a time, held only while a run runs) and the leader lock (held by the daemon that
runs the schedule; several nodes may run the daemon on one PostgreSQL database, one of them leads).

SQLite: a non-blocking ``flock`` on a file beside the database (``syncd.db.run.lock``, ``syncd.db.leader.lock``);
the kernel drops it when the holder exits, however it exits. PostgreSQL: a session advisory lock
(``pg_try_advisory_lock``) on a dedicated connection, keyed by a stable hash of the database name, the schema
and the lock name; the server drops it when that connection ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from syncd.store.db import StoreError, make_engine

RUN = "run"
LEADER = "leader"
ALERTS = "alerts"


class LockHeld(Exception):
    """Another process holds the lock (temporary: retry later). The CLI exits 75."""

    temporary = True


def advisory_key(conn: Connection, name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` in this connection's database and schema."""
    db, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
    digest = hashlib.blake2b(f"syncd\0{db}\0{schema}\0{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Lock(ABC):
    """A named, non-blocking, exclusive lock; a context manager that raises :class:`LockHeld` when taken."""

    name: str

    @abstractmethod
    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this object now holds it (also when it already did)."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up (no-op when not held)."""

    @abstractmethod
    def is_held(self) -> bool:
        """Whether this object still holds the lock (PostgreSQL: checks that the session is still alive)."""

    @abstractmethod
    def describe_holder(self) -> str:
        """`` by pid N`` or similar for the LockHeld message, or "" when unknown."""

    def acquire(self) -> None:
        if not self.try_acquire():
            holder = self.describe_holder()
            what = "another sync is running" if self.name == RUN else "another daemon is the leader"
            raise LockHeld(f"{what} (the {self.name} lock is held{holder}); try again later")

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


class FileLock(Lock):
    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def is_held(self) -> bool:
        return self._fd is not None

    def describe_holder(self) -> str:
        try:
            pid = self.path.read_text().strip()
        except OSError:
            return ""
        return f" by pid {pid}" if pid.isdigit() else ""


class AdvisoryLock(Lock):
    """The lock's session is a connection of its own, outside the engine's pool: when it closes (on release,
    or when a forgotten lock object is collected) the server drops the lock, and no pooled connection can carry
    a stray lock into other work."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = make_engine(engine.url, poolclass=NullPool)
        self.name = name
        self._conn: Connection | None = None
        self._key: int | None = None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            key = advisory_key(conn, self.name)
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn, self._key = conn, key
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
        except (SQLAlchemyError, StoreError):
            # the session is gone, and the server dropped the lock with it; never pool a dubious connection
            with contextlib.suppress(SQLAlchemyError, StoreError):
                conn.invalidate()
        finally:
            conn.close()

    def is_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            n = self._conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                    "AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = :k"
                ),
                {"k": self._key},
            ).scalar_one()
        except (SQLAlchemyError, StoreError):
            return False
        return bool(n)

    def describe_holder(self) -> str:
        try:
            with self.engine.connect() as conn:
                key = advisory_key(conn, self.name)
                row = conn.execute(
                    text(
                        "SELECT l.pid, a.client_addr FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                        "AND ((l.classid::bigint << 32) | l.objid::bigint) = :k LIMIT 1"
                    ),
                    {"k": key},
                ).first()
        except (SQLAlchemyError, StoreError):
            return ""
        if row is None:
            return ""
        return f" by server pid {row[0]}" + (f" from {row[1]}" if row[1] else "")


def _lock(engine: Engine, name: str) -> Lock:
    backend = engine.dialect.name
    if backend == "postgresql":
        return AdvisoryLock(engine, name)
    if backend == "sqlite":
        db = engine.url.database
        if not db or db == ":memory:" or db.startswith("file:"):
            raise ValueError("locks need an on-disk SQLite database (sqlite:///PATH)")
        return FileLock(Path(f"{Path(db).expanduser().resolve()}.{name}.lock"), name)
    raise ValueError(f"no lock support for database backend {backend!r}")


def run_lock(engine: Engine) -> Lock:
    """The lock a sync holds while it runs: ``with run_lock(engine): ...`` raises :class:`LockHeld` if taken."""
    return _lock(engine, RUN)


def alerts_lock(engine: Engine) -> Lock:
    """The lock one evaluation of the alerts holds (syncd/daemon/alerts): two processes ending runs at the same
    moment must not both send one alert. ``try_acquire()``; one that finds it held leaves the alerts to the other."""
    return _lock(engine, ALERTS)


def leader_lock(engine: Engine) -> Lock:
    """The daemon's leader lock: ``try_acquire()`` on each scheduler tick, ``is_held()`` to check, ``release()``."""
    return _lock(engine, LEADER)
