"""A TCP/TLS relay in front of the Samba DC's LDAPS port, for tests that show the connector a certificate of
their own or stop the DC in the middle of a read (tests/integration/ad, tests/e2e/test_restarts.py)."""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from pathlib import Path

from tests.integration.samba.harness import SambaDC


class Relay:
    """A relay on a free 127.0.0.1 port to the DC's LDAPS port (636).

    With ``cert`` (a certificate and key file the test made) it ends the client's TLS itself, presenting that
    certificate, and speaks TLS again to the DC (Samba refuses a simple bind on its plain port): the connector sees
    the test's certificate in front of Samba's directory. Both sides are held to TLS 1.2, whose records all carry
    data once the handshake is done, so one thread per connection can wait on both sockets with select().
    ``stop_after``: stop the DC once that many bytes of answers went through.
    """

    def __init__(self, dc: SambaDC, *, cert: tuple[Path, Path] | None = None, stop_after: int | None = None) -> None:
        self.dc, self.stop_after, self.stopped = dc, stop_after, threading.Event()
        self.connections = 0      # TCP connections accepted
        self.handshakes = 0       # TLS handshakes with a client that accepted the certificate (with ``cert``)
        self.requests = 0         # bytes from clients passed on to the DC
        self.answers = 0          # bytes from the DC passed on to clients
        self._tls: ssl.SSLContext | None = None
        if cert is not None:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.maximum_version = ssl.TLSVersion.TLSv1_2
            self._tls.load_cert_chain(*cert)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"ldaps://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            if self._tls is not None:
                client = self._tls.wrap_socket(client, server_side=True)   # fails when the client refuses
                self.handshakes += 1
            upstream = self._upstream()
        except OSError:                                                     # ssl.SSLError is an OSError
            client.close()
            return
        self._pump(client, upstream)

    def _upstream(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", 636), timeout=5)
        sock.settimeout(None)
        if self._tls is None:
            return sock
        ctx = ssl.create_default_context(cafile=self.dc.ca_file)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        return ctx.wrap_socket(sock, server_hostname=self.dc.tls_name)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peer = {client: upstream, upstream: client}
        try:
            while True:
                for src in select.select(list(peer), [], [])[0]:
                    data = self._read(src)
                    if not data:
                        return
                    peer[src].sendall(data)
                    self._count(len(data), answers=src is upstream)
        except OSError:
            pass
        finally:
            for s in peer:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    @staticmethod
    def _read(src: socket.socket) -> bytes:
        data = src.recv(65536)
        while isinstance(src, ssl.SSLSocket) and src.pending():   # decrypted bytes select() cannot see
            data += src.recv(src.pending())
        return data

    def _count(self, size: int, answers: bool) -> None:
        if not answers:
            self.requests += size
            return
        self.answers += size
        if self.stop_after is not None and self.answers >= self.stop_after and not self.stopped.is_set():
            self.stopped.set()
            self.dc.stop()     # Samba really stops, in the middle of the paged search

    def close(self) -> None:
        self.listener.close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
