"""`syncd push` against the CWMS simulator over TLS: killed in the middle of a batch, the next `syncd push` sends
each remaining row once (the simulator's audit shows one SetUser per account); the exit codes and the one line
on stderr when the site refuses the credentials."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.cwmssim import Simulator
from syncd.app import main
from syncd.push import outbox
from syncd.push.drift import DEACTIVATE, PlannedPush
from syncd.store import tables
from syncd.store.db import begin_write, make_engine
from syncd.store.migrate import upgrade
from tests.e2e.site import SYNCD, Command

SLOW = 0.4      # seconds the simulator holds each SetUser: the window the kill lands in


class PushSite(Command):
    """A database and ``[cwms]`` for ``sim``, no source: what `syncd push` needs."""

    def __init__(self, root: Path, db_url: str, sim: Simulator, *, password: str | None = None,
                 push: str = "on") -> None:
        self.root, self.db_url = root, db_url
        secret = self.write_secret("cwms.secret", password or sim.password)
        self.config.write_text(
            f'[database]\nurl = "{db_url}"\n\n[cwms]\nurl = "{sim.url}"\nsite_name = "{sim.site_name}"\n'
            f'username = "{sim.username}"\npassword_file = "{secret}"\nca_file = "{sim.ca_file}"\n'
            f'push = "{push}"\nretries = 1\ntimeout = 5\n')
        self.config.chmod(0o600)

    def enqueue(self, webex_ids: list[str]) -> None:
        engine = make_engine(self.db_url)
        try:
            upgrade(engine)
            with begin_write(engine) as conn:
                outbox.enqueue(conn, "run-0", datetime.now(UTC),
                               [PlannedPush(f"{w}@example.com", w, DEACTIVATE) for w in webex_ids])
        finally:
            engine.dispose()

    def states(self) -> list[str]:
        with self.store() as (conn, _):
            return [r.state for r in conn.execute(select(tables.outbox).order_by(tables.outbox.c.id))]


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(40, seed=4, tls=True) as s:
        yield s


def _activated(sim: Simulator, n: int) -> list[str]:
    return [a.webex_id for a in sim.accounts.values() if a.active == "ACTIVATED"][:n]


def _set_users(sim: Simulator) -> Counter[str | None]:
    return Counter(e["webex_id"] for e in sim.audit() if e["op"] == "SetUser")


def test_a_push_killed_mid_batch_is_finished_by_the_next_one_writing_each_account_once(
        tmp_path: Path, db_url: str, sim: Simulator) -> None:
    ids = _activated(sim, 6)
    site = PushSite(tmp_path, db_url, sim)
    site.enqueue(ids)
    sim.inject_fault("slow", 100, op="SetUser", delay=SLOW)
    proc = subprocess.Popen([SYNCD, "--config", str(site.config), "push"], cwd=tmp_path,
                            env={**os.environ, "SYNCD_CONFIG": ""}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while sum(_set_users(sim).values()) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, "syncd push ended before the kill"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    time.sleep(SLOW + 0.3)      # a SetUser the dead process had in flight is still answered by the site
    sim.clear_faults()
    states = site.states()
    # each row is marked in its own transaction as it is answered: the first is done, the last ones still pending
    assert states[0] == "done" and states[-3:] == ["pending"] * 3, states

    out = site.json("push")
    assert out["pending"] == 0 and out["failed"] == 0 and out["pushed"] + out["already"] == states.count("pending")
    assert site.states() == ["done"] * 6
    assert _set_users(sim) == dict.fromkeys(ids, 1)              # one SetUser per account, whatever the kill cut
    assert sorted(w for w, _ in sim.written()) == sorted(ids)

    before = sim.request_count
    assert site.run("push").stdout == "cwms outbox: nothing pending\n"
    assert sim.request_count == before


def test_wrong_credentials_exit_69_with_one_line_naming_the_site(tmp_path: Path, sim: Simulator,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    site = PushSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", sim, password="not-the-password")
    site.enqueue(_activated(sim, 3))
    assert main(["--config", str(site.config), "push"]) == 69
    err = capsys.readouterr().err
    assert err == (f"syncd: CWMS site {sim.site_name} (127.0.0.1:{sim.port}): GetUser: FAILURE 030002: "
                   "Incorrect user or password\n")
    assert site.states() == ["pending"] * 3 and sim.audit() == []


def test_push_report_writes_nothing_but_a_dry_run_may_look(tmp_path: Path, sim: Simulator,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    site = PushSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", sim, push="report")
    [a] = _activated(sim, 1)
    site.enqueue([a])
    assert main(["--config", str(site.config), "push"]) == 78
    assert 'push = "report"' in capsys.readouterr().err
    assert main(["--config", str(site.config), "push", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"would deactivate CWMS account {a} of {a}@example.com (now ACTIVATED)")
    assert site.states() == ["pending"] and sim.audit() == []
