"""The server shell the project's simulators share (the AXL simulator, the CWMS simulator): HTTP or HTTPS on
127.0.0.1 only, served from a background thread (or the caller's), with a throw-away CA and certificate for TLS
(``connectors.axlsim.tlsgen``) removed again by ``stop()``."""

from __future__ import annotations

import shutil
import signal
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from connectors.axlsim.tlsgen import ServerCert


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or fails the TLS handshake is normal here (tests do it on purpose)."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class LocalServer:
    """``handler`` (a request-handler class, or a partial of one) on 127.0.0.1:``port`` (0: any free port).
    With ``tls``, the certificate says what ``cert`` says (default: valid, for 127.0.0.1 and localhost) and
    ``ca_file`` is the CA that signed it."""

    def __init__(self, name: str, handler: Callable[..., Any], port: int = 0, tls: bool = False,
                 cert: ServerCert | None = None) -> None:
        self.name, self.tls = name, tls
        self._tmp: Path | None = None
        self.ca_file: str | None = None
        context: ssl.SSLContext | None = None
        if tls:
            # cryptography loads only when TLS is asked for: plain-HTTP users (most tests, the demo) skip ~40 ms.
            from connectors.axlsim.tlsgen import ServerCert, make_ca_and_server

            self._tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
            ca, cert_file, key_file = make_ca_and_server(self._tmp, cert or ServerCert())
            self.ca_file = str(ca)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
        self._httpd = _Server(("127.0.0.1", port), handler)
        if context is not None:
            # The handshake happens on the first read, in the handler's thread, not in the accept loop.
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True,
                                                     do_handshake_on_connect=False)
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def base_url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"{self.name}-{self.port}",
                                        daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


class Served(Protocol):
    """A simulator as :func:`serve_until_signal` runs it."""

    def start(self) -> Any: ...

    def stop(self) -> None: ...


def serve_until_signal(sim: Served, describe: Callable[[], list[str]]) -> int:
    """Start ``sim``, print ``describe()``'s lines (how to reach it), serve until SIGINT or SIGTERM, stop; 0."""
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    sim.start()
    try:
        print("\n".join(describe()), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        for s, h in old.items():
            signal.signal(s, h)
    return 0
