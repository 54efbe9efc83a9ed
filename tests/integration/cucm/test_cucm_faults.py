"""Fault handling: temporary faults are retried, permanent ones give an incomplete batch with a one-line error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.axlsim import Simulator

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _failed(batch) -> str:
    assert not batch.complete and batch.records == [] and batch.cursor is None
    assert batch.error and "\n" not in batch.error
    return batch.error


@pytest.mark.parametrize("kind", ["503", "memory", "drop", "malformed", "html500"])
def test_temporary_faults_are_retried_and_the_read_completes(sim, make_conn, kind):
    conn = make_conn(sim, page_size=100, retries=3)
    sim.inject_fault(kind, count=2, op="executeSQLQuery")
    batch = conn.read(None, True, NOW)
    assert batch.complete and batch.error is None and len(batch.records) == 300
    # 1 baseline + 2 failed + 4 pages (the last one short)
    assert conn._client.requests_sent == 7


def test_a_slow_answer_times_out_and_is_retried(sim, make_conn):
    conn = make_conn(sim, timeout=1.0, retries=2)
    sim.inject_fault("slow", count=1, op="executeSQLQuery", delay=2.5)
    batch = conn.read(None, True, NOW)
    assert batch.complete and len(batch.records) == 300
    assert conn._client.requests_sent == 3               # baseline, the page that timed out, its retry


def test_temporary_faults_beyond_the_retries_fail_the_source(sim, make_conn):
    conn = make_conn(sim, retries=2)
    sim.inject_fault("503", count=10, op="executeSQLQuery")
    error = _failed(conn.read(None, True, NOW))
    assert "HTTP 503" in error and error.startswith("CUCM cucm:")
    assert conn._client.requests_sent == 1 + 3      # baseline, then the first try and 2 retries


def test_backoff_is_exponential_capped_and_jittered(sim):
    from connectors.cucm.client import AxlClient, AxlError
    from connectors.cucm.options import CucmOptions, Tuning

    waits: list[float] = []
    opts = CucmOptions(name="c", url=sim.url, username=sim.username, password=sim.password, retries=5,
                       insecure=sim.url.startswith("http://"))
    client = AxlClient(opts, tuning=Tuning(backoff_base=1.0, backoff_cap=4.0), sleep=waits.append)
    sim.inject_fault("memory", count=6)
    with pytest.raises(AxlError) as e:
        client.call("listChange", objectList={"object": ["User"]})
    assert e.value.temporary and e.value.kind == "memory"
    assert len(waits) == 5
    for w, cap in zip(waits, (1, 2, 4, 4, 4), strict=True):
        assert cap / 2 <= w <= cap
    client.close()


def test_wrong_password_gives_an_incomplete_batch_saying_authentication_failed(sim, make_conn):
    conn = make_conn(sim, password="wrong")
    error = _failed(conn.read(None, False, NOW))
    assert "authentication failed" in error and "wrong" not in error
    assert conn._client.requests_sent == 1           # never retried


def test_an_expired_session_404_is_retried_once_with_a_new_session(sim, make_conn):
    conn = make_conn(sim)
    assert conn.read(None, True, NOW).complete
    sim.inject_fault("404", count=1)
    assert conn.read(None, True, NOW).complete
    sim.inject_fault("404", count=2)
    error = _failed(conn.read(None, True, NOW))
    assert "HTTP 404" in error


def test_a_response_with_a_dtd_or_entity_expansion_is_refused(sim, make_conn):
    conn = make_conn(sim)
    sim.inject_fault("dtd", op="executeSQLQuery")
    error = _failed(conn.read(None, True, NOW))
    assert "refused" in error and "DOCTYPE" in error
    assert conn._client.requests_sent == 2           # permanent: not retried


def test_an_unsupported_axl_version_fails_the_source(make_conn):
    with Simulator(10, seed=1, versions=("14.0",)) as sim:
        conn = make_conn(sim, version="12.5")
        error = _failed(conn.read(None, True, NOW))
    assert "12.5 is not supported" in error


def test_an_unknown_operation_fault_is_permanent(sim, make_conn):
    conn = make_conn(sim)
    sim.inject_fault("fault", count=1, op="executeSQLQuery", code=-1, message="No such operation 'executeSQLQuery'")
    error = _failed(conn.read(None, True, NOW))
    assert "No such operation" in error and "axlcode -1" in error


def test_a_prefixed_axlerror_is_read_too(sim):
    from connectors.axl.faults import parse_fault
    from connectors.axl.xml import parse_xml, soap_payload

    body = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            b"<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>Item not valid</faultstring>"
            b'<detail><ns2:axlError xmlns:ns2="http://www.cisco.com/AXL/API/14.0"><ns2:axlcode>5007</ns2:axlcode>'
            b"<ns2:axlmessage>Item not valid: The specified User was not found</ns2:axlmessage>"
            b"<ns2:request>getUser</ns2:request></ns2:axlError></detail></soapenv:Fault></soapenv:Body>"
            b"</soapenv:Envelope>")
    f = parse_fault(soap_payload(parse_xml(body)))
    assert (f.axlcode, f.request) == (5007, "getUser") and "not found" in f.message


def test_faults_in_the_middle_of_a_20000_user_read_are_ridden_out(big_sim, make_conn):
    conn = make_conn(big_sim, page_size=1000, retries=2)
    base = big_sim.request_count
    for k, kind in enumerate(("503", "memory", "drop", "malformed", "html500", "503")):
        big_sim.inject_fault(kind, at=base + 3 + 3 * k)       # pages 2, 5, 8, ... of this read
    batch = conn.read(None, True, NOW)
    assert batch.complete and batch.error is None
    assert len(batch.records) == 20_000 and len({r.uuid for r in batch.records}) == 20_000
    assert conn._client.requests_sent == 1 + 21 + 6            # baseline, 21 pages (the last one empty), 6 retries
    assert big_sim.state()["faults_pending"] == 0
