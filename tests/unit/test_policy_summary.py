"""policy.summarize: the license counts at a time, equal to what the licenses report and the metrics compute.

``_report_counts`` and ``_metric_counts`` restate the counting that syncd's licenses report and its metrics
collector each do on their own (sweep at T, then count), so the summary is checked against both on the same
ledgers, hand-built and random.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policy import (
    Deactivation,
    GrantDemonstration,
    Ledger,
    LicenseKind,
    LicenseState,
    LicenseSummary,
    Management,
    ManagementChange,
    PurchasePermanent,
    Settings,
    StartTrial,
    Sweep,
    apply,
    decide,
    notices,
    replay,
    summarize,
)
from tests.unit.test_policy_properties import (
    LICENSES,
    STEP_HOURS,
    Step,
    _event,
    _start,
    plans,
    site_settings,
)
from tests.unit.test_policy_rules import T0, Site, day, site
from tests.unit.timebound import time_limit

WARN_AHEAD = timedelta(days=30)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def _report_counts(ledger: Ledger, settings: Settings, at: datetime) -> dict[str, Any]:
    """The licenses report's counting (its database read left out)."""
    swept = apply(ledger, decide(ledger, Sweep(), settings, at))
    in_use = {k.value: len(swept.holders(k, at)) for k in LicenseKind}
    by_mgmt = {"local": 0, "remote": 0}
    grace_expiring = []
    for key in sorted(swept.people):
        lic = swept.license_at(key, at)
        if lic is None or lic.state is not LicenseState.ACTIVE:
            continue
        by_mgmt[lic.management.value] += 1
        if lic.kind is LicenseKind.GRACE and lic.expires_at is not None and lic.expires_at <= at + WARN_AHEAD:
            grace_expiring.append({"email": key, "expires_at": _iso(lic.expires_at)})
    expired_hosts = sorted(
        k for k in swept.people if (lic := swept.license_at(k, at)) is not None and lic.state is LicenseState.EXPIRED
    )
    return {
        "installed_permanent": swept.installed_permanent,
        "free_permanent": swept.free_permanent,
        "grace_limit": settings.effective_grace_limit(swept.installed_permanent),
        "demonstration_total": swept.demonstration_total(at),
        "demonstration_free": swept.demonstration_free(at),
        "trial_open": swept.trial_open(at),
        "in_use": in_use,
        "by_management": by_mgmt,
        "grace_expiring": grace_expiring,
        "expired_hosts": expired_hosts,
        "open_meetings": len(swept.meetings),
        "notices": [n.message for n in notices(swept, settings, at)],
    }


def _metric_counts(ledger: Ledger, settings: Settings, now: datetime) -> dict[str, Any]:
    """The metrics collector's counting of licenses."""
    swept = apply(ledger, decide(ledger, Sweep(), settings, now))
    held: dict[tuple[str, str], int] = {(k.value, m): 0 for k in LicenseKind for m in ("local", "remote")}
    next_grace: datetime | None = None
    for key in swept.people:
        lic = swept.license_at(key, now)
        if lic is None or lic.state is not LicenseState.ACTIVE:
            continue
        held[(lic.kind.value, lic.management.value)] += 1
        if lic.kind is LicenseKind.GRACE and lic.expires_at is not None:
            next_grace = lic.expires_at if next_grace is None else min(next_grace, lic.expires_at)
    return {
        "held": held,
        "free_permanent": swept.free_permanent,
        "grace_in_use": swept.grace_in_use(now),
        "next_grace": next_grace,
    }


def _as_report(sm: LicenseSummary) -> dict[str, Any]:
    return {
        "installed_permanent": sm.installed_permanent,
        "free_permanent": sm.free_permanent,
        "grace_limit": sm.grace_limit,
        "demonstration_total": sm.demonstration_total,
        "demonstration_free": sm.demonstration_free,
        "trial_open": sm.trial_open,
        "in_use": {k.value: n for k, n in sm.in_use.items()},
        "by_management": {m.value: n for m, n in sm.by_management.items()},
        "grace_expiring": [{"email": k, "expires_at": _iso(t)} for k, t in sm.grace_expiring],
        "expired_hosts": list(sm.expired_hosts),
        "open_meetings": sm.open_meetings,
        "notices": [n.message for n in sm.notices],
    }


def _as_metrics(sm: LicenseSummary) -> dict[str, Any]:
    return {
        "held": {(k.value, m.value): n for (k, m), n in sm.held.items()},
        "free_permanent": sm.free_permanent,
        "grace_in_use": sm.grace_in_use,
        "next_grace": sm.grace_next_expiry,
    }


def _check(ledger: Ledger, st_: Settings, at: datetime) -> LicenseSummary:
    sm = summarize(ledger, st_, at)
    assert _as_report(sm) == _report_counts(ledger, st_, at)
    assert _as_metrics(sm) == _metric_counts(ledger, st_, at)
    return sm


def _busy_site() -> Site:
    """Every kind of license, both managements, an Expired Host, open meetings and a release hold."""
    s = site(grace_limit=3, release_hold=timedelta(days=5))
    s.do(StartTrial(T0), T0)
    s.add("t@x")
    s.host("t@x", "mt", day(1))
    s.do(PurchasePermanent(2), day(2))
    s.add("p1@x", "p2@x")
    s.add("r@x", management=Management.REMOTE)
    s.host("p1@x", "m1", day(3))
    s.host("p2@x", "m2", day(3))
    s.do(GrantDemonstration("g1", 1, day(400)), day(3))
    s.host("r@x", "m3", day(3))
    s.add("g1@x", "g2@x")
    s.host("g1@x", "m4", day(4))
    s.host("g2@x", "m5", day(150))
    s.do(ManagementChange("g2@x", Management.REMOTE), day(151))
    s.do(Deactivation("p2@x"), day(160))
    return s


def test_summary_counts_every_kind_and_equals_the_report_and_the_metrics() -> None:
    s = _busy_site()
    sm = _check(s.ledger, s.settings, day(161))
    assert sm.installed_permanent == 2 and sm.permanent_in_use == 2 and sm.free_permanent == 0  # p2 under the hold
    assert sm.in_use[LicenseKind.DEMONSTRATION] == 1 and sm.demonstration_total == 1 and sm.demonstration_free == 0
    assert sm.in_use[LicenseKind.GRACE] == sm.grace_in_use == 2 and sm.grace_limit == 3
    assert sm.held[(LicenseKind.GRACE, Management.REMOTE)] == 1
    assert sm.by_management == {Management.LOCAL: 3, Management.REMOTE: 2}  # p2 counts until the hold passes
    assert sm.grace_expiring == (("g1@x", day(4) + timedelta(days=180)),)
    assert sm.grace_next_expiry == day(184)
    assert sm.expired_hosts == () and not sm.trial_open
    assert sm.open_meetings == 0  # every meeting timed out by the sweep at day 161
    assert [n.code for n in sm.notices][:2] == ["grace_in_use", "grace_expiring"]


def test_summary_after_expiries_and_the_release_hold() -> None:
    s = _busy_site()
    sm = _check(s.ledger, s.settings, day(200))
    assert sm.expired_hosts == ("g1@x",)
    assert sm.permanent_in_use == 1 and sm.free_permanent == 1
    assert sm.in_use[LicenseKind.GRACE] == 1 and sm.grace_expiring == ()
    for at in (T0, day(1.5), day(3.5), day(330), day(401)):
        _check(s.ledger, s.settings, at)


def test_summary_is_pure_and_its_window_is_a_parameter() -> None:
    s = _busy_site()
    before = s.ledger
    wide = summarize(s.ledger, s.settings, day(161), expiring_within=timedelta(days=200))
    assert [k for k, _ in wide.grace_expiring] == ["g1@x", "g2@x"]
    assert summarize(s.ledger, s.settings, day(161), expiring_within=timedelta(0)).grace_expiring == ()
    assert s.ledger is before and summarize(s.ledger, s.settings, day(161)) == summarize(
        s.ledger, s.settings, day(161)
    )


def test_summary_of_an_empty_ledger() -> None:
    sm = _check(Ledger.empty(), Settings(), T0)
    assert sm.grace_limit == 1 and sm.grace_next_expiry is None and sm.notices == ()
    assert set(sm.held) == {(k, m) for k in LicenseKind for m in Management}


@settings(max_examples=60, deadline=None)
@given(site_settings, LICENSES, plans(5, 40), st.sampled_from(STEP_HOURS))
def test_summary_equals_the_report_and_metrics_counting_on_random_histories(
    st_: Settings, licenses: int, plan: list[Step], hours: int
) -> None:
    with time_limit():
        ledger = replay(_start(st_, licenses))
        now = T0
        for n, step in enumerate(plan):
            now = now + timedelta(hours=step.hours)
            ledger = apply(ledger, decide(ledger, _event(step, now, n), st_, now))
        for at in (now, now + timedelta(hours=hours), now + timedelta(days=200)):
            _check(ledger, st_, at)
