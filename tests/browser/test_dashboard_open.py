"""The dashboard and the API's new reads in process, without a read token (open, as before it) and without a
browser: the real app of a real (not started) daemon over a database (SQLite and PostgreSQL) that a real sync from
the AXL simulator filled. The browser tests (test_dashboard.py) cover what a browser sees; these, what needs
none."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import delete, select
from starlette.testclient import TestClient

from connectors.axlsim import Simulator
from syncd.app import App
from syncd.daemon.api import create_app
from syncd.daemon.dashboard import svg
from syncd.daemon.service import Daemon
from syncd.settings import load_config
from syncd.store import tables
from syncd.store.db import begin_write
from syncd.sync.pipeline import run_sync
from syncd.views import pool
from syncd.views.people import users_list
from tests.e2e.site import CucmSite
from tests.pgfixture import _conninfo, schema_url

XSS = "<script>alert(1)</script>"


def _client(root: Path, sim: Simulator, sync: bool, url: str | None = None) -> tuple[TestClient, App]:
    site = CucmSite(root, url or f"sqlite:///{root}/syncd.db", sim)
    rt = App(config=load_config(str(site.config)), actor="cli:test")
    if sync:
        assert run_sync(rt, mode="apply").result == "applied"
    return TestClient(create_app(Daemon(rt)), base_url="http://127.0.0.1"), rt


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def synced(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, App]]:
    """The app over a synced database: SQLite, then a fresh PostgreSQL schema (dropped afterwards)."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    role = request.getfixturevalue("pg_role") if request.param == "postgresql" else None
    if role is not None:
        with psycopg.connect(_conninfo(role), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with Simulator(120, seed=3, tls=True) as sim:
            sim.add_user("xss.user", "xss.user@example.com", XSS, None)
            client, rt = _client(tmp_path_factory.mktemp("open"), sim, sync=True,
                                 url=schema_url(role, schema) if role else None)
            yield client, rt
            rt.engine.dispose()
    finally:
        if role is not None:
            with psycopg.connect(_conninfo(role), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_open_without_a_read_token(synced: tuple[TestClient, App]) -> None:
    client, _ = synced
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 303 and root.headers["location"] == "/ui/"
    for path in ("/ui/", "/ui/people", "/ui/static/style.css", "/ui/static/dashboard.js", "/ui/nowhere"):
        r = client.get(path)
        assert r.headers["content-security-policy"].startswith("default-src 'self'"), path
        assert r.headers["x-frame-options"] == "DENY", path
    assert client.get("/ui/").status_code == 200
    assert client.get("/api/v1/licenses").status_code == 200
    assert client.get("/ui/login", follow_redirects=False).headers["location"] == "/ui/"
    page = client.get("/ui/").text
    assert "<script" not in page.replace('<script src="/ui/static/dashboard.js" defer></script>', "")
    assert " style=" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_people_pages_walk_everyone_once(synced: tuple[TestClient, App]) -> None:
    client, rt = synced
    everyone = [p["email"] for p in users_list(rt)]
    seen: list[str] = []
    after = None
    while True:
        body = client.get("/api/v1/people", params={"limit": 17, **({"after": after} if after else {})}).json()
        seen += [p["email"] for p in body["people"]]
        after = body["next"]
        if after is None:
            break
    assert seen == everyone
    active = client.get("/api/v1/people", params={"state": "active", "limit": 500}).json()["people"]
    assert active and all(p["active"] for p in active)
    assert len(active) == sum(1 for p in users_list(rt, state="active"))
    assert client.get("/api/v1/people", params={"license": "grace"}).json() == {"people": [], "next": None}


def test_search_by_email_userid_and_name(synced: tuple[TestClient, App]) -> None:
    client, rt = synced
    person = next(p for p in users_list(rt, state="active") if p["sources"].get("cucm") and not p["conflict"]
                  and isinstance(p["sources"]["cucm"], dict))
    userid, name = person["sources"]["cucm"]["userid"], person["name"]

    def found(q: str) -> list[str]:
        return [p["email"] for p in client.get("/api/v1/people", params={"q": q, "limit": 500}).json()["people"]]

    assert person["email"] in found(userid.swapcase())
    assert person["email"] in found(person["email"][:6].upper())
    assert person["email"] in found(name.split()[-1].lower())      # the start of a name's last word
    assert person["email"] in found(name.split()[0][:3].upper())    # of its first
    first, last = name.split()[0], name.split()[-1]
    assert len(first) > 2 and person["email"] not in found(first[1:] + " " + last)     # not from its middle
    assert found("xss.user") == ["xss.user@example.com"]
    assert found("no such person anywhere") == []
    html = client.get("/ui/people", params={"q": "<SCRIPT>"}).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS not in html


def test_journal_pages_and_filters(synced: tuple[TestClient, App]) -> None:
    client, _ = synced
    first = client.get("/api/v1/journal", params={"limit": 5}).json()
    assert len(first["rows"]) == 5 and first["next"] == first["rows"][-1]["id"]
    ids = [r["id"] for r in first["rows"]]
    assert ids == sorted(ids, reverse=True)
    older = client.get("/api/v1/journal", params={"limit": 5, "before": first["next"]}).json()
    assert older["rows"][0]["id"] < ids[-1]
    created = client.get("/api/v1/journal", params={"event": "created", "limit": 500}).json()["rows"]
    assert created and {r["event"] for r in created} == {"created"}
    mine = client.get("/ui/journal", params={"person": "XSS.User@example.com"})
    assert mine.status_code == 200 and "xss.user@example.com" in mine.text
    assert client.get("/ui/journal", params={"since": "yesterday-ish"}).status_code == 400
    assert client.get("/ui/journal", params={"since": "2026-01-01", "until": "2999-01-01T00:00"}).status_code == 200


def test_bad_queries_are_a_page_not_a_traceback(synced: tuple[TestClient, App]) -> None:
    client, _ = synced
    r = client.get("/ui/people", params={"state": "asleep"})
    assert r.status_code == 400 and "state must be one of" in r.text
    assert client.get("/ui/people/nobody@example.com").status_code == 404
    assert client.get("/api/v1/people", params={"limit": "0"}).status_code == 400
    assert client.get("/api/v1/journal", params={"before": "x"}).status_code == 400


def test_empty_states_say_what_to_do(tmp_path: Path) -> None:
    with Simulator(5, seed=1, tls=True) as sim:
        client, rt = _client(tmp_path, sim, sync=False)
        try:
            assert "No sync has run yet: run <code>syncd sync</code>" in client.get("/ui/").text
            assert "No people yet: run <code>syncd sync</code>" in client.get("/ui/people").text
            assert "The journal is empty" in client.get("/ui/journal").text
            assert "No sync has run yet" in client.get("/ui/runs").text
        finally:
            rt.engine.dispose()


def test_the_grace_timeline_counts_each_week_in_sql(synced: tuple[TestClient, App]) -> None:
    """``grace_weeks`` (julianday on SQLite, epoch seconds on PostgreSQL) puts each active Grace license in the week
    its expiry falls in, counted from now: past ones in the first, later ones in the last."""
    _, rt = synced
    now = datetime.now(UTC)
    offsets = [timedelta(days=-3), timedelta(hours=1), timedelta(days=6, hours=23), timedelta(days=7, hours=1),
               timedelta(days=100), timedelta(days=400)]
    p, lic = tables.people, tables.licenses
    with rt.engine.connect() as conn:
        ids = list(conn.execute(select(p.c.id).where(p.c.id.not_in(select(lic.c.person_id)))
                                .order_by(p.c.id).limit(len(offsets) + 1)).scalars())
    rows = [{"person_id": pid, "kind": "grace", "management": "local", "assigned_at": now, "expires_at": now + off,
             "state": "active", "demo_grant_id": None} for pid, off in zip(ids, offsets, strict=False)]
    rows.append({**rows[0], "person_id": ids[-1], "state": "expired"})       # not counted: expired
    with begin_write(rt.engine) as conn:
        conn.execute(lic.insert(), rows)
    try:
        want = [0] * svg.WEEKS
        for off in offsets:
            want[max(0, min(svg.WEEKS - 1, int(off / timedelta(weeks=1))))] += 1
        assert pool.grace_weeks(rt, now, svg.WEEKS) == want
        assert want[:2] == [3, 1] and want[-1] == 1 and sum(want) == len(offsets)
    finally:
        with begin_write(rt.engine) as conn:
            conn.execute(delete(lic).where(lic.c.person_id.in_(ids)))
