"""The CWMS simulator's own promises, which the push tests lean on: the audit of every write it received, the host
limit, the ``/control/`` endpoint (its guard, its changes seen through the XML API, its faults), and
``syncd simulate cwms``. Over TLS, with the real client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.cwms.client import CwmsClient, CwmsError
from connectors.cwms.xmlapi import request_document
from connectors.cwmssim import HOST_LIMIT, RequestSchema, Simulator
from syncd import errors
from syncd.cli import main as cli_main

MakeClient = Callable[..., CwmsClient]
SYNCD = str(Path(sys.executable).parent / "syncd")


def _control(sim: Simulator, method: str, resource: str, body: Any = None, *, token: str | None = "",
             headers: dict[str, str] | None = None) -> requests.Response:
    """``method /control/resource``, with the simulator's password as the bearer token unless told otherwise."""
    hdrs = dict(headers or {})
    if token is not None:
        hdrs.setdefault("Authorization", f"Bearer {token or sim.password}")
    return requests.request(method, sim.control_url + resource, json=body, headers=hdrs, verify=sim.ca_file,
                            timeout=5)


def _activated(sim: Simulator) -> str:
    return next(a.webex_id for a in sim.accounts.values() if a.active == "ACTIVATED")


def _deactivated(sim: Simulator) -> str:
    return next(a.webex_id for a in sim.accounts.values() if a.active == "DEACTIVATED")


# -- the audit --------------------------------------------------------------------------------------------

def test_each_setuser_is_audited_with_its_result(sim: Simulator, make_client: MakeClient) -> None:
    client = make_client(sim)
    webex_id = _activated(sim)
    assert client.set_active(webex_id, "DEACTIVATED").ok
    assert client.set_active(webex_id, "DEACTIVATED").ok                 # already so: a write that changes nothing
    assert not client.set_active("nobody", "DEACTIVATED").ok
    first, again, unknown = sim.audit()
    assert {k: v for k, v in first.items() if k != "at"} == {
        "seq": 1, "op": "SetUser", "webex_id": webex_id, "field": "active", "before": "ACTIVATED",
        "after": "DEACTIVATED", "result": "SUCCESS", "exception_id": None, "reason": None, "fault": None}
    assert datetime.fromisoformat(first["at"]).utcoffset() == UTC.utcoffset(None)
    assert (again["seq"], again["before"], again["after"], again["result"]) == (2, "DEACTIVATED", "DEACTIVATED",
                                                                                "SUCCESS")
    assert (unknown["webex_id"], unknown["before"], unknown["after"], unknown["result"], unknown["exception_id"]) == (
        "nobody", None, None, "FAILURE", "030001")
    assert sim.written() == [(webex_id, "DEACTIVATED")]                # exactly that account, exactly once
    assert _control(sim, "GET", "audit").json() == sim.audit()


def test_reads_write_nothing(sim: Simulator, make_client: MakeClient) -> None:
    client = make_client(sim)
    assert len(list(client.list_accounts(50))) == 120
    assert client.get_user(_activated(sim)) is not None
    assert sim.audit() == [] and sim.written() == []


def test_a_faulted_or_refused_write_is_audited_as_not_applied(sim: Simulator, make_client: MakeClient) -> None:
    webex_id = _activated(sim)
    sim.inject_fault("failure", 1, op="SetUser", exception_id="000035", reason="ASService not responding")
    sim.inject_fault("503", 1, op="SetUser")
    assert make_client(sim).set_active(webex_id, "DEACTIVATED").ok     # retried twice, then written
    with pytest.raises(CwmsError, match="030002"):
        make_client(sim, password="wrong").set_active(_activated(sim), "DEACTIVATED")
    audit = sim.audit()
    assert [(e["result"], e["fault"], e["exception_id"], e["before"], e["after"]) for e in audit] == [
        ("FAILURE", "failure", "000035", "ACTIVATED", "ACTIVATED"),
        ("FAILURE", "503", None, "ACTIVATED", "ACTIVATED"),
        ("SUCCESS", None, None, "ACTIVATED", "DEACTIVATED"),
        ("FAILURE", None, "030002", "ACTIVATED", "ACTIVATED")]
    assert sim.written() == [(webex_id, "DEACTIVATED")]


def test_deluser_is_refused_and_audited_per_account(sim: Simulator) -> None:
    a, b = list(sim.accounts)[:2]
    before = (sim.account(a).active, sim.account(b).active)
    doc = request_document("DelUser", webex_id=sim.username, password=sim.password, site_name=sim.site_name,
                           children=[("webExId", a), ("webExId", b)])
    resp = requests.post(sim.url, data=doc, verify=sim.ca_file, timeout=5)
    assert resp.status_code == 200 and b"FAILURE" in resp.content
    assert [(e["op"], e["webex_id"], e["result"], e["exception_id"]) for e in sim.audit()] == [
        ("DelUser", a, "FAILURE", "000000"), ("DelUser", b, "FAILURE", "000000")]
    assert (sim.account(a).active, sim.account(b).active) == before and sim.written() == []


# -- the host limit ---------------------------------------------------------------------------------------

def test_activation_beyond_the_host_limit_is_refused(schema: RequestSchema | None, make_client: MakeClient) -> None:
    activated = 10
    with Simulator(20, seed=3, tls=True, schema=schema, host_limit=activated) as sim:
        for i, webex_id in enumerate(sim.accounts):                     # 10 ACTIVATED: the limit, reached
            sim.set_active(webex_id, "ACTIVATED" if i < activated else "DEACTIVATED")
        client = make_client(sim)
        off, on = _deactivated(sim), _activated(sim)
        refused = client.set_active(off, "ACTIVATED")
        assert (refused.ok, refused.exception_id, refused.host_limit) == (False, HOST_LIMIT[0], True)
        assert "exceededSiteHostLimit" in (refused.reason or "")
        assert sim.account(off).active == "DEACTIVATED" and sim.activated() == activated
        assert client.set_active(on, "ACTIVATED").ok                    # already ACTIVATED: takes no new host
        assert client.set_active(off, "REQUEST_TO_ACTIVATE").ok         # not ACTIVATED, so not counted
        assert client.set_active(on, "DEACTIVATED").ok                  # frees one
        assert client.set_active(off, "ACTIVATED").ok
        assert sim.activated() == activated
        assert [e["result"] for e in sim.audit()] == ["FAILURE", "SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS"]
        assert sim.audit()[0]["exception_id"] == HOST_LIMIT[0]
        assert _control(sim, "GET", "state").json()["host_limit"] == activated


# -- the control endpoint ---------------------------------------------------------------------------------

def test_control_needs_the_bearer_token(sim: Simulator) -> None:
    for token in (None, "wrong", sim.password + "x"):
        resp = _control(sim, "GET", "state", token=token)
        assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "error" in resp.json()
    basic = _control(sim, "GET", "state", token=None, headers={"Authorization": f"Basic {sim.password}"})
    assert basic.status_code == 401
    assert _control(sim, "DELETE", f"accounts/{_activated(sim)}", token="wrong").status_code == 401
    assert len(sim.accounts) == 120                                      # refused, so nothing removed
    state = _control(sim, "GET", "state").json()
    assert (state["users"], state["requests"], state["writes"]) == (120, 0, 0)


def test_control_changes_are_what_the_xml_api_then_answers(sim: Simulator, make_client: MakeClient) -> None:
    client = make_client(sim)
    created = _control(sim, "PUT", "accounts/newcomer", {"email": "new@example.com", "first_name": "New"})
    assert created.status_code == 201 and created.json()["active"] == "ACTIVATED"
    got = client.get_user("newcomer")
    assert got is not None and (got.email, got.first_name, got.active) == ("new@example.com", "New", "ACTIVATED")
    changed = _control(sim, "POST", "accounts/newcomer", {"active": "DEACTIVATED", "last_name": "Comer"})
    assert changed.status_code == 200 and changed.json()["last_name"] == "Comer"
    got = client.get_user("newcomer")
    assert got is not None and got.active == "DEACTIVATED"
    assert _control(sim, "GET", "accounts/newcomer").json()["email"] == "new@example.com"
    assert len(list(client.list_accounts())) == 121
    assert _control(sim, "DELETE", "accounts/newcomer").status_code == 204
    assert client.get_user("newcomer") is None
    assert _control(sim, "GET", "accounts/newcomer").status_code == 404
    assert sim.audit() == []                                             # the operator's changes, not writes


def test_control_refuses_bad_requests(sim: Simulator) -> None:
    webex_id = _activated(sim)
    assert _control(sim, "PUT", f"accounts/{webex_id}", {"active": "LOCKED"}).status_code == 400
    assert _control(sim, "PUT", f"accounts/{webex_id}", {"admin": True}).status_code == 400
    assert _control(sim, "PUT", f"accounts/{webex_id}", ["active"]).status_code == 400
    form = requests.put(sim.control_url + f"accounts/{webex_id}", data={"active": "DEACTIVATED"}, timeout=5,
                        headers={"Authorization": f"Bearer {sim.password}"}, verify=sim.ca_file)
    assert form.status_code == 415
    assert _control(sim, "POST", "faults", {"kind": "meltdown"}).status_code == 400
    assert _control(sim, "POST", "faults", {"kind": "503", "count": True}).status_code == 400
    wrong = _control(sim, "PUT", "state", {})
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET"
    assert _control(sim, "GET", "nothing").status_code == 404
    assert sim.account(webex_id).active == "ACTIVATED"


def test_faults_injected_through_control(sim: Simulator, make_client: MakeClient) -> None:
    webex_id = _activated(sim)
    reply = _control(sim, "POST", "faults", {"kind": "failure", "count": 5, "op": "GetUser", "exception_id": "000001",
                                             "reason": "Access denied, additional privileges are required"})
    assert reply.status_code == 201 and reply.json()["faults_pending"] == 1
    with pytest.raises(CwmsError, match="000001") as e:
        make_client(sim).get_user(webex_id)
    assert not e.value.temporary
    assert _control(sim, "DELETE", "faults").json()["faults_pending"] == 0
    assert make_client(sim).get_user(webex_id) is not None
    _control(sim, "POST", "faults", {"kind": "503", "count": 10, "op": "SetUser"})
    with pytest.raises(CwmsError, match="503"):
        make_client(sim, retries=1).set_active(webex_id, "DEACTIVATED")
    assert sim.written() == [] and {e["fault"] for e in sim.audit()} == {"503"}


def test_the_xml_path_answers_as_before(sim: Simulator) -> None:
    get = requests.get(sim.url, verify=sim.ca_file, timeout=5)
    assert get.status_code == 405 and get.headers["Content-Type"].startswith("text/html")
    assert requests.put(sim.url, data=b"x", verify=sim.ca_file, timeout=5).status_code == 501


# -- syncd simulate cwms ----------------------------------------------------------------------------------

def test_syncd_simulate_cwms_serves_over_tls_until_sigterm(make_client: MakeClient) -> None:
    env = {**os.environ, "SYNCD_SIM_PASSWORD": "s3cret-for-the-test"}
    proc = subprocess.Popen([SYNCD, "simulate", "cwms", "--tls", "--port", "0", "--users", "7", "--seed", "4",
                             "--host-limit", "5", "--site-name", "lab", "--username", "siteadmin"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        block = {}
        while "control" not in block:
            line = proc.stdout.readline()
            assert line, f"the simulator ended: {proc.stderr.read() if proc.stderr else ''}"
            if ": " in line:
                key, value = line.rstrip("\n").split(": ", 1)
                block[key] = value
        assert block["site name"] == "lab" and block["username"] == "siteadmin"
        assert block["password"] == "s3cret-for-the-test" and "host limit 5" in block["CWMS simulator"]
        assert block["url"].startswith("https://127.0.0.1:") and block["url"].endswith("/WBXService/XMLService")
        client = make_client(_Printed(block))
        webex_id = next(iter(client.list_accounts())).webex_id
        got = client.get_user(webex_id)
        assert got is not None and got.webex_id == webex_id
        control = block["control"].split(" ", 1)[0]
        state = requests.get(control + "state", headers={"Authorization": f"Bearer {block['password']}"},
                             verify=block["CA certificate"], timeout=5).json()
        assert (state["users"], state["host_limit"]) == (7, 5)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


class _Printed:
    """What the ``make_client`` fixture reads from a simulator, taken from the printed block."""

    def __init__(self, block: dict[str, str]) -> None:
        self.url, self.site_name, self.username = block["url"], block["site name"], block["username"]
        self.password, self.ca_file = block["password"], block["CA certificate"]


@pytest.mark.parametrize("peer", ["cwms", "cucm"])
def test_a_taken_port_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], peer: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = cli_main.run(["simulate", peer, "--port", str(port), "--users", "1"], lambda *a, **k: None)
    err = capsys.readouterr().err.strip()
    assert code == errors.USAGE == 2
    assert err.count("\n") == 0 and f"cannot listen on 127.0.0.1:{port}" in err
