"""uvicorn's settings for the daemon's API, made to survive slow and hostile clients.

uvicorn's h11 protocol waits forever for a request head that never completes, and closes no connection over any
limit until a whole request arrived; so a few hundred connections that each send half a request line used up
the process's file descriptors. Here:

- a connection must deliver its request head within ``HEAD_TIMEOUT`` seconds of opening (or of its previous
  response), else it is closed; between requests uvicorn's keep-alive timeout (``IDLE_TIMEOUT``) closes it;
- at most ``connection_cap()`` connections are open, well below the file limit; one more closes the oldest
  connection still waiting for its request head (so a client that sends a request gets served while slow ones
  hold the rest), or, when every connection is busy in a request, the new one at once;
- asyncio's "accept() out of system resource" error, logged with a traceback on every retry, is let through
  once per ``ACCEPT_LOG_EVERY`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT = 10.0
IDLE_TIMEOUT = 5
RESERVED_FDS = 128          # the database pool, AXL and LDAP connections, the log, the notify socket, ...
MAX_CONNECTIONS = 1000      # a loopback API for a few callers; also bounds the event loop's work per tick
ACCEPT_LOG_EVERY = 5.0


def connection_cap(soft_limit: int | None = None) -> int:
    """How many API connections may be open: the process's file limit less a reserve, at most MAX_CONNECTIONS."""
    if soft_limit is None:
        soft_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft_limit == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(8, min(MAX_CONNECTIONS, soft_limit - RESERVED_FDS))


class Guard:
    """The connections of one server still waiting for a request head, oldest first, and their cap."""

    def __init__(self, cap: int, head_timeout: float = HEAD_TIMEOUT) -> None:
        self.cap = cap
        self.head_timeout = head_timeout
        self.waiting: dict[GuardedH11, None] = {}

    def evict_oldest_waiting(self) -> bool:
        """Close the connection that has waited longest for its request head; False when none waits."""
        if not self.waiting:
            return False
        oldest = next(iter(self.waiting))
        oldest.close_waiting()
        return True


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with a request-head timeout and the connection cap of ``guard``."""

    def __init__(self, guard: Guard, **kw: Any) -> None:
        super().__init__(**kw)
        self.guard = guard
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.guard.cap and not self.guard.evict_oldest_waiting():
            transport.abort()
            return
        self._await_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._head_arrived()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_arrived()
        super().connection_lost(exc)

    def close_waiting(self) -> None:
        self._head_arrived()
        self.transport.abort()

    def _await_head(self) -> None:
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(self.guard.head_timeout, self.close_waiting)
            self.guard.waiting[self] = None

    def _head_arrived(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        self.guard.waiting.pop(self, None)


class AcceptErrorFilter(logging.Filter):
    """Lets one "accept() out of system resource" record through per ``every`` seconds; all else passes."""

    def __init__(self, every: float = ACCEPT_LOG_EVERY) -> None:
        super().__init__()
        self.every = every
        self.next_at = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if "out of system resource" not in record.getMessage():
            return True
        now = time.monotonic()
        if now < self.next_at:
            return False
        self.next_at = now + self.every
        return True


def quiet_accept_errors() -> None:
    """Install the AcceptErrorFilter on asyncio's logger (once)."""
    logger = logging.getLogger("asyncio")
    if not any(isinstance(f, AcceptErrorFilter) for f in logger.filters):
        logger.addFilter(AcceptErrorFilter())


def uvicorn_config(app: Any, host: str, port: int) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` on ``host``:``port`` with the guards above."""
    guard = Guard(connection_cap())

    def protocol(**kw: Any) -> GuardedH11:
        return GuardedH11(guard, **kw)

    return uvicorn.Config(app, host=host, port=port, http=protocol,  # type: ignore[arg-type]  # a factory will do
                          log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2,
                          server_header=False, timeout_keep_alive=IDLE_TIMEOUT, backlog=min(2048, guard.cap))
