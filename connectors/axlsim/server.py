"""The AXL simulator as a server: CUCM's AXL read operations over HTTP(S) on 127.0.0.1, served from a background
thread (or the caller's), with a throw-away CA and certificate for TLS; ``run_cli`` serves until a signal.
"""

from __future__ import annotations

import functools
import shutil
import signal
import ssl
import sys
import tempfile
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from .handler import AxlRequestHandler
from .state import SERVED_VERSIONS, SimState

if TYPE_CHECKING:
    from .tlsgen import ServerCert


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or fails the TLS handshake is normal here (tests do it on purpose)."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class Simulator(SimState):
    """An AXL server for ``users`` generated people. ``start()`` serves from a background thread.

    The population, mutations, faults and settings are :class:`SimState`'s.
    ``cert`` (with ``tls``): what the served certificate says (default: valid, for 127.0.0.1 and localhost).
    """

    def __init__(self, users: int, seed: int = 1, tls: bool = False, username: str = "axl",
                 password: str | None = None, port: int = 0, *, response_limit: int = 8 * 1024 * 1024,
                 queue_capacity: int = 100_000, change_page: int = 1000, record: bool = False,
                 versions: tuple[str, ...] = SERVED_VERSIONS, evict_fault: bool = True,
                 cert: ServerCert | None = None) -> None:
        super().__init__(users, seed, username, password, response_limit=response_limit,
                         queue_capacity=queue_capacity, change_page=change_page, record=record,
                         versions=versions, evict_fault=evict_fault)
        self.tls = tls
        self._tmp: Path | None = None
        self.ca_file: str | None = None
        context: ssl.SSLContext | None = None
        if tls:
            # cryptography loads only when TLS is asked for: plain-HTTP users (most tests, the demo) skip ~40 ms.
            from .tlsgen import ServerCert, make_ca_and_server

            self._tmp = Path(tempfile.mkdtemp(prefix="axlsim-"))
            ca, cert_file, key_file = make_ca_and_server(self._tmp, cert or ServerCert())
            self.ca_file = str(ca)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
        self._httpd = _Server(("127.0.0.1", port), functools.partial(AxlRequestHandler, sim=self, tls=tls))
        if context is not None:
            # The handshake happens on the first read, in the handler's thread, not in the accept loop.
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True,
                                                     do_handshake_on_connect=False)
        self.port: int = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/axl/"

    def start(self) -> Simulator:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"axlsim-{self.port}", daemon=True)
        self._thread.start()
        return self

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

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_cli(users: int, port: int, seed: int = 1, tls: bool = False) -> int:
    """Serve ``users`` simulated users on 127.0.0.1:``port`` until SIGINT/SIGTERM; print how to connect."""
    sim = Simulator(users, seed=seed, tls=tls, port=port)
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGINT, signal.SIGTERM)}
    sim.start()
    try:
        print(f"AXL simulator: {users} users (seed {seed}) at {sim.url}")
        print(f"username: {sim.username}")
        print(f"password: {sim.password}")
        if sim.ca_file:
            print(f"CA certificate: {sim.ca_file}")
        print(f"control: POST {sim.url.replace('/axl/', '/control/')}ACTION (JSON); Ctrl-C stops")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        for s, h in old.items():
            signal.signal(s, h)
    return 0
