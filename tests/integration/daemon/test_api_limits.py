"""The API holds path parameters and body fields to the store's limits (syncd.store.limits): an input the store
cannot hold is a 400 with a message, a valid but unknown one a 404, never a 500; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from syncd.store import limits
from tests.integration.daemon.harness import TOKEN, Daemon, wait_for

pytestmark = pytest.mark.slow

LONGEST_EMAIL = "a" * (limits.EMAIL - len("@example.com")) + "@example.com"


def bad_request(resp: httpx.Response, needle: str) -> None:
    assert resp.status_code == 400, (resp.request.url, resp.status_code, resp.text)
    body = resp.json()
    assert body["error"] == "bad_request" and needle in body["message"], body


def test_inputs_beyond_the_store_are_400_never_500(db_url: str, start_daemon: Callable[..., Daemon]):
    d = start_daemon(db_url, incremental_every="1h")
    with d.client() as anon, d.client(TOKEN) as api:
        wait_for("the first scheduled run", lambda: anon.get("/healthz").status_code == 200)
        host = d.json("users", "list", "--state", "active")[0]["email"]

        # path parameters, reachable without a token
        bad_request(anon.get("/api/v1/people/a%00b@example.com"), "control character")
        bad_request(anon.get("/api/v1/explain/a%00b@example.com"), "control character")
        bad_request(anon.get(f"/api/v1/people/a{LONGEST_EMAIL}"), "321 characters, more than 320")
        bad_request(anon.get(f"/api/v1/explain/a{LONGEST_EMAIL}"), "321 characters, more than 320")
        bad_request(anon.get("/api/v1/runs/" + "r" * (limits.RUN_ID + 1)), "run id has 33 characters")
        for path in (f"/api/v1/people/{LONGEST_EMAIL}", f"/api/v1/explain/{LONGEST_EMAIL}", "/api/v1/people/%ff@x"):
            r = anon.get(path)
            assert r.status_code == 404 and r.json()["error"] == "unknown_person", (path, r.text)
        r = anon.get("/api/v1/runs/" + "r" * limits.RUN_ID)
        assert r.status_code == 404 and r.json()["error"] == "unknown_run", r.text

        # body fields
        bad_request(api.post("/api/v1/meetings", json={"host": host, "meeting_id": "m" * 200}),
                    "meeting id has 200 characters, more than 128")
        bad_request(api.post("/api/v1/meetings", json={"host": "a" + LONGEST_EMAIL}), "321 characters")
        bad_request(api.post("/api/v1/meetings", json={"host": "a\x00b@example.com"}), "control character")
        bad_request(api.post("/api/v1/meetings", content=b'{"host": "\\udcff@x"}',
                             headers={"Content-Type": "application/json"}), "not valid UTF-8")
        for body in ({"host": 10**30}, {"host": host, "meeting_id": 10**30}, {"full": 10**30},
                     {"sources": [10**30]}, {"host": 1e308}):
            path = "/api/v1/sync" if "host" not in body else "/api/v1/meetings"
            r = api.post(path, json=body)
            assert r.status_code == 400 and r.json()["error"] == "bad_request", (body, r.text)
        bad_request(api.post("/api/v1/sync", json={"sources": ["s" * (limits.SOURCE + 1)]}), "source name has 65")
        bad_request(api.post("/api/v1/meetings", content=b'{"host": ' + b"9" * 5000 + b"}",
                             headers={"Content-Type": "application/json"}), "malformed JSON")

        # the limits themselves are valid input
        mid = "m" * limits.MEETING_ID
        granted = api.post("/api/v1/meetings", json={"host": host, "meeting_id": mid})
        assert granted.status_code == 201 and granted.json()["meeting_id"] == mid, granted.text
        bad_request(api.delete("/api/v1/meetings/" + mid + "m"), "meeting id has 129 characters")
        assert api.delete("/api/v1/meetings/" + mid).status_code == 200
        r = api.delete("/api/v1/meetings/" + mid)
        assert r.status_code == 404 and r.json()["error"] == "unknown_meeting", r.text
        r = api.post("/api/v1/meetings", json={"host": LONGEST_EMAIL})
        assert r.status_code == 404 and r.json()["error"] == "unknown_person", r.text

    assert d.json("db", "verify")["ok"] is True
