"""The drift between syncd's people and the CWMS accounts (DESIGN.md 12), and the pushes it asks for: pure, no I/O.

A person inactive in syncd whose account is ACTIVATED is a *leak* (CWMS still binds a license); a person active in
syncd whose account is DEACTIVATED is *blocked*. An account whose e-mail key names no person is ``cwms_only``:
counted and listed, never changed. Accounts are matched to people by the e-mail key (DESIGN.md 4).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from connectors.cwms.records import CwmsAccount, from_row
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
    """A CWMS read, compact: each page's users as the lines the client read (``connectors.cwms.xmlapi.user_rows``),
    joined into one text per page. A site of 400,000 accounts is then a few hundred strings, not a few hundred
    thousand objects, and drift reads them once, after the plan."""

    pages: list[str] = field(default_factory=list)
    read: int = 0

    def add_page(self, rows: list[str]) -> None:
        if rows:
            self.pages.append("\n".join(rows))
            self.read += len(rows)

    def each(self) -> Iterator[CwmsAccount]:
        for page in self.pages:
            yield from map(from_row, page.split("\n"))

    def counted(self) -> Accounts:
        """The count alone: what a run keeps once drift was computed, so the accounts are not held through the
        apply."""
        return Accounts(read=self.read)


@dataclass(slots=True)
class Drift:
    """Leaks and blocked people as pushes (sorted by e-mail), and the accounts that match nobody."""

    leaks: list[PlannedPush]
    blocked: list[PlannedPush]
    cwms_only: int
    cwms_only_listed: list[str]
    no_email: int = 0               # accounts without a usable e-mail: matched to nobody

    def pushes(self, activations: bool) -> list[PlannedPush]:
        """What a plan sends: every leak deactivated; blocked people activated only with ``push_activations``."""
        return self.leaks + (self.blocked if activations else [])


def drift(active: Mapping[str, bool], accounts: Accounts) -> Drift:
    """``active``: every person's state as the plan leaves it (e-mail key -> active). Each account is judged on its
    own: two accounts with one person's e-mail are both leaks when both are ACTIVATED for someone who left."""
    leaks, blocked, only, no_email = [], [], [], 0
    for a in accounts.each():
        key = email_key(a.email)
        if key is None:
            no_email += 1
            continue
        state = active.get(key)
        if state is None:
            only.append(key)
        elif not state and a.activated:
            leaks.append(PlannedPush(key, a.webex_id, DEACTIVATE))
        elif state and not a.activated:
            blocked.append(PlannedPush(key, a.webex_id, ACTIVATE))
    leaks.sort(key=lambda p: p.email)
    blocked.sort(key=lambda p: p.email)
    only.sort()
    return Drift(leaks, blocked, len(only), only[:LISTED], no_email)
