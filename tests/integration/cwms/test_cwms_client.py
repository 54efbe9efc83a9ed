"""The CWMS XML API client against the project's CWMS simulator, over TLS."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
from lxml import etree

from connectors.cwms.client import CwmsClient, CwmsError
from connectors.cwms.options import CwmsOptions, Tuning
from connectors.cwms.xmlapi import request_document
from connectors.cwmssim import RequestSchema, Simulator

MakeClient = Callable[..., CwmsClient]


def test_full_paging_returns_every_account_once(schema: RequestSchema | None, make_client: MakeClient) -> None:
    with Simulator(1234, seed=9, tls=True, schema=schema) as sim:
        client = make_client(sim)
        accounts = list(client.list_accounts(500))
        assert len(accounts) == 1234
        assert {a.webex_id for a in accounts} == set(sim.accounts)
        assert sim.ops == ["LstsummaryUser"] * 3          # 500 + 500 + 234
        some = sim.account(accounts[700].webex_id)
        assert (accounts[700].email, accounts[700].active, accounts[700].first_name) == (
            some.email, some.active, some.first_name)


def test_paging_with_a_page_size_that_does_not_divide(sim: Simulator, make_client: MakeClient) -> None:
    assert len(list(make_client(sim).list_accounts(7))) == 120


def test_odd_text_in_an_account_neither_breaks_the_read_nor_matches_anyone(sim: Simulator,
                                                                          make_client: MakeClient) -> None:
    sim.put_account("tab\tid", email="a\tb@example.com", first_name="Ann\nB", last_name="<&>")
    sim.put_account("plain", email=" Plain@Example.com ", first_name="=1+1")
    got = {a.webex_id: a for a in make_client(sim).list_accounts()}
    assert len(got) == 122
    assert (got["tab id"].email, got["tab id"].first_name) == (None, "Ann B")      # counted, never matched
    assert (got["plain"].email, got["plain"].first_name) == ("Plain@Example.com", "=1+1")


def test_an_empty_site_is_an_empty_list(schema: RequestSchema | None, make_client: MakeClient) -> None:
    with Simulator(0, tls=True, schema=schema) as sim:    # CWMS answers FAILURE 000015, not an empty list
        assert list(make_client(sim).list_accounts()) == []


def test_a_failed_page_fails_the_read(sim: Simulator, make_client: MakeClient) -> None:
    client = make_client(sim, retries=1)
    pages = client.list_accounts(50)
    first = [next(pages) for _ in range(50)]
    assert len(first) == 50
    sim.inject_fault("503", 5)
    with pytest.raises(CwmsError) as e:
        list(pages)
    assert e.value.temporary and e.value.kind == "http"


def test_a_list_that_shrinks_while_paging_is_incomplete(sim: Simulator, make_client: MakeClient) -> None:
    pages = make_client(sim).list_accounts(50)
    next(pages)
    with sim.lock:
        for webex_id in list(sim.accounts)[:10]:
            del sim.accounts[webex_id]
    with pytest.raises(CwmsError, match="incomplete read: the total changed") as e:
        list(pages)
    assert e.value.kind == "incomplete"


def test_get_user(sim: Simulator, make_client: MakeClient) -> None:
    want = next(iter(sim.accounts.values()))
    got = make_client(sim).get_user(want.webex_id)
    assert got is not None
    assert (got.webex_id, got.email, got.active, got.first_name, got.last_name) == (
        want.webex_id, want.email, want.active, want.first_name, want.last_name)
    assert make_client(sim).get_user("nobody") is None


def test_set_user_deactivated_then_get_user_shows_it(sim: Simulator, make_client: MakeClient) -> None:
    client = make_client(sim)
    webex_id = next(a.webex_id for a in sim.accounts.values() if a.active == "ACTIVATED")
    result = client.set_active(webex_id, "DEACTIVATED")
    assert result.ok and result.exception_id is None
    account = client.get_user(webex_id)
    assert account is not None and account.active == "DEACTIVATED" and not account.activated
    assert sim.account(webex_id).active == "DEACTIVATED"


def test_wrong_password_is_a_permanent_error_naming_the_exception_id(sim: Simulator,
                                                                      make_client: MakeClient) -> None:
    client = make_client(sim, password="wrong")
    with pytest.raises(CwmsError, match="030002") as e:
        client.get_user("anyone")
    assert not e.value.temporary and e.value.kind == "auth" and e.value.exception_id == "030002"
    assert sim.request_count == 1                                 # not retried
    with pytest.raises(CwmsError, match="030002"):
        make_client(sim, site_name="other").get_user("anyone")


def test_a_503_storm_is_retried_then_given_up_within_budget(sim: Simulator, make_client: MakeClient) -> None:
    sim.inject_fault("503", 100)
    client = make_client(sim, retries=4)
    started = time.monotonic()
    with pytest.raises(CwmsError, match=r"HTTP 503.*gave up after 4 retries") as e:
        client.get_user("anyone")
    assert e.value.temporary
    assert sim.request_count == 5 and time.monotonic() - started < 5
    budgeted = make_client(sim, retries=20, tuning=Tuning(backoff_base=0.2, backoff_cap=0.2, retry_budget=0.5))
    before = sim.request_count
    with pytest.raises(CwmsError, match="retry budget"):
        budgeted.get_user("anyone")
    assert 2 <= sim.request_count - before <= 6                 # the budget, not the 20 retries, ended it


def test_a_503_burst_is_ridden_out(sim: Simulator, make_client: MakeClient) -> None:
    sim.inject_fault("503", 2)
    assert len(list(make_client(sim).list_accounts(100))) == 120


@pytest.mark.parametrize("kind", ["drop", "html", "malformed"])
def test_transport_failures_are_temporary(kind: str, sim: Simulator, make_client: MakeClient) -> None:
    sim.inject_fault(kind, 1)
    webex_id = next(iter(sim.accounts))
    assert make_client(sim).get_user(webex_id) is not None      # retried once, then answered
    sim.inject_fault(kind, 10)
    with pytest.raises(CwmsError) as e:
        make_client(sim, retries=1).get_user(webex_id)
    assert e.value.temporary


def test_a_failure_with_exception_id_surfaces_the_id_and_reason(sim: Simulator, make_client: MakeClient) -> None:
    client = make_client(sim)
    result = client.set_active("nobody", "DEACTIVATED")
    assert (result.ok, result.exception_id, result.reason) == (False, "030001", "Corresponding User not found")
    webex_id = next(iter(sim.accounts))
    sim.inject_fault("failure", 1, op="SetUser", exception_id="030099", reason="exceededSiteHostLimit")
    result = client.set_active(webex_id, "ACTIVATED")
    assert (result.ok, result.exception_id, result.host_limit) == (False, "030099", True)
    sim.inject_fault("failure", 1, op="GetUser", exception_id="000001",
                     reason="Access denied, additional privileges are required")
    with pytest.raises(CwmsError, match="000001: Access denied") as e:
        client.get_user(webex_id)
    assert (e.value.exception_id, e.value.temporary) == ("000001", False)


def test_transient_cwms_codes_are_retried(sim: Simulator, make_client: MakeClient) -> None:
    sim.inject_fault("failure", 1, exception_id="000035", reason="ASService not responding")
    sim.inject_fault("failure", 1, exception_id="000045", reason="API Rate Limit Reached")
    assert make_client(sim).get_user(next(iter(sim.accounts))) is not None
    assert sim.request_count == 3


def test_a_dtd_in_a_response_is_refused(sim: Simulator, make_client: MakeClient) -> None:
    sim.inject_fault("dtd", 5)
    client = make_client(sim)
    with pytest.raises(CwmsError, match="DOCTYPE") as e:
        client.get_user("anyone")
    assert e.value.kind == "unsafe" and not e.value.temporary
    assert sim.request_count == 1


def test_tls_is_verified_by_default(sim: Simulator, make_client: MakeClient) -> None:
    with pytest.raises(CwmsError, match="TLS verification failed") as e:
        make_client(sim, ca_file=None).get_user("anyone")
    assert not e.value.temporary and sim.ops == []


def test_connection_refused_is_permanent(sim: Simulator, make_client: MakeClient) -> None:
    url = sim.url
    sim.stop()
    client = CwmsClient(CwmsOptions(url=url, site_name="s", username="u", password="p", retries=3))
    with pytest.raises(CwmsError, match="connection refused") as e:
        client.get_user("anyone")
    assert not e.value.temporary


def test_a_slow_answer_times_out_and_is_retried(sim: Simulator, make_client: MakeClient) -> None:
    sim.inject_fault("slow", 1, delay=1.5)
    client = make_client(sim, timeout=0.5)
    assert client.get_user(next(iter(sim.accounts))) is not None
    assert sim.request_count == 2


def _post(sim: Simulator, body: bytes) -> etree._Element:
    resp = requests.post(sim.url, data=body, verify=sim.ca_file, timeout=5)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/xml")
    return etree.fromstring(resp.content)


def _failure(root: etree._Element) -> tuple[str, str]:
    ns = {"serv": "http://www.webex.com/schemas/2002/06/service"}
    assert root.findtext("serv:header/serv:response/serv:result", namespaces=ns) == "FAILURE"
    return (root.findtext("serv:header/serv:response/serv:exceptionID", namespaces=ns) or "",
            root.findtext("serv:header/serv:response/serv:reason", namespaces=ns) or "")


def _doc(sim: Simulator, op: str, children: list) -> bytes:       # type: ignore[type-arg]
    return request_document(op, webex_id=sim.username, password=sim.password, site_name=sim.site_name,
                            children=children)


def test_the_simulator_refuses_what_cwms_refuses(sim: Simulator) -> None:
    assert _failure(_post(sim, b"<not xml"))[0] == "000000"
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]>' + _doc(sim, "GetUser", []).split(b"?>", 1)[1]
    assert _failure(_post(sim, doctype)) == ("000000", "Fail to forward request: XML with a DOCTYPE (DTD or entity "
                                                       "declarations) refused")
    assert _failure(_post(sim, _doc(sim, "DelMeeting", [])))[0] == "000000"
    no_xsi = _doc(sim, "GetUser", [("webExId", "x")]).replace(b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"',
                                                               b"")
    code, reason = _failure(_post(sim, no_xsi))                    # CWMS: 000000 "Fail to forward request:null"
    assert code == "000000" and "xsi" in reason
    assert sim.ops == []


def test_the_simulator_refuses_a_request_the_schema_refuses(required_schema: RequestSchema) -> None:
    with Simulator(5, tls=True, schema=required_schema) as sim:
        webex_id = next(a.webex_id for a in sim.accounts.values() if a.active == "ACTIVATED")
        # The simulator itself ignores unknown children; only the schema knows webExID is not GetUser's.
        code, reason = _failure(_post(sim, _doc(sim, "GetUser", [("webExID", "x"), ("webExId", webex_id)])))
        assert code == "000000" and "webExID" in reason
        code, reason = _failure(_post(sim, _doc(sim, "SetUser", [("active", "DEACTIVATED"), ("webExId", webex_id)])))
        assert code == "000000" and "Invalid request" in reason              # XSD order: webExId before active
        assert sim.account(webex_id).active == "ACTIVATED"                  # refused, so not applied
    with Simulator(5, tls=True, schema=None) as sim:
        root = _post(sim, _doc(sim, "GetUser", [("webExID", "x"), ("webExId", next(iter(sim.accounts)))]))
        assert root.findtext("{*}header/{*}response/{*}result") == "SUCCESS"
