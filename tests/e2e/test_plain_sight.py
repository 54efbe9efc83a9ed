"""Trouble in plain sight: what every sync reports also shows where an admin looks (`conflicts`, `users show`,
`status`, `users list`, `licenses report`), through the installed `syncd` command against the AXL simulator, on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.axlsim import Simulator
from syncd.store.locks import leader_lock
from tests.e2e.site import CucmSite

SHARED = "shared@example.com"
PLAIN_SIGHT = '[licenses]\ngrace_limit = 2\ngrace_promotion = "purchase"\n'


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(0, tls=True) as s:
        s.add_user("twin1", SHARED, "Twin", "One")
        s.add_user("twin2", "Shared@Example.com", "Twin", "Two")
        for n in range(1, 6):
            s.add_user(f"u{n}", f"u{n}@example.com", "User", str(n))
        s.add_user("nomail", None, "No", "Mail")
        yield s


def test_a_standing_conflict_shows_in_conflicts_users_show_and_status(tmp_path: Path, db_url: str,
                                                                      sim: Simulator) -> None:
    site = CucmSite(tmp_path, db_url, sim, tail=PLAIN_SIGHT)
    assert site.json("sync")["changes"]["conflicts"] == 1

    [c] = site.json("conflicts")
    assert c["email"] == SHARED and c["known"] is False
    assert sorted(r["userid"] for r in c["sources"]["cucm"]) == ["twin1", "twin2"]

    shown = site.json("users", "show", SHARED)          # was: exit 65 "unknown person"
    assert shown["conflict"] is True and shown["known"] is False and shown["active"] is None
    assert sorted(r["userid"] for r in shown["sources"]["cucm"]) == ["twin1", "twin2"]
    text = site.run("users", "show", SHARED).stdout
    assert "in conflict" in text and "userid=twin1" in text and "userid=twin2" in text
    assert site.json("users", "show", "u1@example.com")["conflict"] is False
    site.run("users", "show", "nobody@example.com", check=65)

    status = site.json("status")
    assert status["conflicts"] == 1 and status["skipped_no_email"] == 1
    assert any("1 e-mail address in conflict" in w for w in status["warnings"])
    assert any("1 source record without an e-mail address" in w for w in status["warnings"])
    assert status["last_failed_run"] is None and status["leader"] == {"held": False, "holder": None}
    assert "no daemon holds the leader lock" in site.run("status").stdout

    # a run that fails is named, with its reason, until a sync applies again
    (tmp_path / "bad").mkdir()
    bad = CucmSite(tmp_path / "bad", db_url, sim, password="not-the-password", tail=PLAIN_SIGHT)
    bad.run("sync", check=69)
    failed = site.json("status")["last_failed_run"]
    assert failed["latest"] is True and failed["result"] == "failed" and failed["reason"].startswith("source cucm:")
    assert any(w.startswith("the last sync (") and "source cucm:" in w for w in site.json("status")["warnings"])
    site.run("sync")
    after = site.json("status")
    assert after["last_failed_run"]["latest"] is False
    assert not any(w.startswith("the last sync (") for w in after["warnings"])

    # a daemon's leader lock (the lock `syncd run` takes), held by this process
    with site.store() as (_, rt):
        lock = leader_lock(rt.engine)
        assert lock.try_acquire()
        try:
            leader = site.json("status")["leader"]
            assert leader["held"] is True and leader["holder"]
            assert "a daemon holds the leader lock" in site.run("status").stdout
        finally:
            lock.release()


def test_users_list_has_sources_and_grace_expiry_and_the_grace_notice_counts_free(tmp_path: Path, db_url: str,
                                                                                   sim: Simulator) -> None:
    site = CucmSite(tmp_path, db_url, sim, tail=PLAIN_SIGHT)
    site.run("sync")
    people = site.people()
    assert SHARED not in people
    assert people["u1@example.com"]["sources"]["cucm"]["userid"] == "u1"        # was: {}
    assert all(p["sources"]["cucm"]["key"] for p in people.values())
    assert site.json("users", "list") == [site.json("users", "show", e) for e in sorted(people)]

    site.run("licenses", "purchase", "2")
    first = site.json("meetings", "start", "u1@example.com")
    second = site.json("meetings", "start", "u2@example.com")
    # "free" after the grant, as the purchase counts it ("installed 2, free 2")
    assert first["message"] == "granted a Permanent Host license: 1 of 2 left free"
    assert second["message"] == "granted a Permanent Host license: 0 of 2 left free"
    for n in (3, 4):
        assert site.json("meetings", "start", f"u{n}@example.com")["license_kind"] == "grace"

    grace = site.people()["u3@example.com"]["license"]
    line = next(x for x in site.run("users", "list").stdout.splitlines() if x.startswith("u3@example.com"))
    assert grace["expires_at"] and f"expires {grace['expires_at'][:10]}" in line

    # u1 leaves: their Permanent is free, and under grace_promotion = "purchase" it stays free beside 2 Grace
    sim.set_status("u1", 2)
    assert site.json("sync")["licenses"]["released"] == 1
    report = site.json("licenses", "report")
    assert (report["free_permanent"], report["in_use"]["grace"], report["grace_beyond_free"]) == (1, 2, 1)
    assert "2 Grace Host licenses in use: installed Permanent (2) exceeded by 1; Grace limit 2" in report["notices"]
    [why] = [n for n in report["notices"] if "grace_promotion" in n]
    assert "licenses reserve EMAIL" in why and '"purchase"' in why
    assert why in site.json("status")["warnings"]
    assert "exceeded by 1" in site.run("licenses", "report").stdout
