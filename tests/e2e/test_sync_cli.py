"""`syncd sync` and the admin commands, run as an admin runs them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime

from tests.e2e.site import SYNCD, Site, cucm_row, pg_analyzed


def test_first_sync_creates_people_then_nothing_changes(site: Site):
    site.rows[41] = cucm_row(41, status=2)
    site.rows[42] = cucm_row(42, mail=None)
    site.rows[43] = cucm_row(43, ldap=True)
    site.write_users()
    out = site.json("sync")
    assert out["result"] == "applied" and out["mode"] == "apply"
    assert out["changes"]["created"] == 42 and out["changes"]["skipped_no_email"] == 1
    assert out["sources"][0]["name"] == "cucm" and out["sources"][0]["complete"] is True
    ppl = site.people()
    assert len(ppl) == 42
    assert ppl["user41@example.com"]["active"] is False
    assert ppl["user43@example.com"]["management"] == "remote"
    assert ppl["user1@example.com"]["management"] == "local"
    again = site.json("sync")
    assert again["result"] == "no_changes" and again["changes"]["created"] == 0
    site.run("sync", "--check")
    status = site.json("status")
    assert status["people"] == {"active": 41, "inactive": 1}
    assert [r["result"] for r in status["runs"]] == ["no_changes", "applied"]
    jobs = {n["job"]: n for n in status["next_runs"]}
    assert datetime.fromisoformat(jobs["full"]["next_run"]) > datetime.now(UTC)
    assert jobs["full"]["cron"] == "0 3 * * *" and jobs["incremental"]["every"] == "15m"


def test_deactivation_releases_permanent_and_journal_names_source_and_rule(site: Site):
    site.run("sync")
    site.run("licenses", "purchase", "5")
    granted = site.json("meetings", "start", "user7@example.com", "--meeting", "m-1")
    assert granted["granted"] is True and granted["license_kind"] == "permanent" and granted["rule"] == "R3"
    report = site.json("licenses", "report")
    assert report["in_use"]["permanent"] == 1 and report["free_permanent"] == 4
    site.rows[7]["status"] = 2
    site.write_users()
    out = site.json("sync")
    assert out["changes"]["deactivated"] == 1 and out["licenses"]["released"] == 1
    assert site.json("licenses", "report")["free_permanent"] == 5
    shown = site.json("users", "show", "user7@example.com")
    assert shown["active"] is False and shown["license"] is None
    journal = site.json("journal", "--person", "user7@example.com")
    released = [r for r in journal if r["rule"] == "R5"]
    assert released and released[-1]["source"] == "cucm"
    # Refused host request: exit 4 and still a JSON answer.
    refused = site.json("meetings", "start", "user7@example.com", check=4)
    assert refused["granted"] is False and refused["reason"] == "host_deactivated"
    assert site.json("db", "verify")["ok"] is True


def test_mass_deactivation_is_refused_and_nothing_changes(site: Site):
    site.run("sync")
    before = site.people()
    site.write_users({n: site.rows[n] for n in (1, 2)})    # 38 of 40 vanish: 95 %
    proc = site.run("sync", check=3)
    assert "safety gate refused" in proc.stderr and "--allow-mass-deactivation" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert site.people() == before
    journal = site.json("journal")
    assert any(r["event"] == "refused" for r in journal)
    out = site.json("sync", "--allow-mass-deactivation")
    assert out["changes"]["deactivated"] == 38


def test_dry_run_writes_nothing_and_check_exits_1_until_applied(site: Site):
    proc = site.run("sync", "--dry-run")
    assert "would create user1@example.com" in proc.stdout
    assert site.json("users", "list") == []
    assert site.json("journal") == []
    site.run("sync", "--check", check=1)
    site.run("sync")
    site.run("sync", "--check", check=0)


def test_two_concurrent_runs_one_exits_75(site: Site):
    site.run("sync")
    fifo = site.root / "slow.jsonl"
    os.mkfifo(fifo)
    site.users_file.unlink()
    site.users_file.symlink_to(fifo)
    first = subprocess.Popen([SYNCD, "--config", str(site.config), "sync"], cwd=site.root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)       # the first run now holds the run lock and waits on the FIFO
        second = site.run("sync", check=75)
        assert "another sync is running" in second.stderr and len(second.stderr.strip().splitlines()) == 1
    finally:
        writer = threading.Thread(target=lambda: fifo.write_text(
            "".join(__import__("json").dumps(r) + "\n" for r in site.rows.values())))
        writer.start()
        first.wait(timeout=120)
        writer.join(timeout=10)
    assert first.returncode == 0, first.stderr


def test_sigkill_in_the_middle_of_a_large_apply_leaves_previous_state(site: Site):
    """Also: on PostgreSQL, a run that writes 10,000 rows or more refreshes the planner's statistics after it has
    committed (pipeline.ANALYZE_AFTER), and a smaller or a killed one does not."""
    on_pg = site.db_url.startswith("postgresql")
    site.write_users({n: cucm_row(n) for n in range(1, 1001)})
    site.run("sync")
    before = site.people()
    big = {n: cucm_row(n, status=2 if n % 3 == 0 else 1) for n in range(1, 60001)}
    site.write_users(big)
    proc = subprocess.Popen([SYNCD, "--config", str(site.config), "-v", "sync", "--allow-mass-deactivation"],
                            cwd=site.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "applying" in line:
            break
    time.sleep(0.05)     # into the apply, which takes over a second for 60,000 people
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert site.people() == before
    assert not on_pg or pg_analyzed(site.db_url) == set()
    site.run("sync", "--allow-mass-deactivation")
    assert not on_pg or {"people", "source_records"} <= pg_analyzed(site.db_url)
    after = site.people()
    assert len(after) == 60000
    assert sum(1 for p in after.values() if not p["active"]) == 20000
    site.run("sync", "--check")
    site.run("db", "verify")


def test_sources_read_at_the_same_time_keep_their_order_and_the_run_id(site: Site):
    """The pipeline reads the second and later sources on threads of their own: their facts still come back in
    configured order, their log lines carry the run's id, and a failed source still fails only itself."""
    other = site.root / "cucm2-users.jsonl"
    other.write_text("".join(json.dumps(cucm_row(n)) + "\n" for n in range(100, 110)))
    site.extra_config = (f'\n[[sources.file]]\nname = "cucm2"\nkind = "cucm"\nformat = "jsonl"\npath = "{other}"\n'
                         f'\n[[sources.file]]\nname = "gone"\nkind = "cucm"\nformat = "jsonl"\n'
                         f'path = "{site.root / "missing.jsonl"}"\n')
    site.write_config()
    proc = site.run("-v", "sync", check=69, json_out=True)
    out = json.loads(proc.stdout)
    assert [(s["name"], s["complete"]) for s in out["sources"]] == [("cucm", True), ("cucm2", True), ("gone", False)]
    assert out["changes"]["created"] == 50 and out["changes"]["deactivated"] == 0
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    reads = [r for r in lines if r.get("event") == "source read"]
    assert sorted(r["source"] for r in reads) == ["cucm", "cucm2", "gone"]
    assert {r["run_id"] for r in reads} == {out["run_id"]}
