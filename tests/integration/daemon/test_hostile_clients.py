"""The API against slow and hostile clients (syncd/daemon/server.py, api.py): connections that never finish their
request head, a DNS-rebinding Host header, and request bodies that are not JSON; on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from syncd.daemon.server import HEAD_TIMEOUT, RESERVED_FDS
from tests.integration.daemon.harness import TOKEN, Daemon, wait_for

pytestmark = pytest.mark.slow

NOFILE = RESERVED_FDS + 128     # the daemon's file limit: an API connection cap of 128
SLOW_CLIENTS = 300              # more than the cap and than the file limit, as 1,100 against `ulimit -n 1024`


@contextmanager
def half_requests(base_url: str, n: int) -> Iterator[list[socket.socket]]:
    """``n`` connections to ``base_url`` that each sent half a request line; all closed at the end."""
    url = httpx.URL(base_url)
    assert url.host == "127.0.0.1" and url.port is not None
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.create_connection((url.host, url.port), timeout=5)
            s.sendall(b"GET /healthz HT")
            socks.append(s)
        yield socks
    finally:
        for s in socks:
            s.close()


def closed_by_server(s: socket.socket, deadline: float) -> bool:
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        return s.recv(1024) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _pings(d: Daemon) -> int:
    return sum(1 for m in list(d.notify.messages) if m.get("WATCHDOG") == "1")


def test_half_open_connections_beyond_the_cap(db_url: str, start_daemon: Callable[..., Daemon]):
    d = start_daemon(db_url, incremental_every="1h", nofile=NOFILE)
    with d.client() as anon:
        wait_for("the first scheduled run", lambda: anon.get("/healthz").status_code == 200)
    lines, pings = len(d.lines), _pings(d)

    with half_requests(d.base_url, SLOW_CLIENTS) as slow:
        opened = time.monotonic()
        with d.client() as anon:
            started = time.monotonic()
            assert anon.get("/healthz").status_code == 200
            assert time.monotonic() - started < 1.0
        deadline = opened + HEAD_TIMEOUT + 5
        assert all(closed_by_server(s, deadline) for s in slow)

    assert _pings(d) - pings >= 3, "the watchdog pings stopped under the connection load"
    assert len(d.lines) - lines < 20, d.lines[lines:lines + 20]
    with d.client() as anon:
        assert anon.get("/healthz").status_code == 200


def test_host_header_against_dns_rebinding(db_url: str, start_daemon: Callable[..., Daemon]):
    d = start_daemon(db_url, incremental_every="1h", allowed_hosts=("syncd.example.org",))
    port = d.base_url.rsplit(":", 1)[1]
    with d.client() as anon:
        for host in (f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}",
                     "syncd.example.org", "Syncd.Example.Org:443"):
            r = anon.get("/api/v1/runs", headers={"Host": host})
            assert r.status_code == 200, (host, r.status_code, r.text)
        for host in ("rebind.example.com", f"rebind.example.com:{port}", "127.0.0.1.rebind.example.com",
                     "example.org", "syncd.example.org.evil"):
            for path in ("/api/v1/licenses", "/api/v1/people/a@example.com", "/healthz"):
                r = anon.get(path, headers={"Host": host})
                assert r.status_code == 400 and r.json()["error"] == "bad_host", (host, path, r.text)


def test_mutating_calls_take_only_json(db_url: str, start_daemon: Callable[..., Daemon]):
    d = start_daemon(db_url, incremental_every="1h")
    body = b'{"host": "nobody@example.com"}'
    with d.client(TOKEN) as api:
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
            headers = {"Content-Type": ctype} if ctype else {}
            for path in ("/api/v1/meetings", "/api/v1/sync"):
                r = api.post(path, content=body if path.endswith("meetings") else b"{}", headers=headers)
                assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type", (ctype, r.text)
        for ctype in ("application/json", "Application/JSON; charset=utf-8"):
            r = api.post("/api/v1/meetings", content=body, headers={"Content-Type": ctype})
            assert r.status_code == 404 and r.json()["error"] == "unknown_person", (ctype, r.text)
