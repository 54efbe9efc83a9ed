"""The systemd notification protocol without libsystemd: one datagram per message to ``$NOTIFY_SOCKET``.

``$NOTIFY_SOCKET`` is a filesystem path or, when it starts with ``@``, a name in the Linux abstract socket
namespace. Without the variable (not started by systemd) every call is a no-op, so the daemon runs the same way
from a shell. Messages are ``KEY=VALUE`` lines: READY=1, STATUS=..., WATCHDOG=1, STOPPING=1, RELOADING=1.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import timedelta


class Notifier:
    """Sends messages to the socket named by ``$NOTIFY_SOCKET`` (read once, at construction)."""

    def __init__(self, address: str | None = None) -> None:
        raw = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self._address: str | bytes | None = None
        if raw.startswith("@"):
            self._address = b"\0" + raw[1:].encode()
        elif raw.startswith("/"):
            self._address = raw
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def send(self, **fields: str | int) -> bool:
        """Send ``KEY=VALUE`` lines (keyword names are upper-cased); True when a datagram was sent.

        Failures are swallowed: a missing notification must never stop the service's work (systemd's watchdog
        will notice a service that truly stopped notifying)."""
        if self._address is None:
            return False
        text = "\n".join(f"{k.upper()}={' '.join(str(v).split())}" for k, v in fields.items())
        with self._lock:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                    s.connect(self._address)
                    s.sendall(text.encode())
            except OSError:
                return False
        return True

    def ready(self, status: str) -> bool:
        return self.send(READY=1, STATUS=status)

    def status(self, status: str) -> bool:
        return self.send(STATUS=status)

    def watchdog(self) -> bool:
        return self.send(WATCHDOG=1)

    def reloading(self) -> bool:
        return self.send(RELOADING=1, MONOTONIC_USEC=time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)

    def stopping(self, status: str = "stopping") -> bool:
        return self.send(STOPPING=1, STATUS=status)


def watchdog_interval(environ: dict[str, str] | None = None) -> timedelta | None:
    """Half of ``$WATCHDOG_USEC`` (systemd's advice), or None when no watchdog is set for this process.

    ``$WATCHDOG_PID``, when set, must be this process: a child must not feed its parent's watchdog."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) <= 0:
        return None
    if pid and (not pid.isdigit() or int(pid) != os.getpid()):
        return None
    return timedelta(microseconds=int(usec) / 2)
