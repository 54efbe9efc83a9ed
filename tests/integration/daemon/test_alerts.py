"""Alerts (DESIGN.md 13) reach real receivers on 127.0.0.1, an HTTP endpoint (apprise's json://) and an SMTP server
(aiosmtpd, apprise's mailto://): exactly one alert when a condition starts and one when it clears, across repeated
real runs of the daemon's scheduled jobs against the AXL simulator; the Grace digest once a day; a receiver that is
down fails loudly in the log, leaves the run as it was, and gets its alert after the next run; `syncd alerts test`
reports each receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.axlsim import Simulator
from syncd.app import App
from syncd.daemon.alerts.evaluate import after_run, evaluate
from syncd.daemon.notify import Notifier
from syncd.daemon.service import Daemon
from syncd.licensing import admin
from syncd.settings import load_config
from syncd.store import tables
from syncd.sync.pipeline import run_sync
from tests import secretscan
from tests.e2e.site import Command
from tests.integration.daemon.proxy import Forwarder
from tests.integration.daemon.receivers import HttpReceiver, SmtpReceiver, free_port

FAILING = "syncd: source cucm failed 2 runs in a row"
READS_AGAIN = "syncd: source cucm reads again"
REFUSED = "syncd: a sync was refused by the safety gate"
PASSES = "syncd: the safety gate passes again"


class Site(Command):
    """A configuration in ``root``: the AXL simulator as source ``cucm`` (at ``cucm_url``), the alert ``urls``."""

    def __init__(self, root: Path, db_url: str, sim: Simulator, cucm_url: str, urls: list[str],
                 tail: str = "") -> None:
        self.root = root
        secret = self.write_secret("cucm.secret", sim.password)
        self.config.write_text(
            f'[database]\nurl = "{db_url}"\n\n[[sources.cucm]]\nname = "cucm"\nurl = "{cucm_url}"\n'
            f'username = "{sim.username}"\npassword_file = "{secret}"\nca_file = "{sim.ca_file}"\n'
            'page_size = 200\nretries = 0\ntimeout = 10.0\n\n[safety]\nmax_deactivations = 5\n\n'
            f'[alerts]\nurls = {json.dumps(urls)}\nafter_failures = 2\n{tail}')
        self.config.chmod(0o600)

    def app(self) -> App:
        return App(load_config(str(self.config)), "scheduler")

    def alert_rows(self) -> list[dict[str, Any]]:
        with self.store() as (conn, _):
            j = tables.journal
            return [r.after for r in conn.execute(select(j.c.after).where(j.c.event == "alert").order_by(j.c.id))]


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    r = HttpReceiver()
    yield r
    r.close()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    r = SmtpReceiver()
    yield r
    r.close()


@pytest.fixture
def daemon_of() -> Iterator[Any]:
    """The daemon of a site, in this process: its scheduled jobs run by calling ``_job`` as the scheduler does."""
    made: list[Daemon] = []

    def make(site: Site) -> Daemon:
        d = Daemon(site.app(), Notifier(""))
        d.leader.tick()
        made.append(d)
        return d

    yield make
    for d in made:
        d.leader.release()
        d.rt.engine.dispose()


def test_a_failing_source_alerts_once_when_it_starts_and_once_when_it_clears(
        tmp_path: Path, sim: Simulator, forwarder: Forwarder, http: HttpReceiver, smtp: SmtpReceiver,
        daemon_of: Any) -> None:
    site = Site(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", sim, f"https://127.0.0.1:{forwarder.port}/axl/",
                [http.url(), smtp.url()])
    d = daemon_of(site)
    d._job("full")
    forwarder.stop()                                  # CUCM is down: each read fails, connection refused
    d._job("incremental")
    assert http.posts == [] and smtp.messages == []   # one failure is not yet a condition (after_failures = 2)
    for _ in range(3):
        d._job("incremental")
    assert http.titles == [FAILING] and smtp.subjects == [FAILING]     # once, not once per failed run
    assert http.posts[0]["type"] == "failure" and "connect" in http.posts[0]["message"].lower()
    forwarder.start()                                 # CUCM is back at the same address
    d._job("incremental")
    d._job("incremental")
    assert http.titles == [FAILING, READS_AGAIN] and smtp.subjects == [FAILING, READS_AGAIN]
    assert http.posts[1]["type"] == "success"
    assert smtp.messages[0]["To"] == "admin@example.com" and "The last error" in smtp.body(0)
    rows = site.alert_rows()
    assert [(r["condition"], r["change"], r["ok"]) for r in rows] == [
        ("source_failing:cucm", "started", True)] * 2 + [("source_failing:cucm", "cleared", True)] * 2
    assert {r["receiver"] for r in rows} == {f"json://127.0.0.1:{http.port}", f"mailto://127.0.0.1:{smtp.port}"}


def test_a_refusal_by_the_safety_gate_alerts_once_and_clears_when_a_run_passes(
        tmp_path: Path, sim: Simulator, http: HttpReceiver, daemon_of: Any) -> None:
    site = Site(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", sim, sim.url, [http.url()])
    d = daemon_of(site)
    d._job("full")
    leavers = [u.userid for u in sim.population[:10]]
    for userid in leavers:                            # 10 deactivations > max_deactivations = 5
        sim.set_status(userid, 2)
    d._job("full")
    d._job("full")
    assert http.titles == [REFUSED]
    assert "deactivat" in http.posts[0]["message"] and "--allow-mass-deactivation" in http.posts[0]["message"]
    for userid in leavers:
        sim.set_status(userid, 1)
    d._job("full")
    d._job("full")
    assert http.titles == [REFUSED, PASSES]


def test_grace_licenses_expiring_make_one_digest_a_day_and_the_grace_limit_alerts(
        tmp_path: Path, db_url: str, sim: Simulator, http: HttpReceiver) -> None:
    site = Site(tmp_path, db_url, sim, sim.url, [http.url()],
                tail="grace_warning_days = 14\n\n[licenses]\ngrace_days = 10\ngrace_limit = 2\n")
    rt = site.app()
    try:
        run_sync(rt, mode="apply", full=True)
        with rt.engine.connect() as conn:
            p = tables.people
            hosts = list(conn.execute(select(p.c.email).where(p.c.active).order_by(p.c.email).limit(2)).scalars())
        t0 = datetime.now(UTC)
        for email in hosts:             # no Permanent installed: each host gets a Grace license, to t0 + 10 days
            admin.start_meeting(rt, email, None, now=t0)
        evaluate(rt, now=t0)
        evaluate(rt, now=t0 + timedelta(hours=1))
        digest = "syncd: 2 Grace licenses expiring within 14 days"
        limit = "syncd: the Grace limit is reached (2 of 2 in use)"
        assert http.titles == [digest, limit]
        expires = (t0 + timedelta(days=10)).date().isoformat()
        assert all(f"{email}: {expires}" in http.posts[0]["message"] for email in hosts)
        evaluate(rt, now=t0 + timedelta(days=1))          # a new day: the digest again, nothing else
        evaluate(rt, now=t0 + timedelta(days=1, hours=2))
        assert http.titles == [digest, limit, digest] and http.posts[2]["type"] == "warning"
        evaluate(rt, now=t0 + timedelta(days=11))         # expired: both conditions clear
        evaluate(rt, now=t0 + timedelta(days=12))
        assert http.titles[3:] == ["syncd: no Grace license expires within 14 days",
                                   "syncd: Grace in use is below the limit again (0 of 2)"]
    finally:
        rt.engine.dispose()


def test_a_receiver_that_is_down_fails_loudly_the_run_succeeds_and_it_gets_the_alert_later(
        tmp_path: Path, sim: Simulator, http: HttpReceiver) -> None:
    token = "alert-token-" + "7f3a9c2e51d8"           # a password in the URL: never in a log line
    secretscan.register(token, "the alert URL's password")
    down_port = free_port()
    site = Site(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", sim, sim.url,
                [http.url(), f"json://syncd:{token}@127.0.0.1:{down_port}/hook"],
                tail="\n[licenses]\ngrace_limit = 2\n")
    rt = site.app()
    run_sync(rt, mode="apply")
    with rt.engine.connect() as conn:
        hosts = list(conn.execute(select(tables.people.c.email).where(tables.people.c.active)
                                  .order_by(tables.people.c.email).limit(2)).scalars())
    for email in hosts:
        admin.start_meeting(rt, email, None)
    proc = site.run("sync")                           # the one-shot run: exit 0 although one receiver is down
    assert http.titles == ["syncd: the Grace limit is reached (2 of 2 in use)"]
    failed = [json.loads(line) for line in proc.stderr.splitlines() if '"alert not delivered' in line]
    assert len(failed) == 1 and failed[0]["level"] == "error"
    assert failed[0]["receiver"] == f"json://127.0.0.1:{down_port}" and "connection" in failed[0]["error"].lower()
    assert token not in proc.stderr and "/hook" not in proc.stderr
    came_back = HttpReceiver(port=down_port)
    try:
        report = run_sync(rt, mode="apply")
        after_run(rt, report.run_id)
        after_run(rt, report.run_id)
        assert came_back.titles == ["syncd: the Grace limit is reached (2 of 2 in use)"]
        assert came_back.posts[0]["path"] == "/hook"
        assert len(http.posts) == 1                   # the receiver that was up is not told twice
    finally:
        came_back.close()
        rt.engine.dispose()
    rows = site.alert_rows()
    assert [(r["receiver"], r["ok"]) for r in rows] == [
        (f"json://127.0.0.1:{http.port}", True), (f"json://127.0.0.1:{down_port}", False),
        (f"json://127.0.0.1:{down_port}", True)]
    assert not any(token in json.dumps(r) for r in rows)
    assert site.inspect()[0] == []                    # alert rows leave the journal replaying to the ledger


def test_alerts_test_reports_each_receiver(tmp_path: Path, sim: Simulator, http: HttpReceiver,
                                           smtp: SmtpReceiver) -> None:
    down = free_port()
    site = Site(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", sim, sim.url,
                [http.url(), smtp.url(), f"json://127.0.0.1:{down}/hook"])
    proc = site.run("alerts", "test", check=69)
    lines = proc.stdout.splitlines()
    assert lines[:2] == [f"json://127.0.0.1:{http.port} ... ok", f"mailto://127.0.0.1:{smtp.port} ... ok"]
    assert lines[2].startswith(f"json://127.0.0.1:{down} ... failed: ") and len(lines) == 3
    assert http.titles == ["syncd: test alert"] and smtp.subjects == ["syncd: test alert"]
    Site(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", sim, sim.url, [http.url(), smtp.url()])
    assert site.json("alerts", "test") == {"ok": True, "receivers": [
        {"receiver": f"json://127.0.0.1:{http.port}", "ok": True, "error": None},
        {"receiver": f"mailto://127.0.0.1:{smtp.port}", "ok": True, "error": None}]}
    Site(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", sim, sim.url, [])
    assert "no alert receivers configured" in site.run("alerts", "test", check=78).stderr
