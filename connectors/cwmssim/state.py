"""What the simulated CWMS site holds: its accounts, its administrator's credentials, its host limit, the injected
faults, what it has been asked, and the audit of every write it received. Every mutation goes through a method
here, under :attr:`SimState.lock`."""

from __future__ import annotations

import hmac
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

ACTIVE_VALUES = ("ACTIVATED", "REQUEST_TO_ACTIVATE", "DEACTIVATED")
FAULT_KINDS = ("503", "failure", "drop", "slow", "html", "dtd", "malformed")
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "John", "Margaret", "Ken", "Radia",
          "Dennis", "Shafi", "Tony", "Leslie", "Niklaus")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus", "Hamilton", "Thompson",
         "Perlman", "Ritchie", "Goldwasser", "Hoare", "Lamport", "Wirth")


@dataclass
class SimAccount:
    """One CWMS account."""

    user_id: int                # CWMS's own numeric id (``userId``; what ``orderBy UID`` sorts by)
    webex_id: str
    email: str
    first_name: str
    last_name: str
    active: str = "ACTIVATED"
    registration_date: str = "01/15/2024 09:30:00"


@dataclass(frozen=True)
class AuditEntry:
    """One write request (SetUser, DelUser) the site received, and what became of it.

    ``result`` SUCCESS: the account was written, ``after`` is what it holds now (equal to ``before`` when it held
    that already). FAILURE: nothing was written (``before == after``), whether the site refused it
    (``exception_id`` and ``reason`` say why) or an injected ``fault`` answered it before it reached the account
    (a "failure" fault has its exceptionID; a 503, dropped connection, HTML page, DTD or malformed answer has none).
    ``before``/``after`` are None when there is no such account."""

    seq: int
    at: str                 # UTC, ISO 8601
    op: str
    webex_id: str | None
    field: str
    before: str | None
    after: str | None
    result: str
    exception_id: str | None
    reason: str | None
    fault: str | None


@dataclass
class FaultRule:
    """One injected fault, for the next ``count`` requests (of operation ``op``, if given)."""

    kind: str
    count: int = 1
    op: str | None = None
    delay: float = 2.0                          # "slow": seconds before the (normal) answer
    exception_id: str = "000035"                # "failure"
    reason: str = "ASService not responding"    # "failure"
    after: int = 0                              # matching requests let through before the fault starts


def generate(n: int, seed: int) -> list[SimAccount]:
    """``n`` reproducible accounts; about one in ten is DEACTIVATED."""
    rng = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        webex_id = f"{first[0].lower()}{last.lower()}{i}"
        out.append(SimAccount(1000 + i, webex_id, f"{webex_id}@example.com", first, last,
                              "DEACTIVATED" if rng.random() < 0.1 else "ACTIVATED"))
    return out


class SimState:
    """``users`` generated accounts on site ``site_name``, administered by ``username``/``password``; at most
    ``host_limit`` ACTIVATED accounts may be activated to through SetUser (None: no limit)."""

    def __init__(self, users: int, seed: int = 1, *, site_name: str = "syncd", username: str = "admin",
                 password: str | None = None, host_limit: int | None = None) -> None:
        if host_limit is not None and host_limit < 0:
            raise ValueError(f"host_limit must be 0 or more, not {host_limit}")
        self.site_name = site_name
        self.host_limit = host_limit
        self.username = username
        self.password = password if password is not None else secrets.token_urlsafe(12)
        self.lock = threading.RLock()
        self.accounts: dict[str, SimAccount] = {a.webex_id: a for a in generate(users, seed)}
        self.request_count = 0
        self.requests: list[bytes] = []         # every request body received, in order
        self.ops: list[str] = []                # the operation of each well-formed, authenticated request
        self._faults: list[FaultRule] = []
        self._audit: list[AuditEntry] = []
        self._edits = 0                         # bumped by every change of an account: the sorted view's stamp
        self._sorted: tuple[tuple[Any, ...], list[SimAccount]] | None = None

    def account(self, webex_id: str) -> SimAccount:
        """A copy (mutate through the methods)."""
        with self.lock:
            return replace(self.accounts[webex_id])

    def active_of(self, webex_id: str | None) -> str | None:
        """The account's ``active``, None when there is no such account."""
        with self.lock:
            a = self.accounts.get(webex_id or "")
            return a.active if a is not None else None

    def set_active(self, webex_id: str, active: str) -> None:
        if active not in ACTIVE_VALUES:
            raise ValueError(f"active must be one of {', '.join(ACTIVE_VALUES)}, not {active!r}")
        with self.lock:
            self.accounts[webex_id].active = active
            self._edits += 1

    def ordered(self, order: str, key: Callable[[SimAccount], Any], descending: bool) -> list[SimAccount]:
        """Every account sorted by ``key`` (named ``order``), kept until the accounts change: paging a site of
        400,000 accounts must not sort them all for each page. A test that replaces ``accounts`` is seen too."""
        with self.lock:
            stamp = (id(self.accounts), len(self.accounts), self._edits, order, descending)
            if self._sorted is None or self._sorted[0] != stamp:
                self._sorted = stamp, sorted(self.accounts.values(), key=key, reverse=descending)
            return self._sorted[1]

    def activated(self) -> int:
        with self.lock:
            return sum(a.active == "ACTIVATED" for a in self.accounts.values())

    def over_host_limit(self, webex_id: str, active: str) -> bool:
        """Whether setting ``active`` on the account would activate one more host than the limit allows."""
        with self.lock:
            return (self.host_limit is not None and active == "ACTIVATED"
                    and self.accounts[webex_id].active != "ACTIVATED" and self.activated() >= self.host_limit)

    def put_account(self, webex_id: str, *, active: str | None = None, email: str | None = None,
                    first_name: str | None = None, last_name: str | None = None) -> bool:
        """Create the account (ACTIVATED, ``webex_id@example.com`` unless told otherwise; the host limit does not
        apply) or change the given fields of it; True when it was created."""
        if active is not None and active not in ACTIVE_VALUES:
            raise ValueError(f"active must be one of {', '.join(ACTIVE_VALUES)}, not {active!r}")
        with self.lock:
            a = self.accounts.get(webex_id)
            created = a is None
            if a is None:
                user_id = max((x.user_id for x in self.accounts.values()), default=1000) + 1
                a = self.accounts[webex_id] = SimAccount(user_id, webex_id, f"{webex_id}@example.com", "", "")
            for name, value in (("active", active), ("email", email), ("first_name", first_name),
                                ("last_name", last_name)):
                if value is not None:
                    setattr(a, name, value)
            self._edits += 1
            return created

    def remove_account(self, webex_id: str) -> None:
        with self.lock:
            del self.accounts[webex_id]
            self._edits += 1

    # -- the audit of writes ------------------------------------------------------------------------------

    def record_write(self, op: str, webex_id: str | None, before: str | None, after: str | None, result: str, *,
                     exception_id: str | None = None, reason: str | None = None,
                     fault: str | None = None) -> None:
        with self.lock:
            self._audit.append(AuditEntry(len(self._audit) + 1, datetime.now(UTC).isoformat(timespec="milliseconds"),
                                          op, webex_id, "active", before, after, result, exception_id, reason, fault))

    def audit(self) -> list[dict[str, Any]]:
        """Every write received, oldest first (see :class:`AuditEntry`); changes made through ``/control/`` or
        these methods are the test's own and not in it."""
        with self.lock:
            return [asdict(e) for e in self._audit]

    def written(self) -> list[tuple[str | None, str | None]]:
        """(webex_id, active) of each write that changed an account, in order: what tests usually assert."""
        with self.lock:
            return [(e.webex_id, e.after) for e in self._audit if e.result == "SUCCESS" and e.before != e.after]

    def credentials_ok(self, webex_id: str | None, password: str | None, site_name: str | None) -> bool:
        ok = hmac.compare_digest((webex_id or "").encode(), self.username.encode())
        ok &= hmac.compare_digest((password or "").encode(), self.password.encode())
        return ok and site_name == self.site_name

    # -- faults -------------------------------------------------------------------------------------------

    def inject_fault(self, kind: str, count: int = 1, *, op: str | None = None, delay: float = 2.0,
                     exception_id: str = "000035", reason: str = "ASService not responding", after: int = 0) -> None:
        """Answer the next ``count`` requests (for ``op``, if given) with ``kind`` (see ``FAULT_KINDS``), once
        ``after`` such requests have been answered normally (the middle of a batch of writes, say)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (one of {', '.join(FAULT_KINDS)})")
        if count < 1 or delay < 0 or after < 0:
            raise ValueError("a fault needs count >= 1, delay >= 0 and after >= 0")
        with self.lock:
            self._faults.append(FaultRule(kind, count, op, delay, exception_id, reason, after))

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def take_fault(self, op: str | None) -> FaultRule | None:
        """The fault due for a request of ``op`` (None: not known yet), counted as used."""
        with self.lock:
            for rule in self._faults:
                if rule.op is not None and rule.op != op:
                    continue
                if rule.after > 0:
                    rule.after -= 1
                    return None
                rule.count -= 1
                if rule.count <= 0:
                    self._faults.remove(rule)
                return rule
        return None

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"site_name": self.site_name, "users": len(self.accounts), "activated": self.activated(),
                    "host_limit": self.host_limit, "requests": self.request_count,
                    "faults_pending": len(self._faults), "writes": len(self._audit)}
