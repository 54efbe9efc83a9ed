"""Incremental reads with listChange: exactly the changed users; a reset or evicted queue turns into a full read."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from connectors.axlsim import Simulator

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _changes(sim: Simulator) -> dict[str, str]:
    """Apply the four kinds of change; return the affected pkids by kind."""
    pop = sim.population
    active = next(u for u in pop if u.status == 1 and u.ldap and u.mailid)
    leaver = next(u for u in pop if u.userid != active.userid and u.mailid)
    mover = next(u for u in pop if u.userid not in (active.userid, leaver.userid) and u.mailid)
    sim.set_status(active.userid, 2)
    new = sim.add_user("new.hire", "new.hire@example.com", "Neu", "Hire & Co", ldap=False)
    sim.remove_user(leaver.userid)
    sim.set_mail(mover.userid, "Moved.Mail@Example.com")
    return {"deactivated": active.pkid, "added": new.pkid, "removed": leaver.pkid, "mail": mover.pkid}


@pytest.mark.parametrize(("method", "ldap_flag"), [("sql", "sql"), ("list", "getuser"), ("list", "ad")])
def test_incremental_read_reports_exactly_the_changes(sim, make_conn, method, ldap_flag):
    conn = make_conn(sim, method=method, ldap_flag=ldap_flag)
    base = conn.read(None, False, NOW)
    assert base.complete and base.full and len(base.records) == 300
    assert conn.read(base.cursor, False, NOW).records == []          # nothing changed yet
    ids = _changes(sim)
    batch = conn.read(base.cursor, False, NOW)
    assert batch.complete and not batch.full and batch.error is None
    got = {r.uuid: r for r in batch.records}
    assert set(got) == set(ids.values())
    assert got[ids["deactivated"]].status == 2 and not got[ids["deactivated"]].active
    added = got[ids["added"]]
    assert (added.userid, added.mailid, added.lastname, added.status) == ("new.hire", "new.hire@example.com",
                                                                          "Hire & Co", 1)
    assert added.ldap_synced is (None if ldap_flag == "ad" else False)
    assert got[ids["removed"]].removed and not got[ids["removed"]].active
    assert got[ids["mail"]].mailid == "Moved.Mail@Example.com" and not got[ids["mail"]].removed
    assert batch.cursor == {"queue_id": sim.queue_id, "next_start_change_id": 5}
    # the cursor moved past the changes: the next read is empty
    again = conn.read(batch.cursor, False, NOW)
    assert again.complete and not again.full and again.records == []


def test_changes_span_several_listchange_pages(make_conn):
    with Simulator(100, seed=4, change_page=3) as sim:
        conn = make_conn(sim)
        base = conn.read(None, False, NOW)
        users = sim.population[:10]
        for u in users:
            sim.set_status(u.userid, 2)
        sim.set_status(users[0].userid, 1)          # the same user twice: reported once, last state
        batch = conn.read(base.cursor, False, NOW)
        assert batch.complete and not batch.full
        assert sorted(r.uuid for r in batch.records) == sorted(u.pkid for u in users)
        assert {r.uuid: r.status for r in batch.records}[users[0].pkid] == 1
        assert batch.cursor["next_start_change_id"] == 12


def test_queue_reset_turns_the_run_into_a_full_read(sim, make_conn, caplog):
    conn = make_conn(sim)
    base = conn.read(None, False, NOW)
    sim.set_status(sim.population[0].userid, 2)
    sim.reset_queue()                                # the AXL service restarted: new queueId
    with caplog.at_level("WARNING", logger="connectors.cucm"):
        batch = conn.read(base.cursor, False, NOW)
    assert batch.complete and batch.full and len(batch.records) == 300
    assert any("full read" in n and "listChange" in n for n in batch.notes), batch.notes
    assert "full read" in caplog.text
    assert batch.cursor == {"queue_id": sim.queue_id, "next_start_change_id": 1} != base.cursor


@pytest.mark.parametrize("evict_fault", [True, False])
def test_evicted_change_ids_turn_the_run_into_a_full_read(make_conn, evict_fault):
    with Simulator(50, seed=4, queue_capacity=3, evict_fault=evict_fault) as sim:
        conn = make_conn(sim)
        base = conn.read(None, False, NOW)
        for u in sim.population[:5]:                 # 5 changes into a queue of 3: ids 1 and 2 are gone
            sim.set_status(u.userid, 2)
        batch = conn.read(base.cursor, False, NOW)
        assert batch.complete and batch.full and len(batch.records) == 50
        assert sum(r.status == 2 for r in batch.records) >= 5
        assert any("full read" in n for n in batch.notes)
        if not evict_fault:
            assert any("evicted" in n for n in batch.notes), batch.notes


def test_a_listchange_fault_turns_the_run_into_a_full_read(sim, make_conn):
    conn = make_conn(sim)
    base = conn.read(None, False, NOW)
    sim.inject_fault("fault", op="listChange", code=-1, message="Unexpected listChange failure")
    batch = conn.read(base.cursor, False, NOW)
    assert batch.complete and batch.full and len(batch.records) == 300
    assert any("Unexpected listChange failure" in n for n in batch.notes)


def test_full_flag_and_unusable_cursor_force_a_full_read(sim, make_conn):
    conn = make_conn(sim)
    base = conn.read(None, False, NOW)
    forced = conn.read(base.cursor, True, NOW)
    assert forced.full and forced.complete and len(forced.records) == 300
    broken = conn.read({"queue_id": 7}, False, NOW)
    assert broken.full and broken.complete and any("cursor" in n for n in broken.notes)


def test_changes_during_a_full_read_are_replayed_by_the_next_incremental_read(make_conn):
    with Simulator(3_000, seed=9) as sim:
        conn = make_conn(sim, page_size=500)
        victim = next(u for u in sim.population[:500] if u.status == 1)    # on the first page
        # request 1 is the listChange baseline, 2 the first page; request 3 (the second page) is slow, and
        # the victim changes meanwhile: the full read has its old state, the next incremental read the new one
        sim.inject_fault("slow", at=3, delay=0.5)
        changer = threading.Thread(target=lambda: (_wait_for(lambda: sim.request_count >= 3),
                                                   sim.set_status(victim.userid, 2)))
        changer.start()
        base = conn.read(None, False, NOW)
        changer.join()
        assert {r.uuid: r.status for r in base.records}[victim.pkid] == 1
        nxt = conn.read(base.cursor, False, NOW)
        assert [(r.uuid, r.status) for r in nxt.records] == [(victim.pkid, 2)]


def _wait_for(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.005)


def test_too_many_changes_for_getuser_re_reads_turn_into_a_full_read(make_conn):
    with Simulator(2_100, seed=4) as sim:
        conn = make_conn(sim, method="list", ldap_flag="ad")
        base = conn.read(None, False, NOW)
        for u in sim.population[:2_001]:
            sim.set_status(u.userid, 2)
        batch = conn.read(base.cursor, False, NOW)
        assert batch.complete and batch.full and len(batch.records) == 2_100
        assert any("2001 changed users" in n for n in batch.notes)
        assert conn._client.requests_sent < 2_001          # no getUser per changed user


def test_a_failed_fallback_full_read_is_incomplete_and_says_full(sim, make_conn):
    conn = make_conn(sim, retries=1)
    base = conn.read(None, False, NOW)
    sim.reset_queue()
    sim.inject_fault("503", count=10, op="executeSQLQuery")
    batch = conn.read(base.cursor, False, NOW)
    assert not batch.complete and batch.full and batch.records == [] and "HTTP 503" in batch.error
