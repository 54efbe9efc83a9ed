"""The license pool and admin actions: purchases (R7) and corrections of the installed count, reservations (R9),
Demonstration grants, the trial, the upgrade to 2.5 (R12) and the import of a site's holdings."""

from __future__ import annotations

from policy.decisions import (
    Action,
    AddDemoGrant,
    AddPurchase,
    AssignLicense,
    CloseMeeting,
    Decision,
    EndTrial,
    Notice,
    ReleaseLicense,
    SetCwmsVersion,
    SetFirstGrace,
    SetTrial,
)
from policy.events import (
    GrantDemonstration,
    Holding,
    ImportHoldings,
    PurchasePermanent,
    Reserve,
    SetInstalled,
    StartTrial,
    Upgrade,
)
from policy.model import HeldLicense, LicenseKind
from policy.rules.context import Context
from policy.rules.promotion import free_slots_after, permanent_for, promote
from policy.text import fmt_time, plural


def purchase(c: Context, ev: PurchasePermanent) -> Decision:
    """R7: the pool grows; a purchase ends the trial, and (grace_promotion purchase or any) promotes Grace holders."""
    return _grow(c, ev.count, f"purchased {plural(ev.count, 'Permanent Host license')}",
                 f"{plural(ev.count, 'Permanent Host license')} purchased")


def _grow(c: Context, added: int, lead: str, recorded: str) -> Decision:
    """R7 for ``added`` more Permanent licenses; ``lead`` starts the decision's sentence, ``recorded`` is the
    purchase's."""
    L, now, s = c.ledger, c.now, c.settings
    c.actions.append(AddPurchase(count=added, at=now, sentence=recorded))
    slots = free_slots_after(c, 0, added)
    parts: list[str] = []
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
        promoted = promote(c, slots, None, "Permanent licenses were purchased")
        if promoted:
            slots -= len(promoted)
            parts.append(f"{plural(len(promoted), 'Grace holder')} promoted, oldest grace first")
    # "free" counts what is left once this decision's promotions have taken theirs, as every grant sentence does
    return c.done("R7", "; ".join([f"{lead}: installed {L.installed_permanent + added}, free {slots}", *parts]))


def set_installed(c: Context, ev: SetInstalled) -> Decision:
    """Correct the installed Permanent count (a mistyped purchase): recorded as a purchase of the difference.

    More than installed is R7 for the difference (as a purchase of it would be). Fewer is refused below the
    Permanent licenses bound to people, and below what keeps the Grace licenses in use within the Grace limit,
    so no invariant breaks; otherwise only the count changes."""
    L, now, s = c.ledger, c.now, c.settings
    installed, wanted = L.installed_permanent, ev.count
    change = f"installed Permanent Host licenses set from {installed} to {wanted}"
    if wanted == installed:
        return c.done("-", f"installed Permanent Host licenses are {installed} already; nothing changes")
    if wanted > installed:
        return _grow(c, wanted - installed, change, f"installed Permanent Host licenses corrected to {wanted}")
    in_use = L.permanent_in_use
    if wanted < in_use:
        return c.done(
            "-",
            f"refused: {plural(in_use, 'Permanent Host license')} {'is' if in_use == 1 else 'are'} in use, so the "
            f"installed count cannot go below {in_use}; deactivate or delete hosts to release theirs first",
            reason="below_in_use",
        )
    grace, limit = L.grace_in_use(now), s.effective_grace_limit(wanted)
    if grace > limit:
        return c.done(
            "-",
            f"refused: {plural(grace, 'Grace Host license')} in use, over the Grace limit of {limit} at {wanted} "
            "installed; set [licenses] grace_limit or wait for Grace licenses to end first",
            reason="grace_over_limit",
        )
    corrected = f"installed Permanent Host licenses corrected to {wanted}"
    c.actions.append(AddPurchase(count=wanted - installed, at=now, sentence=corrected))
    return c.done("-", f"{change}: {in_use} in use, free {wanted - in_use}")


def reserve(c: Context, ev: Reserve) -> Decision:
    """R9: an active person gets a free Permanent, replacing whatever they held."""
    L = c.ledger
    p = L.people.get(ev.person)
    if p is None:
        return c.refuse_unknown(ev.person)
    if p.deleted or not p.active:
        what = "deleted" if p.deleted else "inactive"
        since = f" since {fmt_time(p.deactivated_at)}" if p.deactivated_at is not None else ""
        return c.done(
            "R9",
            f"refused: {ev.person} is {what}{since}, and only an active person can hold a license; reactivate "
            "the person at its source (CUCM or AD), sync, then reserve again",
            granted=False,
            reason="person_inactive",
        )
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
        f"reserved a Permanent Host license: {free - 1} of {L.installed_permanent} left free{replaced}",
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
    """R12: as CWMS's upgrade to 2.5 does, every license is released and every Grace window cleared; the open
    meetings, whose hosts have just lost their licenses, end; the ledger records the version.  An upgrade to the
    version the ledger is on already is refused: it would release every license again."""
    L = c.ledger
    on = L.version_on(c.settings.cwms_version)
    if on == ev.to:
        why = ("an earlier upgrade recorded it" if L.cwms_version is not None
               else "no upgrade is recorded and [licenses] cwms_version says so")
        return c.done("R12", f"refused: the ledger is on CWMS {on} already ({why}); no license is released",
                      reason="already_on_version")
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
    ended = sorted(L.meetings.values(), key=lambda m: m.meeting_id)
    for m in ended:
        c.actions.append(
            CloseMeeting(person=m.host, meeting_id=m.meeting_id,
                         sentence=f"meeting {m.meeting_id} ended: the upgrade to {ev.to} released its host's license")
        )
    c.actions.append(SetCwmsVersion(version=ev.to, sentence=f"the ledger is on CWMS {ev.to} (was {on})"))
    parts = [f"upgrade from CWMS {on} to {ev.to} releases every license ({plural(released, 'license')} released)"]
    if ended:
        parts.append(f"{plural(len(ended), 'open meeting')} ended")
    parts.append("hosts re-acquire them by hosting or an admin reserves")
    return c.done("R12", "; ".join(parts))


IMPORT_PROBLEM = "import_problem"       # the code of the notices that name an import's offending lines


def import_holdings(c: Context, ev: ImportHoldings) -> Decision:
    """Adopt a site's holdings: each person named gets the license the file gives (replacing what they held).

    Refused whole, with a notice naming each offending line, when a holding would break an invariant: a person
    unknown, inactive or deleted, or on two lines; a Trial license outside the trial; a Demonstration license no
    live grant has free; more Permanent licenses bound than installed, or more Grace in use than the Grace limit
    (the lines beyond the count are named). Bookkeeping ("-"), as a Demonstration grant is."""
    L, now, s = c.ledger, c.now, c.settings
    problems: list[tuple[int, str, str | None]] = []
    named: dict[str, int] = {}
    actions: list[Action] = []
    # what the people named give up (an import replaces their licenses) no longer counts against the pool
    subjects = {h.person for h in ev.holdings}
    permanent = L.permanent_in_use - len(subjects.intersection(L.holders(LicenseKind.PERMANENT, now)))
    grace = L.grace_in_use(now) - len(subjects.intersection(L.holders(LicenseKind.GRACE, now)))
    demo_free = {g.grant_id: g.count - L.demonstration_in_use(g.grant_id, now) for g in L.live_grants(now)}
    for key in subjects.intersection(L.holders(LicenseKind.DEMONSTRATION, now)):
        lic = L.license_at(key, now)
        if lic is not None and lic.grant_id in demo_free:
            demo_free[lic.grant_id] += 1
    installed, glimit = L.installed_permanent, s.effective_grace_limit(L.installed_permanent)
    for h in ev.holdings:
        problem = _holding_problem(c, h, named.get(h.person))
        named.setdefault(h.person, h.line)
        if problem is not None:
            problems.append((h.line, problem, h.person))
            continue
        person = L.people[h.person]
        held: HeldLicense
        if h.kind is LicenseKind.PERMANENT:
            permanent += 1
            if permanent > installed:
                problems.append((h.line, f"{h.person}: a Permanent Host license beyond the {installed} installed",
                                 h.person))
            held = HeldLicense(LicenseKind.PERMANENT, person.management, h.assigned_at, None)
        elif h.kind is LicenseKind.GRACE:
            first = h.first_grace_at or person.first_grace_at or h.assigned_at
            expires = h.expires_at or first + s.grace_period
            if expires > now:
                grace += 1
                if grace > glimit:
                    problems.append((h.line, f"{h.person}: a Grace Host license beyond the Grace limit of {glimit}",
                                     h.person))
            held = HeldLicense(LicenseKind.GRACE, person.management, h.assigned_at, expires)
            if person.first_grace_at != first:
                actions.append(SetFirstGrace(person=h.person, at=first, sentence="the Grace window starts (imported)"))
        elif h.kind is LicenseKind.TRIAL:
            assert L.trial is not None      # _holding_problem refused a Trial license outside the trial
            held = HeldLicense(LicenseKind.TRIAL, person.management, h.assigned_at, L.trial.ends_at)
        else:
            grant = next((g for g in sorted(L.live_grants(now), key=lambda g: (g.expires_at, g.grant_id),
                                            reverse=True) if demo_free[g.grant_id] > 0), None)
            if grant is None:
                problems.append((h.line, f"{h.person}: no live Demonstration grant has a license free; grant them "
                                 "first (`syncd licenses demo`)", h.person))
                continue
            demo_free[grant.grant_id] -= 1
            expires = min(h.expires_at, grant.expires_at) if h.expires_at is not None else grant.expires_at
            held = HeldLicense(LicenseKind.DEMONSTRATION, person.management, h.assigned_at, expires,
                               grant_id=grant.grant_id)
        actions.append(AssignLicense(person=h.person, license=held,
                                     sentence=f"imported a {h.kind.label} license (line {h.line})"))
    if problems:
        problems.sort(key=lambda p: p[0])
        lines = len({line for line, _, _ in problems})
        return c.done(
            "-",
            f"refused: {plural(lines, 'line')} of {len(ev.holdings)} would break the ledger's invariants; "
            "nothing is imported",
            reason="import_invalid",
            notices=[Notice(IMPORT_PROBLEM, f"line {line}: {text}", person) for line, text, person in problems],
        )
    if not ev.holdings:
        return c.done("-", "the file holds no license; nothing changes")
    c.actions.extend(actions)
    kinds = [k for k in LicenseKind if any(h.kind is k for h in ev.holdings)]
    counts = ", ".join(f"{sum(1 for h in ev.holdings if h.kind is k)} {k.label}" for k in kinds)
    return c.done("-", f"imported {plural(len(ev.holdings), 'license')} ({counts}): Permanent {permanent} of "
                       f"{installed} in use, free {installed - permanent}")


def _holding_problem(c: Context, h: Holding, earlier: int | None) -> str | None:
    """Why ``h`` cannot be imported on its own (None: it can): the person or the kind does not allow it."""
    p = c.ledger.people.get(h.person)
    if earlier is not None:
        return f"{h.person} is on line {earlier} already; a person holds one license"
    if p is None:
        return f"{h.person} is not known to syncd; sync the sources first"
    if p.deleted or not p.active:
        return f"{h.person} is {'deleted' if p.deleted else 'inactive'}; only an active person can hold a license"
    if h.kind is LicenseKind.TRIAL and not c.ledger.trial_open(c.now):
        return f"{h.person}: a Trial Host license, but no trial is open"
    return None
