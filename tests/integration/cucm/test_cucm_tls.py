"""TLS: verified against the simulator's CA; an unknown CA, an expired certificate and a certificate for another host
are refused; insecure = true works, with a warning. (Plain http:// is refused by the configuration unless
insecure = true: tests/e2e/test_tls_cli.py runs that through `syncd sync`.)"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.axlsim import Simulator
from connectors.axlsim.tlsgen import ServerCert

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def tls_sim():
    with Simulator(200, seed=8, tls=True) as sim:
        yield sim


def assert_refused(conn, reason: str) -> None:
    """One read fails on the first request, permanently (not retried), with ``reason`` on one line."""
    batch = conn.read(None, False, NOW)
    assert not batch.complete and batch.records == [] and batch.cursor is None
    assert batch.error.startswith("CUCM cucm: TLS verification failed: ") and "\n" not in batch.error
    assert reason in batch.error, batch.error
    assert conn._client.requests_sent == 1


def test_verified_against_the_simulators_ca(tls_sim, make_conn):
    assert tls_sim.url.startswith("https://127.0.0.1:") and Path(tls_sim.ca_file).is_file()
    batch = make_conn(tls_sim, ca_file=tls_sim.ca_file).read(None, False, NOW)
    assert batch.complete and len(batch.records) == 200 and batch.error is None
    assert not any("TLS" in n for n in batch.notes)


def test_an_unknown_ca_is_refused(tls_sim, make_conn):
    # the system trust store does not know the throw-away CA
    assert_refused(make_conn(tls_sim), "unable to get local issuer certificate")


def test_an_expired_certificate_from_the_trusted_ca_is_refused(make_conn):
    with Simulator(5, seed=1, tls=True, cert=ServerCert(expired=True)) as sim:
        assert_refused(make_conn(sim, ca_file=sim.ca_file), "certificate has expired")
        ok = make_conn(sim, insecure=True).read(None, False, NOW)    # the server itself answers
        assert ok.complete and len(ok.records) == 5


@pytest.mark.parametrize(("host", "reason"), [("127.0.0.1", "IP address mismatch, certificate is not valid for "
                                                             "'127.0.0.1'"),
                                              ("localhost", "Hostname mismatch, certificate is not valid for "
                                                            "'localhost'")])
def test_a_certificate_for_another_host_is_refused(make_conn, host: str, reason: str):
    with Simulator(5, seed=1, tls=True, cert=ServerCert(names=("cucm9.example.com",))) as sim:
        url = sim.url.replace("127.0.0.1", host)
        assert_refused(make_conn(sim, url=url, ca_file=sim.ca_file), reason)


def test_another_ca_file_is_refused(tls_sim, make_conn, tmp_path):
    with Simulator(1, seed=1, tls=True) as other:    # a second throw-away CA
        assert_refused(make_conn(tls_sim, ca_file=other.ca_file), "unable to get local issuer certificate")


def test_requests_ca_bundle_in_the_environment_does_not_override_the_configured_ca(tls_sim, make_conn,
                                                                                      monkeypatch):
    with Simulator(1, seed=1, tls=True) as other:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", other.ca_file)
        monkeypatch.setenv("CURL_CA_BUNDLE", other.ca_file)
        ok = make_conn(tls_sim, ca_file=tls_sim.ca_file).read(None, False, NOW)
        assert ok.complete
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_sim.ca_file)   # nor can it make an untrusted peer trusted
        refused = make_conn(tls_sim).read(None, False, NOW)
        assert not refused.complete and "TLS verification failed" in refused.error


def test_insecure_works_and_warns_on_every_run(tls_sim, make_conn, caplog):
    conn = make_conn(tls_sim, insecure=True)
    with caplog.at_level("WARNING", logger="connectors.cucm"):
        first = conn.read(None, False, NOW)
        second = conn.read(first.cursor, False, NOW)
    assert first.complete and second.complete and len(first.records) == 200
    assert caplog.text.count("TLS certificate verification is OFF") == 2
    assert any("verification is off" in n for n in first.notes + second.notes)
