"""``explain`` (DESIGN 5, 9a) and the admin notices."""

from __future__ import annotations

from datetime import timedelta

from policy import (
    Deactivation,
    GrantDemonstration,
    LicenseKind,
    Management,
    MeetingEnd,
    PurchasePermanent,
    Settings,
    StartTrial,
    explain,
    notices,
)
from tests.unit.test_policy_rules import T0, Site, day


def test_explain_json_shape() -> None:
    s = Site()
    s.do(PurchasePermanent(10), T0)
    s.add("a@x", management=Management.REMOTE)
    s.host("a@x", "m1", day(1))
    out = explain(s.ledger, "a@x", s.settings, day(1.5)).to_dict()
    assert set(out) >= {"email", "active", "management", "license", "if_hosting", "facts"}
    assert out["email"] == "a@x" and out["active"] is True and out["management"] == "remote"
    assert out["license"] == {
        "kind": "permanent",
        "state": "active",
        "management": "remote",
        "assigned_at": "2026-01-02T09:00:00+00:00",
        "expires_at": None,
    }
    assert out["if_hosting"] == {
        "granted": True,
        "license_kind": "permanent",
        "reason": None,
        "rule": "R2",
        "message": "granted on the held Permanent Host license: meeting 2 of 2 concurrent",
    }
    assert "Permanent: 10 installed, 1 in use, 9 free" in out["facts"]
    assert all(isinstance(f, str) for f in out["facts"])


def test_explain_writes_nothing_and_evaluates_a_future_time_as_if_swept() -> None:
    s = Site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(1))
    s.do(MeetingEnd("m2"), day(1))
    before = s.ledger
    now = explain(s.ledger, "b@x", s.settings, day(100))
    assert now.license is not None and now.license.kind is LicenseKind.GRACE
    assert any("Grace window open until 2026-07-01 09:00:00 UTC" in f for f in now.facts)
    later = explain(s.ledger, "b@x", s.settings, day(181))
    assert later.license is not None and later.license.state.value == "expired"
    assert any("(sweep)" in f and "Expired Host" in f for f in later.facts)
    assert later.if_hosting.reason == "license_expired"
    assert s.ledger == before


def test_explain_an_inactive_person_and_one_in_the_release_hold() -> None:
    s = Site(Settings(release_hold=timedelta(days=3)))
    s.do(PurchasePermanent(1), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(0))
    s.do(Deactivation("a@x"), day(1))
    held = explain(s.ledger, "a@x", s.settings, day(2))
    assert held.active is False and held.if_hosting.reason == "host_deactivated" and held.if_hosting.rule == "R1"
    assert any("release hold" in f for f in held.facts)
    after = explain(s.ledger, "a@x", s.settings, day(4))
    assert after.license is None
    assert any("release hold ended" in f for f in after.facts)


def test_explain_unknown_person() -> None:
    s = Site()
    ex = explain(s.ledger, "nobody@x", s.settings, T0)
    assert (ex.active, ex.management, ex.license) == (None, None, None)
    assert ex.if_hosting.reason == "unknown_person" and not ex.if_hosting.granted
    assert ex.to_dict()["management"] is None


def test_explain_in_trial_and_with_demonstration() -> None:
    s = Site()
    s.do(StartTrial(T0), T0)
    s.add("a@x")
    ex = explain(s.ledger, "a@x", s.settings, day(5))
    assert ex.if_hosting.license_kind is LicenseKind.TRIAL
    assert any("in its trial" in f for f in ex.facts)
    s.do(GrantDemonstration("g", 2, day(300)), day(5))
    s.do(PurchasePermanent(1), day(6))
    s.add("b@x")
    s.host("b@x", "m1", day(6))
    ex = explain(s.ledger, "a@x", s.settings, day(7))
    assert ex.if_hosting.license_kind is LicenseKind.DEMONSTRATION
    assert "Demonstration: 2 free of 2 in live grants" in ex.facts


def test_notices_grace_and_demonstration_and_trial() -> None:
    s = Site(Settings(trial_days=40))
    s.do(StartTrial(T0), T0)
    assert [n.code for n in notices(s.ledger, s.settings, day(5))] == []
    assert [n.code for n in notices(s.ledger, s.settings, day(10))] == ["trial_ending"]
    s.do(PurchasePermanent(1), day(11))
    s.do(GrantDemonstration("g", 1, day(100)), day(11))
    s.add("a@x", "b@x", "c@x")
    s.host("a@x", "m1", day(12))
    s.host("b@x", "m2", day(12))
    s.host("c@x", "m3", day(12))
    got = notices(s.ledger, s.settings, day(80))
    assert [(n.code, n.person) for n in got] == [("grace_in_use", None), ("demonstration_expiring", None)]
    assert "1 assigned" in got[1].message and got[1].at == day(100)
    got = notices(s.ledger, s.settings, day(170))
    assert [(n.code, n.person) for n in got] == [("grace_in_use", None), ("grace_expiring", "c@x")]
    assert got[1].at == day(192)
    assert notices(s.ledger, s.settings, day(192)) == ()
