"""Dry runs tell the truth (issue 15, part 3), through the installed `syncd` against the AXL simulator over HTTPS, on
SQLite and PostgreSQL: `sync --dry-run` and `sync --check` report the license effects the real run then has, and
a plan the safety gate refuses prints what it would have done under a line that says nothing was applied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.axlsim import Simulator
from tests.e2e.site import CucmSite


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(120, seed=5, tls=True) as s:
        yield s


def _active_local(sim: Simulator, n: int) -> list[Any]:
    """``n`` active local users, each with an e-mail address no other user has."""
    mails = [u.mailid.casefold() for u in sim.population if u.mailid]
    return [u for u in sim.population if u.status == 1 and not u.ldap and u.mailid
            and mails.count(u.mailid.casefold()) == 1][:n]


def test_dry_run_and_check_release_what_the_sync_then_releases(tmp_path: Path, db_url: str, sim: Simulator) -> None:
    site = CucmSite(tmp_path, db_url, sim, tail="")
    site.run("sync")
    site.run("licenses", "purchase", "2")
    [host] = _active_local(sim, 1)
    assert site.json("meetings", "start", host.mailid)["license_kind"] == "permanent"
    sim.set_status(host.userid, 2)      # set inactive in CUCM
    email = host.mailid.casefold()
    released = {"released": 1, "remarked": 0, "promoted": 0}

    dry = site.json("sync", "--dry-run")
    assert dry["changes"]["deactivated"] == 1 and dry["licenses"] == released, dry
    assert [(e["person"], e["effect"], e["rule"]) for e in dry["license_plan"]] == [(email, "released", "R5")]
    text = site.run("sync", "--dry-run").stdout.splitlines()
    at = next(i for i, line in enumerate(text) if line.startswith(f"would deactivate {email}:"))
    assert text[at + 1] == f"would release the Permanent Host license of {email} (R5)"
    assert any(line.startswith("planned:") and "licenses 1 released" in line for line in text), text
    check = site.json("sync", "--check", check=1)
    assert check["licenses"] == released and check["license_plan"] == dry["license_plan"]
    assert site.json("users", "show", email)["license"]["kind"] == "permanent"     # nothing was written

    applied = site.json("sync")
    assert applied["result"] == "applied" and applied["licenses"] == released
    assert site.json("users", "show", email)["license"] is None
    again = site.json("sync", "--check")
    assert again["licenses"] == {"released": 0, "remarked": 0, "promoted": 0} and again["license_plan"] == []


def test_a_refused_plan_says_nothing_was_applied_then_what_it_would_do(tmp_path: Path, db_url: str,
                                                                       sim: Simulator) -> None:
    site = CucmSite(tmp_path, db_url, sim, tail="[safety]\nmax_deactivations = 2\n")
    site.run("sync")
    before = site.people()
    leaving = _active_local(sim, 3)
    for u in leaving:
        sim.set_status(u.userid, 2)
    for args in (("sync",), ("sync", "--dry-run")):
        proc = site.run(*args, check=3)
        lines = proc.stdout.splitlines()
        assert lines[0] == "nothing was applied: the safety gate refused this plan", proc.stdout
        for u in leaving:
            assert any(line.startswith(f"would deactivate {u.mailid.casefold()}:") for line in lines), proc.stdout
        assert not [line for line in lines if line.startswith("deactivate ")], proc.stdout
        assert "safety gate refused" in proc.stderr
    assert site.people() == before
