"""Engine setup and the mapping of database failures to DatabaseUnavailable / DiskFull (exit 74)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, ProgrammingError

from syncd.store import bulk, tables
from syncd.store.db import DatabaseUnavailable, DiskFull, InvalidDatabaseURL, begin_write, default_url, make_engine
from syncd.store.migrate import upgrade
from tests.integration.store.storehelp import NOW, person
from tests.needs import unavailable


def test_default_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path}/syncd.db"
    monkeypatch.delenv("STATE_DIRECTORY")
    monkeypatch.chdir(tmp_path)
    assert default_url() == f"sqlite:///{tmp_path.resolve()}/syncd.db"


def test_sqlite_settings(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path}/s.db")
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 10_000
    finally:
        eng.dispose()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            insert(tables.licenses).values(
                person_id=12345, kind="permanent", management="local", assigned_at=NOW, state="active"
            )
        )


def test_unreachable_postgresql_is_database_unavailable() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    eng = make_engine(f"postgresql+psycopg://syncd:s3cret@127.0.0.1:{port}/syncd")
    with pytest.raises(DatabaseUnavailable) as exc:
        upgrade(eng)
    assert exc.value.temporary
    assert "s3cret" not in str(exc.value) and "\n" not in str(exc.value)
    assert f"127.0.0.1:{port}" in str(exc.value)


@pytest.mark.postgres
def test_lost_postgresql_session_is_database_unavailable(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with pg_engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(DatabaseUnavailable):
            conn.exec_driver_sql("SELECT 1")


def test_missing_sqlite_directory_is_database_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable, match="does not exist") as exc:
        make_engine(f"sqlite:///{tmp_path}/nowhere/syncd.db")
    assert not exc.value.temporary


def test_sqlite_full_is_disk_full(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path}/full.db")
    upgrade(eng)
    try:
        with eng.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            conn.exec_driver_sql(f"PRAGMA max_page_count = {pages + 5}")  # a database that cannot grow
            conn.commit()
            with pytest.raises(DiskFull, match="disk full"):
                bulk.upsert_people(conn, (person(i) for i in range(5000)))
    finally:
        eng.dispose()


def test_begin_write_waits_for_a_concurrent_writer(tmp_path: Path) -> None:
    """A read-then-write transaction opened with begin_write waits for another writer instead of failing."""
    eng = make_engine(f"sqlite:///{tmp_path}/w.db")
    upgrade(eng)
    holding = threading.Event()
    done: list[str] = []

    def writer() -> None:
        with begin_write(eng) as conn:
            bulk.upsert_people(conn, [person(1)])
            holding.set()
            time.sleep(0.5)
        done.append("first")

    t = threading.Thread(target=writer)
    t.start()
    holding.wait(10)
    try:
        with begin_write(eng) as conn:
            n = conn.execute(select(func.count()).select_from(tables.people)).scalar_one()  # reads first ...
            bulk.upsert_people(conn, [person(2)])  # ... then writes
        done.append("second")
    finally:
        t.join(10)
        eng.dispose()
    assert done == ["first", "second"] and n == 1


@pytest.mark.postgres
def test_a_dead_pooled_connection_is_replaced_quietly(pg_engine: Engine) -> None:
    with pg_engine.connect() as conn:  # goes back to the pool afterwards
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with make_engine(pg_engine.url).connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    with pg_engine.connect() as conn:  # pre-ping notices and reconnects
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid


@pytest.mark.postgres
def test_missing_schema_is_reported(pg_role: str) -> None:
    from tests.pgfixture import schema_url

    with pytest.raises(DatabaseUnavailable, match="create it first"):
        upgrade(schema_url(pg_role, "no_such_schema_here"))


@pytest.fixture
def tiny_tablespace(pg_engine: Engine) -> Iterator[str]:
    """A PostgreSQL tablespace on a 1 MB tmpfs, to fill for real (needs root, mount and a superuser role)."""
    import pwd
    import tempfile

    if os.geteuid() != 0:
        unavailable("filling a disk for real needs root (to mount a tiny tmpfs)", "SYNCD_REQUIRE_MOUNT")
    where = Path(tempfile.mkdtemp(prefix="syncd-tiny-"))  # under /tmp: the server can reach it
    try:
        if subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(where)], capture_output=True
        ).returncode:
            unavailable("cannot mount a tmpfs here", "SYNCD_REQUIRE_MOUNT")
        name = f"tiny_{os.getpid()}_{time.monotonic_ns()}"
        try:
            os.chown(where, pwd.getpwnam("postgres").pw_uid, -1)
            with pg_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                try:
                    conn.exec_driver_sql(f"CREATE TABLESPACE {name} LOCATION '{where}'")
                except ProgrammingError as e:
                    unavailable(f"cannot create a tablespace: {' '.join(str(e.orig).split())}", "SYNCD_REQUIRE_MOUNT")
            yield name
        finally:
            with pg_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS filler")
                conn.exec_driver_sql(f"DROP TABLESPACE IF EXISTS {name}")
            subprocess.run(["umount", str(where)], check=False)
    finally:
        where.rmdir()


@pytest.mark.postgres
def test_postgresql_out_of_space_is_disk_full(pg_engine: Engine, tiny_tablespace: str) -> None:
    with pg_engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE filler (pad text) TABLESPACE {tiny_tablespace}")
    with pytest.raises(DiskFull, match="disk full"), pg_engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO filler SELECT repeat(md5(g::text), 60) FROM generate_series(1, 100000) g")


@pytest.mark.parametrize("url", ["mysql://u:hunter2@db/x", "not a url hunter2", "postgresql+psycopg2://u:hunter2@db/x"])
def test_unusable_urls_are_refused_without_echoing_them(url: str) -> None:
    with pytest.raises(InvalidDatabaseURL) as exc:
        make_engine(url)
    assert "hunter2" not in str(exc.value) and not exc.value.temporary
