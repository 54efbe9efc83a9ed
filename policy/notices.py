"""Admin notices: what an administrator should be warned about at ``now``.

Cisco only says "warnings about the excess licenses are displayed to the administrator" (reference/cwms.md Q10);
the thresholds here are ours: Grace in use at all, a Grace license expiring within 30 days, a Demonstration grant
expiring within 30 days, and the trial ending within 30 days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from policy.decisions import Notice
from policy.model import Ledger, LicenseKind
from policy.settings import Settings
from policy.text import fmt_time

WARN_AHEAD = timedelta(days=30)


def grace_in_use_notice(in_use: int, installed: int, limit: int) -> Notice:
    return Notice(
        "grace_in_use",
        f"{in_use} Grace Host license{'s' if in_use != 1 else ''} in use: installed Permanent ({installed}) "
        f"exceeded by {in_use}; Grace limit {limit}",
    )


def notices(ledger: Ledger, settings: Settings, now: datetime) -> tuple[Notice, ...]:
    """Every notice that stands at ``now``, in a stable order."""
    out: list[Notice] = []
    installed = ledger.installed_permanent
    grace = ledger.holders(LicenseKind.GRACE, now)
    if grace:
        out.append(grace_in_use_notice(len(grace), installed, settings.effective_grace_limit(installed)))
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
