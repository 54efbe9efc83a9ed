"""Run and leader locks: a second holder gets LockHeld; a dead holder's lock is free again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from syncd.store.db import make_engine
from syncd.store.locks import LockHeld, advisory_key, leader_lock, run_lock
from tests.pgfixture import schema_url

ROOT = Path(__file__).resolve().parents[3]

HOLDER = textwrap.dedent("""
    import sys, time
    from syncd.store.db import make_engine
    from syncd.store.locks import run_lock
    with run_lock(make_engine(sys.argv[1])):
        print("held", flush=True)
        time.sleep(120)
""")


def _holder(url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_holder_in_process_gets_lock_held(engine: Engine) -> None:
    with run_lock(engine) as held:
        assert held.is_held()
        with pytest.raises(LockHeld, match="another sync is running"):
            run_lock(engine).acquire()
        with leader_lock(engine):  # the two locks are independent
            pass
    with run_lock(engine):  # released on exit
        pass


def test_leader_lock_try_acquire_and_release(engine: Engine) -> None:
    a, b = leader_lock(engine), leader_lock(engine)
    assert a.try_acquire() and a.try_acquire()  # re-entrant for its holder
    assert not b.try_acquire() and not b.is_held()
    with pytest.raises(LockHeld, match="another daemon is the leader"), b:
        pass
    a.release()
    a.release()  # harmless when not held
    assert not a.is_held()
    assert b.try_acquire() and b.is_held()
    b.release()


def test_file_lock_held_by_another_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/syncd.db"
    proc = _holder(url)
    eng = make_engine(url)
    try:
        with pytest.raises(LockHeld, match=f"pid {proc.pid}"):
            run_lock(eng).acquire()
        assert (tmp_path / "syncd.db.run.lock").exists()
        proc.send_signal(signal.SIGKILL)  # the kernel drops the lock with the process
        proc.wait(10)
        with run_lock(eng):
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        eng.dispose()


@pytest.mark.postgres
def test_advisory_lock_from_two_connections(pg_url: str) -> None:
    e1, e2 = make_engine(pg_url), make_engine(pg_url)  # two separate pools: two sessions
    try:
        first = run_lock(e1)
        first.acquire()
        with pytest.raises(LockHeld, match="server pid"):
            run_lock(e2).acquire()
        assert leader_lock(e2).try_acquire()  # a different lock name, a different key
        first.release()
        with run_lock(e2):
            pass
    finally:
        e1.dispose()
        e2.dispose()


@pytest.mark.postgres
def test_advisory_lock_of_another_process_and_of_a_killed_session(pg_url: str) -> None:
    proc = _holder(pg_url)
    eng = make_engine(pg_url)
    try:
        with pytest.raises(LockHeld):
            run_lock(eng).acquire()
        proc.send_signal(signal.SIGKILL)  # its session ends and the server drops the lock
        proc.wait(10)
        lock = leader_lock(eng)
        again = run_lock(eng)
        for _ in range(100):  # the server notices the closed socket within moments
            if again.try_acquire():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the run lock of a killed process was never released")
        again.release()
        assert lock.try_acquire() and lock.is_held()
        with eng.connect() as conn:  # the leader loses its session: it must know it no longer leads
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = :k"
                ),
                {"k": advisory_key(conn, "leader")},
            )
        assert not lock.is_held()
        lock.release()
        other = make_engine(pg_url)
        try:
            assert leader_lock(other).try_acquire()
        finally:
            other.dispose()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        eng.dispose()


@pytest.mark.postgres
def test_advisory_keys_differ_per_schema(pg_url: str, pg_role: str) -> None:
    other_schema = f"{pg_url.rsplit('%3D', 1)[1]}_b"
    e1, e2 = make_engine(pg_url), make_engine(schema_url(pg_role, other_schema))
    try:
        with e2.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{other_schema}"'))
        with run_lock(e1), run_lock(e2):  # same database, other schema: not the same lock
            pass
    finally:
        with e2.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{other_schema}" CASCADE'))
        e1.dispose()
        e2.dispose()


def test_lock_needs_an_on_disk_database() -> None:
    eng = make_engine("sqlite://")
    with pytest.raises(ValueError, match="on-disk"):
        run_lock(eng)
    eng.dispose()


def test_lock_file_is_private(tmp_path: Path) -> None:
    eng = make_engine(f"sqlite:///{tmp_path}/syncd.db")
    with run_lock(eng):
        assert os.stat(tmp_path / "syncd.db.run.lock").st_mode & 0o077 == 0
    eng.dispose()
