"""TLS refusals, bind refusals, DC failover and a DC stopped in the middle of a read, against Samba."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.ad import AdConnector, AdOptions
from connectors.records import SourceBatch
from tests.integration.ad.conftest import options_for
from tests.integration.samba.harness import SambaDC

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


def other_ca(path: Path) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Not the Samba CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_wrong_ca_is_refused(samba_dc: SambaDC, tmp_path: Path) -> None:
    assert_failed(read_once(options_for(samba_dc, ca_file=other_ca(tmp_path / "ca.pem"))), "TLS refused")


def test_wrong_expected_name_is_refused(samba_dc: SambaDC) -> None:
    assert_failed(read_once(options_for(samba_dc, tls_name="dc9.example.com")), "TLS refused", "name")
    # and without tls_name the URL host (127.0.0.1) is not in the certificate either
    assert_failed(read_once(options_for(samba_dc, tls_name=None)), "TLS refused")


def test_plain_ldap_needs_insecure_and_starttls_works(samba_dc: SambaDC) -> None:
    plain = options_for(samba_dc, urls=[samba_dc.plain_url])
    batch = read_once(plain)
    assert_failed(batch, "configuration", "insecure = true")
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


class StopAfter:
    """A TCP relay to the DC's LDAPS port that stops the DC once ``limit`` bytes of answers went through."""

    def __init__(self, dc: SambaDC, limit: int) -> None:
        self.dc, self.limit, self.sent, self.stopped = dc, limit, 0, threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", 636), timeout=5)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, answers: bool) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                if answers:
                    self.sent += len(data)
                    if self.sent >= self.limit and not self.stopped.is_set():
                        self.stopped.set()
                        self.dc.stop()     # Samba really stops, in the middle of the paged search
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def relay(samba_fresh: SambaDC) -> Iterator[StopAfter]:
    r = StopAfter(samba_fresh, limit=120_000)
    yield r
    r.close()


def test_dc_stopped_mid_read_gives_an_incomplete_batch(samba_fresh: SambaDC, relay: StopAfter) -> None:
    opts = options_for(samba_fresh, urls=[f"ldaps://127.0.0.1:{relay.port}"], page_size=50, receive_timeout=10.0)
    batch = read_once(opts)
    assert relay.stopped.is_set(), "the read finished before the relay stopped the DC"
    assert_failed(batch, "connection failed")
    assert batch.cursor is None
