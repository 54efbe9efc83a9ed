"""A process killed (SIGKILL) in the middle of a big apply transaction leaves the previous state on SQLite."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import select

from syncd.store import bulk, tables
from syncd.store.db import make_engine
from syncd.store.locks import run_lock
from syncd.store.migrate import upgrade
from tests.integration.store.storehelp import NOW, person

ROOT = Path(__file__).resolve().parents[3]

# Deactivates everyone, adds 60,000 people, moves the cursor and journals it all in one transaction, then
# says so and waits to be killed before it can commit.
APPLY = textwrap.dedent("""
    import sys, time
    from datetime import timedelta
    from syncd.store import bulk
    from syncd.store.db import begin_write, make_engine
    from syncd.store.locks import run_lock
    from tests.integration.store.storehelp import NOW, person
    engine = make_engine(sys.argv[1])
    later = NOW + timedelta(days=1)
    with run_lock(engine), begin_write(engine) as conn:
        conn.exec_driver_sql("PRAGMA cache_size = 50")     # a small page cache spills uncommitted pages to the WAL
        bulk.upsert_people(conn, (person(i, active=False, updated_at=later) for i in range(1000)))
        bulk.upsert_people(conn, (person(i) for i in range(1000, 61000)))
        bulk.save_cursor(conn, "cucm", {"next": 999}, "crashing-run", later)
        bulk.append_journal(conn, ({"run_id": "crashing-run", "at": later, "actor": "scheduler",
                                    "event": "deactivated", "sentence": f"{i} deactivated"} for i in range(1000)))
        print("in transaction", flush=True)
        time.sleep(120)
""")


def test_sigkill_mid_transaction_leaves_the_previous_state(tmp_path: Path) -> None:
    db = tmp_path / "syncd.db"
    url = f"sqlite:///{db}"
    eng = make_engine(url)
    upgrade(eng)
    with eng.begin() as conn:
        bulk.upsert_people(conn, (person(i) for i in range(1000)))
        bulk.save_cursor(conn, "cucm", {"next": 1}, "good-run", NOW)
    with eng.connect() as conn:
        before = conn.execute(select(tables.people).order_by(tables.people.c.id)).all()
    eng.dispose()

    proc = subprocess.Popen([sys.executable, "-c", APPLY, url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "in transaction"
        assert (tmp_path / "syncd.db-wal").stat().st_size > 1_000_000  # the uncommitted work reached the WAL
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert conn.execute(select(tables.people).order_by(tables.people.c.id)).all() == before
            assert bulk.load_cursors(conn) == {"cucm": {"next": 1}}
            assert bulk.journal_rows(conn) == []
        with run_lock(eng):  # and the dead process's run lock is free
            pass
    finally:
        eng.dispose()
