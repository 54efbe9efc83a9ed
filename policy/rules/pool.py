"""The license pool and admin actions: purchases (R7), reservations (R9), Demonstration grants, the trial and
the upgrade to 2.5 (R12)."""

from __future__ import annotations

from policy.decisions import (
    AddDemoGrant,
    AddPurchase,
    AssignLicense,
    Decision,
    EndTrial,
    ReleaseLicense,
    SetFirstGrace,
    SetTrial,
)
from policy.events import GrantDemonstration, PurchasePermanent, Reserve, StartTrial, Upgrade
from policy.model import LicenseKind
from policy.rules.context import Context
from policy.rules.promotion import free_slots_after, permanent_for, promote
from policy.text import fmt_time, plural


def purchase(c: Context, ev: PurchasePermanent) -> Decision:
    """R7: the pool grows; a purchase ends the trial, and (grace_promotion purchase or any) promotes Grace holders."""
    L, now, s = c.ledger, c.now, c.settings
    c.actions.append(
        AddPurchase(count=ev.count, at=now, sentence=f"{plural(ev.count, 'Permanent Host license')} purchased")
    )
    parts = [
        f"purchased {plural(ev.count, 'Permanent Host license')}: installed {L.installed_permanent + ev.count}, "
        f"free {free_slots_after(c, 0, ev.count)}"
    ]
    if L.trial is not None and not L.trial.ended:
        # A purchase after the window closed (but before a sweep recorded it) ends it when it closed.
        c.actions.append(EndTrial(at=min(now, L.trial.ends_at), sentence="the purchase ends the trial"))
        for key in L.license_holders():
            lic = L.people[key].license
            if lic is not None and lic.kind is LicenseKind.TRIAL:
                c.actions.append(
                    ReleaseLicense(person=key, kind=lic.kind, sentence="the Trial Host license ended with the trial")
                )
        parts.append("the trial ends")
    if s.grace_promotion in ("purchase", "any"):
        promoted = promote(c, free_slots_after(c, 0, ev.count), None, "Permanent licenses were purchased")
        if promoted:
            parts.append(f"{plural(len(promoted), 'Grace holder')} promoted, oldest grace first")
    return c.done("R7", "; ".join(parts))


def reserve(c: Context, ev: Reserve) -> Decision:
    """R9: an active person gets a free Permanent, replacing whatever they held."""
    L = c.ledger
    p = L.people.get(ev.person)
    if p is None:
        return c.refuse_unknown(ev.person)
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
        AssignLicense(person=ev.person, license=permanent_for(c, p), sentence="reserved a Permanent Host license")
    )
    replaced = f"; replaces the {held.state.value} {held.kind.label} license" if held is not None else ""
    return c.done(
        "R9",
        f"reserved a Permanent Host license: {free} of {L.installed_permanent} free{replaced}",
        granted=True,
        kind=LicenseKind.PERMANENT,
    )


def grant_demonstration(c: Context, ev: GrantDemonstration) -> Decision:
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
            sentence=f"{plural(ev.count, 'Demonstration license')} granted until {fmt_time(ev.expires_at)}",
        )
    )
    return c.done(
        "-", f"granted {plural(ev.count, 'Demonstration license')} ({ev.grant_id}) until {fmt_time(ev.expires_at)}"
    )


def start_trial(c: Context, ev: StartTrial) -> Decision:
    """A site has one trial, and only before any Permanent license is installed."""
    if c.ledger.trial is not None:
        return c.done("-", "refused: the site already had its trial", reason="trial_exists")
    if c.ledger.installed_permanent > 0:
        return c.done(
            "-", "refused: Permanent licenses are installed; a trial cannot start", reason="licenses_installed"
        )
    ends = ev.start + c.settings.trial_period
    c.actions.append(SetTrial(start=ev.start, ends_at=ends, sentence=f"trial from {fmt_time(ev.start)}"))
    return c.done("-", f"trial runs from {fmt_time(ev.start)} until {fmt_time(ends)}")


def upgrade(c: Context, ev: Upgrade) -> Decision:
    """R12: as CWMS's upgrade to 2.5 does, every license is released and every Grace window cleared."""
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
        f"upgrade to {ev.to} releases every license ({plural(released, 'license')} released); "
        "hosts re-acquire them by hosting or an admin reserves",
    )
