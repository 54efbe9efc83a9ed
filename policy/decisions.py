"""Decision records: what the engine decided, why, and the ledger mutations (actions) that carry it out.

A :class:`Decision` is what the journal stores.  ``apply`` folds its actions into a ledger; replaying the stored
decisions from an empty ledger reproduces the ledger without re-deciding (so no settings or clock are needed).
Each action names the person it touches and has its own sentence; its ``rule`` is set when a different rule
than the decision's caused it (e.g. a purchase, R7, promoting a Grace holder, or a sweep releasing a Permanent
whose release hold has passed, R5).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from policy.events import Event
from policy.model import HeldLicense, LicenseKind, Management


@dataclass(frozen=True)
class Notice:
    """An admin notice.  Codes: grace_in_use, grace_expiring, demonstration_expiring, trial_ending,
    cwms_version_mismatch."""

    code: str
    message: str
    person: str | None = None
    at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class AssignLicense:
    """Bind ``license`` to the person, replacing whatever the person held."""

    person: str
    license: HeldLicense
    sentence: str
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReleaseLicense:
    """The person no longer holds a license (a Permanent goes back to the pool)."""

    person: str
    kind: LicenseKind
    sentence: str
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExpireLicense:
    """Record that the person's (Grace) license expired; it stays held with state expired."""

    person: str
    kind: LicenseKind
    sentence: str
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class RemarkLicense:
    person: str
    management: Management
    sentence: str
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetPersonState:
    """Set the person's flags (creating the person if the ledger does not know them); the license is kept."""

    person: str
    active: bool
    deleted: bool
    management: Management
    deactivated_at: datetime | None
    sentence: str
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class OpenMeeting:
    person: str
    meeting_id: str
    started_at: datetime
    sentence: str
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class CloseMeeting:
    person: str
    meeting_id: str
    sentence: str
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddPurchase:
    count: int
    at: datetime
    sentence: str
    person: None = None
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class AddDemoGrant:
    grant_id: str
    count: int
    expires_at: datetime
    granted_at: datetime
    sentence: str
    person: None = None
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetTrial:
    start: datetime
    ends_at: datetime
    sentence: str
    person: None = None
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class EndTrial:
    """Record the end of the trial window at ``at`` (a purchase ends it early)."""

    at: datetime
    sentence: str
    person: None = None
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetCwmsVersion:
    """Record the CWMS version the site's licenses now follow (an upgrade, R12)."""

    version: str
    sentence: str
    person: None = None
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetFirstGrace:
    person: str
    at: datetime | None
    sentence: str
    rule: str | None = None


@dataclass(frozen=True, kw_only=True)
class SetLastHosted:
    person: str
    at: datetime
    sentence: str
    rule: str | None = None


Action = (
    AssignLicense
    | ReleaseLicense
    | ExpireLicense
    | RemarkLicense
    | SetPersonState
    | OpenMeeting
    | CloseMeeting
    | AddPurchase
    | AddDemoGrant
    | SetTrial
    | EndTrial
    | SetCwmsVersion
    | SetFirstGrace
    | SetLastHosted
)

ACTION_TYPES: tuple[type, ...] = (
    AssignLicense,
    ReleaseLicense,
    ExpireLicense,
    RemarkLicense,
    SetPersonState,
    OpenMeeting,
    CloseMeeting,
    AddPurchase,
    AddDemoGrant,
    SetTrial,
    EndTrial,
    SetCwmsVersion,
    SetFirstGrace,
    SetLastHosted,
)


@dataclass(frozen=True)
class Decision:
    """One decision.

    ``rule`` is "R1".."R12", or "-" for bookkeeping.  ``granted`` is set for host requests and reservations
    (None otherwise); ``reason`` is the stable refusal code when something was refused (also for refused admin
    actions); ``license_kind`` is the license the person hosts on or was given, or, on a refusal, the license
    the person holds (e.g. the expired Grace of an Expired Host), when there is one.
    """

    event: Event
    now: datetime
    settings_digest: str
    rule: str
    sentence: str
    granted: bool | None = None
    reason: str | None = None
    license_kind: LicenseKind | None = None
    actions: tuple[Action, ...] = ()
    notices: tuple[Notice, ...] = ()
