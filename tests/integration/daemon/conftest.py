"""Fixtures of the daemon tests: the AXL simulator behind a forwarder, and `syncd run` processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.axlsim import Simulator
from tests.integration.daemon.harness import Daemon
from tests.integration.daemon.proxy import Forwarder


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(300, seed=5, tls=True) as s:
        yield s


@pytest.fixture
def forwarder(sim: Simulator) -> Iterator[Forwarder]:
    f = Forwarder(sim.port).start()
    yield f
    f.stop()


@pytest.fixture
def start_daemon(tmp_path: Path, sim: Simulator, forwarder: Forwarder) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(db_url: str, **kw: Any) -> Daemon:
        root = tmp_path / f"node{len(started)}"
        root.mkdir()
        d = Daemon(root, db_url, f"https://127.0.0.1:{forwarder.port}/axl/", sim.username, sim.password,
                   str(sim.ca_file), **kw)
        started.append(d)
        return d.start()

    yield start
    for d in started:
        d.close()
    # No configured password or token in any log line of any daemon, whatever the test did.
    from tests.integration.daemon.harness import TOKEN

    for d in started:
        for line in d.lines:
            assert sim.password not in line and TOKEN not in line, line
            assert not any(secret in line for secret in d.secrets), line
