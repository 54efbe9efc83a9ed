"""SIGTERM during a sync exits cleanly with the database consistent; after SIGKILL a restarted daemon converges."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from connectors.axlsim import Simulator
from tests.integration.daemon.harness import TOKEN, Daemon, wait_for

pytestmark = pytest.mark.slow


def _healthy(d: Daemon) -> bool:
    with d.client() as c:
        return c.get("/healthz").status_code == 200


def _sync_in_background(d: Daemon) -> None:
    def post() -> None:
        try:
            with d.client(TOKEN) as c:
                c.post("/api/v1/sync", json={"full": True})
        except httpx.HTTPError:
            pass        # the daemon went away mid-run, as intended
    threading.Thread(target=post, daemon=True).start()


def _slow_run_started(sim: Simulator, d: Daemon) -> None:
    before = sim.request_count
    sim.inject_fault("slow", count=1000, delay=5.0)
    _sync_in_background(d)
    wait_for("the slow run to reach CUCM", lambda: sim.request_count > before)


def test_sigterm_mid_run_then_sigkill_and_restart(tmp_path: Path, sim: Simulator,
                                                  start_daemon: Callable[..., Daemon]):
    db = f"sqlite:///{tmp_path / 'syncd.db'}"
    d1 = start_daemon(db, incremental_every="1h")
    wait_for("the first run", lambda: _healthy(d1))
    leaver = next(u for u in sim.population if u.status == 1 and u.mailid)
    sim.set_status(leaver.userid, 2)

    _slow_run_started(sim, d1)
    d1.signal(signal.SIGTERM)
    assert d1.proc is not None and d1.proc.wait(timeout=60) == 0
    assert d1.notify.find("STOPPING", "1")
    assert d1.events("stopped during a run: its transaction is not committed")
    d1.run("db", "verify")
    sim.clear_faults()

    d2 = start_daemon(db, incremental_every="1h")
    wait_for("d2's first run", lambda: d2.events("sync applied") or d2.events("source read"))
    _slow_run_started(sim, d2)
    d2.signal(signal.SIGKILL)
    assert d2.proc is not None and d2.proc.wait(timeout=60) == -signal.SIGKILL
    sim.clear_faults()

    d3 = start_daemon(db, incremental_every="2s")
    wait_for("the change to converge", lambda: d3.json("users", "show", leaver.mailid)["active"] is False)
    d3.run("db", "verify")
    assert d3.stop() == 0
