"""A full sync reads CUCM (the AXL simulator) and CWMS (the CWMS simulator) over TLS; a CUCM status-2 license holder
becomes a leak, pushed DEACTIVATED with push = "on", only reported with "report", and written nowhere by --dry-run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.axlsim import Simulator as AxlSimulator
from connectors.cwmssim import Simulator as CwmsSimulator
from tests.e2e.cwmssite import CwmsSite, mirror, set_user_requests, states


@pytest.fixture
def cucm() -> Iterator[AxlSimulator]:
    with AxlSimulator(120, seed=5, tls=True) as s:
        yield s


@pytest.fixture
def cwms() -> Iterator[CwmsSimulator]:
    with CwmsSimulator(0, tls=True) as s:
        yield s


def _holder(site: CwmsSite, cucm: AxlSimulator, ids: dict[str, str]) -> tuple[str, str]:
    """An active CUCM user with a CWMS account and a Permanent license: (e-mail key, webExId)."""
    people = site.people()
    user = next(u for u in cucm.population if u.status == 1 and u.mailid and u.mailid.casefold() in ids
                and people.get(u.mailid.casefold(), {}).get("active"))
    site.run("licenses", "purchase", "3")
    assert site.json("meetings", "start", user.mailid)["license_kind"] == "permanent"
    cucm.set_status(user.userid, 2)
    return user.mailid.casefold(), ids[user.mailid.casefold()]


def test_a_leak_is_pushed_deactivated_once(tmp_path: Path, db_url: str, cucm: AxlSimulator, cwms: CwmsSimulator):
    ids = mirror(cucm, cwms)
    site = CwmsSite(tmp_path, db_url, cucm, cwms, push="on")
    first = site.json("sync")
    assert first["cwms"]["read"] == len(ids) and first["cwms"]["complete"] is True
    assert first["cwms"]["leaks"] == 0 and first["cwms"]["pushed"] == 0 and set_user_requests(cwms) == 0
    email, webex_id = _holder(site, cucm, ids)
    before = states(cwms)

    out = site.json("sync", "--full")
    c = out["cwms"]
    assert out["result"] == "applied" and out["exit_code"] == 0
    assert (c["leaks"], c["pushed"], c["push_failed"], c["pending"]) == (1, 1, 0, 0), c
    assert states(cwms) == {**before, webex_id: "DEACTIVATED"}      # exactly that account, and nobody else
    assert set_user_requests(cwms) == 1
    pushes = [j for j in site.json("journal", "--person", email) if j["event"] == "cwms_push"]
    assert len(pushes) == 1 and pushes[0]["source"] == "cwms" and webex_id in pushes[0]["sentence"]
    assert [r["state"] for r in site.outbox()] == ["done"]

    again = site.json("sync", "--full")
    assert again["cwms"]["leaks"] == 0 and again["cwms"]["pushed"] == 0 and set_user_requests(cwms) == 1
    assert site.json("status")["cwms"] == {"pending": 0, "failed": 0, "done": 1}


def test_report_names_the_leak_and_writes_nothing(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator):
    ids = mirror(cucm, cwms)
    site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="report")
    site.run("sync")
    _, webex_id = _holder(site, cucm, ids)
    before = states(cwms)
    text = site.run("sync", "--full").stdout
    assert f"would deactivate CWMS account {webex_id}" in text and 'push = "report"' in text
    assert states(cwms) == before and set_user_requests(cwms) == 0 and site.outbox() == []


def test_dry_run_writes_nothing_anywhere(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator):
    ids = mirror(cucm, cwms)
    site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="on")
    site.run("sync")
    _, webex_id = _holder(site, cucm, ids)
    before, digest = states(cwms), site.digest()
    out = site.json("sync", "--full", "--dry-run")
    assert [p["webex_id"] for p in out["cwms"]["planned"]] == [webex_id] and out["cwms"]["pushed"] == 0
    assert states(cwms) == before and set_user_requests(cwms) == 0 and site.digest() == digest
    assert site.json("sync", "--full", "--check", check=1)["cwms"]["leaks"] == 1


def test_a_failed_cucm_read_pushes_nothing(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator):
    ids = mirror(cucm, cwms)
    site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="on")
    site.run("sync")
    inactive = next(e for e, p in site.people().items() if not p["active"] and e in ids)
    cwms.set_active(ids[inactive], "ACTIVATED")         # a leak already, before this run
    cucm.inject_fault("503", count=50)
    out = site.json("sync", "--full", check=69)
    assert out["cwms"]["leaks"] == 1 and out["cwms"]["pushed"] == 0 and "planned" not in out["cwms"]
    assert out["cwms"]["held_back"].startswith("source cucm failed")
    assert set_user_requests(cwms) == 0 and site.outbox() == []


def test_a_failed_cwms_read_plans_no_push_and_names_the_site(tmp_path: Path, cucm: AxlSimulator,
                                                             cwms: CwmsSimulator):
    ids = mirror(cucm, cwms)
    site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="on",
                    password="not-the-cwms-password")
    proc = site.run("sync", check=69)
    err = [line for line in proc.stderr.splitlines() if "cwms" in line.lower()]
    assert any(f"CWMS site {cwms.site_name}" in line and "030002" in line for line in err), proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(site.people()) >= len(ids)         # the CUCM part of the run still applied
    assert set_user_requests(cwms) == 0 and site.outbox() == []


def test_more_pushes_than_max_pushes_are_refused_whole(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator):
    ids = mirror(cucm, cwms)
    site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="on",
                    cwms_keys="max_pushes = 1\nretries = 1")
    site.run("sync")
    inactive = [e for e, p in site.people().items() if not p["active"] and e in ids][:2]
    for e in inactive:
        cwms.set_active(ids[e], "ACTIVATED")
    digest = site.digest()
    out = site.json("sync", "--full", check=3)
    assert out["result"] == "refused" and any("cwms.max_pushes = 1" in r for r in out["refused"])
    assert set_user_requests(cwms) == 0 and site.outbox() == []
    assert site.digest() != digest      # only the refusal's journal row and the run
    assert site.json("sync", "--full", "--allow-mass-deactivation")["cwms"]["pushed"] == 2


@pytest.mark.parametrize("kind", ["503", "drop", "html", "dtd", "malformed", "slow"])
def test_a_cwms_read_fault_plans_no_push_and_loses_nothing(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator,
                                                           kind: str):
    ids = mirror(cucm, cwms)
    site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="on",
                    cwms_keys="retries = 0\ntimeout = 1")
    site.run("sync")
    inactive = next(e for e, p in site.people().items() if not p["active"] and e in ids)
    cwms.set_active(ids[inactive], "ACTIVATED")
    user = next(u for u in cucm.population if u.status == 1 and u.mailid and u.mailid.casefold() in ids)
    cucm.set_status(user.userid, 2)
    cwms.inject_fault(kind, count=5, op="LstsummaryUser", delay=3)
    out = site.json("sync", "--full", check=69)
    assert out["cwms"]["complete"] is False and out["cwms"]["error"].startswith(f"CWMS site {cwms.site_name}")
    assert out["changes"]["deactivated"] == 1          # the CUCM part of the run still applied
    assert set_user_requests(cwms) == 0 and site.outbox() == []
    cwms.clear_faults()
    assert site.json("sync", "--full")["cwms"]["pushed"] == 2     # the next whole read pushes both leaks


def test_activations_only_with_push_activations_and_a_host_limit_refusal_is_reported(
        tmp_path: Path, cucm: AxlSimulator):
    with CwmsSimulator(0, tls=True, host_limit=0) as cwms:
        ids = mirror(cucm, cwms)
        site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="on")
        site.run("sync")
        active = next(e for e, p in site.people().items() if p["active"] and e in ids)
        cwms.set_active(ids[active], "DEACTIVATED")
        out = site.json("sync", "--full")
        assert out["cwms"]["blocked"] == 1 and out["cwms"]["pushed"] == 0 and site.outbox() == []

        site.config.write_text(site.config.read_text().replace('push = "on"', 'push = "on"\npush_activations = true'))
        out = site.json("sync", "--full")
        c = out["cwms"]
        assert (c["blocked"], c["pushed"], c["push_failed"], c["pending"]) == (1, 0, 1, 0), c
        [row] = site.outbox()
        assert (row["state"], row["action"], row["exception_id"]) == ("failed", "activate", "030048")
        assert "exceededSiteHostLimit" in row["reason"]
        assert cwms.written() == []
        assert site.json("status")["cwms"]["failed"] == 1
        journal = [j for j in site.json("journal", "--person", active) if j["event"] == "cwms_push"]
        assert journal and "030048" in journal[-1]["sentence"]


def test_a_failure_mended_by_a_later_write_stops_counting(tmp_path: Path, cucm: AxlSimulator):
    with CwmsSimulator(0, tls=True, host_limit=0) as cwms:
        ids = mirror(cucm, cwms)
        site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="on",
                        cwms_keys="push_activations = true\nretries = 1")
        site.run("sync")
        active = next(e for e, p in site.people().items() if p["active"] and e in ids)
        cwms.set_active(ids[active], "DEACTIVATED")
        assert site.json("sync", "--full")["cwms"]["push_failed"] == 1
        assert site.json("status")["cwms"]["failed"] == 1
        cwms.host_limit = None          # a license was freed on the site
        out = site.json("sync", "--full")
        assert (out["cwms"]["pushed"], out["cwms"]["pending"]) == (1, 0)
        assert site.json("status")["cwms"] == {"pending": 0, "failed": 0, "done": 1}
        assert [r["state"] for r in site.outbox()] == ["failed", "done"]
