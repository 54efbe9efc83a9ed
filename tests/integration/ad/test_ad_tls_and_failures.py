"""TLS refusals, bind refusals, DC failover and a DC stopped in the middle of a read, against Samba."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.ad.connector import AdConnector
from connectors.ad.options import AdOptions
from connectors.axlsim.tlsgen import Authority, ServerCert
from connectors.base import SourceBatch
from tests.integration.ad.conftest import options_for
from tests.integration.samba.harness import TLS_NAME, SambaDC
from tests.integration.samba.relay import Relay

pytestmark = pytest.mark.samba

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def read_once(opts: AdOptions, full: bool = True) -> SourceBatch:
    conn = AdConnector(opts)
    try:
        return conn.read(None, full, NOW)
    finally:
        conn.close()


def assert_failed(batch: SourceBatch, *needles: str) -> None:
    assert not batch.complete and batch.error and list(batch.records) == []
    assert "\n" not in batch.error
    for needle in needles:
        assert needle in batch.error, batch.error


def test_wrong_ca_is_refused(samba_dc: SambaDC, tmp_path: Path) -> None:
    other = str(Authority("Not the Samba CA").write(tmp_path / "ca.pem"))
    assert_failed(read_once(options_for(samba_dc, ca_file=other)), "TLS refused", "unable to get local issuer")


def test_wrong_expected_name_is_refused(samba_dc: SambaDC) -> None:
    assert_failed(read_once(options_for(samba_dc, tls_name="dc9.example.com")), "TLS refused", "name")
    # and without tls_name the URL host (127.0.0.1) is not in the certificate either
    assert_failed(read_once(options_for(samba_dc, tls_name=None)), "TLS refused")


def test_plain_ldap_needs_insecure_and_starttls_works(samba_dc: SambaDC) -> None:
    with pytest.raises(ValidationError, match="plain ldap:// needs start_tls = true"):
        options_for(samba_dc, urls=[samba_dc.plain_url])
    # insecure = true lets the connector try; Samba (like hardened AD) then refuses a simple bind without TLS
    batch = read_once(options_for(samba_dc, urls=[samba_dc.plain_url], insecure=True))
    assert_failed(batch, "bind refused", "strongerAuthRequired")
    # StartTLS on 389 with a verified certificate reads everything
    batch = read_once(options_for(samba_dc, urls=[samba_dc.plain_url], start_tls=True))
    assert batch.complete and len(batch.records) == len(samba_dc.seed.users)


def test_bad_password_is_one_line_and_secret_free(samba_dc: SambaDC) -> None:
    batch = read_once(options_for(samba_dc, password="Wrong-Secret-123"))
    assert_failed(batch, "invalid credentials")
    assert batch.error is not None
    assert "Wrong-Secret-123" not in batch.error and samba_dc.password not in (batch.error or "")


def test_dead_dc_is_skipped_for_the_next(samba_dc: SambaDC) -> None:
    with socket.socket() as s:   # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"ldaps://127.0.0.1:{s.getsockname()[1]}"
    batch = read_once(options_for(samba_dc, urls=[dead, samba_dc.url]))
    assert batch.complete and batch.error is None
    assert batch.cursor is not None and batch.cursor["dc"] == samba_dc.url
    assert len(batch.notes) == 1 and batch.notes[0].startswith(f"domain controller skipped: {dead}: connection")
    assert_failed(read_once(options_for(samba_dc, urls=[dead])), "connection failed")


def test_dropped_connection_is_reopened(samba_fresh: SambaDC) -> None:
    conn = AdConnector(options_for(samba_fresh))
    try:
        first = conn.read(None, True, NOW)
        assert first.complete
        samba_fresh.stop()
        samba_fresh.start()       # the cached connection is dead now
        again = conn.read(first.cursor, False, NOW)
        assert again.complete and again.error is None and not again.full
    finally:
        conn.close()


def relay_read(dc: SambaDC, tmp_path: Path, spec: ServerCert, *, trusted: bool = True,
               tls_name: str | None = None) -> tuple[SourceBatch, Relay]:
    """One read through a :class:`Relay` presenting a certificate for ``spec``, from a CA the connector trusts (or,
    with ``trusted=False``, from another CA)."""
    ca = Authority("relay test CA")
    ca_file = (ca if trusted else Authority("another test CA")).write(tmp_path / "trusted-ca.pem")
    with Relay(dc, cert=ca.issue(tmp_path, spec, stem="relay")) as relay:
        batch = read_once(options_for(dc, urls=[relay.url], ca_file=str(ca_file), tls_name=tls_name))
    return batch, relay


def test_the_relay_with_a_good_certificate_reads_everything(samba_dc: SambaDC, tmp_path: Path) -> None:
    """The relay works, so the refusals below are the certificates' doing."""
    batch, relay = relay_read(samba_dc, tmp_path, ServerCert())
    assert batch.complete and batch.error is None and len(batch.records) == len(samba_dc.seed.users)
    assert relay.handshakes >= 1 and relay.requests > 0 and relay.answers > 0


@pytest.mark.parametrize(("spec", "trusted", "tls_name", "reason"), [
    (ServerCert(expired=True), True, None, "certificate has expired"),
    (ServerCert(names=("dc9.example.com",)), True, None, "does not match the expected name (127.0.0.1)"),
    (ServerCert(names=("dc9.example.com",)), True, TLS_NAME,
     f"does not match the expected name (127.0.0.1, {TLS_NAME})"),
    (ServerCert(), False, None, "unable to get local issuer certificate"),
], ids=["expired", "other-host", "other-host-with-tls-name", "unknown-ca"])
def test_the_relay_with_a_bad_certificate_is_refused(samba_dc: SambaDC, tmp_path: Path, spec: ServerCert,
                                                     trusted: bool, tls_name: str | None, reason: str) -> None:
    batch, relay = relay_read(samba_dc, tmp_path, spec, trusted=trusted, tls_name=tls_name)
    assert_failed(batch, "TLS refused", reason)
    assert relay.connections >= 1            # the connector reached the relay and refused what it saw...
    assert relay.requests == 0               # ...before sending anything, the bind and its password included


@pytest.fixture
def relay(samba_fresh: SambaDC) -> Iterator[Relay]:
    with Relay(samba_fresh, stop_after=120_000) as r:
        yield r


def test_dc_stopped_mid_read_gives_an_incomplete_batch(samba_fresh: SambaDC, relay: Relay) -> None:
    opts = options_for(samba_fresh, urls=[relay.url], page_size=50, receive_timeout=10.0)
    batch = read_once(opts)
    assert relay.stopped.is_set(), "the read finished before the relay stopped the DC"
    assert_failed(batch, "connection failed")
    assert batch.cursor is None
