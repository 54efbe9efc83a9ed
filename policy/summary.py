"""License counts at a time: what the licenses report and the metrics both show.

The ledger is first swept at ``at`` (as ``--at T`` and ``explain`` do), so every count is what an admin would see
had the sweep run then: expired licenses, passed release holds and timed-out meetings are already gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from policy.decisions import Notice
from policy.engine import apply, decide
from policy.events import Sweep
from policy.model import Ledger, LicenseKind, LicenseState, Management
from policy.notices import WARN_AHEAD
from policy.settings import Settings


@dataclass(frozen=True)
class LicenseSummary:
    """The license counts at ``at``, after a sweep at ``at``.  Treat the mappings as read-only.

    ``held`` counts active licenses by kind and management, with every pair present (zero included);
    ``in_use`` and ``by_management`` are its sums.  ``grace_expiring`` lists (person, expires_at) of the
    active Grace licenses expiring within the window, by person; ``grace_next_expiry`` is the earliest expiry
    of any active Grace license.  ``expired_hosts`` are the people holding an expired Grace license (R4).
    ``notices`` are the admin notices that stand after the sweep.
    """

    at: datetime
    installed_permanent: int
    permanent_in_use: int
    free_permanent: int
    grace_limit: int
    demonstration_total: int
    demonstration_free: int
    trial_open: bool
    held: Mapping[tuple[LicenseKind, Management], int]
    in_use: Mapping[LicenseKind, int]
    by_management: Mapping[Management, int]
    grace_expiring: tuple[tuple[str, datetime], ...]
    grace_next_expiry: datetime | None
    expired_hosts: tuple[str, ...]
    open_meetings: int
    notices: tuple[Notice, ...]

    @property
    def grace_in_use(self) -> int:
        return self.in_use[LicenseKind.GRACE]


def summarize(
    ledger: Ledger, settings: Settings, at: datetime, *, expiring_within: timedelta = WARN_AHEAD
) -> LicenseSummary:
    """The license counts at ``at``: ``ledger`` swept at ``at``, then counted.  ``at`` must be timezone-aware.

    ``expiring_within`` is the window of ``grace_expiring``: Grace licenses expiring at or before
    ``at + expiring_within``.  Only license holders are visited, so the cost follows the holders, not the people.
    """
    swept_by = decide(ledger, Sweep(), settings, at)
    swept = apply(ledger, swept_by)
    held = {(k, m): 0 for k in LicenseKind for m in Management}
    expiring: list[tuple[str, datetime]] = []
    expired: list[str] = []
    next_grace: datetime | None = None
    for key in swept.license_holders():
        lic = swept.license_at(key, at)
        if lic is None:
            continue
        if lic.state is LicenseState.EXPIRED:
            expired.append(key)
            continue
        held[(lic.kind, lic.management)] += 1
        if lic.kind is LicenseKind.GRACE and lic.expires_at is not None:
            next_grace = lic.expires_at if next_grace is None else min(next_grace, lic.expires_at)
            if lic.expires_at <= at + expiring_within:
                expiring.append((key, lic.expires_at))
    installed = swept.installed_permanent
    return LicenseSummary(
        at=at,
        installed_permanent=installed,
        permanent_in_use=swept.permanent_in_use,
        free_permanent=swept.free_permanent,
        grace_limit=settings.effective_grace_limit(installed),
        demonstration_total=swept.demonstration_total(at),
        demonstration_free=swept.demonstration_free(at),
        trial_open=swept.trial_open(at),
        held=held,
        in_use={k: sum(held[(k, m)] for m in Management) for k in LicenseKind},
        by_management={m: sum(held[(k, m)] for k in LicenseKind) for m in Management},
        grace_expiring=tuple(expiring),
        grace_next_expiry=next_grace,
        expired_hosts=tuple(expired),
        open_meetings=len(swept.meetings),
        notices=swept_by.notices,
    )
