"""What the simulated CUCM holds: its end users, the change queue, the injected faults, its AXL account and sessions,
the settings that shape its answers, and counts of what it has been asked.

Every mutation goes through a method here, under :attr:`SimState.lock`, and is recorded in the change queue.
The operations read the attributes directly, holding the lock.
"""

from __future__ import annotations

import base64
import bisect
import hmac
import random
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from .changes import ChangeQueue
from .population import SimUser, generate, pkid_from

SERVED_VERSIONS = ("11.5", "12.0", "12.5", "14.0", "15.0")
FAULT_KINDS = ("503", "memory", "too_large", "slow", "drop", "malformed", "html500", "401", "404", "dtd", "fault")


@dataclass
class FaultRule:
    """One injected fault: for the next ``count`` matching requests, or for request number ``at`` only."""

    kind: str
    count: int = 1
    at: int | None = None
    op: str | None = None            # only requests for this operation (None: any)
    delay: float = 2.0               # "slow": seconds before the (normal) answer
    code: int = -1                   # "fault": axlcode
    message: str = "Simulated fault"  # "fault": axlmessage


@dataclass
class Exchange:
    """One AXL request and its answer (kept when the simulator records)."""

    op: str
    version: str
    request: bytes
    status: int
    response: bytes


def _copy(u: SimUser) -> SimUser:
    return SimUser(u.pkid, u.userid, u.mailid, u.firstname, u.lastname, u.status, u.ldap)


class SimState:
    """``users`` generated people and everything else a simulated CUCM answers from.

    ``response_limit`` is CUCM's 8 MB cap (lower it to provoke "Query request too large" with few users).
    ``evict_fault``: a listChange from an evicted change id faults (CUCM's documented behaviour); False answers
    with the queue info instead, leaving the client to notice ``firstChangeId`` > its start id.
    """

    def __init__(self, users: int, seed: int = 1, username: str = "axl", password: str | None = None, *,
                 response_limit: int = 8 * 1024 * 1024, queue_capacity: int = 100_000, change_page: int = 1000,
                 record: bool = False, versions: tuple[str, ...] = SERVED_VERSIONS,
                 evict_fault: bool = True) -> None:
        self.username = username
        self.password = password if password is not None else secrets.token_urlsafe(12)
        self.response_limit = response_limit
        self.change_page = change_page
        self.versions = versions
        self.evict_fault = evict_fault
        self.record = record
        self.exchanges: list[Exchange] = []
        self.request_count = 0          # AXL requests received (the K of "fail request number K")
        self.connections = 0            # TCP connections accepted (keep-alive reuse shows as few)
        self.cookie_requests = 0        # requests that came back with the session cookie
        self.in_flight = 0              # AXL requests being answered now
        self.max_in_flight = 0          # the most at once (Cisco asks clients for one at a time)
        self.lock = threading.RLock()
        self._rng_pkids = random.Random(seed + 7919)   # new users get reproducible pkids too
        self.users: list[SimUser] = generate(users, seed)   # in pkid order
        self.pkids: list[str] = [u.pkid for u in self.users]   # the sort keys of ``users``, for bisect
        self.by_pkid: dict[str, SimUser] = {u.pkid: u for u in self.users}
        self.by_userid: dict[str, SimUser] = {u.userid: u for u in self.users}
        # Every user rendered per (kind, columns), filled by the operations; a mutation empties it.
        self.row_cache: dict[tuple[str, tuple[str, ...]], list[bytes]] = {}
        self.queue = ChangeQueue(queue_capacity)
        self._faults: list[FaultRule] = []
        self._sessions: set[str] = set()

    # -- population and mutations (each recorded in the change queue) ------------------------------------

    @property
    def population(self) -> list[SimUser]:
        """A snapshot of the users, in pkid order (copies: mutate through the methods below)."""
        with self.lock:
            return [_copy(u) for u in self.users]

    def user(self, userid: str) -> SimUser:
        with self.lock:
            return _copy(self.by_userid[userid])

    def set_status(self, userid: str, status: int) -> None:
        with self.lock:
            u = self.by_userid[userid]
            u.status = status
            self.row_cache.clear()
            self.queue.record("u", u.uuid, False, {"status": str(status)})

    def set_mail(self, userid: str, mail: str | None) -> None:
        with self.lock:
            u = self.by_userid[userid]
            u.mailid = mail
            self.row_cache.clear()
            self.queue.record("u", u.uuid, False, {"mailid": mail})

    def set_name(self, userid: str, firstname: str | None, lastname: str | None) -> None:
        """Rename a user. Any text goes out as given: a control character XML 1.0 forbids (a raw ESC) makes the
        responses that carry this user malformed, as a broken CUCM's are."""
        with self.lock:
            u = self.by_userid[userid]
            u.firstname, u.lastname = firstname, lastname
            self.row_cache.clear()
            self.queue.record("u", u.uuid, False, {"firstName": firstname, "lastName": lastname})

    def add_user(self, userid: str, mailid: str | None = None, firstname: str | None = None,
                 lastname: str | None = None, status: int = 1, ldap: bool = True) -> SimUser:
        with self.lock:
            if userid in self.by_userid:
                raise ValueError(f"user {userid!r} exists")
            u = SimUser(pkid_from(self._rng_pkids), userid, mailid, firstname, lastname, status, ldap)
            i = bisect.bisect_left(self.pkids, u.pkid)
            self.pkids.insert(i, u.pkid)
            self.users.insert(i, u)
            self.by_pkid[u.pkid] = u
            self.by_userid[userid] = u
            self.row_cache.clear()
            self.queue.record("a", u.uuid, True)
            return _copy(u)

    def remove_user(self, userid: str) -> None:
        with self.lock:
            u = self.by_userid.pop(userid)
            i = bisect.bisect_left(self.pkids, u.pkid)
            del self.pkids[i]
            del self.users[i]
            del self.by_pkid[u.pkid]
            self.row_cache.clear()
            self.queue.record("r", u.uuid, False)

    def reset_queue(self) -> None:
        """Empty the change queue under a new queueId, as an AXL service restart does."""
        with self.lock:
            self.queue.reset()

    @property
    def queue_id(self) -> str:
        return self.queue.queue_id

    # -- faults -------------------------------------------------------------------------------------------

    def inject_fault(self, kind: str, count: int = 1, *, at: int | None = None, op: str | None = None,
                     delay: float = 2.0, code: int = -1, message: str = "Simulated fault") -> None:
        """Fail the next ``count`` AXL requests (of operation ``op``, if given) with ``kind``; with ``at``,
        fail request number ``at`` (see :attr:`request_count`) instead. Kinds: see ``FAULT_KINDS``."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (one of {', '.join(FAULT_KINDS)})")
        with self.lock:
            self._faults.append(FaultRule(kind, count, at, op, delay, code, message))

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def take_fault(self, number: int, op: str) -> FaultRule | None:
        """The fault for request number ``number`` of operation ``op``, if one is due; counts it as used."""
        with self.lock:
            for rule in self._faults:
                if rule.op is not None and rule.op != op:
                    continue
                if rule.at is not None:
                    if rule.at == number:
                        self._faults.remove(rule)
                        return rule
                    continue
                rule.count -= 1
                if rule.count <= 0:
                    self._faults.remove(rule)
                return rule
        return None

    # -- the AXL account and its sessions -----------------------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        """Whether an HTTP ``Authorization`` header carries this account's Basic credentials."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), self.username.encode()) and hmac.compare_digest(
            pw.encode(), self.password.encode())

    def new_session(self) -> str:
        token = secrets.token_hex(16)
        with self.lock:
            self._sessions.add(token)
        return token

    def known_session(self, token: str | None) -> bool:
        with self.lock:
            known = token is not None and token in self._sessions
            if known:
                self.cookie_requests += 1
            return known

    def count_connection(self) -> None:
        with self.lock:
            self.connections += 1

    def state(self) -> dict[str, Any]:
        """What ``/control/state`` reports."""
        with self.lock:
            return {"users": len(self.users), "requests": self.request_count, "queue_id": self.queue.queue_id,
                    "last_change_id": self.queue.last_id, "faults_pending": len(self._faults)}
