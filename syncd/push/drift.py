"""The drift between syncd's people and the CWMS accounts (DESIGN.md 12), and the pushes it asks for: pure, no I/O.

A person inactive in syncd whose account is ACTIVATED is a *leak* (CWMS still binds a license); a person active in
syncd whose account is DEACTIVATED is *blocked*. An account whose e-mail key names no person is ``cwms_only``:
counted and listed, never changed. Accounts are matched to people by the e-mail key (DESIGN.md 4).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from connectors.cwms.records import CwmsAccount
from connectors.emails import email_key

DEACTIVATE, ACTIVATE = "deactivate", "activate"
TARGET = {DEACTIVATE: "DEACTIVATED", ACTIVATE: "ACTIVATED"}
LISTED = 1000
"""``cwms_only`` accounts named in a report; the rest are counted."""


@dataclass(frozen=True, slots=True)
class PlannedPush:
    """One write a plan asks CWMS for: set the account ``webex_id`` of person ``email`` to ``action``'s state."""

    email: str
    webex_id: str
    action: str                 # deactivate | activate

    @property
    def target(self) -> str:
        return TARGET[self.action]

    @property
    def sentence(self) -> str:
        return f"{self.action} CWMS account {self.webex_id} of {self.email}"


@dataclass(slots=True)
class Accounts:
    """A CWMS read, compact: each e-mail key's account id (None when it is the key itself, as on most sites) and
    the keys of accounts that are not ACTIVATED. Accounts without e-mail are only counted."""

    ids: dict[str, str | None] = field(default_factory=dict)
    not_activated: set[str] = field(default_factory=set)
    no_email: int = 0
    read: int = 0

    def add(self, account: CwmsAccount) -> None:
        self.read += 1
        key = email_key(account.email) if account.email else None
        if not key:
            self.no_email += 1
            return
        self.ids[key] = None if account.webex_id == key else account.webex_id
        if not account.activated:
            self.not_activated.add(key)
        else:
            self.not_activated.discard(key)

    def counted(self) -> Accounts:
        """The counts alone: what a run keeps once drift was computed, so the read's accounts are not held through
        the apply (a full read of a large site is tens of MB)."""
        return Accounts(no_email=self.no_email, read=self.read)

    def webex_id(self, key: str) -> str:
        return self.ids[key] or key

    def activated(self, key: str) -> bool:
        return key not in self.not_activated


def collect(accounts: Iterable[CwmsAccount]) -> Accounts:
    out = Accounts()
    for a in accounts:
        out.add(a)
    return out


@dataclass(slots=True)
class Drift:
    """Leaks and blocked people as pushes (sorted by e-mail), and the accounts that match nobody."""

    leaks: list[PlannedPush]
    blocked: list[PlannedPush]
    cwms_only: int
    cwms_only_listed: list[str]

    def pushes(self, activations: bool) -> list[PlannedPush]:
        """What a plan sends: every leak deactivated; blocked people activated only with ``push_activations``."""
        return self.leaks + (self.blocked if activations else [])


def drift(active: Mapping[str, bool], accounts: Accounts) -> Drift:
    """``active``: every person's state as the plan leaves it (e-mail key -> active)."""
    leaks, blocked, only = [], [], []
    for key in accounts.ids:
        state = active.get(key)
        if state is None:
            only.append(key)
        elif not state and accounts.activated(key):
            leaks.append(PlannedPush(key, accounts.webex_id(key), DEACTIVATE))
        elif state and key in accounts.not_activated:
            blocked.append(PlannedPush(key, accounts.webex_id(key), ACTIVATE))
    leaks.sort(key=lambda p: p.email)
    blocked.sort(key=lambda p: p.email)
    only.sort()
    return Drift(leaks, blocked, len(only), only[:LISTED])
