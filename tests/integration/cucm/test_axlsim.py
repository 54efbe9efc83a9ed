"""The simulator as a peer: reproducible population, control endpoint, keep-alive and cookie, run_cli."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime

import requests

from connectors.axlsim import Simulator

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_population_is_reproducible_and_varied():
    a, b, c = Simulator(1000, seed=3), Simulator(1000, seed=3), Simulator(1000, seed=4)
    try:
        assert a.population == b.population != c.population
        pop = a.population
        assert [u.pkid for u in pop] == sorted(u.pkid for u in pop)
        assert len({u.pkid for u in pop}) == len({u.userid for u in pop}) == 1000
        status2 = [u for u in pop if u.status == 2]
        assert status2 and all(u.ldap for u in status2)      # only LDAP users go inactive
        assert 0.7 < sum(u.ldap for u in pop) / 1000 < 0.9
    finally:
        for s in (a, b, c):
            s.stop()


def test_control_endpoint_mutates_and_injects_faults(sim, make_conn):
    ctl = sim.url.replace("/axl/", "/control/")
    auth = (sim.username, sim.password)
    assert requests.post(ctl + "state", auth=("axl", "nope"), timeout=5).status_code == 401
    conn = make_conn(sim)
    base = conn.read(None, False, NOW)
    target = sim.population[0]
    r = requests.post(ctl + "status", json={"userid": target.userid, "status": 2}, auth=auth, timeout=5)
    assert r.status_code == 200 and r.json()["last_change_id"] == 1
    assert requests.post(ctl + "remove", json={"userid": "nobody"}, auth=auth, timeout=5).status_code == 404
    assert requests.post(ctl + "fault", json={"kind": "bogus"}, auth=auth, timeout=5).status_code == 400
    r = requests.post(ctl + "fault", json={"kind": "503", "count": 2}, auth=auth, timeout=5)
    assert r.json()["faults_pending"] == 1
    inc = conn.read(base.cursor, False, NOW)
    assert [(u.uuid, u.status) for u in inc.records] == [(target.pkid, 2)]
    requests.post(ctl + "reset-queue", json={}, auth=auth, timeout=5)
    state = requests.get(ctl + "state", auth=auth, timeout=5).json()
    assert state["queue_id"] == sim.queue_id != base.cursor["queue_id"] and state["faults_pending"] == 0
    assert conn.read(inc.cursor, False, NOW).full


def test_fault_at_request_number_k(sim, make_conn):
    conn = make_conn(sim, page_size=100, retries=0)
    sim.inject_fault("503", at=sim.request_count + 3)        # the second SQL page of the next read
    batch = conn.read(None, True, NOW)
    assert not batch.complete and "HTTP 503" in batch.error
    assert make_conn(sim).read(None, True, NOW).complete      # a one-off


def test_the_connector_reuses_its_connection_and_session_cookie(sim, make_conn):
    before = sim.connections
    conn = make_conn(sim, page_size=20)                        # 16 requests
    assert conn.read(None, True, NOW).complete
    assert sim.connections - before == 1
    assert sim.cookie_requests >= conn._client.requests_sent - 1
    assert sim.max_in_flight == 1          # one request at a time, as Cisco asks


def test_run_cli_serves_until_sigterm():
    code = "from connectors.axlsim import run_cli; raise SystemExit(run_cli(50, 0, 2, True))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
        url = lines[0].rsplit(" at ", 1)[1].strip()
        user = lines[1].split(": ", 1)[1].strip()
        password = lines[2].split(": ", 1)[1].strip()
        ca = lines[3].split(": ", 1)[1].strip()
        assert url.startswith("https://127.0.0.1:") and os.path.isfile(ca)
        state = requests.get(url.replace("/axl/", "/control/state"), auth=(user, password), verify=ca, timeout=5)
        assert json.loads(state.text)["users"] == 50
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not os.path.exists(ca)                          # the throw-away CA is cleaned up
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
