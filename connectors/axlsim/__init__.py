"""The AXL simulator: a CUCM AXL peer on 127.0.0.1 for tests, the demo, benchmarks and ``syncd simulate cucm``.

Modules, each importing only those after it: ``server`` (HTTP(S) server, threads, TLS) -> ``handler`` (the HTTP
side: auth, cookie, routes) -> ``operations`` (what AXL and /control/ answer) -> ``state`` (population, change
queue, faults, account, counters), with ``render``, ``sqlquery``, ``changes``, ``population`` and ``tlsgen`` below.
"""

from __future__ import annotations

from .population import SimUser
from .server import Simulator, run_cli
from .state import FAULT_KINDS

__all__ = ["FAULT_KINDS", "SimUser", "Simulator", "run_cli"]
