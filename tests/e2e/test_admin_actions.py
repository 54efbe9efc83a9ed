"""Destructive admin actions are guarded (issue 15, sections 1 and 9), through the installed `syncd` command on
SQLite and PostgreSQL: the ledger records its CWMS version, so an upgrade to the version it is on is refused; a
real 2.0 -> 2.5 upgrade ends the meetings it strands; every admin action takes ``--dry-run`` and writes nothing
with it; `licenses set-installed` corrects a mistyped purchase; a refused reservation says what to do; and
`syncd demo` runs twice into one directory."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from syncd.store import tables
from tests.e2e.site import Command, Site, cucm_row

HOSTS = (1, 2, 3)


def licensed_site(site: Site, version: str | None = None) -> Site:
    """20 people synced (user20 inactive in CUCM), 10 Permanent licenses bought, a meeting open for each host."""
    if version is not None:
        site.extra_config = f'cwms_version = "{version}"\n'
    site.write_config()
    site.write_users({n: cucm_row(n, status=2 if n == 20 else 1) for n in range(1, 21)})
    site.run("sync")
    site.run("licenses", "purchase", "10")
    for n in HOSTS:
        assert site.json("meetings", "start", f"user{n}@example.com", "--meeting", f"m-{n}")["granted"] is True
    return site


def held(site: Site) -> dict[str, str]:
    return {e: p["license"]["kind"] for e, p in site.people().items() if p["license"] is not None}


def open_meetings(site: Site) -> set[str]:
    with site.store() as (conn, _):
        m = tables.meetings
        return set(conn.execute(select(m.c.meeting_id).where(m.c.ended_at.is_(None))).scalars())


def one_line(proc_out: str) -> str:
    lines = proc_out.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_an_upgrade_to_the_version_the_ledger_is_on_is_refused(site: Site) -> None:
    licensed_site(site)                       # cwms_version 2.5, the default
    before = site.digest()
    for _ in range(2):
        proc = site.run("licenses", "upgrade", "--to", "2.5", check=65)
        line = one_line(proc.stdout)
        assert "refused" in line and "already" in line and "2.5" in line, line
    assert site.digest() != before            # the refusals are journaled ...
    assert held(site) == {f"user{n}@example.com": "permanent" for n in HOSTS}    # ... and release nothing
    assert open_meetings(site) == {f"m-{n}" for n in HOSTS}
    assert site.json("licenses", "upgrade", "--to", "2.5", check=65)["reason"] == "already_on_version"


def test_a_real_upgrade_from_2_0_ends_the_meetings_it_strands_and_is_recorded(site: Site) -> None:
    licensed_site(site, version="2.0")
    before = site.digest()
    dry = site.run("licenses", "upgrade", "--to", "2.5", "--dry-run")
    assert dry.stdout.startswith("would (R12): upgrade from CWMS 2.0 to 2.5"), dry.stdout
    assert "would: user1@example.com: meeting m-1 ended" in dry.stdout
    assert dry.stdout.splitlines()[-1] == "dry run: nothing written"
    assert site.digest() == before            # a dry run writes nothing, not even a journal row

    done = site.json("licenses", "upgrade", "--to", "2.5")
    assert done["message"] == site_dry_message(dry.stdout)
    assert done["dry_run"] is False and done["rule"] == "R12"
    assert held(site) == {}
    assert open_meetings(site) == set()
    journal = site.json("journal")
    ended = [r for r in journal if "ended: the upgrade to 2.5" in r["sentence"]]
    assert {r["person"] for r in ended} == {f"user{n}@example.com" for n in HOSTS}

    again = site.run("licenses", "upgrade", "--to", "2.5", check=65)
    assert "an earlier upgrade recorded it" in one_line(again.stdout)

    warnings = site.json("status")["warnings"]
    assert any("cwms_version" in w and "2.5" in w for w in warnings), warnings
    site.extra_config = 'cwms_version = "2.5"\n'
    site.write_config()
    assert not any("cwms_version" in w for w in site.json("status")["warnings"])
    assert site.json("db", "verify")["ok"] is True          # the journal replays to the recorded version
    site.run("licenses", "upgrade", "--to", "2.5", check=65)


def site_dry_message(text: str) -> str:
    """The decision's sentence in a dry run's first line."""
    return text.splitlines()[0].split("): ", 1)[1]


ACTIONS = [                                   # (the action, its exit code), in this order on one site
    (("licenses", "purchase", "5"), 0),
    (("licenses", "demo", "3", "--expires", "2999-01-01", "--id", "d-1"), 0),
    (("licenses", "reserve", "user7@example.com"), 0),
    (("licenses", "set-installed", "12"), 0),
    (("licenses", "trial", "--start", "2026-01-01"), 65),       # refused: licenses are installed
    (("sweep",), 0),
    (("licenses", "upgrade", "--to", "2.5"), 0),
]


def _untimed(sentence: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "T", sentence)


def test_every_admin_action_has_a_dry_run_that_writes_nothing(site: Site) -> None:
    licensed_site(site, version="2.0")
    for action, code in ACTIONS:
        before = site.digest()
        dry = site.json(*action, "--dry-run", check=code)
        assert site.digest() == before, action
        assert dry["dry_run"] is True
        real = site.json(*action, check=code)
        assert real["dry_run"] is False
        # The same sentences but for the time they were decided at (a sweep says "sweep at T").
        assert (_untimed(real["message"]), real["rule"], real["reason"]) == (
            _untimed(dry["message"]), dry["rule"], dry["reason"])
        assert [_untimed(c["sentence"]) for c in real["changes"]] == [_untimed(c["sentence"]) for c in dry["changes"]]
        assert site.digest() != before, action          # the action itself is journaled, refused or not


def test_a_trial_dry_run_writes_nothing(site: Site) -> None:
    site.write_config()
    site.write_users({n: cucm_row(n) for n in range(1, 4)})
    site.run("sync")
    before = site.digest()
    dry = site.json("licenses", "trial", "--start", "2026-01-01", "--dry-run")
    assert site.digest() == before and dry["dry_run"] is True
    assert site.json("licenses", "trial", "--start", "2026-01-01")["message"] == dry["message"]


def test_set_installed_corrects_a_mistyped_purchase(site: Site) -> None:
    licensed_site(site)
    site.run("licenses", "purchase", "90")                  # meant 10 more, not 90
    assert site.json("licenses", "report")["installed_permanent"] == 100

    low = site.run("licenses", "set-installed", "2", check=65)
    line = one_line(low.stdout)
    assert "3 Permanent Host licenses are in use" in line and "below 3" in line, line
    assert site.json("licenses", "report")["installed_permanent"] == 100

    fixed = site.json("licenses", "set-installed", "20")
    assert fixed["message"].startswith("installed Permanent Host licenses set from 100 to 20")
    report = site.json("licenses", "report")
    assert (report["installed_permanent"], report["free_permanent"]) == (20, 17)
    rows = [r for r in site.json("journal") if r["event"] == "set_installed"]
    assert [r["sentence"] for r in rows][-1] == fixed["message"]
    site.json("licenses", "set-installed", "3")             # down to the licenses in use is allowed
    assert site.json("licenses", "report")["free_permanent"] == 0
    assert site.json("db", "verify")["ok"] is True
    site.run("licenses", "set-installed", "-1", check=2)


def test_reserving_for_an_inactive_person_says_why_and_what_to_do(site: Site) -> None:
    licensed_site(site)
    proc = site.run("licenses", "reserve", "user20@example.com", check=65)
    line = one_line(proc.stdout)
    assert "user20@example.com is inactive" in line and "reactivate" in line, line
    assert "user20@example.com" not in held(site)


def test_the_demo_runs_twice_into_one_directory(tmp_path: Path) -> None:
    demo = DemoDir(tmp_path / "d")
    first = demo.run("demo", "--dir", str(demo.root), "--users", "200")
    assert "starts afresh" not in first.stdout
    second = demo.run("demo", "--dir", str(demo.root), "--users", "200")
    assert "this run starts afresh" in second.stdout
    assert "20 active users hosted a meeting" in second.stdout
    assert_the_cwms_part(second.stdout)


def assert_the_cwms_part(text: str) -> None:
    """The demo's CWMS part: the leaver's account found ACTIVATED, pushed DEACTIVATED (one write in the simulated
    site's audit), and the site's pool one host license larger."""
    userid = re.search(r"^== (\S+) turns inactive in CUCM", text, re.M)
    assert userid, text
    u = re.escape(userid[1])
    cwms = text[text.index(f"== {userid[1]} in CWMS: syncd cwms diff"):text.index("== files")]
    assert re.search(rf"^   leaks: 1\n   \S+ is inactive in syncd, its account {u} is ACTIVATED: CWMS still binds "
                     "its host license$", cwms, re.M), cwms
    assert re.search(r"^   cwms: \d+ accounts read, leaks: 1; pushed 1, failed 0, pending 0$", cwms, re.M), cwms
    assert re.findall(r"^   the simulated CWMS's audit: .*$", cwms, re.M) == [
        f"   the simulated CWMS's audit: SetUser {userid[1]} active=DEACTIVATED: SUCCESS (was ACTIVATED)"], cwms
    pool = re.search(r"^   the simulated CWMS's pool: 0 host licenses free before, 1 after \((\d+) ACTIVATED accounts, "
                     r"then (\d+)\)$", cwms, re.M)
    assert pool and int(pool[2]) == int(pool[1]) - 1, cwms


def test_the_demo_refuses_a_directory_it_did_not_write(tmp_path: Path) -> None:
    demo = DemoDir(tmp_path / "d")
    (demo.root / "syncd.db").write_bytes(b"someone's database")
    proc = demo.run("demo", "--dir", str(demo.root), "--users", "200", check=65)
    assert "not written by `syncd demo`" in proc.stderr
    assert sorted(p.name for p in demo.root.iterdir()) == ["syncd.db"]
    assert (demo.root / "syncd.db").read_bytes() == b"someone's database"


class DemoDir(Command):
    """An empty directory for `syncd demo`, which needs no configuration: ``root/syncd.toml`` is the one it
    writes."""

    def __init__(self, root: Path) -> None:
        root.mkdir()
        self.root = root
