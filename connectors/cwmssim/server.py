"""The CWMS simulator as a server: the XML API user service and its ``/control/`` endpoint over HTTP(S) on
127.0.0.1, served from a background thread, with a throw-away CA and certificate for TLS
(``connectors.localserver``); :func:`serve` serves one until SIGINT or SIGTERM."""

from __future__ import annotations

import functools
from typing import Literal

from connectors.localserver import LocalServer, serve_until_signal

from .control import PREFIX
from .handler import PATH, CwmsRequestHandler
from .schema import RequestSchema
from .state import SimState


class Simulator(SimState):
    """A CWMS site with ``users`` generated accounts. ``start()`` serves from a background thread.

    ``schema``: the XML API schema every request is validated against; "find": the one in ``$WEBEX_SCHEMA_DIR``
    (or ``../shared/webex-xmlapi-schema``) when it is there, else none; None: no validation.
    ``host_limit``: see :class:`SimState`. Binding ``port`` raises OSError when it is taken.
    """

    def __init__(self, users: int, seed: int = 1, tls: bool = False, port: int = 0, *, site_name: str = "syncd",
                 username: str = "admin", password: str | None = None,
                 schema: RequestSchema | Literal["find"] | None = "find", host_limit: int | None = None) -> None:
        super().__init__(users, seed, site_name=site_name, username=username, password=password,
                         host_limit=host_limit)
        self.schema = RequestSchema.find() if schema == "find" else schema
        self.tls = tls
        handler = functools.partial(CwmsRequestHandler, sim=self, schema=self.schema)
        self._server = LocalServer("cwmssim", handler, port, tls)
        self.port = self._server.port
        self.ca_file = self._server.ca_file

    @property
    def url(self) -> str:
        return self._server.base_url(PATH)

    @property
    def control_url(self) -> str:
        return self._server.base_url(PREFIX)

    def start(self) -> Simulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(sim: Simulator, seed: int) -> int:
    """Serve ``sim`` until SIGINT or SIGTERM, after printing how to reach it; 0."""

    def describe() -> list[str]:
        limit = "none" if sim.host_limit is None else str(sim.host_limit)
        return [f"CWMS simulator: {len(sim.accounts)} users (seed {seed}), {sim.activated()} ACTIVATED, "
                f"host limit {limit}", f"url: {sim.url}", f"site name: {sim.site_name}",
                f"username: {sim.username}", f"password: {sim.password}",
                *([f"CA certificate: {sim.ca_file}"] if sim.ca_file else []),
                f"control: {sim.control_url} (JSON; Authorization: Bearer <password>); Ctrl-C stops"]

    return serve_until_signal(sim, describe)
