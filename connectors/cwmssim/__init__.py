"""The CWMS simulator: a strict WebEx XML API user service (GetUser, LstsummaryUser, SetUser) on 127.0.0.1 for tests.

Modules, each importing only those after it: ``server`` (HTTP(S) server, thread, TLS, serving until a signal) ->
``handler`` (the HTTP side) -> ``control`` (what the JSON ``/control/`` endpoint answers) and ``operations`` (what
the XML API answers, injected faults, the audit of writes) -> ``schema`` (request validation against the XML API
schema) and ``state`` (accounts, credentials, host limit, faults, counters, the audit).
"""

from __future__ import annotations

from .operations import HOST_LIMIT
from .schema import RequestSchema
from .server import Simulator, serve
from .state import FAULT_KINDS, SimAccount

__all__ = ["FAULT_KINDS", "HOST_LIMIT", "RequestSchema", "SimAccount", "Simulator", "serve"]
