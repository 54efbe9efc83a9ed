"""`syncd sync --source cucm` against the AXL simulator over HTTPS, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.axlsim import Simulator
from tests.e2e.site import CucmSite


@pytest.fixture
def sim():
    with Simulator(600, seed=3, tls=True) as s:
        yield s


def _active_with_mail(sim: Simulator, ldap: bool, n: int = 1) -> list[Any]:
    seen: dict[str, int] = {}
    for u in sim.population:
        if u.mailid:
            seen[u.mailid.casefold()] = seen.get(u.mailid.casefold(), 0) + 1
    return [u for u in sim.population if u.status == 1 and u.ldap is ldap and u.mailid
            and seen[u.mailid.casefold()] == 1][:n]


def test_cucm_sync_end_to_end(tmp_path: Path, db_url: str, sim: Simulator):
    site = CucmSite(tmp_path, db_url, sim)
    out = site.json("sync", "--source", "cucm")
    assert out["result"] == "applied" and out["sources"][0]["complete"] and out["sources"][0]["full"]
    assert 0 < out["sources"][0]["seconds"] <= out["seconds"]       # the read's own time, within the run's
    people = {p["email"]: p for p in site.json("users", "list")}
    expected = {u.mailid.casefold() for u in sim.population if u.mailid}
    assert len(people) == len(expected) - out["changes"]["conflicts"]
    conflicts = site.json("conflicts")
    assert len(conflicts) == out["changes"]["conflicts"] > 0
    assert all(len(c["sources"]["cucm"]) >= 2 and c["email"] not in people for c in conflicts)
    remote = _active_with_mail(sim, ldap=True, n=3)
    local = _active_with_mail(sim, ldap=False, n=2)
    assert people[remote[0].mailid.casefold()]["management"] == "remote"
    assert people[local[0].mailid.casefold()]["management"] == "local"

    site.run("licenses", "purchase", "5")
    holders = [remote[0], remote[1], local[0]]
    for u in holders:
        assert site.json("meetings", "start", u.mailid)["license_kind"] == "permanent"

    # status 1 -> 2 (an incremental read via listChange), and a user removed from CUCM
    sim.set_status(holders[0].userid, 2)
    sim.remove_user(holders[1].userid)
    inc = site.json("sync", "--source", "cucm")
    assert inc["sources"][0]["full"] is False, inc
    assert inc["changes"]["deactivated"] == 2 and inc["licenses"]["released"] == 2
    after = {p["email"]: p for p in site.json("users", "list")}
    gone = after[holders[1].mailid.casefold()]
    assert after[holders[0].mailid.casefold()]["license"] is None
    assert gone["active"] is False and gone["license"] is None and gone["inactive_reason"] == "removed from CUCM"
    assert after[holders[2].mailid.casefold()]["license"]["kind"] == "permanent"
    assert after[holders[2].mailid.casefold()]["license"]["management"] == "local"
    report = site.json("licenses", "report")
    assert report["in_use"]["permanent"] == 1 and report["free_permanent"] == 4
    journal = site.json("journal", "--person", holders[0].mailid)
    assert any(r["rule"] == "R5" and r["source"] == "cucm" for r in journal)
    site.run("sync", "--check")
    site.run("db", "verify")


def test_logs_are_json_lines_with_run_id_and_never_the_password(tmp_path: Path, db_url: str, sim: Simulator):
    site = CucmSite(tmp_path, db_url, sim)
    proc = site.run("-vv", "sync", "--full")
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert lines and all(line["run_id"] for line in lines if line.get("logger", "").startswith("syncd"))
    assert len({line["run_id"] for line in lines if "run_id" in line}) == 1
    assert sim.password not in proc.stderr + proc.stdout


def test_wrong_password_fails_the_source_and_deactivates_nobody(tmp_path: Path, db_url: str, sim: Simulator):
    good = CucmSite(tmp_path, db_url, sim)
    good.run("sync")
    before = good.json("users", "list")
    bad = CucmSite(tmp_path, db_url, sim, password="not-the-password")
    proc = bad.run("sync", "--full", check=69)
    assert "source cucm unavailable" in proc.stderr and "not-the-password" not in proc.stderr + proc.stdout
    assert bad.json("users", "list") == before
