"""Events the engine decides on.  A person is named by key: the e-mail address already normalised by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from policy.model import LicenseKind, Management


def _positive(count: int) -> None:
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")


def _aware(name: str, t: datetime) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware time")


@dataclass(frozen=True)
class HostRequest:
    """The person starts (hosts) a meeting."""

    person: str
    meeting_id: str


@dataclass(frozen=True)
class MeetingEnd:
    meeting_id: str


@dataclass(frozen=True)
class Deactivation:
    person: str


@dataclass(frozen=True)
class Deletion:
    person: str


@dataclass(frozen=True)
class Reactivation:
    person: str


@dataclass(frozen=True)
class PurchasePermanent:
    count: int

    def __post_init__(self) -> None:
        _positive(self.count)


@dataclass(frozen=True)
class SetInstalled:
    """An admin corrects the installed Permanent count to ``count`` (a mistyped purchase, DESIGN 9)."""

    count: int

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError(f"count must not be negative, not {self.count}")


@dataclass(frozen=True)
class GrantDemonstration:
    grant_id: str
    count: int
    expires_at: datetime

    def __post_init__(self) -> None:
        _positive(self.count)
        _aware("expires_at", self.expires_at)


@dataclass(frozen=True)
class StartTrial:
    start: datetime

    def __post_init__(self) -> None:
        _aware("start", self.start)


@dataclass(frozen=True)
class Reserve:
    """An admin reserves a Permanent license for the person (CWMS "Reserve license")."""

    person: str


@dataclass(frozen=True)
class ManagementChange:
    person: str
    management: Management


@dataclass(frozen=True)
class Sweep:
    """The clock: expiry processing at ``now``."""


@dataclass(frozen=True)
class Upgrade:
    """The site is upgraded to CWMS 2.5 (R12): every license is released from its user; refused when the ledger
    is on that version already."""

    to: str = "2.5"

    def __post_init__(self) -> None:
        if self.to != "2.5":
            raise ValueError(f'only an upgrade to "2.5" is modelled, not {self.to!r}')


@dataclass(frozen=True)
class Holding:
    """One license a site holds, as an import file gives it: on ``line``, ``person`` holds ``kind`` since
    ``assigned_at`` (a Grace one with its window from ``first_grace_at``; ``expires_at`` when the file says)."""

    line: int
    person: str
    kind: LicenseKind
    assigned_at: datetime
    first_grace_at: datetime | None = None
    expires_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("assigned_at", "first_grace_at", "expires_at"):
            t = getattr(self, name)
            if t is not None:
                _aware(name, t)


@dataclass(frozen=True)
class ImportHoldings:
    """An admin adopts the site's license holdings (DESIGN 12): each person named gets the license given,
    replacing what the person held; refused whole when any holding would break an invariant."""

    holdings: tuple[Holding, ...]


@dataclass(frozen=True)
class AddPerson:
    """A person first seen by a sync: bookkeeping only, no license effect."""

    person: str
    active: bool
    management: Management = Management.LOCAL


Event = (
    HostRequest
    | MeetingEnd
    | Deactivation
    | Deletion
    | Reactivation
    | PurchasePermanent
    | SetInstalled
    | GrantDemonstration
    | StartTrial
    | Reserve
    | ManagementChange
    | Sweep
    | Upgrade
    | ImportHoldings
    | AddPerson
)

EVENT_TYPES: tuple[type, ...] = (
    HostRequest,
    MeetingEnd,
    Deactivation,
    Deletion,
    Reactivation,
    PurchasePermanent,
    SetInstalled,
    GrantDemonstration,
    StartTrial,
    Reserve,
    ManagementChange,
    Sweep,
    Upgrade,
    ImportHoldings,
    AddPerson,
)


def subject_of(event: Event) -> str | None:
    """The person an event is about, if any (the store loads that person with the subset)."""
    person = getattr(event, "person", None)
    return person if isinstance(person, str) else None
