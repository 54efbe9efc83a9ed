"""The CWMS sink against the CWMS simulator over TLS: every outcome, and what each fault comes back as (nothing
lost, nobody wrongly written)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from connectors.base import PushResult, Sink
from connectors.cwms.client import CwmsClient
from connectors.cwms.sink import CwmsSink
from connectors.cwmssim import Simulator
from syncd.push.drift import ACTIVATE, DEACTIVATE, PlannedPush

MakeClient = Callable[..., CwmsClient]


def _ids(sim: Simulator, active: str, n: int = 1) -> list[str]:
    found = [a.webex_id for a in sim.accounts.values() if a.active == active][:n]
    assert len(found) == n
    return found


def _deactivate(webex_id: str) -> PlannedPush:
    return PlannedPush(f"{webex_id}@example.com", webex_id, DEACTIVATE)


def _set_users(sim: Simulator) -> list[dict[str, object]]:
    return [e for e in sim.audit() if e["op"] == "SetUser"]


def test_the_sink_is_a_sink(sim: Simulator, make_client: MakeClient) -> None:
    assert isinstance(CwmsSink(make_client(sim)), Sink)


def test_deactivating_an_activated_account_is_done(sim: Simulator, make_client: MakeClient) -> None:
    [webex_id] = _ids(sim, "ACTIVATED")
    [r] = CwmsSink(make_client(sim)).push([_deactivate(webex_id)])
    assert (r.key, r.ok, r.outcome, r.before, r.stop, r.error) == (webex_id, True, "done", "ACTIVATED", False, None)
    assert sim.written() == [(webex_id, "DEACTIVATED")]
    assert sim.ops == ["GetUser", "SetUser"]            # read first, then one write; never DelUser


def test_an_account_already_in_the_target_state_is_not_written(sim: Simulator, make_client: MakeClient) -> None:
    [off] = _ids(sim, "DEACTIVATED")
    [on] = _ids(sim, "ACTIVATED")
    results = CwmsSink(make_client(sim)).push([_deactivate(off), PlannedPush(f"{on}@example.com", on, ACTIVATE)])
    assert [(r.outcome, r.ok, r.before) for r in results] == [("already", True, "DEACTIVATED"),
                                                              ("already", True, "ACTIVATED")]
    assert sim.audit() == [] and "SetUser" not in sim.ops


def test_an_unknown_user_fails_030001_without_a_write(sim: Simulator, make_client: MakeClient) -> None:
    [r] = CwmsSink(make_client(sim)).push([_deactivate("nobody")])
    assert (r.outcome, r.ok, r.exception_id, r.reason, r.before) == ("failed", False, "030001", "user unknown", None)
    assert "SetUser" not in sim.ops


def test_the_host_limit_refuses_an_activation(sim: Simulator, make_client: MakeClient) -> None:
    with sim.lock:
        sim.host_limit = sim.activated()
    [off] = _ids(sim, "DEACTIVATED")
    [r] = CwmsSink(make_client(sim)).push([PlannedPush(f"{off}@example.com", off, ACTIVATE)])
    assert (r.outcome, r.ok, r.before, r.stop) == ("failed", False, "DEACTIVATED", False)
    assert r.exception_id == "030048" and "exceededSiteHostLimit" in (r.reason or "")
    assert sim.account(off).active == "DEACTIVATED" and sim.written() == []


def test_a_failure_on_set_user_keeps_its_exception_id(sim: Simulator, make_client: MakeClient) -> None:
    [webex_id] = _ids(sim, "ACTIVATED")
    sim.inject_fault("failure", op="SetUser", exception_id="000000", reason="Invalid request: webExId")
    [r] = CwmsSink(make_client(sim)).push([_deactivate(webex_id)])
    assert (r.outcome, r.exception_id, r.reason, r.stop) == ("failed", "000000", "Invalid request: webExId", False)
    assert sim.account(webex_id).active == "ACTIVATED"


@pytest.mark.parametrize("kind, op", [("503", None), ("503", "SetUser"), ("html", None), ("malformed", "SetUser"),
                                      ("drop", "SetUser")])
def test_a_fault_that_lasts_past_the_retries_is_a_retry(sim: Simulator, make_client: MakeClient, kind: str,
                                                         op: str | None) -> None:
    [webex_id] = _ids(sim, "ACTIVATED")
    sim.inject_fault(kind, 50, op=op)
    [r] = CwmsSink(make_client(sim, retries=2)).push([_deactivate(webex_id)])
    assert (r.outcome, r.ok, r.stop) == ("retry", False, False), r
    assert r.error is not None and r.error.startswith(f"CWMS site {sim.site_name} (127.0.0.1:{sim.port}): ")
    assert sim.written() == [] and sim.account(webex_id).active == "ACTIVATED"


def test_a_transient_code_storm_is_a_retry(sim: Simulator, make_client: MakeClient) -> None:
    [webex_id] = _ids(sim, "ACTIVATED")
    sim.inject_fault("failure", 50, exception_id="000035", reason="ASService not responding")
    [r] = CwmsSink(make_client(sim, retries=1)).push([_deactivate(webex_id)])
    assert (r.outcome, r.exception_id) == ("retry", "000035")
    assert sim.written() == []


def test_one_dropped_connection_is_retried_by_the_client(sim: Simulator, make_client: MakeClient) -> None:
    [webex_id] = _ids(sim, "ACTIVATED")
    sim.inject_fault("drop", 1, op="SetUser")
    [r] = CwmsSink(make_client(sim)).push([_deactivate(webex_id)])
    assert r.outcome == "done" and sim.written() == [(webex_id, "DEACTIVATED")]


def test_a_slow_answer_beyond_the_timeout_is_a_retry(sim: Simulator, make_client: MakeClient) -> None:
    [webex_id] = _ids(sim, "ACTIVATED")
    sim.inject_fault("slow", 2, op="GetUser", delay=1.0)
    [r] = CwmsSink(make_client(sim, timeout=0.3, retries=1)).push([_deactivate(webex_id)])
    assert r.outcome == "retry" and "within 0.3s" in (r.error or "")
    assert "SetUser" not in sim.ops and sim.written() == []


def test_a_dtd_in_an_answer_stops_the_batch(sim: Simulator, make_client: MakeClient) -> None:
    """An answer with a DTD is refused unread: the account's state is unknown, so the item is kept (retry) and the
    conversation ends there (stop)."""
    a, b = _ids(sim, "ACTIVATED", 2)
    sim.inject_fault("dtd", 1, op="SetUser")
    results = CwmsSink(make_client(sim)).push([_deactivate(a), _deactivate(b)])
    assert [(r.outcome, r.stop) for r in results] == [("retry", True), ("retry", True)]
    assert "response refused" in (results[0].error or "")
    assert results[1].error is not None and results[1].error.startswith("not sent: ")
    assert sim.request_count == 2                            # nothing was sent for the second item


def test_wrong_credentials_stop_the_batch_naming_the_site(sim: Simulator, make_client: MakeClient) -> None:
    a, b, c = _ids(sim, "ACTIVATED", 3)
    results = CwmsSink(make_client(sim, password="wrong")).push([_deactivate(x) for x in (a, b, c)])
    assert [(r.outcome, r.stop, r.ok) for r in results] == [("retry", True, False)] * 3
    first = results[0]
    assert first.exception_id == "030002"
    assert first.error == (f"CWMS site {sim.site_name} (127.0.0.1:{sim.port}): GetUser: FAILURE 030002: "
                           "Incorrect user or password")
    assert sim.request_count == 1 and sim.audit() == []        # one refused request, then nothing


def test_an_unreachable_site_stops(make_client: MakeClient, sim: Simulator) -> None:
    with socket.socket() as s:          # a port nothing listens on once it is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(sim, url=f"https://127.0.0.1:{port}/WBXService/XMLService")
    results = CwmsSink(client).push([_deactivate("x"), _deactivate("y")])
    assert [(r.outcome, r.stop) for r in results] == [("retry", True)] * 2
    assert results[0].error == f"CWMS site {sim.site_name} (127.0.0.1:{port}): cannot connect to 127.0.0.1:{port} " \
        "(connection refused)"


def test_preview_reads_and_writes_nothing(sim: Simulator, make_client: MakeClient) -> None:
    [on] = _ids(sim, "ACTIVATED")
    [off] = _ids(sim, "DEACTIVATED")
    results = CwmsSink(make_client(sim)).preview([_deactivate(on), _deactivate(off), _deactivate("nobody")])
    assert [(r.outcome, r.before) for r in results] == [("done", "ACTIVATED"), ("already", "DEACTIVATED"),
                                                        ("failed", None)]
    assert set(sim.ops) == {"GetUser"} and sim.audit() == []


def test_the_password_is_in_no_result(sim: Simulator, make_client: MakeClient) -> None:
    [webex_id] = _ids(sim, "ACTIVATED")
    sim.inject_fault("503", 50)
    for password in (sim.password, "wrong-password-42"):
        [r] = CwmsSink(make_client(sim, password=password, retries=0)).push([_deactivate(webex_id)])
        assert password not in repr(r)


def test_a_push_result_says_one_thing() -> None:
    assert PushResult("a", True).outcome == "done" and PushResult("a", False, "x").outcome == "retry"
    for bad in ({"ok": False, "outcome": "done"}, {"ok": True, "outcome": "failed"},
                {"ok": False, "outcome": "failed", "stop": True}, {"ok": True, "outcome": "sent"}):
        with pytest.raises(ValueError, match="inconsistent PushResult"):
            PushResult("a", **bad)  # type: ignore[arg-type]
