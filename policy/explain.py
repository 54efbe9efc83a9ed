"""``explain``: what hosting at time T would do for one person, and why (DESIGN 5, 9a).

Evaluating at T behaves as if a sweep ran at T: the ledger is first swept at T (expiries, release holds, idle
releases in 2.0, timed-out meetings), then a host request at T is decided on the swept ledger.  Nothing is
written; the answer is a value.  Works on the subset the store loads, as long as the person is in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policy.decisions import Decision
from policy.engine import apply, decide
from policy.events import HostRequest, Sweep
from policy.model import HeldLicense, Ledger, LicenseKind, LicenseState, Management, PersonState
from policy.settings import Settings
from policy.text import fmt_time

PROBE_MEETING = "explain-probe"


@dataclass(frozen=True)
class IfHosting:
    granted: bool
    license_kind: LicenseKind | None
    reason: str | None
    rule: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "granted": self.granted,
            "license_kind": self.license_kind.value if self.license_kind is not None else None,
            "reason": self.reason,
            "rule": self.rule,
            "message": self.message,
        }


@dataclass(frozen=True)
class Explanation:
    """The answer for one person at ``at``.  ``active``/``management`` are None for a person syncd does not know."""

    email: str
    at: datetime
    active: bool | None
    management: Management | None
    license: HeldLicense | None
    if_hosting: IfHosting
    facts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN 9a ``explain`` JSON shape (plus ``at``)."""
        lic = self.license
        return {
            "email": self.email,
            "at": self.at.isoformat(),
            "active": self.active,
            "management": self.management.value if self.management is not None else None,
            "license": None
            if lic is None
            else {
                "kind": lic.kind.value,
                "state": lic.state.value,
                "management": lic.management.value,
                "assigned_at": lic.assigned_at.isoformat(),
                "expires_at": lic.expires_at.isoformat() if lic.expires_at is not None else None,
            },
            "if_hosting": self.if_hosting.to_dict(),
            "facts": list(self.facts),
        }


def _probe_id(ledger: Ledger) -> str:
    mid, n = PROBE_MEETING, 1
    while mid in ledger.meetings:
        n += 1
        mid = f"{PROBE_MEETING}-{n}"
    return mid


def explain(ledger: Ledger, person: str, settings: Settings, at: datetime) -> Explanation:
    """What hosting at ``at`` would do for ``person`` (a normalised e-mail), with the rule, numbers and facts."""
    swept_by = decide(ledger, Sweep(), settings, at)
    swept = apply(ledger, swept_by)
    hyp = decide(swept, HostRequest(person, _probe_id(swept)), settings, at)
    if_hosting = IfHosting(bool(hyp.granted), hyp.license_kind, hyp.reason, hyp.rule, hyp.sentence)
    p = swept.people.get(person)
    if p is None:
        return Explanation(
            person,
            at,
            None,
            None,
            None,
            if_hosting,
            ("not known to syncd: no CUCM or AD record has been synced for this e-mail",),
        )
    lic = swept.license_at(person, at)
    facts = [
        *_person_facts(person, p, swept_by, at),
        *_license_facts(p, lic, settings, at),
        *_window_facts(p, settings, at),
        "attending meetings and scheduling meetings for others never need a host license"
        + ("; an Expired Host may still attend and schedule for others" if hyp.reason == "license_expired" else ""),
        *_site_facts(swept, person, settings, at),
    ]
    return Explanation(person, at, p.active and not p.deleted, p.management, lic, if_hosting, tuple(facts))


def _person_facts(person: str, p: PersonState, swept_by: Decision, at: datetime) -> list[str]:
    """The person's state and management, and what the sweep at ``at`` did to them."""
    facts: list[str] = []
    if p.deleted:
        facts.append("deleted; a deleted person cannot host")
    elif not p.active:
        since = f" since {fmt_time(p.deactivated_at)}" if p.deactivated_at is not None else ""
        facts.append(f"inactive{since}; an inactive person cannot host, attend or sign in")
    else:
        facts.append("active")
    facts.append(
        "managed remotely (Active Directory)"
        if p.management is Management.REMOTE
        else "managed on the local data center"
    )
    for a in swept_by.actions:
        if a.person == person:
            facts.append(f"as of {fmt_time(at)} (sweep): {a.sentence}")
    return facts


def _license_facts(p: PersonState, lic: HeldLicense | None, settings: Settings, at: datetime) -> list[str]:
    """The held license as it stands at ``at``, and what will end it."""
    if lic is None:
        return ["holds no host license; a license is taken only when the person hosts (or an admin reserves)"]
    if lic.kind is LicenseKind.PERMANENT:
        facts = [f"holds a Permanent Host license since {fmt_time(lic.assigned_at)}; it is bound until deactivation"]
        if not p.active and p.deactivated_at is not None:
            facts.append(
                f"the Permanent stays bound until {fmt_time(p.deactivated_at + settings.release_hold)} (release hold); "
                "the person cannot host meanwhile, and a reactivation before then keeps it"
            )
        if settings.cwms_version == "2.0":
            last = max(lic.assigned_at, p.last_hosted_at or lic.assigned_at)
            facts.append(
                f"CWMS 2.0: released after {settings.idle_release_days} days without hosting "
                f"(last hosted {fmt_time(last)}, so on {fmt_time(last + settings.idle_period)} if idle)"
            )
        return facts
    if lic.kind is LicenseKind.GRACE and lic.state is LicenseState.ACTIVE:
        return [
            f"holds a Grace Host license until {fmt_time(lic.expires_at or at)}; it becomes Permanent when one "
            f"is bound to the person (grace_promotion = {settings.grace_promotion})"
        ]
    if lic.kind is LicenseKind.GRACE:
        return [f"Expired Host: the Grace license expired on {fmt_time(lic.expires_at or at)}"]
    return [f"holds a {lic.kind.label} license until {fmt_time(lic.expires_at or at)}"]


def _window_facts(p: PersonState, settings: Settings, at: datetime) -> list[str]:
    """The person's Grace window, open or ended (R3, R4)."""
    if p.first_grace_at is None:
        return []
    window_end = p.first_grace_at + settings.grace_period
    if window_end <= at:
        return [
            f"the Grace window ({fmt_time(p.first_grace_at)} + {settings.grace_days} days) ended on "
            f"{fmt_time(window_end)}: never a second Grace license; only a free Permanent or Demonstration "
            "license lets the person host again"
        ]
    return [f"Grace window open until {fmt_time(window_end)} (first Grace {fmt_time(p.first_grace_at)})"]


def _site_facts(swept: Ledger, person: str, settings: Settings, at: datetime) -> list[str]:
    """The pool and the person's meetings, on the ledger swept at ``at``."""
    installed = swept.installed_permanent
    facts = [
        f"Permanent: {installed} installed, {swept.permanent_in_use} in use, {swept.free_permanent} free",
        f"Grace: {swept.grace_in_use(at)} in use of a limit of {settings.effective_grace_limit(installed)}",
    ]
    if swept.demo_grants:
        facts.append(
            f"Demonstration: {swept.demonstration_free(at)} free of {swept.demonstration_total(at)} in live grants"
        )
    if swept.trial is not None and swept.trial.open_at(at):
        facts.append(f"the site is in its trial until {fmt_time(swept.trial.ends_at)}: hosts get Trial licenses")
    open_now = swept.open_meetings_of(person, at, settings.meeting_timeout)
    facts.append(f"hosting {len(open_now)} of at most {settings.effective_max_concurrent()} concurrent meetings")
    return facts
