"""The AXL simulator: a CUCM AXL peer on 127.0.0.1 for tests, the demo, benchmarks and ``syncd simulate cucm``."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

from .population import SimUser
from .simulator import FAULT_KINDS, Simulator

__all__ = ["FAULT_KINDS", "SimUser", "Simulator", "run_cli"]


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
