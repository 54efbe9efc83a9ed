"""The CWMS simulator as a server: the XML API user service over HTTP(S) on 127.0.0.1, served from a background
thread, with a throw-away CA and certificate for TLS (the AXL simulator's)."""

from __future__ import annotations

import functools
import shutil
import ssl
import sys
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from .handler import PATH, CwmsRequestHandler
from .schema import RequestSchema
from .state import SimState


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or fails the TLS handshake is normal here (tests do it on purpose)."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class Simulator(SimState):
    """A CWMS site with ``users`` generated accounts. ``start()`` serves from a background thread.

    ``schema``: the XML API schema every request is validated against; "find": the one in ``$WEBEX_SCHEMA_DIR``
    (or ``../shared/webex-xmlapi-schema``) when it is there, else none; None: no validation.
    """

    def __init__(self, users: int, seed: int = 1, tls: bool = False, port: int = 0, *, site_name: str = "syncd",
                 username: str = "admin", password: str | None = None,
                 schema: RequestSchema | Literal["find"] | None = "find") -> None:
        super().__init__(users, seed, site_name=site_name, username=username, password=password)
        self.schema = RequestSchema.find() if schema == "find" else schema
        self.tls = tls
        self._tmp: Path | None = None
        self.ca_file: str | None = None
        context: ssl.SSLContext | None = None
        if tls:
            from connectors.axlsim.tlsgen import make_ca_and_server

            self._tmp = Path(tempfile.mkdtemp(prefix="cwmssim-"))
            ca, cert_file, key_file = make_ca_and_server(self._tmp)
            self.ca_file = str(ca)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
        handler = functools.partial(CwmsRequestHandler, sim=self, schema=self.schema)
        self._httpd = _Server(("127.0.0.1", port), handler)
        if context is not None:
            # The handshake happens on the first read, in the handler's thread, not in the accept loop.
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True,
                                                     do_handshake_on_connect=False)
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{PATH}"

    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"cwmssim-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
