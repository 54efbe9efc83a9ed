"""The simulator's AXL change-notification queue (what ``listChange`` reads).

Like CUCM's in-memory cache it holds at most ``capacity`` changes (the oldest are evicted) and gets a new
``queueId`` when it is reset (CUCM: when the AXL service restarts).
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass, field
from itertools import islice


@dataclass(frozen=True, slots=True)
class QueuedChange:
    id: int
    action: str                 # a | u | r
    uuid: str                   # AXL form {UPPER}
    do_get: bool
    tags: dict[str, str | None] = field(default_factory=dict)


class ChangeQueue:
    """Not thread-safe by itself: the simulator holds its lock around every use."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self.reset()

    def reset(self) -> None:
        self.queue_id = secrets.token_hex(8)
        self._items: deque[QueuedChange] = deque(maxlen=self.capacity)
        self._next_id = 1

    def record(self, action: str, uuid: str, do_get: bool, tags: dict[str, str | None] | None = None) -> None:
        self._items.append(QueuedChange(self._next_id, action, uuid, do_get, dict(tags or {})))
        self._next_id += 1

    @property
    def first_id(self) -> int:
        return self._items[0].id if self._items else self._next_id

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    @property
    def next_id(self) -> int:
        return self._next_id

    def evicted(self, start: int) -> bool:
        """True when changes from ``start`` on are no longer all in the queue."""
        return start < self.first_id

    def since(self, start: int, limit: int) -> list[QueuedChange]:
        """Up to ``limit`` changes with id >= ``start``, oldest first."""
        offset = max(0, start - self.first_id)
        return list(islice(self._items, offset, offset + limit))
