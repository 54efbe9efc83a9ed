"""The license ledger: frozen value objects and the counts derived from them.

Every count the engine decides on is derived from the *license holders* (and the purchases, grants and trial
window, which are few).  That is what lets the store load a subset of people -- every holder, every host of an
open meeting, every person with a grace window, plus the event's subject -- and still get the decision it would
get on the whole population (see :meth:`Ledger.subset`).

Nothing here reads a clock: every time-dependent question takes ``now``.  A license whose ``expires_at`` is at
or before ``now`` is expired for that question, whether or not a sweep has recorded it (DESIGN 11).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property


class LicenseKind(StrEnum):
    TRIAL = "trial"
    PERMANENT = "permanent"
    GRACE = "grace"
    DEMONSTRATION = "demonstration"

    @property
    def label(self) -> str:
        """The CWMS name of the license type, for sentences."""
        return _TITLES[self]


_TITLES = {
    LicenseKind.TRIAL: "Trial Host",
    LicenseKind.PERMANENT: "Permanent Host",
    LicenseKind.GRACE: "Grace Host",
    LicenseKind.DEMONSTRATION: "Demonstration",
}


class Management(StrEnum):
    """Where a person is managed: on the local data center, or remotely through Active Directory."""

    LOCAL = "local"
    REMOTE = "remote"


class LicenseState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Purchase:
    """Permanent Host licenses added to the site."""

    count: int
    at: datetime


@dataclass(frozen=True)
class DemoGrant:
    """A vendor grant of Demonstration licenses; they expire with the grant, assigned or not."""

    grant_id: str
    count: int
    expires_at: datetime
    granted_at: datetime


@dataclass(frozen=True)
class TrialWindow:
    """The site's license-free trial: open on ``[start, ends_at)``.  A purchase moves ``ends_at`` to its time."""

    start: datetime
    ends_at: datetime
    ended: bool = False  # the end was recorded (by a purchase or a sweep)

    def open_at(self, now: datetime) -> bool:
        return self.start <= now < self.ends_at


@dataclass(frozen=True)
class HeldLicense:
    """The one license a person holds.  ``expires_at`` is None for Permanent; ``grant_id`` only for Demonstration."""

    kind: LicenseKind
    management: Management
    assigned_at: datetime
    expires_at: datetime | None
    state: LicenseState = LicenseState.ACTIVE
    grant_id: str | None = None


@dataclass(frozen=True)
class PersonState:
    """What the ledger knows of one person (key: the normalised e-mail)."""

    active: bool
    deleted: bool = False
    management: Management = Management.LOCAL
    license: HeldLicense | None = None
    first_grace_at: datetime | None = None
    last_hosted_at: datetime | None = None
    deactivated_at: datetime | None = None


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    host: str
    started_at: datetime


@dataclass(frozen=True)
class Ledger:
    """The whole license state.  Treat the mappings as read-only; :func:`policy.apply` builds new ledgers."""

    purchases: tuple[Purchase, ...] = ()
    demo_grants: tuple[DemoGrant, ...] = ()
    trial: TrialWindow | None = None
    people: Mapping[str, PersonState] = field(default_factory=dict)
    meetings: Mapping[str, Meeting] = field(default_factory=dict)
    # The CWMS version the ledger was upgraded to (R12); None until an upgrade records one.
    cwms_version: str | None = None

    @classmethod
    def empty(cls) -> Ledger:
        return cls()

    def version_on(self, configured: str) -> str:
        """The CWMS version the ledger is on: the one an upgrade recorded, else the configured one."""
        return self.cwms_version if self.cwms_version is not None else configured

    # -- the subset the store loads -------------------------------------------------------------------------

    def relevant_keys(self) -> frozenset[str]:
        """People a decision may depend on besides its subject: holders, hosts of open meetings, grace windows."""
        keys = {k for k, p in self.people.items() if p.license is not None or p.first_grace_at is not None}
        keys.update(m.host for m in self.meetings.values())
        return frozenset(keys)

    def subset(self, subjects: Iterable[str] = ()) -> Ledger:
        """The ledger restricted to :meth:`relevant_keys` plus ``subjects``: what the store loads for a decision."""
        keep = self.relevant_keys() | set(subjects)
        return replace(self, people={k: p for k, p in self.people.items() if k in keep})

    # -- licenses as they stand at ``now`` ------------------------------------------------------------------

    def trial_open(self, now: datetime) -> bool:
        return self.trial is not None and self.trial.open_at(now)

    def license_at(self, key: str, now: datetime) -> HeldLicense | None:
        """The person's license as it stands at ``now``.

        An expired Grace license stays held (state expired: the person is an Expired Host); an expired Trial or
        Demonstration license leaves the person with none (R3 applies afresh).
        """
        person = self.people.get(key)
        if person is None or person.license is None:
            return None
        lic = person.license
        if lic.state is LicenseState.EXPIRED:
            return lic
        if lic.expires_at is not None and lic.expires_at <= now:
            return replace(lic, state=LicenseState.EXPIRED) if lic.kind is LicenseKind.GRACE else None
        if lic.kind is LicenseKind.TRIAL and not self.trial_open(now):
            return None
        return lic

    @cached_property
    def _holders_by_kind(self) -> dict[LicenseKind, tuple[str, ...]]:
        """Who holds a license of each kind (any state): computed once per ledger, since ledgers never change."""
        out: dict[LicenseKind, list[str]] = {k: [] for k in LicenseKind}
        for key, p in self.people.items():
            if p.license is not None:
                out[p.license.kind].append(key)
        return {k: tuple(v) for k, v in out.items()}

    def holders(self, kind: LicenseKind, now: datetime) -> list[str]:
        """Keys of people holding an active license of ``kind`` at ``now``, sorted."""
        out = []
        for key in self._holders_by_kind[kind]:
            lic = self.license_at(key, now)
            if lic is not None and lic.kind is kind and lic.state is LicenseState.ACTIVE:
                out.append(key)
        return sorted(out)

    def license_holders(self) -> list[str]:
        """Keys of everyone holding a license (active or expired), sorted."""
        return sorted(k for keys in self._holders_by_kind.values() for k in keys)

    @property
    def installed_permanent(self) -> int:
        return sum(p.count for p in self.purchases)

    @property
    def permanent_in_use(self) -> int:
        """Permanent licenses bound to someone (a Permanent never expires; it is bound until released)."""
        return len(self._holders_by_kind[LicenseKind.PERMANENT])

    @property
    def free_permanent(self) -> int:
        return max(0, self.installed_permanent - self.permanent_in_use)

    def grace_in_use(self, now: datetime) -> int:
        return len(self.holders(LicenseKind.GRACE, now))

    def trial_in_use(self, now: datetime) -> int:
        return len(self.holders(LicenseKind.TRIAL, now))

    def grace_holders_oldest_first(self, now: datetime) -> list[str]:
        """Active Grace holders, oldest grace first (earliest first-grace time, ties by person key)."""
        keys = [k for k in self.holders(LicenseKind.GRACE, now) if self.people[k].active]

        def order(k: str) -> tuple[datetime, str]:
            p = self.people[k]
            lic = p.license
            assert lic is not None
            return (p.first_grace_at or lic.assigned_at, k)

        return sorted(keys, key=order)

    def live_grants(self, now: datetime) -> list[DemoGrant]:
        return [g for g in self.demo_grants if g.expires_at > now]

    def demonstration_in_use(self, grant_id: str, now: datetime) -> int:
        n = 0
        for key in self._holders_by_kind[LicenseKind.DEMONSTRATION]:
            lic = self.license_at(key, now)
            if (
                lic is not None
                and lic.kind is LicenseKind.DEMONSTRATION
                and lic.grant_id == grant_id
                and lic.state is LicenseState.ACTIVE
            ):
                n += 1
        return n

    def demonstration_total(self, now: datetime) -> int:
        return sum(g.count for g in self.live_grants(now))

    def demonstration_free(self, now: datetime) -> int:
        return sum(max(0, g.count - self.demonstration_in_use(g.grant_id, now)) for g in self.live_grants(now))

    def grant_to_draw(self, now: datetime) -> tuple[DemoGrant, int] | None:
        """The live grant with a free license that lasts longest (ties by id), and how many it has free."""
        best: tuple[DemoGrant, int] | None = None
        for g in sorted(self.live_grants(now), key=lambda g: (g.expires_at, g.grant_id), reverse=True):
            free = g.count - self.demonstration_in_use(g.grant_id, now)
            if free > 0:
                best = (g, free)
                break
        return best

    def open_meetings_of(
        self, key: str, now: datetime | None = None, timeout: timedelta | None = None
    ) -> list[Meeting]:
        """The person's open meetings, sorted by id; with ``now`` and ``timeout``, only those not yet timed out."""
        out = [m for m in self.meetings.values() if m.host == key]
        if now is not None and timeout is not None:
            out = [m for m in out if m.started_at + timeout > now]
        return sorted(out, key=lambda m: m.meeting_id)
