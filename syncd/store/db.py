"""Engines for the state store, and the mapping of database failures to the errors the CLI reports (exit 74).

SQLite (the default) runs in WAL mode with ``synchronous=FULL``: WAL keeps every transaction atomic, so a
process killed in the middle of an apply leaves the previous state (``NORMAL`` would already give that); FULL
adds an fsync per commit so that an acknowledged host grant or admin action also survives a power loss. Commits
are few (one per run, one per grant), so the cost is small. Foreign keys are enforced and a writer waits up to
``BUSY_TIMEOUT_S`` for another writer. Transactions are opened with an explicit ``BEGIN`` (pysqlite's implicit
transactions would run DDL and reads outside them); :func:`begin_write` opens ``BEGIN IMMEDIATE`` for a
transaction that reads before it writes, so that it waits for a concurrent writer instead of failing.

A new SQLite database file is created mode 0600 before SQLite opens it: SQLite gives the ``-wal`` and ``-shm``
files it makes beside it the database file's own mode (whatever the umask), so that one mode decides who can
read the people, their e-mails and the journal. An existing file keeps its mode: the admin may have widened it
on purpose; :func:`loose_mode` says when it is readable by group or others, for the CLI to warn.

PostgreSQL: ``postgresql+psycopg://USER@HOST/DB``. To keep syncd's tables in a schema other than the user's
default, put the search path in the URL as a libpq option:
``postgresql+psycopg://syncd@db/syncd?options=-csearch_path%3Dsyncd`` (the tests use one schema per test that
way). Tables, the journal trigger and Alembic's version table then live in that schema, and the lock keys
derive from it.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError

BUSY_TIMEOUT_S = 30.0
PG_CONNECT_TIMEOUT_S = 10


class StoreError(Exception):
    """A database failure that the CLI reports as one line with exit 74."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


class DatabaseUnavailable(StoreError):
    """The database cannot be reached, opened, or is busy beyond the wait."""


class InvalidDatabaseURL(DatabaseUnavailable):
    """The configured URL is not one syncd can use (its text is not repeated: it may hold a password)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, temporary=False)


class DiskFull(StoreError):
    """The database (or its disk) has no room for the write."""

    def __init__(self, message: str) -> None:
        super().__init__(message, temporary=True)


def default_url() -> str:
    """``$STATE_DIRECTORY/syncd.db`` under systemd (first entry when several), else ``./syncd.db``."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    path = Path(state) / "syncd.db" if state else Path("syncd.db")
    return f"sqlite:///{path.resolve()}"


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create an engine for a SQLite or PostgreSQL URL, set up as the module docstring says.

    Extra keyword arguments go to :func:`sqlalchemy.create_engine`. A bare ``postgresql://`` URL is taken to
    mean the psycopg 3 driver, the one syncd ships with.
    """
    try:
        u = make_url(url)
    except ArgumentError:
        raise InvalidDatabaseURL(
            "database URL is not a valid SQLAlchemy URL (sqlite:///PATH or postgresql+psycopg://USER@HOST/DB)"
        ) from None
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        return _sqlite_engine(u, **kwargs)
    if u.drivername in ("postgresql", "postgresql+psycopg"):
        u = u.set(drivername="postgresql+psycopg")
        connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_S, **kwargs.pop("connect_args", {})}
        engine = create_engine(u, pool_pre_ping=True, connect_args=connect_args, **kwargs)
        event.listen(engine, "handle_error", _classify_error)
        return engine
    raise InvalidDatabaseURL(
        f"unsupported database URL scheme {u.drivername!r} (use sqlite:///PATH or postgresql+psycopg://)"
    )


def _sqlite_file(u: URL) -> str | None:
    """The database file of a SQLite URL; None for an in-memory database or a ``file:`` URI."""
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:" or \
            u.database.startswith("file:"):
        return None
    return u.database


def loose_mode(url: str | URL) -> tuple[str, int] | None:
    """The path and mode of the SQLite database file ``url`` names when group or others can access it, else None
    (no file yet, PostgreSQL, or a private file)."""
    try:
        path = _sqlite_file(make_url(url))
    except ArgumentError:
        return None
    if path is None:
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    return (os.path.abspath(path), mode) if mode & 0o077 else None


def _create_private(path: str) -> None:
    """Create the empty database file mode 0600 (an empty file is an empty SQLite database), if it is missing."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except OSError:     # there already; or not creatable, which SQLite's own open reports (exit 74)
        return
    os.close(fd)
    os.chmod(path, 0o600)   # a umask can take the owner's own write bit too


def _sqlite_engine(u: URL, **kwargs: Any) -> Engine:
    path = _sqlite_file(u)
    if path is not None:
        parent = Path(path).expanduser().resolve().parent
        if not parent.is_dir():
            raise DatabaseUnavailable(f"database directory {parent} does not exist", temporary=False)
        _create_private(path)
    connect_args = {"timeout": BUSY_TIMEOUT_S, **kwargs.pop("connect_args", {})}
    engine = create_engine(u, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event below opens transactions
        cur = dbapi_conn.cursor()
        try:
            _set_wal(cur)
            cur.execute("PRAGMA synchronous=FULL")
            # 8 MiB of page cache (SQLite's default is 2 MiB): a full sync inserts its rows into indexes in key
            # order unrelated to the table's, which a small cache makes slow; a larger one is no faster and its
            # pages stay in the process (README, Scale and reliability).
            cur.execute("PRAGMA cache_size=-8192")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    event.listen(engine, "handle_error", _classify_error)
    return engine


def _set_wal(cur: sqlite3.Cursor) -> None:
    """Switch a new database to WAL. The switch needs an exclusive lock, and when two processes open a fresh
    database at once SQLite refuses one of them at once (no busy wait, to avoid a deadlock): retry that."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


_sqlite_writers: dict[str, threading.Lock] = {}
_sqlite_writers_guard = threading.Lock()


@contextmanager
def begin_write(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write: ``BEGIN IMMEDIATE`` on SQLite, a plain transaction on PostgreSQL.

    On SQLite a deferred transaction that reads first and then writes fails at once ("database is locked") when
    another connection wrote in between; taking the write lock up front makes it wait its turn instead. The
    writers of one process (the daemon's API threads and its sync) first take turns on a lock per database file:
    writers that meet in ``BEGIN IMMEDIATE`` wait in SQLite's busy handler, which polls with sleeps of up to
    100 ms, so under sustained API load requests would wait seconds and a sync might not get in at all
    (tests/bench/bench_api.py). The lock wakes the next writer as soon as the last one is done; other processes
    are still serialised by SQLite.
    """
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    path = engine.url.database
    key = path if path and path != ":memory:" and not path.startswith("file:") else f"engine {id(engine)}"
    with _sqlite_writers_guard:
        lock = _sqlite_writers.setdefault(key, threading.Lock())
    if not lock.acquire(timeout=BUSY_TIMEOUT_S):
        raise DatabaseUnavailable(f"database {engine.url.database} is busy: another writer of this process held "
                                  f"it for {BUSY_TIMEOUT_S:.0f} s", temporary=True)
    try:
        with engine.execution_options(sqlite_begin="IMMEDIATE").begin() as conn:
            yield conn
    finally:
        lock.release()


def refresh_statistics(engine: Engine, tables: Sequence[str]) -> None:
    """PostgreSQL: ANALYZE ``tables`` now, outside any transaction (SQLite: nothing to do).

    After a bulk load the planner still takes the tables for as small as autovacuum last saw them, until it gets
    round to them: right after a large first full sync, an incremental run's lookup of its e-mails reads every
    source record through the index on ``source`` alone. SQLite's planner picks the right index for these queries
    without statistics.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE " + ", ".join(tables))


def _where(ctx: ExceptionContext) -> str:
    eng = ctx.engine
    if eng is None:
        return "the database"
    u = eng.url
    if u.get_backend_name() == "sqlite":
        return f"database {u.database}"
    return f"database {u.render_as_string(hide_password=True).split('?')[0]}"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def classify_driver_error(conn: Connection, exc: BaseException) -> None:
    """Raise what :func:`_classify_error` would for ``exc``, an error the driver raised outside SQLAlchemy (the
    PostgreSQL COPY of a bulk write); return when nothing fits, for the caller to re-raise ``exc``."""
    raw = conn.connection.dbapi_connection
    disconnect = conn.dialect.is_disconnect(exc, raw, None)  # type: ignore[arg-type]
    _classify_error(SimpleNamespace(original_exception=exc, engine=conn.engine, is_pre_ping=False,  # type: ignore
                                    is_disconnect=disconnect, connection=conn))


def _classify_error(ctx: ExceptionContext) -> None:
    """Raise :class:`DiskFull` or :class:`DatabaseUnavailable` in place of the driver's error where one fits."""
    if ctx.is_pre_ping:
        return  # the pool replaces a dead pooled connection by itself; only a failed reconnect counts
    exc = ctx.original_exception
    text = _one_line(exc)
    low = text.lower()
    where = _where(ctx)
    if isinstance(exc, sqlite3.Error):
        if isinstance(exc, sqlite3.OperationalError):
            if "database or disk is full" in low:
                raise DiskFull(f"{where}: disk full ({text})") from exc
            if "database is locked" in low or "database is busy" in low:
                raise DatabaseUnavailable(f"{where} is busy: {text}", temporary=True) from exc
            if "unable to open database" in low or "disk i/o error" in low or "readonly database" in low:
                raise DatabaseUnavailable(f"{where} unavailable: {text}", temporary=False) from exc
        return
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return
    if not isinstance(exc, psycopg.Error):
        return
    state = getattr(exc, "sqlstate", None) or ""
    if state == "53100" or "no space left" in low:
        raise DiskFull(f"{where}: disk full ({text})") from exc
    if ctx.is_disconnect or state.startswith("08") or state in {"57P01", "57P02", "57P03"}:
        raise DatabaseUnavailable(f"{where} unavailable: {text}", temporary=True) from exc
    if state in {"28000", "28P01", "3D000"}:  # authentication failed, no such database
        raise DatabaseUnavailable(f"{where} unavailable: {text}", temporary=False) from exc
    if isinstance(exc, psycopg.OperationalError) and ctx.connection is None:
        raise DatabaseUnavailable(f"{where} unavailable: {text}", temporary=True) from exc
