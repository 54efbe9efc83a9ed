"""`syncd run` as a subprocess: its configuration, its notify socket, its log lines and its HTTP API."""

from __future__ import annotations

import json
import logging
import os
import resource
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests import secretscan
from tests.e2e.site import SYNCD, Command

T = TypeVar("T")
TOKEN = "tok-" + uuid.uuid4().hex       # the API bearer token of every test daemon
WAIT = 90.0                             # generous: a loaded 2-core CI machine

# The test client's own INFO line per request carries its URL, and test_api puts TOKEN in a query string on
# purpose (to see it refused): that line would leak the token into the run's output (tests/secretscan.py).
logging.getLogger("httpx").setLevel(logging.WARNING)


def wait_for(what: str, fn: Callable[[], T | None], timeout: float = WAIT, every: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


class NotifySocket:
    """A datagram socket in the abstract namespace standing in for systemd's; collects what the daemon sends."""

    def __init__(self) -> None:
        self.name = f"@syncd-test-{uuid.uuid4().hex}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(b"\0" + self.name[1:].encode())
        self.sock.settimeout(0.5)
        self.messages: list[dict[str, str]] = []
        self._closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while not self._closed:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.messages.append(fields)

    def find(self, key: str, value: str | None = None) -> dict[str, str] | None:
        return next((m for m in list(self.messages) if key in m and (value is None or m[key] == value)), None)

    def close(self) -> None:
        self._closed = True
        self.sock.close()


class Daemon(Command):
    """One `syncd run` process in ``root`` on ``db_url``, reading CUCM at ``cucm_url``."""

    def __init__(self, root: Path, db_url: str, cucm_url: str, username: str, password: str, ca_file: str,
                 incremental_every: str = "2s", ad: Any = None, allowed_hosts: tuple[str, ...] = (),
                 nofile: int | None = None) -> None:
        """``ad``: a running Samba DC (tests.integration.samba.harness.SambaDC) to read as a second source;
        ``nofile``: the daemon's file limit (RLIMIT_NOFILE), as ``ulimit -n``."""
        self.root = root
        self.nofile = nofile
        self.secrets = [password, TOKEN] + ([ad.password] if ad is not None else [])
        secret = self.write_secret("cucm.secret", password)
        token = self.write_secret("api.token", TOKEN)
        self.config_text = (
            f'[database]\nurl = "{db_url}"\n\n[[sources.cucm]]\nname = "cucm"\nurl = "{cucm_url}"\n'
            f'username = "{username}"\npassword_file = "{secret}"\nca_file = "{ca_file}"\n'
            'page_size = 200\nretries = 0\ntimeout = 10.0\n\n[licenses]\ngrace_limit = 2\n\n'
            f'[schedule]\nincremental_every = "{incremental_every}"\nsweep_every = "1h"\nmisfire_grace = "30s"\n\n'
            f'[api]\nlisten = "127.0.0.1:0"\ntoken_file = "{token}"\n'
            f'allowed_hosts = {json.dumps(list(allowed_hosts))}\n\n[logging]\nlevel = "INFO"\nformat = "json"\n')
        if ad is not None:
            ad_secret = self.write_secret("ad.secret", ad.password)
            self.config_text += (
                f'\n[[sources.ad]]\nname = "ad"\nurls = ["{ad.url}"]\nbind_dn = "{ad.bind_dn}"\n'
                f'password_file = "{ad_secret}"\nca_file = "{ad.ca_file}"\ntls_name = "{ad.tls_name}"\n'
                f'base_dns = ["{ad.users_ou}"]\nhost_group = "{ad.host_group_dn}"\nconnect_timeout = 3\n')
        self.config.write_text(self.config_text)
        self.config.chmod(0o600)
        self.notify = NotifySocket()
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self._collectors: list[threading.Thread] = []
        self.base_url = ""

    def start(self) -> Daemon:
        env = {**os.environ, "SYNCD_CONFIG": "", "NOTIFY_SOCKET": self.notify.name, "WATCHDOG_USEC": "2000000"}
        env.pop("WATCHDOG_PID", None)
        self.proc = subprocess.Popen([SYNCD, "--config", str(self.config), "run"], cwd=self.root, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, preexec_fn=self._limit_files if self.nofile else None)
        self._collectors = [threading.Thread(target=self._collect, args=(stream,), daemon=True)
                            for stream in (self.proc.stdout, self.proc.stderr)]
        for t in self._collectors:
            t.start()
        ready = wait_for("READY=1 on the notify socket", lambda: self.notify.find("READY", "1") or self._died())
        address = ready["STATUS"].split("API on ")[1].split(";")[0]
        self.base_url = address
        return self

    def _limit_files(self) -> None:
        assert self.nofile is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def _died(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"syncd run exited {self.proc.returncode}:\n" + "\n".join(self.lines[-30:]))

    def _collect(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def events(self, name: str) -> list[dict[str, Any]]:
        out = []
        for line in list(self.lines):
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if obj.get("event") == name:
                out.append(obj)
        return out

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60,
                            limits=httpx.Limits(max_connections=100))

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait; the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def close(self) -> None:
        """Kill the daemon if it still runs, and hand its whole log to the secret scan."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        for t in self._collectors:
            t.join(timeout=10)
        self.notify.close()
        secretscan.feed(f"syncd run log ({self.root.name})", "\n".join(self.lines))
