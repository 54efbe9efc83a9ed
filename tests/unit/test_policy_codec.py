"""The journal's JSON round trip of decisions (policy.codec)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from policy import (
    AssignLicense,
    Decision,
    GrantDemonstration,
    HeldLicense,
    LicenseKind,
    Management,
    Notice,
    PurchasePermanent,
    Settings,
    StartTrial,
    Sweep,
    decision_from_dict,
    decision_to_dict,
    replay,
)
from tests.unit.test_policy_rules import T0, Site, day


def _json(d: Decision) -> Decision:
    return decision_from_dict(json.loads(json.dumps(decision_to_dict(d))))


def test_every_decision_of_a_scenario_round_trips_and_replays() -> None:
    s = Site(Settings(grace_limit=2))
    s.do(StartTrial(T0), T0)
    s.add("a@x", "b@x", "c@x", management=Management.REMOTE)
    s.host("a@x", "m1", day(1))
    s.do(GrantDemonstration("g1", 1, day(400)), day(2))
    s.do(PurchasePermanent(1), day(3))
    s.host("b@x", "m2", day(4))
    s.host("c@x", "m3", day(4))
    s.host("a@x", "m4", day(5))
    s.do(Sweep(), day(200))
    assert {d.license_kind for d in s.log} >= {LicenseKind.TRIAL, LicenseKind.PERMANENT, LicenseKind.DEMONSTRATION}
    for d in s.log:
        assert _json(d) == d
    assert replay(_json(d) for d in s.log) == s.ledger


def test_times_keep_offset_and_microseconds() -> None:
    cet = timezone(timedelta(hours=1))
    at = datetime(2026, 3, 1, 10, 30, 15, 123456, tzinfo=cet)
    lic = HeldLicense(LicenseKind.GRACE, Management.LOCAL, at, at + timedelta(days=180))
    d = Decision(
        event=Sweep(),
        now=at,
        settings_digest="x",
        rule="R10",
        sentence="s",
        actions=(AssignLicense(person="a@x", license=lic, sentence="t", rule="R8"),),
        notices=(Notice("grace_expiring", "m", "a@x", at),),
    )
    data = decision_to_dict(d)
    assert data["now"] == "2026-03-01T10:30:15.123456+01:00"
    back = _json(d)
    assert back == d and back.now.utcoffset() == timedelta(hours=1)
    action = back.actions[0]
    assert isinstance(action, AssignLicense) and action.license.kind is LicenseKind.GRACE


def test_bad_journal_rows_are_rejected() -> None:
    d = decision_to_dict(Decision(Sweep(), T0, "x", "R10", "s"))
    with pytest.raises(ValueError):
        decision_from_dict({**d, "format": 99})
    with pytest.raises(ValueError):
        decision_from_dict({**d, "event": {"type": "Explode"}})
    with pytest.raises(ValueError):
        decision_to_dict(Decision(Sweep(), datetime(2026, 1, 1), "x", "R10", "s"))
    assert decision_from_dict(d).now.tzinfo is not None and decision_from_dict(d).now == T0.astimezone(UTC)
