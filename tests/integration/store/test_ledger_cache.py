"""The ledger a decision starts from is kept between decisions (licensing.cache.LedgerCache). Here it must equal a
fresh load (``load_stored_ledger``) after every step of seeded random interleavings of syncs (apply_plan),
meetings, purchases, reservations, demonstration grants, trials and sweeps, made by two runtimes on one database
(two processes or nodes: each has its own cache and sees the other's writes only through the database).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.cucm.fact import CucmFact
from policy import Reserve
from syncd import errors
from syncd.app import App
from syncd.licensing import admin
from syncd.licensing.cache import ledger_cache
from syncd.licensing.ledger import decide_and_save, load_ledger, lock_ledger, read_ledger
from syncd.licensing.stored import load_stored_ledger
from syncd.settings import load_config
from syncd.store import tables
from syncd.store.db import begin_write
from syncd.sync import state
from syncd.sync.apply import apply_plan
from syncd.sync.plan import SourceFacts, SourceSpec
from syncd.sync.reconcile import plan
from tests.integration.store.storehelp import count_statements

SPECS = [SourceSpec("cucm", "cucm", CucmFact)]
PEOPLE = 24


def _runtime(db_url: str, tmp_path: Path, name: str) -> App:
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(f'[database]\nurl = "{db_url}"\n')
    return App(config=load_config(str(cfg)), actor=name)


def _email(n: int) -> str:
    return f"p{n}@example.com"


def _sync(rt: App, status: dict[int, int], now: datetime) -> None:
    """A full CUCM read of ``status`` planned against the store and applied as a sync applies it."""
    facts = [CucmFact(f"k{n}", _email(n), _email(n), f"u{n}", f"P {n}", s, None) for n, s in status.items()]
    read = SourceFacts("cucm", True, True, len(facts), None, {"at": "x"}, [], facts, [], 0)
    with rt.engine.connect() as conn:
        stored = state.load_state(conn, SPECS, {"cucm": read}, now)
    p = plan(SPECS, {"cucm": read}, stored.people, stored.facts, now, True, {}, stored.scope)
    with begin_write(rt.engine) as conn:
        apply_plan(conn, rt, p, f"run-{now.timestamp()}", now)


def _check(rt: App) -> None:
    """The cached ledger and ids equal a fresh load, both read under the ledger lock; so does what a reader
    without the lock gets (the snapshot, used only if no journal row came after it), and what a report gets
    (``read_ledger``: a stale snapshot brought up to date and kept without the lock)."""
    with rt.engine.connect() as conn:
        reported = read_ledger(rt.engine, conn, [_email(0)])
        read = load_ledger(conn, [_email(0)])
        stored_then = load_stored_ledger(conn, [_email(0)])
    assert read == stored_then
    assert reported == stored_then
    with begin_write(rt.engine) as conn:
        lock_ledger(conn)
        snap = ledger_cache(rt.engine).current(conn)
        ledger, ids = load_stored_ledger(conn)
    assert snap.ledger == ledger
    assert snap.ids == ids


def _step(rng: random.Random, rt: App, status: dict[int, int], open_ids: dict[str, str], now: datetime) -> None:
    """One random write by ``rt``; refusals and unknown meetings are fine, only the ledger's state matters."""
    r = rng.random()
    who = _email(rng.randrange(PEOPLE))
    try:
        if r < 0.15:
            for n in rng.sample(sorted(status), 4):     # deactivate, reactivate, or create people
                status[n] = rng.choice([1, 1, 2])
            status.setdefault(len(status), 1)
            _sync(rt, status, now)
        elif r < 0.45:
            mid = f"m{rng.getrandbits(32):x}"
            if admin.start_meeting(rt, who, mid, now=now).ok:
                open_ids[mid] = who
        elif r < 0.65 and open_ids:
            mid = rng.choice(sorted(open_ids))
            del open_ids[mid]
            admin.end_meeting(rt, mid, now=now)
        elif r < 0.75:
            admin.purchase(rt, rng.randint(1, 3))
        elif r < 0.85:
            admin.reserve(rt, who)
        elif r < 0.90:
            admin.grant_demo(rt, 2, datetime.now(UTC) + timedelta(days=rng.choice([1, 30])), None)
        elif r < 0.93:
            admin.start_trial(rt, now)
        else:
            admin.sweep(rt, now)
    except errors.UserError:
        pass


@pytest.mark.parametrize("seed", range(3))
def test_cached_ledger_equals_a_fresh_load(db_url: str, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    nodes = [_runtime(db_url, tmp_path, "one"), _runtime(db_url, tmp_path, "two")]
    status = {n: 1 for n in range(PEOPLE)}
    now = datetime.now(UTC)
    _sync(nodes[0], status, now)
    open_ids: dict[str, str] = {}
    try:
        for _ in range(60):
            now += timedelta(hours=rng.choice([0, 1, 30, 24 * 20]))
            _step(rng, rng.choice(nodes), status, open_ids, now)
            for rt in nodes:
                _check(rt)
    finally:
        for rt in nodes:
            rt.engine.dispose()


def test_a_decision_starts_from_the_last_one_without_reloading_the_holders(db_url: str, tmp_path: Path) -> None:
    rt = _runtime(db_url, tmp_path, "one")
    _sync(rt, {n: 1 for n in range(PEOPLE)}, datetime.now(UTC))
    admin.purchase(rt, 5)
    for n in range(5):
        admin.reserve(rt, _email(n))
    with count_statements(rt.engine) as counter:
        admin.start_meeting(rt, _email(1), "m1")
    assert not [s for s in counter.statements if "licenses" in s and s.lstrip().upper().startswith("SELECT")]
    _check(rt)
    rt.engine.dispose()


def test_a_report_during_a_decision_keeps_no_ledger_the_decision_changes(db_url: str, tmp_path: Path) -> None:
    """A report read while another node's decision is under way (its licenses and journal rows written, not yet
    committed) shows the ledger before it, and the next report the ledger after it: what it kept was no later
    than its position (on PostgreSQL the ledger lock is busy then, so nothing is kept at all)."""
    writer, reporter = _runtime(db_url, tmp_path, "writer"), _runtime(db_url, tmp_path, "reporter")
    _sync(writer, {n: 1 for n in range(PEOPLE)}, datetime.now(UTC))
    admin.purchase(writer, 2)
    try:
        with reporter.engine.connect() as conn:
            before = read_ledger(reporter.engine, conn)[0]
        assert before.people == {}
        with begin_write(writer.engine) as conn:
            decide_and_save(conn, writer, Reserve(_email(3)), [_email(3)], datetime.now(UTC))
            if conn.dialect.name == "postgresql":   # a write without the lock commits a later journal id first
                with begin_write(reporter.engine) as other:
                    other.execute(tables.journal.insert().values(at=datetime.now(UTC), actor="x", event="refused",
                                                                 sentence="a refused plan"))
            with reporter.engine.connect() as other:
                during = read_ledger(reporter.engine, other)[0]
            assert during == before
        with reporter.engine.connect() as conn:
            after = read_ledger(reporter.engine, conn)[0]
            assert after == load_stored_ledger(conn)[0]
        assert after.people[_email(3)].license is not None
    finally:
        for rt in (writer, reporter):
            rt.engine.dispose()
