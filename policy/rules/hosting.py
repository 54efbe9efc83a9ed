"""Host requests (R1-R4) and the end of a meeting.

A host request is decided in this order: the person must be known and active (R1); a meeting id already open
is the same grant for its host, and refused for anyone else; the concurrent-meeting limit applies to every
host (R2); a held active license is used as it is (R2); an Expired Host gets a Permanent or Demonstration
license but never a second Grace (R4); anyone else gets Trial -> Permanent -> Demonstration -> Grace (R3).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from policy.decisions import AssignLicense, CloseMeeting, Decision, Notice, OpenMeeting, SetFirstGrace, SetLastHosted
from policy.events import HostRequest, MeetingEnd
from policy.model import DemoGrant, HeldLicense, LicenseKind, LicenseState, PersonState
from policy.notices import grace_in_use_notice
from policy.rules.context import Context
from policy.rules.promotion import permanent_for
from policy.text import fmt_time


def host_request(c: Context, ev: HostRequest) -> Decision:
    L, now, s = c.ledger, c.now, c.settings
    p = L.people.get(ev.person)
    if p is None:
        return c.refuse_unknown(ev.person)
    if p.deleted or not p.active:
        what = "deleted" if p.deleted else "inactive (deactivated)"
        return c.done("R1", f"refused: the person is {what} and cannot host", granted=False, reason="host_deactivated")
    in_use = _meeting_id_in_use(c, ev)
    if in_use is not None:
        return in_use

    lic = L.license_at(ev.person, now)
    open_now = len(L.open_meetings_of(ev.person, now, s.meeting_timeout))
    limit = s.effective_max_concurrent()
    if open_now >= limit:
        return c.done(
            "R2",
            f"refused: already hosting {open_now} of {limit} concurrent meetings allowed",
            granted=False,
            reason="concurrent_limit",
            kind=lic.kind if lic is not None else None,
        )
    if lic is not None and lic.state is LicenseState.ACTIVE:
        return _grant(
            c, ev, "R2", f"granted on the held {lic.kind.label} license: meeting {open_now + 1} of {limit} concurrent",
            lic.kind, None,
        )
    ended = _grace_ended(c, p, lic)
    if ended is not None:
        return _expired_host(c, ev, p, ended)
    return _new_host(c, ev, p)


def meeting_end(c: Context, ev: MeetingEnd) -> Decision:
    m = c.ledger.meetings.get(ev.meeting_id)
    if m is None:
        return c.done("-", f"meeting {ev.meeting_id} is not open", reason="unknown_meeting")
    c.actions.append(CloseMeeting(person=m.host, meeting_id=m.meeting_id, sentence=f"meeting {m.meeting_id} ended"))
    return c.done("-", f"meeting {m.meeting_id} ended")


def _meeting_id_in_use(c: Context, ev: HostRequest) -> Decision | None:
    """The answer when the meeting id is already open, or None to decide the request afresh.

    A meeting open past the meeting timeout counts as ended (R10): it is closed and the id is free again."""
    existing = c.ledger.meetings.get(ev.meeting_id)
    if existing is None:
        return None
    if existing.started_at + c.settings.meeting_timeout <= c.now:
        c.actions.append(
            CloseMeeting(
                person=existing.host,
                meeting_id=existing.meeting_id,
                sentence=f"meeting {existing.meeting_id} counts as ended: open longer than the meeting timeout",
                rule="R10",
            )
        )
        return None
    if existing.host != ev.person:
        return c.done(
            "-",
            f"refused: meeting id {ev.meeting_id} is already in use by another host",
            granted=False,
            reason="meeting_id_in_use",
        )
    held = c.ledger.license_at(ev.person, c.now)
    return c.done(
        "R2",
        f"meeting {ev.meeting_id} is already open for this host: same grant",
        granted=True,
        kind=held.kind if held is not None else None,
    )


def _grant(
    c: Context,
    ev: HostRequest,
    rule: str,
    sentence: str,
    kind: LicenseKind,
    new: HeldLicense | None,
    notes: Iterable[Notice] = (),
) -> Decision:
    """Grant the request on ``kind``: assign ``new`` (None: the held license), open the meeting, note the hosting."""
    key, now = ev.person, c.now
    if new is not None:
        c.actions.append(AssignLicense(person=key, license=new, sentence=f"assigned a {kind.label} license"))
    c.actions.append(
        OpenMeeting(person=key, meeting_id=ev.meeting_id, started_at=now, sentence=f"meeting {ev.meeting_id} started")
    )
    c.actions.append(SetLastHosted(person=key, at=now, sentence="hosted a meeting"))
    return c.done(rule, sentence, granted=True, kind=kind, notices=notes)


def _demonstration(c: Context, person: PersonState, grant: DemoGrant) -> HeldLicense:
    return HeldLicense(LicenseKind.DEMONSTRATION, person.management, c.now, grant.expires_at, grant_id=grant.grant_id)


def _grace_ended(c: Context, p: PersonState, lic: HeldLicense | None) -> datetime | None:
    """When the person's Grace ended if the person is an Expired Host (R4), else None.

    An Expired Host either still holds the expired Grace license, or held one whose window has closed since
    (released by a deactivation, say): the window, not the license, decides that no second Grace is given."""
    window_end = p.first_grace_at + c.settings.grace_period if p.first_grace_at is not None else None
    expired = (lic is not None and lic.state is LicenseState.EXPIRED) or (
        window_end is not None and window_end <= c.now
    )
    if not expired:
        return None
    ended = lic.expires_at if lic is not None and lic.expires_at is not None else window_end
    assert ended is not None
    return ended


def _expired_host(c: Context, ev: HostRequest, p: PersonState, ended: datetime) -> Decision:
    """R4: a free Permanent, else a free Demonstration, never a second Grace."""
    L = c.ledger
    installed, free = L.installed_permanent, L.free_permanent
    why = f"Expired Host (Grace ended {fmt_time(ended)})"
    if free > 0:
        return _grant(
            c, ev, "R4", f"granted a Permanent Host license to an {why}: {free - 1} of {installed} left free",
            LicenseKind.PERMANENT, permanent_for(c, p),
        )
    drawn = L.grant_to_draw(c.now)
    if drawn is not None:
        g, gfree = drawn
        return _grant(
            c, ev, "R4",
            f"granted a Demonstration license to an {why}: "
            f"{gfree - 1} of {g.count} left free in grant {g.grant_id}, valid until {fmt_time(g.expires_at)}",
            LicenseKind.DEMONSTRATION, _demonstration(c, p, g),
        )
    return c.done(
        "R4",
        f"refused: the Grace license expired on {fmt_time(ended)} and no Permanent or Demonstration license is "
        f"free (Permanent {L.permanent_in_use} of {installed} in use); an Expired Host may still attend "
        "and schedule meetings for others",
        granted=False,
        reason="license_expired",
        kind=LicenseKind.GRACE,
    )


def _new_host(c: Context, ev: HostRequest, p: PersonState) -> Decision:
    """R3 for a person without a usable license: Trial -> Permanent -> Demonstration -> Grace."""
    L, now = c.ledger, c.now
    if L.trial is not None and L.trial.open_at(now):
        return _grant(
            c, ev, "R3", f"granted a Trial Host license: the site is in its trial until {fmt_time(L.trial.ends_at)}",
            LicenseKind.TRIAL, HeldLicense(LicenseKind.TRIAL, p.management, now, L.trial.ends_at),
        )
    installed, free = L.installed_permanent, L.free_permanent
    if free > 0:
        return _grant(
            c, ev, "R3", f"granted a Permanent Host license: {free - 1} of {installed} left free",
            LicenseKind.PERMANENT, permanent_for(c, p),
        )
    drawn = L.grant_to_draw(now)
    if drawn is not None:
        g, gfree = drawn
        return _grant(
            c, ev, "R3",
            f"granted a Demonstration license: no Permanent free, {gfree - 1} of {g.count} left free in grant "
            f"{g.grant_id}, valid until {fmt_time(g.expires_at)}",
            LicenseKind.DEMONSTRATION, _demonstration(c, p, g),
        )
    return _grace(c, ev, p)


def _grace(c: Context, ev: HostRequest, p: PersonState) -> Decision:
    """The last step of R3: Grace while Grace in use is under the limit, inside the person's Grace window."""
    L, now, s = c.ledger, c.now, c.settings
    installed = L.installed_permanent
    glimit = s.effective_grace_limit(installed)
    gin = L.grace_in_use(now)
    if gin >= glimit:
        return c.done(
            "R3",
            f"refused: no license available ({_pool_numbers(c)})",
            granted=False,
            reason="no_license_available",
        )
    if p.first_grace_at is None:
        c.actions.append(SetFirstGrace(person=ev.person, at=now, sentence="the Grace window starts"))
    expires = (p.first_grace_at if p.first_grace_at is not None else now) + s.grace_period
    return _grant(
        c, ev, "R3",
        f"granted a Grace Host license until {fmt_time(expires)}: no Permanent free "
        f"({L.permanent_in_use} of {installed} in use), Grace {gin + 1} of {glimit} in use",
        LicenseKind.GRACE, HeldLicense(LicenseKind.GRACE, p.management, now, expires),
        [grace_in_use_notice(gin + 1, installed, L.free_permanent, glimit)],
    )


def _pool_numbers(c: Context) -> str:
    """The pool at a glance, for a refusal's sentence."""
    L, now = c.ledger, c.now
    installed = L.installed_permanent
    limit = c.settings.effective_grace_limit(installed)
    return (
        f"Permanent {L.permanent_in_use} of {installed} in use, "
        f"Demonstration {L.demonstration_free(now)} free, "
        f"Grace {L.grace_in_use(now)} of {limit} in use"
    )
