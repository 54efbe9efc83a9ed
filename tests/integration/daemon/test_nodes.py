"""Two `syncd run` processes on one PostgreSQL database: one leads the schedule, the other takes over when the
leader dies, and grants through either node never exceed the licenses installed."""

from __future__ import annotations

import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.integration.daemon.harness import TOKEN, Daemon, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _ran_schedule(d: Daemon) -> bool:
    return bool(d.events("source read"))


def test_two_nodes_one_leader_and_takeover(pg_url: str, start_daemon: Callable[..., Daemon]):
    a = start_daemon(pg_url, incremental_every="2s")
    b = start_daemon(pg_url, incremental_every="2s")
    assert a.notify.find("READY", "1")["STATUS"].startswith("leader;")
    assert b.notify.find("READY", "1")["STATUS"].startswith("standby;")
    wait_for("a few scheduled runs on the leader", lambda: len(a.events("source read")) >= 3)
    assert not _ran_schedule(b)

    a.run("licenses", "purchase", "3")
    hosts = [p["email"] for p in a.json("users", "list", "--state", "active")][:20]

    def start(i: int) -> httpx.Response:
        node = a if i % 2 else b
        with node.client(TOKEN) as c:
            return c.post("/api/v1/meetings", json={"host": hosts[i], "meeting_id": f"n-{i}"})

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(start, range(20)))
    granted = sorted(r.json()["license_kind"] for r in answers if r.status_code == 201)
    assert granted == ["grace"] * 2 + ["permanent"] * 3, [r.text for r in answers]     # grace_limit = 2
    assert sum(r.status_code == 409 for r in answers) == 15
    with a.client() as ca, b.client() as cb:
        assert ca.get("/api/v1/licenses").json()["in_use"] == cb.get("/api/v1/licenses").json()["in_use"]

    a.signal(signal.SIGKILL)
    assert a.proc is not None and a.proc.wait(timeout=60) == -signal.SIGKILL
    wait_for("the standby to lead", lambda: b.events("leader lock taken: this daemon runs the schedule"))
    wait_for("a scheduled run on the new leader", lambda: _ran_schedule(b))
    assert any(m.get("STATUS", "").startswith("leader;") for m in b.notify.messages)
    assert b.stop() == 0
