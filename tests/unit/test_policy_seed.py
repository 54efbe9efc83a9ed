"""The seed scenario end to end (reference/cwms.md section 1, DESIGN 5 and 11), through decide/apply/explain."""

from __future__ import annotations

from policy import (
    AssignLicense,
    Deactivation,
    GrantDemonstration,
    LicenseKind,
    LicenseState,
    MeetingEnd,
    PurchasePermanent,
    ReleaseLicense,
    Settings,
    Sweep,
    explain,
    notices,
)
from tests.unit.test_policy_rules import T0, Site, day


def _site(**kwargs: object) -> Site:
    s = Site(Settings(**kwargs))  # type: ignore[arg-type]
    s.do(PurchasePermanent(2), T0)
    s.add("alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com")
    return s


def test_seed_free_permanent_is_taken_not_grace() -> None:
    s = _site()
    before = explain(s.ledger, "alice@example.com", s.settings, day(1))
    assert before.license is None
    assert (before.if_hosting.granted, before.if_hosting.license_kind, before.if_hosting.rule) == (
        True,
        LicenseKind.PERMANENT,
        "R3",
    )
    assert before.if_hosting.message == "granted a Permanent Host license: 1 of 2 left free"
    d = s.host("alice@example.com", "m-a", day(1))
    assert (d.granted, d.license_kind, d.rule) == (True, LicenseKind.PERMANENT, "R3")
    assert s.ledger.license_at("alice@example.com", day(1)) is not None
    assert (
        explain(s.ledger, "alice@example.com", s.settings, day(2)).license
        == s.ledger.people["alice@example.com"].license
    )


def test_seed_grace_for_180_days_then_expired_host() -> None:
    s = _site()
    s.host("alice@example.com", "m-a", day(0))
    s.host("bob@example.com", "m-b", day(0))
    d = s.host("carol@example.com", "m-c", day(1))
    assert (d.granted, d.license_kind, d.rule) == (True, LicenseKind.GRACE, "R3")
    assert d.notices and d.notices[0].code == "grace_in_use"
    lic = s.ledger.license_at("carol@example.com", day(1))
    assert lic is not None and lic.expires_at == day(181)
    standing = notices(s.ledger, s.settings, day(1))
    assert [n.code for n in standing] == ["grace_in_use"]
    assert "exceeded by 1" in standing[0].message
    # warned within 30 days of the end
    near = notices(s.ledger, s.settings, day(160))
    assert [(n.code, n.person) for n in near] == [
        ("grace_in_use", None),
        ("grace_expiring", "carol@example.com"),
    ]
    s.do(MeetingEnd("m-c"), day(2))

    # day 181: the Grace window is over
    ex = explain(s.ledger, "carol@example.com", s.settings, day(181))
    assert (ex.if_hosting.granted, ex.if_hosting.reason, ex.if_hosting.rule) == (False, "license_expired", "R4")
    assert ex.license is not None and ex.license.state is LicenseState.EXPIRED
    assert any("an Expired Host may still attend and schedule for others" in f for f in ex.facts)
    assert any("never a second Grace" in f for f in ex.facts)
    refused = s.host("carol@example.com", "m-c2", day(181))
    assert (refused.granted, refused.reason) == (False, "license_expired")
    sweep = s.do(Sweep(), day(181))
    assert any(a.person == "carol@example.com" for a in sweep.actions)
    held = s.ledger.people["carol@example.com"].license
    assert held is not None and held.state is LicenseState.EXPIRED


def _grace_holder_and_freed_permanent(promotion: str) -> tuple[Site, list[str]]:
    s = _site(grace_promotion=promotion, grace_limit=3)
    s.host("alice@example.com", "m-a", day(0))
    s.host("bob@example.com", "m-b", day(0))
    s.host("carol@example.com", "m-c", day(1))
    s.host("dave@example.com", "m-d", day(2))
    d = s.do(Deactivation("alice@example.com"), day(10))
    return s, [a.person for a in d.actions if isinstance(a, AssignLicense)]


def test_seed_freed_permanent_not_given_to_grace_holder_under_purchase() -> None:
    s, promoted = _grace_holder_and_freed_permanent("purchase")
    assert promoted == []
    assert s.kind("carol@example.com", day(10)) is LicenseKind.GRACE
    assert s.ledger.free_permanent == 1
    # the freed license goes to the next new host instead (and explain says so)
    s.add("erin@example.com", at=day(10))
    ex = explain(s.ledger, "erin@example.com", s.settings, day(11))
    assert (ex.if_hosting.license_kind, ex.if_hosting.rule) == (LicenseKind.PERMANENT, "R3")


def test_seed_freed_permanent_given_to_oldest_grace_holder_under_any() -> None:
    s, promoted = _grace_holder_and_freed_permanent("any")
    assert promoted == ["carol@example.com"]
    assert s.kind("carol@example.com", day(10)) is LicenseKind.PERMANENT
    assert s.kind("dave@example.com", day(10)) is LicenseKind.GRACE


def test_seed_purchase_promotes_the_oldest_grace_holder() -> None:
    s, _ = _grace_holder_and_freed_permanent("purchase")
    s.add("erin@example.com", at=day(11))
    s.host("erin@example.com", "m-e", day(11))  # takes the freed Permanent
    d = s.do(PurchasePermanent(1), day(12))
    assert [a.person for a in d.actions if isinstance(a, AssignLicense)] == ["carol@example.com"]
    assert s.kind("carol@example.com", day(12)) is LicenseKind.PERMANENT
    assert s.kind("dave@example.com", day(12)) is LicenseKind.GRACE


def test_seed_demonstration_grant_expires_assigned_or_not() -> None:
    s = _site()
    s.host("alice@example.com", "m-a", day(0))
    s.host("bob@example.com", "m-b", day(0))
    s.do(GrantDemonstration("demo-q1", 5, day(40)), day(1))
    assert [n.code for n in notices(s.ledger, s.settings, day(11))] == ["demonstration_expiring"]
    d = s.host("carol@example.com", "m-c", day(20))
    assert d.license_kind is LicenseKind.DEMONSTRATION
    assert s.ledger.demonstration_free(day(20)) == 4
    s.do(MeetingEnd("m-c"), day(20))
    sweep = s.do(Sweep(), day(40))
    assert [a.person for a in sweep.actions if isinstance(a, ReleaseLicense)] == ["carol@example.com"]
    assert s.ledger.demonstration_free(day(40)) == 0 and s.ledger.demonstration_total(day(40)) == 0
    assert s.ledger.people["carol@example.com"].license is None
    # the unassigned four went with the grant: the next host falls through to Grace
    assert s.host("dave@example.com", "m-d", day(41)).license_kind is LicenseKind.GRACE


def test_seed_version_2_0_releases_idle_hosts_and_allows_one_meeting() -> None:
    s = _site(cwms_version="2.0")
    s.host("alice@example.com", "m-a1", day(0))
    assert s.host("alice@example.com", "m-a2", day(0)).reason == "concurrent_limit"
    s.do(MeetingEnd("m-a1"), day(0))
    s.host("bob@example.com", "m-b", day(60))
    s.do(MeetingEnd("m-b"), day(60))
    ex = explain(s.ledger, "alice@example.com", s.settings, day(91))
    assert ex.license is None  # as if a sweep ran at day 91
    assert any("released after 90 idle days" in f for f in ex.facts)
    d = s.do(Sweep(), day(91))
    assert [a.person for a in d.actions if isinstance(a, ReleaseLicense)] == ["alice@example.com"]
    assert s.ledger.people["bob@example.com"].license is not None
    assert s.ledger.free_permanent == 1
    assert s.ledger.people["alice@example.com"].last_hosted_at == day(0)
