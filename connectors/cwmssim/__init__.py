"""The CWMS simulator: a strict WebEx XML API user service (GetUser, LstsummaryUser, SetUser) on 127.0.0.1 for tests.

Modules, each importing only those after it: ``server`` (HTTP(S) server, thread, TLS) -> ``handler`` (the HTTP
side) -> ``operations`` (what the XML API answers, injected faults) -> ``schema`` (request validation against the
XML API schema) and ``state`` (accounts, credentials, faults, counters).
"""

from __future__ import annotations

from .schema import RequestSchema
from .server import Simulator
from .state import FAULT_KINDS, SimAccount

__all__ = ["FAULT_KINDS", "RequestSchema", "SimAccount", "Simulator"]
