"""The API's guards that the daemon tests cannot provoke: the connection cap's arithmetic, the Host names, and the
rate limit on asyncio's accept error (the cap keeps the daemon from ever hitting it)."""

from __future__ import annotations

import logging
import resource

import pytest

from syncd.daemon.api import host_allowed
from syncd.daemon.server import MAX_CONNECTIONS, RESERVED_FDS, AcceptErrorFilter, connection_cap
from syncd.settings.schema import ApiConfig


def test_the_cap_stays_below_the_file_limit():
    assert connection_cap(1024) == 1024 - RESERVED_FDS
    assert connection_cap(8192) == MAX_CONNECTIONS
    assert connection_cap(resource.RLIM_INFINITY) == MAX_CONNECTIONS
    assert connection_cap(16) == 8


def _record(msg: str) -> logging.LogRecord:
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, None, None)


def test_accept_errors_pass_once_per_interval():
    f = AcceptErrorFilter(every=60)
    accept = "socket.accept() out of system resource"
    assert [f.filter(_record(accept)) for _ in range(1000)].count(True) == 1
    assert f.filter(_record("Task exception was never retrieved"))


@pytest.mark.parametrize(("header", "ok"), [
    ("127.0.0.1:8765", True), ("localhost", True), ("[::1]:8765", True), ("10.0.0.5:8765", True),
    ("proxy.example.org", True), ("PROXY.example.org:443", True), ("", False), ("rebind.example.com", False),
    ("10.0.0.5.rebind.example.com", False), ("[::2]:8765", False),
])
def test_host_names(header: str, ok: bool):
    api = ApiConfig(listen="10.0.0.5:8765", allowed_hosts=["Proxy.Example.org"])
    assert host_allowed(header, api) is ok


def test_allowed_hosts_are_names_without_port():
    for bad in ("proxy.example.org:443", "https://proxy", "*.example.org", "a b"):
        with pytest.raises(ValueError, match="host name or address"):
            ApiConfig(allowed_hosts=[bad])
    assert ApiConfig(allowed_hosts=["[::1]", "fe80::1"]).allowed_hosts == ["::1", "fe80::1"]
