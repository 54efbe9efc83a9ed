"""The outbox and its sender on SQLite and PostgreSQL, against the CWMS simulator over TLS: the simulator is written
exactly the outbox's rows, each outcome is marked and journaled with CWMS's exceptionID, and a second pass sends
nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from connectors.cwms.client import CwmsClient
from connectors.cwms.sink import CwmsSink
from connectors.cwmssim import Simulator
from syncd.push import outbox
from syncd.push.drift import ACTIVATE, DEACTIVATE, PlannedPush
from syncd.push.sender import send_pending
from syncd.store import tables
from syncd.store.db import begin_write

MakeClient = Callable[..., CwmsClient]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _ids(sim: Simulator, active: str, n: int) -> list[str]:
    found = [a.webex_id for a in sim.accounts.values() if a.active == active][:n]
    assert len(found) == n
    return found


def _push(webex_id: str, action: str = DEACTIVATE) -> PlannedPush:
    return PlannedPush(f"{webex_id}@example.com", webex_id, action)


def _enqueue(engine: Engine, pushes: list[PlannedPush], run_id: str = "run-1") -> int:
    with begin_write(engine) as conn:
        return outbox.enqueue(conn, run_id, NOW, pushes)


def _rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(tables.outbox).order_by(tables.outbox.c.id))]


def _journal(engine: Engine) -> list[dict[str, Any]]:
    j = tables.journal
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(j).where(j.c.event == "cwms_push").order_by(j.c.id))]


def _send(engine: Engine, sim: Simulator, make_client: MakeClient, **kw: Any) -> Any:
    client_kw = {k: kw.pop(k) for k in ("password", "retries") if k in kw}
    return send_pending(engine, CwmsSink(make_client(sim, **client_kw)), "run-2", "cli:tester",
                        NOW + timedelta(minutes=5), **kw)


def test_the_simulator_is_written_exactly_the_outbox(engine: Engine, sim: Simulator, make_client: MakeClient):
    on = _ids(sim, "ACTIVATED", 3)
    [off] = _ids(sim, "DEACTIVATED", 1)
    with sim.lock:       # full once the two deactivations below have freed two licenses
        sim.host_limit = sim.activated() - 2
    pushes = [_push(on[0]), _push(on[1]), _push(off), _push("nobody"), _push(off, ACTIVATE)]
    assert _enqueue(engine, pushes) == 5
    assert _enqueue(engine, [*pushes, _push(on[2])]) == 1        # what is pending already is not queued twice

    s = _send(engine, sim, make_client)
    assert (s.pushed, s.already, s.failed, s.retry, s.pending, s.error) == (3, 1, 2, 0, 0, None)
    assert sim.written() == [(on[0], "DEACTIVATED"), (on[1], "DEACTIVATED"), (on[2], "DEACTIVATED")]
    assert [r["state"] for r in _rows(engine)] == ["done", "done", "done", "failed", "failed", "done"]
    assert [o["outcome"] for o in s.outcomes] == ["done", "done", "already", "failed", "failed", "done"]
    rows = _rows(engine)
    assert (rows[3]["exception_id"], rows[3]["reason"], rows[3]["attempts"]) == ("030001", "user unknown", 1)
    assert rows[4]["exception_id"] == "030048" and "exceededSiteHostLimit" in rows[4]["reason"]
    assert rows[4]["updated_at"] == NOW + timedelta(minutes=5)

    journal = _journal(engine)
    assert len(journal) == 6
    first = journal[0]
    assert (first["person"], first["actor"], first["run_id"], first["source"]) == (
        f"{on[0]}@example.com", "cli:tester", "run-2", "cwms")
    assert first["sentence"] == f"deactivated CWMS account {on[0]} of {on[0]}@example.com (was ACTIVATED)"
    assert first["before"] == {"active": "ACTIVATED"}
    assert first["after"]["outcome"] == "done" and first["after"]["webex_id"] == on[0]
    assert journal[3]["after"]["exception_id"] == "030001"
    assert journal[4]["sentence"].startswith(f"CWMS refused to activate CWMS account {off} of ")
    assert "030048 exceededSiteHostLimit" in journal[4]["sentence"]
    assert journal[2]["sentence"] == f"CWMS account {off} of {off}@example.com already DEACTIVATED: nothing written"

    before = sim.request_count
    again = _send(engine, sim, make_client)          # nothing pending: nothing read, nothing written
    assert (again.pushed, again.pending, again.outcomes) == (0, 0, [])
    assert sim.request_count == before and len(_journal(engine)) == 6
    with engine.connect() as conn:
        assert outbox.counts(conn) == {"pending": 0, "failed": 2, "done": 4}
        assert [r.state for r in outbox.listed(conn, state="failed")] == ["failed", "failed"]
        assert [r.id for r in outbox.listed(conn, limit=2)] == [6, 5]


def test_a_temporary_fault_leaves_the_row_pending_for_the_next_pass(engine: Engine, sim: Simulator,
                                                                    make_client: MakeClient):
    a, b = _ids(sim, "ACTIVATED", 2)
    _enqueue(engine, [_push(a), _push(b)])
    sim.inject_fault("503", 4, op="SetUser")         # the first row's SetUser and its one retry, then the second's
    s = _send(engine, sim, make_client, retries=1)
    assert (s.pushed, s.retry, s.pending, s.error) == (0, 2, 2, None)
    rows = _rows(engine)
    assert [(r["state"], r["attempts"]) for r in rows] == [("pending", 1), ("pending", 1)]
    assert "HTTP 503" in rows[0]["reason"]
    assert sim.written() == []
    assert [j["after"]["outcome"] for j in _journal(engine)] == ["retry", "retry"]
    assert "left pending" in _journal(engine)[0]["sentence"]

    s = _send(engine, sim, make_client)
    assert (s.pushed, s.pending) == (2, 0)
    assert sim.written() == [(a, "DEACTIVATED"), (b, "DEACTIVATED")]
    assert [(r["state"], r["attempts"]) for r in _rows(engine)] == [("done", 2), ("done", 2)]


def test_a_stop_ends_the_batch_and_keeps_the_rest_pending(engine: Engine, sim: Simulator, make_client: MakeClient):
    ids = _ids(sim, "ACTIVATED", 3)
    _enqueue(engine, [_push(x) for x in ids])
    s = _send(engine, sim, make_client, password="wrong")
    assert s.error == (f"CWMS site {sim.site_name} (127.0.0.1:{sim.port}): GetUser: FAILURE 030002: "
                       "Incorrect user or password")
    assert (s.pushed, s.retry, s.pending, len(s.outcomes)) == (0, 1, 3, 1)
    assert [r["attempts"] for r in _rows(engine)] == [1, 0, 0]       # only the first was tried
    assert sim.request_count == 1 and sim.audit() == []
    assert len(_journal(engine)) == 1


def test_a_row_sent_before_a_crash_comes_back_already(engine: Engine, sim: Simulator, make_client: MakeClient):
    [a] = _ids(sim, "ACTIVATED", 1)
    _enqueue(engine, [_push(a)])
    sim.set_active(a, "DEACTIVATED")        # as if sent, and the process killed before the row was marked
    s = _send(engine, sim, make_client)
    assert (s.pushed, s.already) == (0, 1)
    assert sim.audit() == [] and [r["state"] for r in _rows(engine)] == ["done"]


def test_a_dry_run_writes_nothing_anywhere(engine: Engine, sim: Simulator, make_client: MakeClient):
    a, b = _ids(sim, "ACTIVATED", 2)
    [off] = _ids(sim, "DEACTIVATED", 1)
    _enqueue(engine, [_push(a), _push(b), _push(off), _push("nobody")])
    rows = _rows(engine)
    s = _send(engine, sim, make_client, dry_run=True)
    assert s.to_dict()["dry_run"] is True
    assert (s.pushed, s.already, s.failed, s.retry, s.pending) == (2, 1, 1, 0, 4)
    assert all(o["sentence"].startswith("would ") for o in s.outcomes)
    assert s.outcomes[0]["sentence"] == f"would deactivate CWMS account {a} of {a}@example.com (now ACTIVATED)"
    assert _rows(engine) == rows and _journal(engine) == []
    assert sim.audit() == [] and set(sim.ops) == {"GetUser"}


def test_limit_sends_the_oldest_first(engine: Engine, sim: Simulator, make_client: MakeClient):
    ids = _ids(sim, "ACTIVATED", 3)
    _enqueue(engine, [_push(x) for x in ids])
    s = _send(engine, sim, make_client, limit=2)
    assert (s.pushed, s.pending) == (2, 1)
    assert sim.written() == [(ids[0], "DEACTIVATED"), (ids[1], "DEACTIVATED")]
    assert s.to_dict().keys() == {"dry_run", "pushed", "already", "failed", "retry", "pending", "error", "outcomes"}
    assert s.outcomes[0].keys() == {"email", "webex_id", "action", "outcome", "exception_id", "reason", "before",
                                    "sentence"}
