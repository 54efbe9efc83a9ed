"""Admin notices: what an administrator should be warned about at ``now``.

Cisco only says "warnings about the excess licenses are displayed to the administrator" (reference/cwms.md Q10);
the thresholds here are ours: Grace in use at all, a Grace license expiring within 30 days, a Demonstration grant
expiring within 30 days, and the trial ending within 30 days.  And one of ours: the configured
``cwms_version`` differs from the one an upgrade recorded in the ledger (R12).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from policy.decisions import Notice
from policy.model import Ledger, LicenseKind
from policy.settings import Settings
from policy.text import fmt_time, plural

WARN_AHEAD = timedelta(days=30)


def grace_in_use_notice(in_use: int, installed: int, free: int, limit: int) -> Notice:
    """Grace in use, and by how much the hosts exceed the installed Permanent licenses: the Grace holders beyond
    the free Permanents (24 of 25 in use and 2 Grace exceed it by 1)."""
    over = max(0, in_use - free)
    beyond = (f"installed Permanent ({installed}) exceeded by {over}" if over
              else f"installed Permanent ({installed}) not exceeded ({plural(free, 'Permanent')} free)")
    return Notice(
        "grace_in_use",
        f"{plural(in_use, 'Grace Host license')} in use: {beyond}; Grace limit {limit}",
    )


def grace_not_promoted_notice(grace: int, free: int, promotion: str) -> Notice:
    """Why free Permanents stand beside Grace holders, and what the admin can do about it."""
    when = ("only when Permanent licenses are purchased" if promotion == "purchase" else "never by itself")
    return Notice(
        "grace_not_promoted",
        f"{plural(free, 'Permanent Host license')} free while {grace} "
        f"{'person holds' if grace == 1 else 'people hold'} Grace: grace_promotion = \"{promotion}\" promotes "
        f"Grace holders {when}; `syncd licenses reserve EMAIL` gives a free Permanent to one of them now",
    )


def notices(ledger: Ledger, settings: Settings, now: datetime) -> tuple[Notice, ...]:
    """Every notice that stands at ``now``, in a stable order."""
    out: list[Notice] = []
    installed = ledger.installed_permanent
    grace = ledger.holders(LicenseKind.GRACE, now)
    free = ledger.free_permanent
    if grace:
        out.append(grace_in_use_notice(len(grace), installed, free, settings.effective_grace_limit(installed)))
        if free > 0 and settings.grace_promotion != "any":     # "any" promotes as soon as one is free
            out.append(grace_not_promoted_notice(len(grace), free, settings.grace_promotion))
    for key in grace:
        lic = ledger.license_at(key, now)
        assert lic is not None and lic.expires_at is not None
        if lic.expires_at - now <= WARN_AHEAD:
            days = (lic.expires_at - now).days
            out.append(
                Notice(
                    "grace_expiring",
                    f"the Grace Host license of {key} expires on {fmt_time(lic.expires_at)} (in {days} days) unless a "
                    "Permanent license is bound first",
                    person=key,
                    at=lic.expires_at,
                )
            )
    for g in sorted(ledger.live_grants(now), key=lambda g: (g.expires_at, g.grant_id)):
        if g.expires_at - now <= WARN_AHEAD:
            used = ledger.demonstration_in_use(g.grant_id, now)
            out.append(
                Notice(
                    "demonstration_expiring",
                    f"Demonstration grant {g.grant_id} ({g.count} licenses, {used} assigned) expires on "
                    f"{fmt_time(g.expires_at)}; its hosts then need another license the next time they host",
                    at=g.expires_at,
                )
            )
    if ledger.cwms_version is not None and ledger.cwms_version != settings.cwms_version:
        out.append(
            Notice(
                "cwms_version_mismatch",
                f"the ledger is on CWMS {ledger.cwms_version} (recorded by `licenses upgrade`) but [licenses] "
                f'cwms_version is "{settings.cwms_version}"; set it to "{ledger.cwms_version}"',
            )
        )
    t = ledger.trial
    if t is not None and t.open_at(now) and t.ends_at - now <= WARN_AHEAD:
        out.append(
            Notice(
                "trial_ending",
                f"the trial ends on {fmt_time(t.ends_at)}; Permanent licenses are needed after it",
                at=t.ends_at,
            )
        )
    return tuple(out)
