"""The clock (R10): record expiries, release holds and idle releases, end timed-out meetings and the trial.

Every decision already treats a license past its ``expires_at`` as expired; the sweep writes those transitions
into the ledger, and its decision carries the notices that stand after it.
"""

from __future__ import annotations

from policy.decisions import CloseMeeting, Decision, EndTrial, ExpireLicense, ReleaseLicense
from policy.fold import apply_actions
from policy.model import HeldLicense, LicenseKind, LicenseState, PersonState
from policy.notices import notices
from policy.rules.context import Context
from policy.rules.promotion import free_slots_after, promote
from policy.text import fmt_time


def sweep(c: Context) -> Decision:
    L, now, s = c.ledger, c.now, c.settings
    counts: dict[str, int] = {}  # what happened, in the order first seen, for the sentence

    def count(what: str | None) -> None:
        if what is not None:
            counts[what] = counts.get(what, 0) + 1

    freed = 0
    for key in L.license_holders():
        p = L.people[key]
        lic = p.license
        if lic is None:
            continue
        if lic.kind is LicenseKind.PERMANENT:
            what = _release_permanent(c, key, p, lic)
            if what is not None:
                freed += 1
            count(what)
        else:
            count(_expire(c, key, lic))
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
        promoted = promote(c, free_slots_after(c, freed), "R8", "a Permanent license is free (grace_promotion = any)")
        for _ in promoted:
            count("Grace holder promoted")
    after = apply_actions(L, c.actions)
    summary = ", ".join(f"{n} {what}" for what, n in counts.items()) or "nothing expired"
    return c.done("R10", f"sweep at {fmt_time(now)}: {summary}", notices=notices(after, s, now))


def _release_permanent(c: Context, key: str, p: PersonState, lic: HeldLicense) -> str | None:
    """Release a Permanent whose release hold has passed, or (CWMS 2.0) whose host is idle; say what, or None."""
    now, s = c.now, c.settings
    if p.deleted or not p.active:
        hold_until = (p.deactivated_at or now) + s.release_hold
        if hold_until > now:
            return None
        c.actions.append(
            ReleaseLicense(
                person=key,
                kind=lic.kind,
                sentence=f"release hold ended {fmt_time(hold_until)}: the Permanent returns to the pool",
                rule="R5",
            )
        )
        return "Permanent released after the release hold"
    if s.cwms_version != "2.0":
        return None
    last = max(lic.assigned_at, p.last_hosted_at or lic.assigned_at)
    if last + s.idle_period > now or c.ledger.open_meetings_of(key, now, s.meeting_timeout):
        return None
    c.actions.append(
        ReleaseLicense(
            person=key,
            kind=lic.kind,
            sentence=f"released after {s.idle_release_days} idle days (last hosted {fmt_time(last)})",
        )
    )
    return "idle Permanent released"


def _expire(c: Context, key: str, lic: HeldLicense) -> str | None:
    """Record a Trial, Demonstration or Grace license that has expired by now; say what, or None.

    An expired Trial or Demonstration is released (R3 applies afresh); an expired Grace stays held, expired:
    the person is an Expired Host (R4)."""
    now = c.now
    eff = c.ledger.license_at(key, now)
    if eff is None:
        why = "with its grant" if lic.kind is LicenseKind.DEMONSTRATION else "with the trial"
        c.actions.append(
            ReleaseLicense(person=key, kind=lic.kind, sentence=f"the {lic.kind.label} license expired {why}")
        )
        return f"{lic.kind.label} expired"
    if eff.state is LicenseState.EXPIRED and lic.state is LicenseState.ACTIVE:
        c.actions.append(
            ExpireLicense(
                person=key,
                kind=lic.kind,
                sentence=f"the {lic.kind.label} license expired {fmt_time(eff.expires_at or now)}: an Expired Host",
            )
        )
        return f"{lic.kind.label} expired"
    return None
