"""People coming and going: deactivation and deletion (R5, with R8), reactivation (R6), management (R11), and a
person first seen by a sync.

A person the ledger does not know is recorded by a deactivation, deletion, reactivation or first sighting
(management local until a management change says otherwise), with no license effect; a management change of
an unknown person changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from policy.decisions import CloseMeeting, Decision, ReleaseLicense, RemarkLicense, SetPersonState
from policy.events import AddPerson, ManagementChange, Reactivation
from policy.model import HeldLicense, LicenseKind, Management
from policy.rules.context import Context, require_aware
from policy.rules.promotion import FREED, free_slots_after, promote
from policy.settings import Settings
from policy.text import fmt_time, plural


def deactivate(c: Context, key: str, *, deleting: bool) -> Decision:
    """R5: the person is inactive (or deleted); their meetings end and their license is released."""
    L, now = c.ledger, c.now
    what = "deleted" if deleting else "inactive"
    p = L.people.get(key)
    if p is None:
        c.actions.append(
            SetPersonState(
                person=key,
                active=False,
                deleted=deleting,
                management=Management.LOCAL,
                deactivated_at=now,
                sentence=f"recorded as {what}",
            )
        )
        return c.done("R5", f"recorded {key} as {what}; not known before, so no license to release")
    if not p.active and (p.deleted or not deleting):
        return c.done("R5", f"already {'deleted' if p.deleted else 'inactive'}; nothing to do")

    # A deletion after a deactivation keeps the deactivation time, so the release hold still counts from it.
    deactivated_at = p.deactivated_at if (not p.active and p.deactivated_at is not None) else now
    c.actions.append(
        SetPersonState(
            person=key,
            active=False,
            deleted=p.deleted or deleting,
            management=p.management,
            deactivated_at=deactivated_at,
            sentence=f"now {what}",
        )
    )
    ended = L.open_meetings_of(key)
    for m in ended:
        c.actions.append(
            CloseMeeting(
                person=key, meeting_id=m.meeting_id, sentence=f"meeting {m.meeting_id} ended: the host is {what}"
            )
        )
    parts = [f"now {what}"]
    if ended:
        parts.append(f"{plural(len(ended), 'open meeting')} ended")
    parts += _release_on_leaving(c, key, p.license, deactivated_at, deleting)
    return c.done("R5", "; ".join(parts))


def _release_on_leaving(
    c: Context, key: str, lic: HeldLicense | None, deactivated_at: datetime, deleting: bool
) -> list[str]:
    """R5's license effect, and R8 when it frees a Permanent.  Returns the parts of the decision's sentence.

    Under ``release_hold`` a deactivated person's Permanent stays bound until the hold passes (the sweep
    releases it then); a deletion releases it at once."""
    s = c.settings
    if lic is None:
        return ["held no license"]
    hold_until = deactivated_at + s.release_hold
    if lic.kind is LicenseKind.PERMANENT and not deleting and hold_until > c.now:
        return [f"Permanent Host license kept bound until {fmt_time(hold_until)} (release hold)"]
    c.actions.append(ReleaseLicense(person=key, kind=lic.kind, sentence=f"released the {lic.kind.label} license"))
    if lic.kind is not LicenseKind.PERMANENT:
        return [f"{lic.kind.label} license released"]
    parts = ["Permanent Host license released to the pool"]
    if s.grace_promotion == "any":
        promoted = promote(c, free_slots_after(c, 1), "R8", FREED, exclude=[key])
        if promoted:
            parts.append(f"oldest Grace holder promoted to it (R8, grace_promotion = any): {', '.join(promoted)}")
    else:
        parts.append(f"it stays in the pool for the next new host (R8, grace_promotion = {s.grace_promotion})")
    return parts


def reactivate(c: Context, ev: Reactivation) -> Decision:
    """R6: active again, but nothing is assigned until the person hosts or an admin reserves.

    A Permanent kept under ``release_hold`` stays with the person if the hold has not passed; if it has (and no
    sweep released it yet), it goes back to the pool now."""
    L, now, s = c.ledger, c.now, c.settings
    key = ev.person
    p = L.people.get(key)
    if p is None:
        c.actions.append(
            SetPersonState(
                person=key,
                active=True,
                deleted=False,
                management=Management.LOCAL,
                deactivated_at=None,
                sentence="recorded as active",
            )
        )
        return c.done(
            "R6", f"recorded {key} as active; nothing is assigned until the person hosts or an admin reserves"
        )
    if p.active and not p.deleted:
        return c.done("R6", "already active; nothing to do")
    c.actions.append(
        SetPersonState(
            person=key, active=True, deleted=False, management=p.management, deactivated_at=None, sentence="now active"
        )
    )
    lic = p.license
    if lic is not None and lic.kind is LicenseKind.PERMANENT:
        hold_until = (p.deactivated_at or now) + s.release_hold
        if hold_until > now:
            return c.done("R6", "reactivated within the release hold: keeps the Permanent Host license")
        c.actions.append(
            ReleaseLicense(
                person=key,
                kind=lic.kind,
                sentence=f"the release hold ended {fmt_time(hold_until)}: the Permanent goes back to the pool",
                rule="R5",
            )
        )
        if s.grace_promotion == "any":
            promote(c, free_slots_after(c, 1), "R8", FREED, exclude=[key])
    return c.done("R6", "reactivated; no license is assigned until the person hosts or an admin reserves one")


def management_change(c: Context, ev: ManagementChange) -> Decision:
    """R11: the person and the held license are re-marked local or remote."""
    p = c.ledger.people.get(ev.person)
    if p is None:
        return c.done("R11", f"{ev.person} is not known to syncd; nothing to re-mark", reason="unknown_person")
    if p.management is ev.management:
        return c.done("R11", f"already managed {ev.management.value}; nothing to re-mark")
    c.actions.append(
        SetPersonState(
            person=ev.person,
            active=p.active,
            deleted=p.deleted,
            management=ev.management,
            deactivated_at=p.deactivated_at,
            sentence=f"now managed {ev.management.value}",
        )
    )
    if p.license is not None:
        c.actions.append(
            RemarkLicense(
                person=ev.person,
                management=ev.management,
                sentence=f"{p.license.kind.label} license re-marked {ev.management.value}",
            )
        )
        return c.done("R11", f"management changed to {ev.management.value}; the held license is re-marked")
    return c.done("R11", f"management changed to {ev.management.value}; no license held")


def add_person(c: Context, ev: AddPerson) -> Decision:
    """A person first seen by a sync: recorded, with no license effect."""
    if ev.person in c.ledger.people:
        return c.done("-", f"{ev.person} is already known")
    return added(ev, c.now, c.settings.digest())


def person_added(person: str, active: bool, management: Management, now: datetime, settings: Settings) -> Decision:
    """The decision on ``AddPerson(person, active, management)`` at ``now`` for a person the ledger does not know.

    It equals ``decide(ledger, AddPerson(...), settings, now)`` for any ledger without ``person``, but needs no
    ledger: a sync that creates many people, or a replay of their journal rows, records each one without
    loading (or copying) the ledger.  For a person the ledger knows, ``decide`` answers "already known" instead.
    """
    require_aware(now)
    return added(AddPerson(person, active, management), now, settings.digest())


def added(ev: AddPerson, now: datetime, settings_digest: str) -> Decision:
    """The AddPerson decision under the settings whose digest is given: the settings change nothing in it."""
    state = f"({'active' if ev.active else 'inactive'}, managed {ev.management.value})"
    action = SetPersonState(
        person=ev.person,
        active=ev.active,
        deleted=False,
        management=ev.management,
        deactivated_at=None,
        sentence=f"first seen {state}",
    )
    return Decision(
        event=ev,
        now=now,
        settings_digest=settings_digest,
        rule="-",
        sentence=f"added {ev.person} {state}",
        actions=(action,),
    )
