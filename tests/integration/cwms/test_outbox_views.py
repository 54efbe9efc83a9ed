"""What the outbox shows (SQLite and PostgreSQL): the outbox view and its API route, `status`'s ``cwms`` counts and
the ``syncd_cwms_outbox`` gauges, after a pass of the sender against the CWMS simulator over TLS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from starlette.testclient import TestClient

from connectors.cwms.client import CwmsClient
from connectors.cwms.sink import CwmsSink
from connectors.cwmssim import Simulator
from syncd.app import App
from syncd.daemon.api import create_app
from syncd.daemon.metrics import Metrics
from syncd.push import outbox as store
from syncd.push.drift import DEACTIVATE, PlannedPush
from syncd.push.sender import send_pending
from syncd.settings import load_config
from syncd.store.db import begin_write
from syncd.store.migrate import upgrade
from syncd.views.outbox import outbox
from syncd.views.status import status

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

@pytest.fixture
def rt(tmp_path: Path, db_url: str) -> Iterator[App]:
    path = tmp_path / "syncd.toml"
    path.write_text(f'[database]\nurl = "{db_url}"\n')
    app = App(config=load_config(str(path)), actor="cli:test")
    upgrade(app.engine)
    yield app
    app.engine.dispose()

def _pushes(rt: App, sim: Simulator, make_client: Callable[..., CwmsClient]) -> None:
    """Two rows done and one failed (an unknown user) by a pass of the sender, then two more queued (pending)."""
    on = [a.webex_id for a in sim.accounts.values() if a.active == "ACTIVATED"][:4]
    pushes = [PlannedPush(f"{w}@example.com", w, DEACTIVATE) for w in [on[0], on[1], "nobody"]]
    with begin_write(rt.engine) as conn:
        store.enqueue(conn, "run-1", NOW, pushes)
    send_pending(rt.engine, CwmsSink(make_client(sim)), "run-2", "cli:test", NOW)
    with begin_write(rt.engine) as conn:
        store.enqueue(conn, "run-3", NOW, [PlannedPush(f"{w}@example.com", w, DEACTIVATE) for w in on[2:]])

def test_the_outbox_view_status_metrics_and_route_agree(rt: App, sim: Simulator,
                                                        make_client: Callable[..., CwmsClient]) -> None:
    _pushes(rt, sim, make_client)
    counts = {"pending": 2, "failed": 1, "done": 2}
    everything = outbox(rt)
    assert everything["counts"] == counts
    assert [r["state"] for r in everything["rows"]] == ["pending", "pending", "failed", "done", "done"]
    failed = outbox(rt, state="failed")["rows"]
    assert len(failed) == 1 and (failed[0]["webex_id"], failed[0]["exception_id"], failed[0]["reason"]) == (
        "nobody", "030001", "user unknown")
    assert failed[0]["updated_at"] == NOW.isoformat() and failed[0]["attempts"] == 1
    assert len(outbox(rt, limit=1)["rows"]) == 1

    shown = status(rt)
    assert shown["cwms"] == counts
    assert any("1 CWMS write refused by CWMS" in w for w in shown["warnings"])

    metrics = Metrics(lambda: rt)
    text = metrics.render().decode()
    for state, n in counts.items():
        assert f'syncd_cwms_outbox{{state="{state}"}} {float(n)}' in text

    service = SimpleNamespace(api_runtime=rt, api_token=None, api_read_token=None, metrics=metrics)
    with TestClient(create_app(service), base_url="http://127.0.0.1") as client:  # type: ignore[arg-type]
        answer = client.get("/api/v1/cwms/outbox", params={"state": "failed"})
        assert answer.status_code == 200 and answer.json() == outbox(rt, state="failed")
        assert client.get("/api/v1/cwms/outbox").json() == everything
        assert len(client.get("/api/v1/cwms/outbox", params={"limit": "2"}).json()["rows"]) == 2
        for bad in ({"state": "lost"}, {"limit": "many"}, {"limit": "0"}):
            r = client.get("/api/v1/cwms/outbox", params=bad)
            assert r.status_code == 400 and r.json()["error"] == "bad_request", (bad, r.text)
