"""The CWMS simulator as a server: the XML API user service over HTTP(S) on 127.0.0.1, served from a background
thread, with a throw-away CA and certificate for TLS (``connectors.localserver``)."""

from __future__ import annotations

import functools
from typing import Literal

from connectors.localserver import LocalServer

from .handler import PATH, CwmsRequestHandler
from .schema import RequestSchema
from .state import SimState


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
        handler = functools.partial(CwmsRequestHandler, sim=self, schema=self.schema)
        self._server = LocalServer("cwmssim", handler, port, tls)
        self.port = self._server.port
        self.ca_file = self._server.ca_file

    @property
    def url(self) -> str:
        return self._server.base_url(PATH)

    def start(self) -> Simulator:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
