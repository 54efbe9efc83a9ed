"""The AXL simulator as a server: CUCM's AXL read operations over HTTP(S) on 127.0.0.1, served from a background
thread (or the caller's), with a throw-away CA and certificate for TLS; ``run_cli`` serves until a signal.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from connectors.localserver import LocalServer, serve_until_signal

from .handler import AxlRequestHandler
from .state import SERVED_VERSIONS, SimState

if TYPE_CHECKING:
    from .tlsgen import ServerCert


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
        self._server = LocalServer("axlsim", functools.partial(AxlRequestHandler, sim=self, tls=tls), port, tls, cert)
        self.port = self._server.port
        self.ca_file = self._server.ca_file

    @property
    def url(self) -> str:
        return self._server.base_url("/axl/")

    def start(self) -> Simulator:
        self._server.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_cli(users: int, port: int, seed: int = 1, tls: bool = False) -> int:
    """Serve ``users`` simulated users on 127.0.0.1:``port`` until SIGINT/SIGTERM; print how to connect."""
    sim = Simulator(users, seed=seed, tls=tls, port=port)

    def describe() -> list[str]:
        return [f"AXL simulator: {users} users (seed {seed}) at {sim.url}", f"username: {sim.username}",
                f"password: {sim.password}", *([f"CA certificate: {sim.ca_file}"] if sim.ca_file else []),
                f"control: POST {sim.url.replace('/axl/', '/control/')}ACTION (JSON); Ctrl-C stops"]

    return serve_until_signal(sim, describe)
