"""Property tests over random event sequences: every invariant of DESIGN 5, the journal replay, and subset decisions.

The release-hold exception, precisely: an inactive (or deleted) person may still hold a license only if it is a
Permanent, the person was deactivated (not deleted), ``release_hold`` is positive and no sweep has run since the
hold passed (after a sweep at ``now``: ``deactivated_at + release_hold > now``); and such a person cannot host.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policy import (
    AddPerson,
    Deactivation,
    Decision,
    Deletion,
    Event,
    GrantDemonstration,
    HostRequest,
    Ledger,
    LicenseKind,
    LicenseState,
    Management,
    ManagementChange,
    MeetingEnd,
    PurchasePermanent,
    Reactivation,
    Reserve,
    Settings,
    StartTrial,
    Sweep,
    Upgrade,
    apply,
    decide,
    decision_from_dict,
    decision_to_dict,
    explain,
    replay,
    subject_of,
)
from tests.unit.test_policy_rules import T0

PEOPLE = ("a@x", "b@x", "c@x", "d@x", "e@x")
MEETINGS = tuple(f"m{i}" for i in range(8))
STEP_HOURS = (0, 0, 0, 1, 12, 24, 24 * 7, 24 * 30, 24 * 90, 24 * 181)


@dataclass(frozen=True)
class Step:
    """A random step: advance the clock, then one event (built at run time when it depends on ``now``)."""

    hours: int
    kind: str
    person: str
    meeting: str
    count: int
    days: int
    management: Management
    active: bool


LICENSES = st.sampled_from([0, 1, 1, 2, 2, 3])
people = st.sampled_from(PEOPLE)
# weights: mostly hosting; upgrades (which reset everything) and deletions rarely
GENERAL = (
    ["host"] * 8
    + ["end"] * 3
    + ["reactivate"] * 2
    + ["sweep"] * 2
    + ["deactivate"] * 2
    + ["delete", "purchase", "demo", "trial", "reserve", "management", "add", "upgrade"]
)
# the pool rules: scarce licenses, hosts coming and going, purchases and grants (promotions, R8, Demonstration)
POOL = ["host"] * 6 + ["end"] * 2 + ["deactivate"] * 3 + ["reactivate"] * 3 + ["purchase", "demo", "trial", "sweep"]


def steps(kinds: list[str], hours: tuple[int, ...]) -> st.SearchStrategy[Step]:
    return st.builds(
        Step,
        hours=st.sampled_from(hours),
        kind=st.sampled_from(kinds),
        person=people,
        meeting=st.sampled_from(MEETINGS),
        count=st.integers(1, 3),
        days=st.sampled_from([-5, 0, 1, 20, 200]),
        management=st.sampled_from(list(Management)),
        active=st.booleans(),
    )


def plans(min_size: int, max_size: int) -> st.SearchStrategy[list[Step]]:
    return st.one_of(
        st.lists(steps(GENERAL, STEP_HOURS), min_size=min_size, max_size=max_size),
        st.lists(steps(POOL, (0, 0, 1, 12, 24, 24 * 7)), min_size=min_size, max_size=max_size),
    )


site_settings = st.builds(
    Settings,
    cwms_version=st.sampled_from(["2.0", "2.5"]),
    grace_days=st.sampled_from([10, 180, 180]),
    trial_days=st.sampled_from([15, 180]),
    grace_limit=st.sampled_from([None, 0, 2, 3]),
    grace_promotion=st.sampled_from(["purchase", "any", "manual"]),
    max_concurrent_meetings=st.one_of(st.none(), st.integers(1, 3)),
    idle_release_days=st.sampled_from([5, 90]),
    release_hold=st.sampled_from([timedelta(0), timedelta(hours=12), timedelta(days=10)]),
    meeting_timeout=st.sampled_from([timedelta(hours=2), timedelta(hours=24)]),
)


def _event(step: Step, now: datetime, n: int) -> Event:
    match step.kind:
        case "host":
            return HostRequest(step.person, step.meeting)
        case "end":
            return MeetingEnd(step.meeting)
        case "deactivate":
            return Deactivation(step.person)
        case "delete":
            return Deletion(step.person)
        case "reactivate":
            return Reactivation(step.person)
        case "purchase":
            return PurchasePermanent(step.count)
        case "demo":
            return GrantDemonstration(f"g{n % 3}", step.count, now + timedelta(days=step.days))
        case "trial":
            return StartTrial(now + timedelta(days=step.days))
        case "reserve":
            return Reserve(step.person)
        case "management":
            return ManagementChange(step.person, step.management)
        case "sweep":
            return Sweep()
        case "upgrade":
            return Upgrade()
        case _:
            return AddPerson(step.person, step.active, step.management)


def _check_invariants(ledger: Ledger, st_: Settings, now: datetime, swept: bool) -> None:
    installed = ledger.installed_permanent
    # active Permanent <= installed
    assert ledger.permanent_in_use <= installed
    # active Grace <= grace_limit
    assert ledger.grace_in_use(now) <= st_.effective_grace_limit(installed)
    # a grant never has more holders than licenses; Trial licenses only while the trial is open
    for g in ledger.live_grants(now):
        assert ledger.demonstration_in_use(g.grant_id, now) <= g.count
    if not ledger.trial_open(now):
        assert ledger.trial_in_use(now) == 0
    for key, p in ledger.people.items():
        lic = ledger.license_at(key, now)
        # one held license per person, and it carries the holder's management
        if p.license is not None:
            assert p.license.management is p.management
            assert (p.license.kind is LicenseKind.DEMONSTRATION) == (p.license.grant_id is not None)
            assert (p.license.kind is LicenseKind.PERMANENT) == (p.license.expires_at is None)
        # no inactive person holds an active license, except a Permanent inside the release hold
        if (not p.active or p.deleted) and lic is not None and lic.state is LicenseState.ACTIVE:
            assert lic.kind is LicenseKind.PERMANENT and not p.deleted
            assert st_.release_hold > timedelta(0) and p.deactivated_at is not None
            if swept:
                assert p.deactivated_at + st_.release_hold > now
            refused = decide(ledger, HostRequest(key, "probe"), st_, now)
            assert (refused.granted, refused.reason) == (False, "host_deactivated")
        # nothing outlives its expiry after a sweep
        if swept and p.license is not None:
            held = p.license
            if held.expires_at is not None and held.expires_at <= now:
                assert held.kind is LicenseKind.GRACE and held.state is LicenseState.EXPIRED
            if held.kind is LicenseKind.TRIAL:
                assert ledger.trial_open(now)
            if st_.cwms_version == "2.0" and held.kind is LicenseKind.PERMANENT and p.active and not p.deleted:
                last = max(held.assigned_at, p.last_hosted_at or held.assigned_at)
                assert last + st_.idle_period > now or ledger.open_meetings_of(key, now, st_.meeting_timeout)
    # nobody hosts more meetings at once than allowed
    for key in ledger.people:
        assert len(ledger.open_meetings_of(key, now, st_.meeting_timeout)) <= st_.effective_max_concurrent()
    # meetings belong to known, active hosts; none outlives the timeout after a sweep
    for m in ledger.meetings.values():
        host = ledger.people[m.host]
        assert host.active and not host.deleted
        if swept:
            assert m.started_at + st_.meeting_timeout > now


def _start(st_: Settings, licenses: int) -> list[Decision]:
    """Every person known and active, and some Permanent licenses: most random host requests then do something."""
    ledger = Ledger.empty()
    events: list[Event] = [AddPerson(k, True, Management.LOCAL) for k in PEOPLE]
    if licenses:
        events.append(PurchasePermanent(licenses))
    out = []
    for e in events:
        out.append(decide(ledger, e, st_, T0))
        ledger = apply(ledger, out[-1])
    return out


def _roundtrip(d: Decision) -> Decision:
    data: dict[str, Any] = json.loads(json.dumps(decision_to_dict(d)))
    return decision_from_dict(data)


@settings(max_examples=120, deadline=None)
@given(site_settings, LICENSES, plans(10, 50))
def test_invariants_replay_and_subset_decisions(st_: Settings, licenses: int, plan: list[Step]) -> None:
    first = _start(st_, licenses)
    ledger = replay(first)
    now = T0
    journal: list[dict[str, Any]] = [decision_to_dict(d) for d in first]
    for n, step in enumerate(plan):
        now = now + timedelta(hours=step.hours)
        event = _event(step, now, n)
        d = decide(ledger, event, st_, now)
        # deciding on the subset the store loads gives the same decision
        subject = subject_of(event)
        subset = ledger.subset([subject] if subject else [])
        assert decide(subset, event, st_, now) == d
        # the journal keeps the decision as JSON, exactly
        assert _roundtrip(d) == d
        journal.append(json.loads(json.dumps(decision_to_dict(d))))
        ledger = apply(ledger, d)
        _check_invariants(ledger, st_, now, swept=isinstance(event, Sweep))
    # replaying the journal from an empty ledger reproduces the ledger
    assert replay(decision_from_dict(j) for j in journal) == ledger
    # explain answers the same on the subset as on the whole ledger, and never changes the ledger
    for key in PEOPLE:
        later = now + timedelta(days=30)
        assert explain(ledger.subset([key]), key, st_, later) == explain(ledger, key, st_, later)


@settings(max_examples=50, deadline=None)
@given(site_settings, LICENSES, plans(5, 30), st.sampled_from(STEP_HOURS))
def test_explain_predicts_the_host_request_after_a_sweep(
    st_: Settings, licenses: int, plan: list[Step], hours: int
) -> None:
    """Evaluating at T behaves as if a sweep ran at T and then the person hosted."""
    ledger = replay(_start(st_, licenses))
    now = T0
    for n, step in enumerate(plan):
        now = now + timedelta(hours=step.hours)
        ledger = apply(ledger, decide(ledger, _event(step, now, n), st_, now))
    at = now + timedelta(hours=hours)
    swept = apply(ledger, decide(ledger, Sweep(), st_, at))
    for key in PEOPLE:
        ex = explain(ledger, key, st_, at)
        real = decide(swept, HostRequest(key, "explain-probe"), st_, at)
        assert (ex.if_hosting.granted, ex.if_hosting.reason, ex.if_hosting.rule, ex.if_hosting.license_kind) == (
            bool(real.granted),
            real.reason,
            real.rule,
            real.license_kind,
        )
        assert ex.if_hosting.message == real.sentence
