"""The systemd notification protocol: datagrams to a path or an abstract socket; the watchdog interval."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from syncd.daemon.notify import Notifier, watchdog_interval


def _recv(sock: socket.socket) -> dict[str, str]:
    sock.settimeout(10)
    return dict(line.split("=", 1) for line in sock.recv(4096).decode().splitlines())


def test_abstract_socket():
    name = f"syncd-notify-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(b"\0" + name.encode())
        n = Notifier("@" + name)
        assert n.enabled and n.ready("ready;\n API up")
        assert _recv(s) == {"READY": "1", "STATUS": "ready; API up"}     # one line per field, always
        assert n.watchdog() and _recv(s) == {"WATCHDOG": "1"}
        assert n.stopping() and _recv(s)["STOPPING"] == "1"
        assert n.reloading() and int(_recv(s)["MONOTONIC_USEC"]) > 0


def test_path_socket(tmp_path: Path):
    short = Path("/tmp") / f"sn-{uuid.uuid4().hex[:8]}"        # sun_path is at most 107 bytes
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(str(short))
        try:
            assert Notifier(str(short)).status("last run ok")
            assert _recv(s) == {"STATUS": "last run ok"}
        finally:
            short.unlink()


def test_without_systemd_every_call_is_a_no_op(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not Notifier().enabled and Notifier().ready("x") is False
    # a socket that went away is no reason to stop working
    assert Notifier(str(tmp_path / "gone")).watchdog() is False


def test_watchdog_interval():
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "60000000"}) == timedelta(seconds=30)
    assert watchdog_interval({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}) == timedelta(seconds=30)
    assert watchdog_interval({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid() + 1)}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None and watchdog_interval({"WATCHDOG_USEC": "x"}) is None
