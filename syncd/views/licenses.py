"""`licenses report` and ``GET /api/v1/licenses``: the pool at a time. The metrics read the same summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from policy import LicenseSummary, summarize
from policy.notices import WARN_AHEAD
from syncd.licensing.ledger import read_ledger
from syncd.licensing.replay import in_past, ledger_as_of
from syncd.views.common import iso

if TYPE_CHECKING:
    from syncd.runtime import Runtime


def license_summary(rt: Runtime, at: datetime, expiring_within: timedelta = WARN_AHEAD) -> LicenseSummary:
    """The stored ledger swept at ``at``, then counted (``policy.summarize``); for a past ``at``, the ledger as the
    journal says it stood then. ``grace_expiring``: the Grace licenses expiring within ``expiring_within``."""
    with rt.engine.connect() as conn:
        ledger = ledger_as_of(conn, at) if in_past(at, datetime.now(UTC)) else read_ledger(rt.engine, conn)[0]
    return summarize(ledger, rt.settings, at, expiring_within=expiring_within)


def license_report(rt: Runtime, at: datetime) -> dict[str, Any]:
    """The `licenses report` JSON of DESIGN.md 9a."""
    sm = license_summary(rt, at)
    return {
        "at": at.isoformat(),
        "cwms_version": rt.settings.cwms_version,
        "installed_permanent": sm.installed_permanent,
        "free_permanent": sm.free_permanent,
        "grace_limit": sm.grace_limit,
        "grace_beyond_free": max(0, sm.grace_in_use - sm.free_permanent),     # the hosts over installed Permanent
        "demonstration_total": sm.demonstration_total,
        "demonstration_free": sm.demonstration_free,
        "trial_open": sm.trial_open,
        "in_use": {k.value: n for k, n in sm.in_use.items()},
        "by_management": {m.value: n for m, n in sm.by_management.items()},
        "grace_expiring": [{"email": k, "expires_at": iso(t)} for k, t in sm.grace_expiring],
        "expired_hosts": list(sm.expired_hosts),
        "open_meetings": sm.open_meetings,
        "notices": [n.message for n in sm.notices],
    }
