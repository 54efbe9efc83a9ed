"""`POST /api/v1/sync` answers at once (issue 15, section 4): 202 with the run id while the run goes on, 409
``locked`` while one holds the lock, ``{"wait": true}`` for the old answer; ``GET /api/v1/runs[/{run_id}]`` show
the run's progress and then its report; a run that raises is failed, counted in ``syncd_runs_total`` and named."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from connectors.axlsim import Simulator
from tests.integration.daemon.harness import TOKEN, Daemon, wait_for
from tests.integration.daemon.proxy import Forwarder

pytestmark = pytest.mark.slow

SLOW = 1.5          # seconds each slowed AXL request takes
QUICK = 1.0         # what "at once" means for an answer, on a loaded 2-core machine


@pytest.fixture
def daemon(tmp_path: Path, db_url: str, sim: Simulator, forwarder: Forwarder) -> Iterator[Daemon]:
    """A daemon whose CA file is its own copy (a test removes it), its scheduled run done."""
    ca = tmp_path / "cucm-ca.pem"
    shutil.copyfile(sim.ca_file, ca)
    (tmp_path / "node").mkdir()
    d = Daemon(tmp_path / "node", db_url, f"https://127.0.0.1:{forwarder.port}/axl/", sim.username, sim.password,
               str(ca), incremental_every="1h")
    try:
        d.start()
        with d.client() as anon:
            wait_for("the first scheduled run", lambda: anon.get("/healthz").status_code == 200)
        yield d
    finally:
        d.close()


def _timed(fn: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    """A request's answer and how long it took."""
    t = time.monotonic()
    r = fn()
    return r, time.monotonic() - t


def test_sync_answers_at_once_and_the_run_reports_its_progress(daemon: Daemon, sim: Simulator) -> None:
    sim.inject_fault("slow", count=3, delay=SLOW)
    with daemon.client(TOKEN) as api:
        started, took = _timed(lambda: api.post("/api/v1/sync", json={"full": True}))
        assert started.status_code == 202, started.text
        assert took < QUICK, took
        run_id = started.json()["run_id"]

        locked, took = _timed(lambda: api.post("/api/v1/sync", json={}))
        assert locked.status_code == 409 and locked.json()["error"] == "locked", locked.text
        assert took < QUICK, took

        going = api.get(f"/api/v1/runs/{run_id}").json()
        assert going["status"] == "running" and going["run_id"] == run_id, going
        assert going["phase"] in ("read", "plan", "apply") and going["full"] is True, going
        listed = api.get("/api/v1/runs").json()
        assert listed[0]["run_id"] == run_id and listed[0]["status"] == "running", listed[0]

        done = wait_for("the run to finish", lambda: (r := api.get(f"/api/v1/runs/{run_id}").json())
                        and r["status"] != "running" and r)
        assert done["status"] == "finished" and done["result"] in ("applied", "no_changes"), done
        assert done["sources"][0]["complete"] and done["sources"][0]["records"] == len(sim.population), done
        listed = api.get("/api/v1/runs").json()
        assert listed[0]["run_id"] == run_id and listed[0]["status"] == "finished", listed[0]
        assert listed == daemon.json("status")["runs"]

        waited = api.post("/api/v1/sync", json={"wait": True})
        assert waited.status_code == 200 and waited.json()["result"] in ("applied", "no_changes"), waited.text
        assert api.get(f"/api/v1/runs/{waited.json()['run_id']}").json()["status"] == "finished"
        assert api.post("/api/v1/sync", json={"wait": "yes"}).status_code == 400


def test_sync_with_cucm_down_answers_at_once_and_the_run_fails_fast(daemon: Daemon, forwarder: Forwarder) -> None:
    forwarder.stop()        # connection refused from now on
    with daemon.client(TOKEN) as api:
        started, took = _timed(lambda: api.post("/api/v1/sync", json={}))
        assert started.status_code == 202 and took < QUICK, (started.text, took)
        run_id = started.json()["run_id"]
        t = time.monotonic()
        done = wait_for("the run to end", lambda: (r := api.get(f"/api/v1/runs/{run_id}").json())
                        and r["status"] != "running" and r)
        assert time.monotonic() - t < 10
        assert done["status"] == "failed" and done["result"] == "failed", done
        assert "connection refused" in done["sources"][0]["error"], done


def test_a_run_that_raises_is_failed_named_and_counted(daemon: Daemon, tmp_path: Path) -> None:
    (tmp_path / "cucm-ca.pem").unlink()       # the connector cannot be built: the run raises
    with daemon.client(TOKEN) as api:
        started = api.post("/api/v1/sync", json={})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        done = wait_for("the run to end", lambda: (r := api.get(f"/api/v1/runs/{run_id}").json())
                        and r["status"] != "running" and r)
        assert done["status"] == "failed" and done["result"] == "failed", done
        assert "cucm-ca.pem" in done["error"], done
        metrics = api.get("/metrics").text
    assert 'syncd_runs_total{result="failed",source="cucm"} 1.0' in metrics, metrics
