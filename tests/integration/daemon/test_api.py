"""The daemon's HTTP API: bearer tokens, request validation, meetings by R1-R4, and concurrent grants that never
exceed the installed Permanent licenses plus the Grace allowance (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.integration.daemon.harness import TOKEN, Daemon, wait_for

pytestmark = pytest.mark.slow


def _samples(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line and not line.startswith("#")}


def _hosts(d: Daemon, n: int) -> list[str]:
    people = [p for p in d.json("users", "list", "--state", "active") if p["license"] is None]
    assert len(people) >= n
    return [p["email"] for p in people[:n]]


def test_meetings_over_http(db_url: str, start_daemon: Callable[..., Daemon]):
    d = start_daemon(db_url, incremental_every="1h")
    with d.client() as anon:
        wait_for("the first scheduled run", lambda: anon.get("/healthz").status_code == 200)
    d.run("licenses", "purchase", "10")
    hosts = _hosts(d, 51)
    body = {"host": hosts[0], "meeting_id": "m-first"}

    with d.client() as anon, d.client("not-the-token") as wrong, d.client(TOKEN) as api:
        # mutating calls need the bearer token in the header
        for resp in (anon.post("/api/v1/meetings", json=body), wrong.post("/api/v1/meetings", json=body),
                     anon.post(f"/api/v1/meetings?token={TOKEN}", json=body),
                     anon.delete("/api/v1/meetings/m-first"), anon.post("/api/v1/sync", json={})):
            assert resp.status_code == 401 and resp.json()["error"] == "unauthorized", resp.text
        assert api.post(f"/api/v1/meetings?access_token={TOKEN}", json=body).status_code == 401
        # bodies are validated
        bad = api.post("/api/v1/meetings", content=b'{"host": ', headers={"Content-Type": "application/json"})
        assert bad.status_code == 400 and "malformed JSON" in bad.json()["message"]
        huge = api.post("/api/v1/meetings", json={"host": "x" * 100_000})
        assert huge.status_code == 400 and "larger than" in huge.json()["message"]
        for wrong_body in ([1, 2], {"meeting_id": "x"}, {"host": 5}, {"host": hosts[0], "colour": "red"}):
            r = api.post("/api/v1/meetings", json=wrong_body)
            assert r.status_code == 400 and r.json()["message"], (wrong_body, r.text)
        r = api.post("/api/v1/meetings", json={"host": "nobody@nowhere.example"})
        assert r.status_code == 404 and r.json()["error"] == "unknown_person"
        assert api.get("/api/v1/licenses").json()["free_permanent"] == 10

        # 50 hosts at once, 10 free Permanent and a Grace limit of 2: exactly 12 grants
        def start(i: int) -> httpx.Response:
            with d.client(TOKEN) as c:
                return c.post("/api/v1/meetings", json={"host": hosts[i], "meeting_id": f"m-{i}"})

        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(start, range(50)))
        granted = [r.json() for r in answers if r.status_code == 201]
        refused = [r.json() for r in answers if r.status_code == 409]
        assert len(granted) == 12 and len(refused) == 38, [r.status_code for r in answers]
        assert sorted(g["license_kind"] for g in granted) == ["grace"] * 2 + ["permanent"] * 10
        assert all(r["error"] == r["reason"] and r["message"] and r["granted"] is False for r in refused)
        report = api.get("/api/v1/licenses").json()
        assert report["in_use"]["permanent"] == 10 and report["in_use"]["grace"] == 2
        assert report["free_permanent"] == 0 and report["open_meetings"] == 12
        metrics = _samples(api.get("/metrics").text)
        assert sum(v for k, v in metrics.items() if k.startswith('syncd_licenses{kind="permanent"')) == 10
        assert metrics["syncd_grace_licenses_in_use"] == 2 and metrics["syncd_permanent_licenses_free"] == 0
        assert 0 < metrics["syncd_grace_next_expiry_days"] <= 366

        # R1/R2: a licensed host hosts again under the same license; the same id for the same host is the same
        # grant, for another host a conflict; R4: a host without a license gets none once all are taken
        holder = granted[0]
        who = hosts[int(holder["meeting_id"].split("-")[1])]
        again = api.post("/api/v1/meetings", json={"host": who, "meeting_id": holder["meeting_id"]})
        assert again.status_code == 201 and again.json()["license_kind"] == holder["license_kind"]
        taken = api.post("/api/v1/meetings", json={"host": hosts[50], "meeting_id": holder["meeting_id"]})
        assert taken.status_code == 409 and taken.json()["error"] == "meeting_id_in_use"
        none_left = api.post("/api/v1/meetings", json={"host": hosts[50]})
        assert none_left.status_code == 409 and none_left.json()["error"]
        person = api.get(f"/api/v1/people/{who}").json()
        assert person["license"]["kind"] == holder["license_kind"]
        assert api.get("/api/v1/people/nobody@nowhere.example").status_code == 404

        ended = api.delete(f"/api/v1/meetings/{holder['meeting_id']}")
        assert ended.status_code == 200 and ended.json()["meeting_id"] == holder["meeting_id"]
        assert api.delete(f"/api/v1/meetings/{holder['meeting_id']}").status_code == 404
        reused = api.post("/api/v1/meetings", json={"host": who, "meeting_id": holder["meeting_id"]})
        assert reused.status_code == 409 and reused.json()["error"] == "meeting_id_in_use", reused.text
        assert api.get("/api/v1/licenses").json()["open_meetings"] == 11

        sync = api.post("/api/v1/sync", json={"full": False, "wait": True})
        assert sync.status_code == 200 and sync.json()["result"] in ("no_changes", "applied")
        assert api.post("/api/v1/sync", json={"full": "yes"}).status_code == 400
        # the read routes answer with the views the CLI's --json prints
        run = api.get(f"/api/v1/runs/{sync.json()['run_id']}").json()
        assert {k: run[k] for k in ("run_id", "result", "sources", "changes")} == {
            k: sync.json()[k] for k in ("run_id", "result", "sources", "changes")}
        unknown = api.get("/api/v1/runs/no-such-run")
        assert unknown.status_code == 404 and unknown.json()["error"] == "unknown_run"
        assert api.get("/api/v1/runs").json() == d.json("status")["runs"]
        explained, shown = api.get(f"/api/v1/explain/{who}").json(), d.json("explain", who)
        assert {k: explained[k] for k in ("email", "license", "if_hosting", "sources")} == {
            k: shown[k] for k in ("email", "license", "if_hosting", "sources")}
        assert api.get("/api/v1/explain/nobody@nowhere.example").status_code == 404
    journal = d.json("journal", "--person", who)
    assert any(r["actor"] == "api" for r in journal)
    d.run("db", "verify")
    assert d.stop() == 0
    assert not [line for line in d.lines if "not-the-token" in line]
