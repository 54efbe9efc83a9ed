"""A meeting id that a terminal would obey, given through the HTTP API, is shown escaped by `syncd journal` and
kept exact by `--json` (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

import pytest

from tests.integration.daemon.harness import TOKEN, Daemon, wait_for

pytestmark = pytest.mark.slow

# The API refuses C0 and C1 controls in a meeting id; bidi controls and separators come through.
MEETING, SHOWN = "api\u202e\u2028\u2066\u200f\u2029\u061c-1", r"api\u202e\u2028\u2066\u200f\u2029\u061c-1"
OBEYED = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def test_meeting_id_from_the_api_is_shown_escaped(db_url: str, start_daemon: Callable[..., Daemon]):
    d = start_daemon(db_url, incremental_every="1h")
    with d.client() as anon:
        wait_for("the first scheduled run", lambda: anon.get("/healthz").status_code == 200)
    host = d.json("users", "list", "--state", "active")[0]["email"]
    with d.client(TOKEN) as api:
        started = api.post("/api/v1/meetings", json={"host": host, "meeting_id": MEETING})
        assert started.status_code == 201 and started.json()["meeting_id"] == MEETING, started.text
        ended = api.delete(f"/api/v1/meetings/{quote(MEETING, safe='')}")
        assert ended.status_code == 200, ended.text
    proc = d.run("journal")
    assert not OBEYED.search(proc.stdout + proc.stderr)
    assert f"meeting {SHOWN} ended" in proc.stdout
    assert any(r["sentence"] == f"meeting {MEETING} ended" for r in d.json("journal"))
