"""Bulk writes and the store's readers: batched statements, upsert semantics, cursors, the journal."""

from __future__ import annotations

import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from syncd.store import bulk, tables
from syncd.store.db import begin_write
from tests.integration.store.storehelp import NOW, count_statements, person

N = 100_000


@pytest.mark.slow
def test_upsert_100k_people_in_few_statements_then_update_them(engine: Engine) -> None:
    started = time.perf_counter()
    with count_statements(engine) as n, engine.begin() as conn:
        ids = bulk.upsert_people(conn, (person(i) for i in range(N)))
    insert_s = time.perf_counter() - started
    assert len(ids) == N and len(set(ids.values())) == N
    assert n.count <= N // 500, n.count  # batched: ~1 statement per 1,000 rows, never one per person

    later = NOW + timedelta(hours=1)
    changed = [
        person(
            i,
            active=False,
            management="local",
            updated_at=later,
            created_at=later,
            inactive_reason="status 2 in CUCM",
            deactivated_at=later,
        )
        for i in range(0, N, 2)
    ]
    started = time.perf_counter()
    with count_statements(engine) as n2, engine.begin() as conn:
        again = bulk.upsert_people(conn, changed)
    update_s = time.perf_counter() - started
    assert n2.count <= N // 1000, n2.count
    assert all(again[r["email"]] == ids[r["email"]] for r in changed)  # ids never change on update

    p = tables.people
    with engine.connect() as conn:
        stored = {r.email: r for r in conn.execute(select(p))}
    assert len(stored) == N
    e0, e1, e3 = (person(i)["email"] for i in (0, 1, 3))
    p0 = stored[e0]
    assert p0.created_at == NOW and p0.updated_at == later  # created_at kept from the insert
    assert p0.deactivated_at == later and p0.inactive_reason == "status 2 in CUCM"
    assert p0.id == ids[e0]
    assert (p0.active, p0.management, p0.deleted, p0.in_cucm) == (False, "local", False, True)
    assert (stored[e1].active, stored[e1].management, stored[e1].ad_guid) == (True, "remote", person(1)["ad_guid"])
    assert stored[e3].ad_guid is None
    print(
        f"\n[{engine.dialect.name}] upsert {N} people: {n.count} statements, {insert_s:.2f}s; "
        f"update {len(changed)}: {n2.count} statements, {update_s:.2f}s",
        file=sys.stderr,
    )


def test_source_records_upsert_digests_delete(engine: Engine) -> None:
    def rec(i: int, digest: str = "d0", active: bool = True) -> dict[str, object]:
        return {
            "source": "cucm",
            "source_key": f"k{i}",
            "email_key": person(i)["email"],
            "active": active,
            "data": {"userid": f"u{i}", "status": 1 if active else 2},
            "digest": digest,
            "seen_at": NOW,
            "run_id": "r1",
        }

    with engine.begin() as conn:
        ids = bulk.upsert_people(conn, (person(i) for i in range(10)))
        assert (
            bulk.upsert_source_records(conn, ({**rec(i), "person_id": ids[person(i)["email"]]} for i in range(10)))
            == 10
        )
        bulk.upsert_source_records(
            conn,
            [
                {
                    "source": "ad",
                    "source_key": "g1",
                    "email_key": None,
                    "active": True,
                    "data": {},
                    "digest": "x",
                    "seen_at": NOW,
                    "run_id": "r1",
                }
            ],
        )
    with engine.begin() as conn:
        bulk.upsert_source_records(conn, [rec(3, digest="d1", active=False)])  # person_id left as it was
        assert bulk.delete_source_records(conn, "cucm", ["k0", "k1", "nope"]) == 2
    sr = tables.source_records
    with engine.connect() as conn:
        everything = conn.execute(select(sr).order_by(sr.c.source, sr.c.source_key)).all()
    records = {r.source_key: r for r in everything if r.source == "cucm"}
    assert set(records) == {f"k{i}" for i in range(2, 10)}
    k3 = records["k3"]
    assert (k3.digest, k3.email_key, k3.active) == ("d1", person(3)["email"], False)
    assert (records["k4"].digest, records["k4"].email_key, records["k4"].active) == ("d0", person(4)["email"], True)
    assert k3.data == {"userid": "u3", "status": 2} and k3.person_id == ids[person(3)["email"]]
    assert len(everything) == 9 and everything[0].source == "ad"


def test_cursors_take_effect_only_with_the_transaction(engine: Engine) -> None:
    with engine.begin() as conn:
        bulk.save_cursor(conn, "cucm", {"queueId": 7, "next": 100}, "r1", NOW)
    try:
        with engine.begin() as conn:
            bulk.save_cursor(conn, "cucm", {"queueId": 7, "next": 200}, "r2", NOW)
            bulk.save_cursor(conn, "ad", {"cookie": "AAEC"}, "r2", NOW)
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with engine.connect() as conn:
        assert bulk.load_cursors(conn) == {"cucm": {"queueId": 7, "next": 100}}
    with begin_write(engine) as conn:
        bulk.save_cursor(conn, "ad", {"cookie": "AAEC"}, "r3")
    with engine.connect() as conn:
        assert bulk.load_cursors(conn) == {"cucm": {"queueId": 7, "next": 100}, "ad": {"cookie": "AAEC"}}


def test_journal_append_and_query(engine: Engine) -> None:
    rows = [
        {
            "run_id": "r1",
            "at": NOW + timedelta(minutes=i),
            "actor": "scheduler",
            "person": person(i % 3)["email"],
            "event": "deactivated",
            "source": "cucm",
            "rule": "R5",
            "sentence": f"row {i}",
            "before": {"active": True},
            "after": {"active": False},
            "decision": {"rule": "R5", "actions": []},
        }
        for i in range(12)
    ]
    rows.append({"at": NOW, "actor": "cli:alice", "event": "purchase", "sentence": "Purchased 10 licenses."})
    with count_statements(engine) as n, engine.begin() as conn:
        assert bulk.append_journal(conn, rows) == 13
    # One INSERT executemany on SQLite; on PostgreSQL one COPY, which goes past SQLAlchemy's statement events.
    assert len(n.writes()) == (1 if engine.dialect.name == "sqlite" else 0)
    with engine.connect() as conn:
        everything = bulk.journal_rows(conn)
        mine = bulk.journal_rows(conn, person=person(1)["email"])
        recent = bulk.journal_rows(conn, since=NOW + timedelta(minutes=9))
        last2 = bulk.journal_rows(conn, person=person(0)["email"], limit=2)
    assert [r.sentence for r in everything] == [f"row {i}" for i in range(12)] + ["Purchased 10 licenses."]
    assert everything[-1].person is None and everything[-1].before is None and everything[-1].run_id is None
    assert everything[0].decision == {"rule": "R5", "actions": []} and everything[0].at == NOW
    assert [r.sentence for r in mine] == ["row 1", "row 4", "row 7", "row 10"]
    assert [r.sentence for r in recent] == ["row 9", "row 10", "row 11"]
    assert [r.sentence for r in last2] == ["row 6", "row 9"]
