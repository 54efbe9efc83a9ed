"""What the simulated CWMS site holds: its accounts, its administrator's credentials, the injected faults, and what
it has been asked. Every mutation goes through a method here, under :attr:`SimState.lock`."""

from __future__ import annotations

import hmac
import random
import secrets
import threading
from dataclasses import dataclass, replace
from typing import Any

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


@dataclass
class FaultRule:
    """One injected fault, for the next ``count`` requests (of operation ``op``, if given)."""

    kind: str
    count: int = 1
    op: str | None = None
    delay: float = 2.0                          # "slow": seconds before the (normal) answer
    exception_id: str = "000035"                # "failure"
    reason: str = "ASService not responding"    # "failure"


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
    """``users`` generated accounts on site ``site_name``, administered by ``username``/``password``."""

    def __init__(self, users: int, seed: int = 1, *, site_name: str = "syncd", username: str = "admin",
                 password: str | None = None) -> None:
        self.site_name = site_name
        self.username = username
        self.password = password if password is not None else secrets.token_urlsafe(12)
        self.lock = threading.RLock()
        self.accounts: dict[str, SimAccount] = {a.webex_id: a for a in generate(users, seed)}
        self.request_count = 0
        self.requests: list[bytes] = []         # every request body received, in order
        self.ops: list[str] = []                # the operation of each well-formed, authenticated request
        self._faults: list[FaultRule] = []

    def account(self, webex_id: str) -> SimAccount:
        """A copy (mutate through the methods)."""
        with self.lock:
            return replace(self.accounts[webex_id])

    def set_active(self, webex_id: str, active: str) -> None:
        with self.lock:
            self.accounts[webex_id].active = active

    def credentials_ok(self, webex_id: str | None, password: str | None, site_name: str | None) -> bool:
        ok = hmac.compare_digest((webex_id or "").encode(), self.username.encode())
        ok &= hmac.compare_digest((password or "").encode(), self.password.encode())
        return ok and site_name == self.site_name

    # -- faults -------------------------------------------------------------------------------------------

    def inject_fault(self, kind: str, count: int = 1, *, op: str | None = None, delay: float = 2.0,
                     exception_id: str = "000035", reason: str = "ASService not responding") -> None:
        """Answer the next ``count`` requests (for ``op``, if given) with ``kind`` (see ``FAULT_KINDS``)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (one of {', '.join(FAULT_KINDS)})")
        with self.lock:
            self._faults.append(FaultRule(kind, count, op, delay, exception_id, reason))

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    def take_fault(self, op: str | None) -> FaultRule | None:
        """The fault due for a request of ``op`` (None: not known yet), counted as used."""
        with self.lock:
            for rule in self._faults:
                if rule.op is not None and rule.op != op:
                    continue
                rule.count -= 1
                if rule.count <= 0:
                    self._faults.remove(rule)
                return rule
        return None

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"users": len(self.accounts), "requests": self.request_count, "faults_pending": len(self._faults)}
