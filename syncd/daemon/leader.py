"""The leader lock (DESIGN.md section 11): held by the daemon that runs the schedule. Every daemon retries it on
each leader tick, so when the leader dies another takes over within one tick; a held lock whose PostgreSQL
session died is noticed at the next tick and retried."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Engine

from syncd.logging import get_logger
from syncd.store.locks import leader_lock

log = get_logger("syncd.daemon")

LEADER_TICK = timedelta(seconds=5)   # how often a follower retries the leader lock (and the leader checks it)


class Leadership:
    """The leader lock, safe to use from the scheduler's, the API's and the main thread."""

    def __init__(self, engine: Engine, on_taken: Callable[[], None]) -> None:
        self._lock = leader_lock(engine)
        self._guard = threading.Lock()      # the lock's PostgreSQL connection serves one thread at a time
        self._on_taken = on_taken

    def leading(self) -> bool:
        """Whether this daemon holds the leader lock now (PostgreSQL: its session is alive)."""
        with self._guard:
            return self._lock.is_held()

    def tick(self) -> None:
        """Take the leader lock when it is free; notice when a held one was lost (PostgreSQL session gone)."""
        try:
            with self._guard:
                if self._lock.is_held():
                    return
                self._lock.release()           # a lost session: drop the dead connection before retrying
                taken = self._lock.try_acquire()
            if taken:
                log.info("leader lock taken: this daemon runs the schedule")
                self._on_taken()
        except Exception as e:  # a database hiccup must not kill the tick; retried next tick
            log.warning("leader lock check failed", error=str(e))

    def release(self) -> None:
        with self._guard:
            self._lock.release()
