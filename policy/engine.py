"""The CWMS host-license rules R1-R12 (DESIGN 5 and 11): ``decide``, ``apply``, ``replay``.

``decide(ledger, event, settings, now)`` is pure: it reads no clock, no database and no file; the same inputs
give the same :class:`~policy.decisions.Decision`.  ``apply`` folds a decision's actions into a new ledger, and
``replay`` folds a journal of decisions from an empty ledger.

Deciding on a subset.  The store does not load every person.  It loads every person who holds a license (active
or expired), hosts an open meeting or has a grace window (``first_grace_at``), plus the event's subject:
:meth:`Ledger.subset` is that rule.  Every count used here (Permanent in use, Grace in use, Demonstration in use
per grant, the oldest Grace holder, a person's open meetings) is derived from those people, so a decision on the
subset equals the decision on the whole ledger.  A person absent from the ledger is *unknown*:

- ``HostRequest`` / ``Reserve`` / ``ManagementChange`` of an unknown person are refused with reason
  ``unknown_person`` and change nothing;
- ``Deactivation`` / ``Deletion`` / ``Reactivation`` / ``AddPerson`` of an unknown person record the person's
  state (management local until a ``ManagementChange`` says otherwise) and have no license effect.

Time.  A license whose ``expires_at`` <= ``now`` is expired for every decision; the sweep (R10) records the
transitions, ends timed-out meetings and raises notices.  The Grace window of a person is
``[first_grace_at, first_grace_at + grace_days)``: Grace is assigned only inside it, also after a deactivation
and reactivation, and after it the person is an Expired Host (R4).  A Permanent kept under ``release_hold``
counts as in use until a sweep (or the person's deletion) releases it.

Decisions name the rule that fired ("R1".."R12"; "-" for bookkeeping such as adding a person, a Demonstration
grant, a trial window or the end of a meeting) and carry one human sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from policy.decisions import (
    Action,
    AddDemoGrant,
    AddPurchase,
    AssignLicense,
    CloseMeeting,
    Decision,
    EndTrial,
    ExpireLicense,
    Notice,
    OpenMeeting,
    ReleaseLicense,
    RemarkLicense,
    SetFirstGrace,
    SetLastHosted,
    SetPersonState,
    SetTrial,
)
from policy.events import (
    AddPerson,
    Deactivation,
    Deletion,
    Event,
    GrantDemonstration,
    HostRequest,
    ManagementChange,
    MeetingEnd,
    PurchasePermanent,
    Reactivation,
    Reserve,
    StartTrial,
    Sweep,
    Upgrade,
)
from policy.model import (
    DemoGrant,
    HeldLicense,
    Ledger,
    LicenseKind,
    LicenseState,
    Management,
    Meeting,
    PersonState,
    Purchase,
    TrialWindow,
)
from policy.notices import grace_in_use_notice, notices
from policy.settings import Settings


def fmt_time(t: datetime) -> str:
    """A time for sentences: minutes, in UTC."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass
class _Ctx:
    ledger: Ledger
    event: Event
    settings: Settings
    now: datetime
    actions: list[Action] = field(default_factory=list)

    def done(
        self,
        rule: str,
        sentence: str,
        *,
        granted: bool | None = None,
        reason: str | None = None,
        kind: LicenseKind | None = None,
        notices: Iterable[Notice] = (),
    ) -> Decision:
        return Decision(
            event=self.event,
            now=self.now,
            settings_digest=self.settings.digest(),
            rule=rule,
            sentence=sentence,
            granted=granted,
            reason=reason,
            license_kind=kind,
            actions=tuple(self.actions),
            notices=tuple(notices),
        )


def decide(ledger: Ledger, event: Event, settings: Settings, now: datetime) -> Decision:
    """What the rules do with ``event`` at ``now`` on ``ledger``.  ``now`` must be timezone-aware."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware time")
    c = _Ctx(ledger, event, settings, now)
    match event:
        case HostRequest():
            return _host(c, event)
        case MeetingEnd():
            return _meeting_end(c, event)
        case Deactivation():
            return _deactivate(c, event.person, deleting=False)
        case Deletion():
            return _deactivate(c, event.person, deleting=True)
        case Reactivation():
            return _reactivate(c, event)
        case PurchasePermanent():
            return _purchase(c, event)
        case GrantDemonstration():
            return _grant_demo(c, event)
        case StartTrial():
            return _start_trial(c, event)
        case Reserve():
            return _reserve(c, event)
        case ManagementChange():
            return _management(c, event)
        case Sweep():
            return _sweep(c)
        case Upgrade():
            return _upgrade(c, event)
        case AddPerson():
            return _add_person(c, event)
    raise TypeError(f"not a policy event: {event!r}")


# -- shared pieces -----------------------------------------------------------------------------------------


def _permanent(c: _Ctx, person: PersonState) -> HeldLicense:
    return HeldLicense(LicenseKind.PERMANENT, person.management, c.now, None)


def _demonstration(c: _Ctx, person: PersonState, grant: DemoGrant) -> HeldLicense:
    return HeldLicense(LicenseKind.DEMONSTRATION, person.management, c.now, grant.expires_at, grant_id=grant.grant_id)


def _promote(c: _Ctx, slots: int, rule: str | None, why: str, exclude: Sequence[str] = ()) -> list[str]:
    """Promote up to ``slots`` Grace holders, oldest grace first, to Permanent.  Returns the keys promoted."""
    if slots <= 0:
        return []
    keys = [k for k in c.ledger.grace_holders_oldest_first(c.now) if k not in exclude][:slots]
    for key in keys:
        p = c.ledger.people[key]
        c.actions.append(
            AssignLicense(
                person=key,
                license=_permanent(c, p),
                sentence=f"promoted from Grace to a Permanent Host license (oldest Grace holder): {why}",
                rule=rule,
            )
        )
    return keys


_FREED = "a Permanent license was freed (grace_promotion = any)"


def _free_slots_after(c: _Ctx, freed: int, added: int = 0) -> int:
    return c.ledger.installed_permanent + added - (c.ledger.permanent_in_use - freed)


def _pool_numbers(ledger: Ledger, settings: Settings, now: datetime) -> str:
    installed = ledger.installed_permanent
    limit = settings.effective_grace_limit(installed)
    return (
        f"Permanent {ledger.permanent_in_use} of {installed} in use, "
        f"Demonstration {ledger.demonstration_free(now)} free, "
        f"Grace {ledger.grace_in_use(now)} of {limit} in use"
    )


# -- host requests (R1-R4) ---------------------------------------------------------------------------------


def _host(c: _Ctx, ev: HostRequest) -> Decision:
    L, now, s = c.ledger, c.now, c.settings
    key = ev.person
    p = L.people.get(key)
    if p is None:
        return c.done("-", f"refused: {key} is not known to syncd", granted=False, reason="unknown_person")
    if p.deleted or not p.active:
        what = "deleted" if p.deleted else "inactive (deactivated)"
        return c.done("R1", f"refused: the person is {what} and cannot host", granted=False, reason="host_deactivated")

    existing = L.meetings.get(ev.meeting_id)
    if existing is not None:
        if existing.started_at + s.meeting_timeout <= now:
            c.actions.append(
                CloseMeeting(
                    person=existing.host,
                    meeting_id=existing.meeting_id,
                    sentence=f"meeting {existing.meeting_id} counts as ended: open longer than the meeting timeout",
                    rule="R10",
                )
            )
        elif existing.host != key:
            return c.done(
                "-",
                f"refused: meeting id {ev.meeting_id} is already in use by another host",
                granted=False,
                reason="meeting_id_in_use",
            )
        else:
            held = L.license_at(key, now)
            return c.done(
                "R2",
                f"meeting {ev.meeting_id} is already open for this host: same grant",
                granted=True,
                kind=held.kind if held is not None else None,
            )

    lic = L.license_at(key, now)
    open_now = len(L.open_meetings_of(key, now, s.meeting_timeout))
    limit = s.effective_max_concurrent()
    if open_now >= limit:
        return c.done(
            "R2",
            f"refused: already hosting {open_now} of {limit} concurrent meetings allowed",
            granted=False,
            reason="concurrent_limit",
            kind=lic.kind if lic is not None else None,
        )

    def grant(
        rule: str, sentence: str, kind: LicenseKind, new: HeldLicense | None, notes: Iterable[Notice] = ()
    ) -> Decision:
        if new is not None:
            c.actions.append(AssignLicense(person=key, license=new, sentence=f"assigned a {kind.label} license"))
        c.actions.append(
            OpenMeeting(
                person=key, meeting_id=ev.meeting_id, started_at=now, sentence=f"meeting {ev.meeting_id} started"
            )
        )
        c.actions.append(SetLastHosted(person=key, at=now, sentence="hosted a meeting"))
        return c.done(rule, sentence, granted=True, kind=kind, notices=notes)

    if lic is not None and lic.state is LicenseState.ACTIVE:
        return grant(
            "R2",
            f"granted on the held {lic.kind.label} license: meeting {open_now + 1} of {limit} concurrent",
            lic.kind,
            None,
        )

    installed = L.installed_permanent
    free = L.free_permanent
    window_end = p.first_grace_at + s.grace_period if p.first_grace_at is not None else None
    expired_host = (lic is not None and lic.state is LicenseState.EXPIRED) or (
        window_end is not None and window_end <= now
    )
    if expired_host:
        ended = lic.expires_at if lic is not None and lic.expires_at is not None else window_end
        assert ended is not None
        if free > 0:
            return grant(
                "R4",
                f"granted a Permanent Host license to an Expired Host (Grace ended {fmt_time(ended)}): "
                f"{free} of {installed} free",
                LicenseKind.PERMANENT,
                _permanent(c, p),
            )
        drawn = L.grant_to_draw(now)
        if drawn is not None:
            g, gfree = drawn
            return grant(
                "R4",
                f"granted a Demonstration license to an Expired Host (Grace ended {fmt_time(ended)}): "
                f"{gfree} of {g.count} free in grant {g.grant_id}, valid until {fmt_time(g.expires_at)}",
                LicenseKind.DEMONSTRATION,
                _demonstration(c, p, g),
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

    # R3: Trial -> Permanent -> Demonstration -> Grace.
    if L.trial is not None and L.trial.open_at(now):
        new = HeldLicense(LicenseKind.TRIAL, p.management, now, L.trial.ends_at)
        return grant(
            "R3",
            f"granted a Trial Host license: the site is in its trial until {fmt_time(L.trial.ends_at)}",
            LicenseKind.TRIAL,
            new,
        )
    if free > 0:
        return grant(
            "R3",
            f"granted a Permanent Host license: {free} of {installed} free",
            LicenseKind.PERMANENT,
            _permanent(c, p),
        )
    drawn = L.grant_to_draw(now)
    if drawn is not None:
        g, gfree = drawn
        return grant(
            "R3",
            f"granted a Demonstration license: no Permanent free, {gfree} of {g.count} free in grant "
            f"{g.grant_id}, valid until {fmt_time(g.expires_at)}",
            LicenseKind.DEMONSTRATION,
            _demonstration(c, p, g),
        )
    glimit = s.effective_grace_limit(installed)
    gin = L.grace_in_use(now)
    if gin < glimit:
        first = p.first_grace_at if p.first_grace_at is not None else now
        expires = first + s.grace_period
        if p.first_grace_at is None:
            c.actions.append(SetFirstGrace(person=key, at=now, sentence="the Grace window starts"))
        new = HeldLicense(LicenseKind.GRACE, p.management, now, expires)
        return grant(
            "R3",
            f"granted a Grace Host license until {fmt_time(expires)}: no Permanent free "
            f"({L.permanent_in_use} of {installed} in use), Grace {gin + 1} of {glimit} in use",
            LicenseKind.GRACE,
            new,
            [grace_in_use_notice(gin + 1, installed, glimit)],
        )
    return c.done(
        "R3",
        f"refused: no license available ({_pool_numbers(L, s, now)})",
        granted=False,
        reason="no_license_available",
    )


def _meeting_end(c: _Ctx, ev: MeetingEnd) -> Decision:
    m = c.ledger.meetings.get(ev.meeting_id)
    if m is None:
        return c.done("-", f"meeting {ev.meeting_id} is not open", reason="unknown_meeting")
    c.actions.append(CloseMeeting(person=m.host, meeting_id=m.meeting_id, sentence=f"meeting {m.meeting_id} ended"))
    return c.done("-", f"meeting {m.meeting_id} ended")


# -- people (R5, R6, R11) ------------------------------------------------------------------------------------


def _deactivate(c: _Ctx, key: str, *, deleting: bool) -> Decision:
    L, now, s = c.ledger, c.now, c.settings
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
        parts.append(f"{_plural(len(ended), 'open meeting')} ended")
    freed = 0
    lic = p.license
    if lic is not None:
        hold_until = deactivated_at + s.release_hold
        if lic.kind is LicenseKind.PERMANENT and not deleting and hold_until > now:
            parts.append(f"Permanent Host license kept bound until {fmt_time(hold_until)} (release hold)")
        else:
            c.actions.append(
                ReleaseLicense(person=key, kind=lic.kind, sentence=f"released the {lic.kind.label} license")
            )
            if lic.kind is LicenseKind.PERMANENT:
                freed = 1
                parts.append("Permanent Host license released to the pool")
            else:
                parts.append(f"{lic.kind.label} license released")
    else:
        parts.append("held no license")
    if freed and s.grace_promotion == "any":
        promoted = _promote(c, _free_slots_after(c, freed), "R8", _FREED, exclude=[key])
        if promoted:
            parts.append(f"oldest Grace holder promoted to it (R8, grace_promotion = any): {', '.join(promoted)}")
    elif freed:
        parts.append(f"it stays in the pool for the next new host (R8, grace_promotion = {s.grace_promotion})")
    return c.done("R5", "; ".join(parts))


def _reactivate(c: _Ctx, ev: Reactivation) -> Decision:
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
            _promote(c, _free_slots_after(c, 1), "R8", _FREED, exclude=[key])
    return c.done("R6", "reactivated; no license is assigned until the person hosts or an admin reserves one")


def _management(c: _Ctx, ev: ManagementChange) -> Decision:
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


def _add_person(c: _Ctx, ev: AddPerson) -> Decision:
    if ev.person in c.ledger.people:
        return c.done("-", f"{ev.person} is already known")
    c.actions.append(
        SetPersonState(
            person=ev.person,
            active=ev.active,
            deleted=False,
            management=ev.management,
            deactivated_at=None,
            sentence=f"first seen ({'active' if ev.active else 'inactive'}, managed {ev.management.value})",
        )
    )
    return c.done("-", f"added {ev.person} ({'active' if ev.active else 'inactive'}, managed {ev.management.value})")


# -- admin actions (R7, R9, R12, grants, trial) ----------------------------------------------------------------


def _purchase(c: _Ctx, ev: PurchasePermanent) -> Decision:
    L, now, s = c.ledger, c.now, c.settings
    c.actions.append(
        AddPurchase(count=ev.count, at=now, sentence=f"{_plural(ev.count, 'Permanent Host license')} purchased")
    )
    parts = [
        f"purchased {_plural(ev.count, 'Permanent Host license')}: installed {L.installed_permanent + ev.count}, "
        f"free {_free_slots_after(c, 0, ev.count)}"
    ]
    if L.trial is not None and not L.trial.ended:
        at = min(now, L.trial.ends_at)
        c.actions.append(EndTrial(at=at, sentence="the purchase ends the trial"))
        for key in L.license_holders():
            lic = L.people[key].license
            if lic is not None and lic.kind is LicenseKind.TRIAL:
                c.actions.append(
                    ReleaseLicense(person=key, kind=lic.kind, sentence="the Trial Host license ended with the trial")
                )
        parts.append("the trial ends")
    if s.grace_promotion in ("purchase", "any"):
        promoted = _promote(c, _free_slots_after(c, 0, ev.count), None, "Permanent licenses were purchased")
        if promoted:
            parts.append(f"{_plural(len(promoted), 'Grace holder')} promoted, oldest grace first")
    return c.done("R7", "; ".join(parts))


def _reserve(c: _Ctx, ev: Reserve) -> Decision:
    L = c.ledger
    p = L.people.get(ev.person)
    if p is None:
        return c.done("-", f"refused: {ev.person} is not known to syncd", granted=False, reason="unknown_person")
    if p.deleted or not p.active:
        return c.done("R9", "refused: the person is not active", granted=False, reason="person_inactive")
    if p.license is not None and p.license.kind is LicenseKind.PERMANENT:
        return c.done("R9", "already holds a Permanent Host license", granted=True, kind=LicenseKind.PERMANENT)
    free = L.free_permanent
    if free <= 0:
        return c.done(
            "R9",
            f"refused: no Permanent Host license is free ({L.permanent_in_use} of {L.installed_permanent} in use)",
            granted=False,
            reason="no_permanent_free",
        )
    held = L.license_at(ev.person, c.now)
    c.actions.append(
        AssignLicense(person=ev.person, license=_permanent(c, p), sentence="reserved a Permanent Host license")
    )
    replaced = f"; replaces the {held.state.value} {held.kind.label} license" if held is not None else ""
    return c.done(
        "R9",
        f"reserved a Permanent Host license: {free} of {L.installed_permanent} free{replaced}",
        granted=True,
        kind=LicenseKind.PERMANENT,
    )


def _grant_demo(c: _Ctx, ev: GrantDemonstration) -> Decision:
    if any(g.grant_id == ev.grant_id for g in c.ledger.demo_grants):
        return c.done("-", f"refused: grant {ev.grant_id} already exists", reason="grant_exists")
    if ev.expires_at <= c.now:
        return c.done("-", f"refused: grant {ev.grant_id} would already be expired", reason="already_expired")
    c.actions.append(
        AddDemoGrant(
            grant_id=ev.grant_id,
            count=ev.count,
            expires_at=ev.expires_at,
            granted_at=c.now,
            sentence=f"{_plural(ev.count, 'Demonstration license')} granted until {fmt_time(ev.expires_at)}",
        )
    )
    return c.done(
        "-", f"granted {_plural(ev.count, 'Demonstration license')} ({ev.grant_id}) until {fmt_time(ev.expires_at)}"
    )


def _start_trial(c: _Ctx, ev: StartTrial) -> Decision:
    if c.ledger.trial is not None:
        return c.done("-", "refused: the site already had its trial", reason="trial_exists")
    if c.ledger.installed_permanent > 0:
        return c.done(
            "-", "refused: Permanent licenses are installed; a trial cannot start", reason="licenses_installed"
        )
    ends = ev.start + c.settings.trial_period
    c.actions.append(SetTrial(start=ev.start, ends_at=ends, sentence=f"trial from {fmt_time(ev.start)}"))
    return c.done("-", f"trial runs from {fmt_time(ev.start)} until {fmt_time(ends)}")


def _upgrade(c: _Ctx, ev: Upgrade) -> Decision:
    L = c.ledger
    released = 0
    for key in sorted(L.people):
        p = L.people[key]
        if p.license is not None:
            released += 1
            c.actions.append(
                ReleaseLicense(
                    person=key,
                    kind=p.license.kind,
                    sentence=f"the upgrade to {ev.to} released the {p.license.kind.label} license",
                )
            )
        if p.first_grace_at is not None:
            c.actions.append(SetFirstGrace(person=key, at=None, sentence="the upgrade clears the Grace window"))
    return c.done(
        "R12",
        f"upgrade to {ev.to} releases every license ({_plural(released, 'license')} released); "
        "hosts re-acquire them by hosting or an admin reserves",
    )


# -- the clock (R10) -------------------------------------------------------------------------------------------


def _sweep(c: _Ctx) -> Decision:
    L, now, s = c.ledger, c.now, c.settings
    counts: dict[str, int] = {}

    def count(what: str) -> None:
        counts[what] = counts.get(what, 0) + 1

    freed = 0
    for key in L.license_holders():
        p = L.people[key]
        lic = p.license
        if lic is None:
            continue
        if lic.kind is LicenseKind.PERMANENT:
            if p.deleted or not p.active:
                hold_until = (p.deactivated_at or now) + s.release_hold
                if hold_until <= now:
                    c.actions.append(
                        ReleaseLicense(
                            person=key,
                            kind=lic.kind,
                            sentence=f"release hold ended {fmt_time(hold_until)}: the Permanent returns to the pool",
                            rule="R5",
                        )
                    )
                    freed += 1
                    count("Permanent released after the release hold")
            elif s.cwms_version == "2.0":
                last = max(lic.assigned_at, p.last_hosted_at or lic.assigned_at)
                if last + s.idle_period <= now and not L.open_meetings_of(key, now, s.meeting_timeout):
                    c.actions.append(
                        ReleaseLicense(
                            person=key,
                            kind=lic.kind,
                            sentence=f"released after {s.idle_release_days} idle days (last hosted {fmt_time(last)})",
                        )
                    )
                    freed += 1
                    count("idle Permanent released")
            continue
        eff = L.license_at(key, now)
        if eff is None:
            why = "with its grant" if lic.kind is LicenseKind.DEMONSTRATION else "with the trial"
            c.actions.append(
                ReleaseLicense(person=key, kind=lic.kind, sentence=f"the {lic.kind.label} license expired {why}")
            )
            count(f"{lic.kind.label} expired")
        elif eff.state is LicenseState.EXPIRED and lic.state is LicenseState.ACTIVE:
            c.actions.append(
                ExpireLicense(
                    person=key,
                    kind=lic.kind,
                    sentence=f"the {lic.kind.label} license expired {fmt_time(eff.expires_at or now)}: an Expired Host",
                )
            )
            count(f"{lic.kind.label} expired")
    for mid in sorted(L.meetings):
        m = L.meetings[mid]
        if m.started_at + s.meeting_timeout <= now:
            c.actions.append(
                CloseMeeting(person=m.host, meeting_id=mid, sentence=f"meeting {mid} counts as ended: timed out")
            )
            count("timed-out meeting ended")
    if L.trial is not None and not L.trial.ended and L.trial.ends_at <= now:
        c.actions.append(EndTrial(at=L.trial.ends_at, sentence="the trial window ended"))
        count("trial ended")
    if s.grace_promotion == "any":
        promoted = _promote(c, _free_slots_after(c, freed), "R8", "a Permanent license is free (grace_promotion = any)")
        for _ in promoted:
            count("Grace holder promoted")
    after = apply(L, c.done("R10", ""))
    summary = ", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing expired"
    return c.done("R10", f"sweep at {fmt_time(now)}: {summary}", notices=notices(after, s, now))


# -- folding ---------------------------------------------------------------------------------------------------


def _person(people: dict[str, PersonState], key: str, action: Action) -> PersonState:
    p = people.get(key)
    if p is None:
        raise ValueError(f"{type(action).__name__} touches a person the ledger does not know: {key}")
    return p


def apply(ledger: Ledger, decision: Decision) -> Ledger:
    """The ledger after ``decision``'s actions, in order.  Pure: ``ledger`` is not changed."""
    if not decision.actions:
        return ledger
    state = _Fold(ledger)
    state.fold(decision)
    return state.ledger()


def replay(decisions: Iterable[Decision], start: Ledger | None = None) -> Ledger:
    """Fold recorded decisions from an empty ledger (or ``start``): the journal reproduces the ledger.

    One mutable fold for the whole journal: applying decision by decision would copy every person once per
    decision, and a journal holds a row per person ever created (400,000 on a large site)."""
    state = _Fold(start if start is not None else Ledger.empty())
    for d in decisions:
        state.fold(d)
    return state.ledger()


class _Fold:
    """A ledger's parts, changed in place by decisions' actions; ``ledger()`` freezes them again."""

    def __init__(self, ledger: Ledger) -> None:
        self.people = dict(ledger.people)
        self.meetings = dict(ledger.meetings)
        self.purchases = list(ledger.purchases)
        self.grants = list(ledger.demo_grants)
        self.trial = ledger.trial

    def ledger(self) -> Ledger:
        return Ledger(tuple(self.purchases), tuple(self.grants), self.trial, self.people, self.meetings)

    def fold(self, decision: Decision) -> None:
        people, meetings = self.people, self.meetings
        for a in decision.actions:
            match a:
                case AssignLicense():
                    people[a.person] = replace(_person(people, a.person, a), license=a.license)
                case ReleaseLicense():
                    people[a.person] = replace(_person(people, a.person, a), license=None)
                case ExpireLicense():
                    p = _person(people, a.person, a)
                    if p.license is not None:
                        people[a.person] = replace(p, license=replace(p.license, state=LicenseState.EXPIRED))
                case RemarkLicense():
                    p = _person(people, a.person, a)
                    if p.license is not None:
                        people[a.person] = replace(p, license=replace(p.license, management=a.management))
                case SetPersonState():
                    prev = people.get(a.person) or PersonState(active=a.active)
                    people[a.person] = replace(prev, active=a.active, deleted=a.deleted, management=a.management,
                                               deactivated_at=a.deactivated_at)
                case OpenMeeting():
                    meetings[a.meeting_id] = Meeting(a.meeting_id, a.person, a.started_at)
                case CloseMeeting():
                    meetings.pop(a.meeting_id, None)
                case AddPurchase():
                    self.purchases.append(Purchase(a.count, a.at))
                case AddDemoGrant():
                    self.grants.append(DemoGrant(a.grant_id, a.count, a.expires_at, a.granted_at))
                case SetTrial():
                    self.trial = TrialWindow(a.start, a.ends_at)
                case EndTrial():
                    if self.trial is not None:
                        self.trial = TrialWindow(self.trial.start, min(self.trial.ends_at, a.at), ended=True)
                case SetFirstGrace():
                    people[a.person] = replace(_person(people, a.person, a), first_grace_at=a.at)
                case SetLastHosted():
                    people[a.person] = replace(_person(people, a.person, a), last_hosted_at=a.at)
