"""Meetings can be managed (a generated id is printed, the open meetings are listed by the CLI and the API, and
the journal names each meeting's id), and dates mean what they say: a past `--at` answers from the journal as
the ledger stood then, a time without a UTC offset is refused, `journal --since` takes relative times, and text
shows times to the second while JSON keeps the full ISO 8601 time."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.axlsim import Simulator
from tests.e2e.site import Site
from tests.integration.daemon.harness import Daemon, wait_for

SECOND = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ")


def _meeting_id(stdout: str) -> str:
    found = re.search(r"meetings end (\S+)`", stdout)
    assert found, stdout
    return found.group(1)


def test_a_generated_meeting_id_is_printed_listed_and_ends_the_meeting(site: Site):
    site.run("sync")
    site.run("licenses", "purchase", "2")
    started = site.run("meetings", "start", "user1@example.com")
    mid = _meeting_id(started.stdout)
    second = site.json("meetings", "start", "user1@example.com")
    assert second["granted"] is True and second["meeting_id"] and second["meeting_id"] != mid
    # the host's two concurrent slots are taken: a third request is refused
    assert site.json("meetings", "start", "user1@example.com", check=4)["reason"] == "concurrent_limit"
    site.json("meetings", "start", "user2@example.com", "--meeting", "m-two")

    listed = site.json("meetings", "list")
    assert [(m["meeting_id"], m["host"]) for m in listed] == [
        (mid, "user1@example.com"), (second["meeting_id"], "user1@example.com"), ("m-two", "user2@example.com")]
    assert all(m["timed_out"] is False and m["license_kind"] == "permanent" for m in listed)
    assert datetime.fromisoformat(listed[0]["times_out_at"]) - datetime.fromisoformat(
        listed[0]["started_at"]) == timedelta(hours=24)
    assert [m["meeting_id"] for m in site.json("meetings", "list", "--host", "USER2@example.com")] == ["m-two"]
    text = site.run("meetings", "list", "--host", "user1@example.com").stdout.splitlines()
    assert len(text) == 2 and text[0].startswith(f"{mid}  user1@example.com") and " UTC" in text[0]
    unknown = site.run("meetings", "list", "--host", "nobody@example.com", check=65)
    assert unknown.stderr.strip() == "syncd: unknown person: nobody@example.com"

    assert "ended" in site.run("meetings", "end", mid).stdout
    assert [m["meeting_id"] for m in site.json("meetings", "list", "--host", "user1@example.com")] == [
        second["meeting_id"]]
    assert site.json("meetings", "start", "user1@example.com")["granted"] is True     # the slot is free again

    rows = site.json("journal", "--person", "user1@example.com")
    assert [r["event"] for r in rows if mid in r["sentence"]] == ["host_request", "meeting_end"]
    refused = [r for r in rows if r["event"] == "host_request" and r["sentence"].startswith("refused")]
    assert len(refused) == 1 and "(meeting m-" in refused[0]["sentence"]
    assert site.json("db", "verify")["ok"] is True


def test_a_deactivation_journals_the_ids_of_the_meetings_it_ends(site: Site):
    site.run("sync")
    site.run("licenses", "purchase", "1")
    site.run("meetings", "start", "user5@example.com", "--meeting", "m-five")
    site.rows[5]["status"] = 2
    site.write_users()
    site.run("sync")
    ended = [r for r in site.json("journal", "--person", "user5@example.com") if r["rule"] == "R5"]
    assert len(ended) == 1 and "meeting m-five ended" in ended[0]["sentence"]
    assert site.json("meetings", "list") == []


def _moment() -> datetime:
    """A time between the commands before and after it: a little more than replay.PAST_BY from either."""
    time.sleep(1.2)
    t = datetime.now(UTC)
    time.sleep(1.2)
    return t


def test_a_past_at_answers_from_the_journal_as_the_ledger_stood_then(site: Site):
    site.run("sync")
    synced = _moment()
    site.run("licenses", "purchase", "2")
    bought = _moment()
    site.run("meetings", "start", "user1@example.com", "--meeting", "m-old")

    then = site.json("explain", "user1@example.com", "--at", bought.isoformat())
    assert then["license"] is None and then["if_hosting"]["granted"] is True
    assert then["if_hosting"]["license_kind"] == "permanent"
    assert any("as the journal recorded it" in f for f in then["facts"])
    assert site.json("explain", "user1@example.com")["license"]["kind"] == "permanent"
    before_purchase = site.json("explain", "user1@example.com", "--at", synced.isoformat())
    assert before_purchase["if_hosting"]["license_kind"] == "grace"      # nothing bought yet

    before = site.run("explain", "user1@example.com", "--at", "1999-01-01", check=65)
    assert len(before.stderr.strip().splitlines()) == 1
    assert "not yet known to syncd at 1999-01-01" in before.stderr and not before.stdout

    assert site.json("licenses", "report", "--at", synced.isoformat())["installed_permanent"] == 0
    week = site.json("licenses", "report", "--at", bought.isoformat())
    assert (week["installed_permanent"], week["in_use"]["permanent"], week["open_meetings"]) == (2, 0, 0)
    assert site.json("licenses", "report", "--at", "2000-01-01")["installed_permanent"] == 0
    today = site.json("licenses", "report")
    assert (today["installed_permanent"], today["in_use"]["permanent"], today["open_meetings"]) == (2, 1, 1)


def test_a_time_without_a_utc_offset_is_refused_with_a_hint(site: Site):
    site.run("sync")
    for args in (("explain", "user1@example.com", "--at", "2030-01-01T10:00"),
                 ("licenses", "report", "--at", "2030-01-01 10:00:00"),
                 ("journal", "--since", "2026-01-01T00:00")):
        proc = site.run(*args, check=2)
        assert "no UTC offset" in proc.stderr and "Z (UTC)" in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert site.json("explain", "user1@example.com", "--at", "2030-01-01T10:00:00+01:00")["at"] == (
        "2030-01-01T10:00:00+01:00")
    assert site.json("licenses", "report", "--at", "9000-01-01")["at"] == "9000-01-01T00:00:00+00:00"
    assert "with its UTC offset" in " ".join(site.run("explain", "--help").stdout.split())


def test_journal_since_takes_relative_times_and_refuses_an_unknown_person(site: Site):
    site.run("sync")
    site.run("licenses", "purchase", "1")
    everything = site.json("journal")
    assert len(everything) == 41
    for since in ("1h", "30m", "2d", "today", "yesterday"):
        assert site.json("journal", "--since", since) == everything, since
    assert site.json("journal", "--since", "0s") == []         # now: nothing is that new
    assert site.json("journal", "--since", "1h", "--person", "user1@example.com") == [
        r for r in everything if r["person"] == "user1@example.com"]
    bad = site.run("journal", "--since", "3 fortnights", check=2)
    assert "--since" in bad.stderr and "yesterday" in bad.stderr

    unknown = site.run("journal", "--person", "nobody@example.com", check=65)
    assert unknown.stderr.strip() == "syncd: unknown person: nobody@example.com"
    assert site.json("journal", "--person", "user1@example.com", "--since", "0s") == []  # known, no rows: 0


def test_text_shows_times_to_the_second_and_json_keeps_iso_8601(site: Site):
    site.run("sync")
    site.run("licenses", "purchase", "1")
    site.run("meetings", "start", "user1@example.com", "--meeting", "m-1")
    lines = site.run("journal").stdout.splitlines()
    assert lines and all(SECOND.match(line) for line in lines), lines
    for row in site.json("journal"):
        at = datetime.fromisoformat(row["at"])
        assert at.tzinfo is not None and row["at"].endswith("+00:00")
    explained = site.run("explain", "user1@example.com").stdout
    assert re.search(r"assigned \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", explained), explained
    assert re.search(r"if hosting at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: ", explained), explained
    assert re.search(r"^licenses at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC ", site.run("licenses", "report").stdout)
    status = site.run("status").stdout
    assert re.search(r"^run \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC apply", status, re.M), status
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", explained + status)


@pytest.fixture
def daemon(tmp_path: Path, db_url: str) -> Iterator[Daemon]:
    with Simulator(20, seed=5, tls=True) as sim:
        assert sim.ca_file is not None
        root = tmp_path / "node"
        root.mkdir()
        d = Daemon(root, db_url, f"https://127.0.0.1:{sim.port}/axl/", sim.username, sim.password, sim.ca_file,
                   incremental_every="1h")
        try:
            yield d.start()
        finally:
            d.close()


def test_open_meetings_over_http(daemon: Daemon):
    with daemon.client() as anon:
        wait_for("the first scheduled run", lambda: anon.get("/healthz").status_code == 200)
    hosts = [p["email"] for p in daemon.json("users", "list", "--state", "active")][:2]
    daemon.run("licenses", "purchase", "5")
    daemon.run("meetings", "start", hosts[0], "--meeting", "m-a")
    daemon.run("meetings", "start", hosts[1], "--meeting", "m-b")
    with daemon.client() as anon:      # a read: no token needed
        everyone = anon.get("/api/v1/meetings")
        assert everyone.status_code == 200, everyone.text
        assert everyone.json() == daemon.json("meetings", "list")
        assert [(m["meeting_id"], m["host"]) for m in everyone.json()] == [("m-a", hosts[0]), ("m-b", hosts[1])]
        one = anon.get("/api/v1/meetings", params={"host": hosts[1].upper()})
        assert [m["meeting_id"] for m in one.json()] == ["m-b"]
        unknown = anon.get("/api/v1/meetings", params={"host": "nobody@example.com"})
        assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_person"
        bad = anon.get("/api/v1/meetings", params={"host": "x" * 1000})
        assert bad.status_code == 400 and bad.json()["error"] == "bad_request"
        assert anon.get("/api/v1/meetings", headers={"Host": "evil.example"}).status_code == 400
