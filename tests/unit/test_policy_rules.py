"""One test (or a few) per license rule R1-R12 of DESIGN 5 / 11, and per setting."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from policy import (
    AddPerson,
    AssignLicense,
    CloseMeeting,
    Deactivation,
    Decision,
    Deletion,
    Event,
    ExpireLicense,
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
    ReleaseLicense,
    Reserve,
    Settings,
    StartTrial,
    Sweep,
    Upgrade,
    apply,
    decide,
)

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


@dataclass
class Site:
    """A ledger driven through decide/apply, keeping the journal (the decisions) like the store does."""

    settings: Settings = field(default_factory=Settings)
    ledger: Ledger = field(default_factory=Ledger.empty)
    log: list[Decision] = field(default_factory=list)

    def do(self, event: Event, at: datetime) -> Decision:
        d = decide(self.ledger, event, self.settings, at)
        self.ledger = apply(self.ledger, d)
        self.log.append(d)
        return d

    def add(
        self, *keys: str, active: bool = True, at: datetime = T0, management: Management = Management.LOCAL
    ) -> None:
        for k in keys:
            self.do(AddPerson(k, active, management), at)

    def host(self, key: str, meeting: str, at: datetime) -> Decision:
        return self.do(HostRequest(key, meeting), at)

    def kind(self, key: str, at: datetime) -> LicenseKind | None:
        lic = self.ledger.license_at(key, at)
        return lic.kind if lic is not None and lic.state is LicenseState.ACTIVE else None


def _license_actions(d: Decision) -> list[object]:
    return [a for a in d.actions if isinstance(a, AssignLicense | ReleaseLicense | ExpireLicense)]


def site(**settings: object) -> Site:
    return Site(Settings(**settings))  # type: ignore[arg-type]


# -- R1 -----------------------------------------------------------------------------------------------------


def test_r1_inactive_person_is_refused_host_deactivated() -> None:
    s = site()
    s.do(PurchasePermanent(5), T0)
    s.add("off@x", active=False)
    d = s.host("off@x", "m1", day(1))
    assert (d.granted, d.reason, d.rule) == (False, "host_deactivated", "R1")
    assert d.actions == ()
    assert s.ledger.permanent_in_use == 0


def test_r1_deleted_person_is_refused() -> None:
    s = site()
    s.do(PurchasePermanent(5), T0)
    s.add("a@x")
    s.do(Deletion("a@x"), day(1))
    d = s.host("a@x", "m1", day(2))
    assert (d.granted, d.reason, d.rule) == (False, "host_deactivated", "R1")
    assert "deleted" in d.sentence


def test_unknown_person_host_request_is_refused() -> None:
    s = site()
    s.do(PurchasePermanent(5), T0)
    d = s.host("nobody@x", "m1", day(1))
    assert (d.granted, d.reason, d.actions) == (False, "unknown_person", ())


# -- R2 -----------------------------------------------------------------------------------------------------


def test_r2_holder_hosts_again_without_another_license() -> None:
    s = site()
    s.do(PurchasePermanent(3), T0)
    s.add("a@x")
    assert s.host("a@x", "m1", day(1)).license_kind is LicenseKind.PERMANENT
    s.do(MeetingEnd("m1"), day(1.1))
    d = s.host("a@x", "m2", day(2))
    assert (d.granted, d.rule, d.license_kind) == (True, "R2", LicenseKind.PERMANENT)
    assert not any(isinstance(a, AssignLicense) for a in d.actions)
    assert s.ledger.permanent_in_use == 1
    assert s.ledger.people["a@x"].last_hosted_at == day(2)


def test_r2_concurrent_limit_is_two_in_2_5() -> None:
    s = site()
    s.do(PurchasePermanent(3), T0)
    s.add("a@x")
    assert s.host("a@x", "m1", day(1)).granted
    d2 = s.host("a@x", "m2", day(1))
    assert d2.granted and d2.rule == "R2" and "2 of 2" in d2.sentence
    d3 = s.host("a@x", "m3", day(1))
    assert (d3.granted, d3.reason, d3.rule) == (False, "concurrent_limit", "R2")
    s.do(MeetingEnd("m1"), day(1.01))
    assert s.host("a@x", "m3", day(1.02)).granted
    assert s.ledger.permanent_in_use == 1


def test_r2_same_meeting_id_same_host_is_the_same_grant_other_host_is_refused() -> None:
    s = site()
    s.do(PurchasePermanent(3), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(1))
    again = s.host("a@x", "m1", day(1.01))
    assert (again.granted, again.license_kind, again.actions) == (True, LicenseKind.PERMANENT, ())
    other = s.host("b@x", "m1", day(1.02))
    assert (other.granted, other.reason) == (False, "meeting_id_in_use")
    assert s.ledger.license_at("b@x", day(1.02)) is None


# -- R3 -----------------------------------------------------------------------------------------------------


def test_r3_trial_first() -> None:
    s = site()
    s.do(StartTrial(T0), T0)
    s.add(*(f"u{i}@x" for i in range(30)))
    for i in range(30):
        d = s.host(f"u{i}@x", f"m{i}", day(10))
        assert (d.granted, d.rule, d.license_kind) == (True, "R3", LicenseKind.TRIAL)
    lic = s.ledger.license_at("u0@x", day(10))
    assert lic is not None and lic.expires_at == day(180)
    assert s.ledger.trial_in_use(day(10)) == 30  # unlimited


def test_r3_permanent_when_free_with_numbers() -> None:
    s = site()
    s.do(PurchasePermanent(50), T0)
    s.add(*(f"u{i}@x" for i in range(48)))
    for i in range(47):
        s.host(f"u{i}@x", f"m{i}", day(1))
    d = s.host("u47@x", "m47", day(1))
    assert (d.granted, d.rule, d.license_kind) == (True, "R3", LicenseKind.PERMANENT)
    assert d.sentence == "granted a Permanent Host license: 2 of 50 left free"
    assert s.ledger.free_permanent == 2


def test_r3_demonstration_before_grace() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.do(GrantDemonstration("demo-1", 1, day(60)), T0)
    s.add("a@x", "b@x", "c@x")
    assert s.host("a@x", "m1", day(1)).license_kind is LicenseKind.PERMANENT
    d = s.host("b@x", "m2", day(1))
    assert (d.rule, d.license_kind) == ("R3", LicenseKind.DEMONSTRATION)
    lic = s.ledger.license_at("b@x", day(1))
    assert lic is not None and lic.grant_id == "demo-1" and lic.expires_at == day(60)
    assert s.host("c@x", "m3", day(1)).license_kind is LicenseKind.GRACE


def test_r3_grace_when_nothing_free_warns_the_admin() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(1))
    d = s.host("b@x", "m2", day(2))
    assert (d.granted, d.rule, d.license_kind) == (True, "R3", LicenseKind.GRACE)
    lic = s.ledger.license_at("b@x", day(2))
    assert lic is not None and lic.expires_at == day(182)
    assert s.ledger.people["b@x"].first_grace_at == day(2)
    assert [n.code for n in d.notices] == ["grace_in_use"]
    assert "exceeded by 1" in d.notices[0].message


def test_r3_refused_no_license_available_when_grace_limit_reached() -> None:
    s = site(grace_limit=1)
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x", "c@x")
    s.host("a@x", "m1", day(1))
    s.host("b@x", "m2", day(1))
    d = s.host("c@x", "m3", day(1))
    assert (d.granted, d.reason, d.rule) == (False, "no_license_available", "R3")
    assert "Grace 1 of 1 in use" in d.sentence


def test_r3_grace_window_continues_after_deactivation_and_reactivation() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(10))  # Grace window [day 10, day 190)
    s.do(Deactivation("b@x"), day(20))
    assert s.ledger.license_at("b@x", day(20)) is None
    s.do(Reactivation("b@x"), day(30))
    d = s.host("b@x", "m3", day(40))
    assert d.license_kind is LicenseKind.GRACE
    lic = s.ledger.license_at("b@x", day(40))
    assert lic is not None and lic.expires_at == day(190)  # not a fresh 180 days


# -- R4 -----------------------------------------------------------------------------------------------------


def test_r4_expired_host_is_refused_license_expired_never_a_second_grace() -> None:
    s = site(grace_limit=5)
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(1))
    s.do(MeetingEnd("m2"), day(1.1))
    d = s.host("b@x", "m3", day(181))
    assert (d.granted, d.reason, d.rule) == (False, "license_expired", "R4")
    assert "attend" in d.sentence and "schedule" in d.sentence
    assert s.ledger.grace_in_use(day(181)) == 0  # Grace was free, still refused


def test_r4_expired_host_gets_a_free_permanent() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(1))
    s.do(Sweep(), day(200))
    s.do(PurchasePermanent(1), day(201))  # purchase promotes Grace holders only; b is an Expired Host
    assert s.kind("b@x", day(201)) is None
    d = s.host("b@x", "m3", day(202))
    assert (d.granted, d.rule, d.license_kind) == (True, "R4", LicenseKind.PERMANENT)


def test_r4_expired_host_gets_a_demonstration_license() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(1))
    s.do(GrantDemonstration("d", 2, day(300)), day(190))
    d = s.host("b@x", "m3", day(200))
    assert (d.granted, d.rule, d.license_kind) == (True, "R4", LicenseKind.DEMONSTRATION)


# -- R5 -----------------------------------------------------------------------------------------------------


def test_r5_deactivation_releases_the_permanent_and_ends_open_meetings() -> None:
    s = site()
    s.do(PurchasePermanent(2), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(1))
    s.host("a@x", "m2", day(1))
    d = s.do(Deactivation("a@x"), day(2))
    assert d.rule == "R5"
    assert sorted(a.meeting_id for a in d.actions if isinstance(a, CloseMeeting)) == ["m1", "m2"]
    assert [a.kind for a in d.actions if isinstance(a, ReleaseLicense)] == [LicenseKind.PERMANENT]
    assert s.ledger.meetings == {}
    assert s.ledger.free_permanent == 2
    assert s.ledger.people["a@x"].deactivated_at == day(2)


def test_r5_deletion_releases_and_an_unknown_person_is_recorded() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(1))
    s.do(Deletion("a@x"), day(2))
    assert s.ledger.people["a@x"].deleted and s.ledger.free_permanent == 1
    d = s.do(Deactivation("ghost@x"), day(3))
    assert d.rule == "R5" and "no license" in d.sentence
    assert s.ledger.people["ghost@x"].active is False


def test_r5_deactivation_releases_a_grace_license_but_keeps_the_window() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(1))
    s.do(Deactivation("b@x"), day(2))
    assert s.ledger.people["b@x"].license is None
    assert s.ledger.people["b@x"].first_grace_at == day(1)
    assert s.ledger.grace_in_use(day(2)) == 0


# -- R6 -----------------------------------------------------------------------------------------------------


def test_r6_reactivation_assigns_nothing_until_the_person_hosts() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(1))
    s.do(Deactivation("a@x"), day(2))
    d = s.do(Reactivation("a@x"), day(3))
    assert d.rule == "R6" and not any(isinstance(a, AssignLicense) for a in d.actions)
    assert s.ledger.people["a@x"].active and s.ledger.people["a@x"].license is None
    assert s.host("a@x", "m2", day(4)).license_kind is LicenseKind.PERMANENT


# -- R7 -----------------------------------------------------------------------------------------------------


def _two_grace_holders(s: Site) -> None:
    s.do(PurchasePermanent(1), T0)
    s.add("p@x", "z@x", "a@x", "y@x")
    s.host("p@x", "m0", day(0))
    s.host("z@x", "m1", day(1))  # older grace than a@x
    s.host("y@x", "m2", day(2))
    s.host("a@x", "m3", day(2))  # same time as y@x: ties by key, a before y


def test_r7_purchase_promotes_oldest_grace_first() -> None:
    s = site(grace_limit=5)
    _two_grace_holders(s)
    d = s.do(PurchasePermanent(2), day(3))
    assert d.rule == "R7"
    promoted = [a.person for a in d.actions if isinstance(a, AssignLicense)]
    assert promoted == ["z@x", "a@x"]
    assert s.kind("z@x", day(3)) is LicenseKind.PERMANENT
    assert s.kind("a@x", day(3)) is LicenseKind.PERMANENT
    assert s.kind("y@x", day(3)) is LicenseKind.GRACE
    assert s.ledger.free_permanent == 0


def test_r7_purchase_ends_the_trial() -> None:
    s = site()
    s.do(StartTrial(T0), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(1))
    assert s.kind("a@x", day(1)) is LicenseKind.TRIAL
    d = s.do(PurchasePermanent(10), day(5))
    assert "the trial ends" in d.sentence
    assert s.ledger.trial is not None and s.ledger.trial.ended and not s.ledger.trial_open(day(5))
    assert s.ledger.people["a@x"].license is None
    s.do(MeetingEnd("m1"), day(5))
    assert s.host("a@x", "m2", day(6)).license_kind is LicenseKind.PERMANENT


def test_r7_manual_promotion_leaves_grace_holders_alone() -> None:
    s = site(grace_limit=5, grace_promotion="manual")
    _two_grace_holders(s)
    d = s.do(PurchasePermanent(2), day(3))
    assert not any(isinstance(a, AssignLicense) for a in d.actions)
    assert s.kind("z@x", day(3)) is LicenseKind.GRACE
    assert s.ledger.free_permanent == 2


# -- R8 -----------------------------------------------------------------------------------------------------


def test_r8_freed_permanent_stays_in_the_pool_under_purchase() -> None:
    s = site(grace_limit=5)
    _two_grace_holders(s)
    d = s.do(Deactivation("p@x"), day(4))
    assert not any(isinstance(a, AssignLicense) for a in d.actions)
    assert "stays in the pool" in d.sentence
    assert s.kind("z@x", day(4)) is LicenseKind.GRACE and s.ledger.free_permanent == 1


def test_r8_freed_permanent_promotes_oldest_grace_holder_under_any() -> None:
    s = site(grace_limit=5, grace_promotion="any")
    _two_grace_holders(s)
    d = s.do(Deactivation("p@x"), day(4))
    promoted = [a for a in d.actions if isinstance(a, AssignLicense)]
    assert [(a.person, a.rule) for a in promoted] == [("z@x", "R8")]
    assert s.kind("z@x", day(4)) is LicenseKind.PERMANENT and s.ledger.free_permanent == 0


# -- R9 -----------------------------------------------------------------------------------------------------


def test_r9_reserve_replaces_grace_with_a_free_permanent() -> None:
    s = site(grace_limit=5, grace_promotion="manual")
    _two_grace_holders(s)
    assert s.do(Reserve("y@x"), day(3)).reason == "no_permanent_free"
    s.do(PurchasePermanent(1), day(4))
    d = s.do(Reserve("y@x"), day(5))
    assert (d.granted, d.rule, d.license_kind) == (True, "R9", LicenseKind.PERMANENT)
    assert "replaces the active Grace Host license" in d.sentence
    assert s.kind("y@x", day(5)) is LicenseKind.PERMANENT and s.ledger.grace_in_use(day(5)) == 2


def test_r9_reserve_refusals() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("off@x", active=False)
    assert s.do(Reserve("off@x"), day(1)).reason == "person_inactive"
    assert s.do(Reserve("nobody@x"), day(1)).reason == "unknown_person"
    s.add("a@x")
    assert s.do(Reserve("a@x"), day(1)).granted
    again = s.do(Reserve("a@x"), day(2))
    assert again.granted and again.actions == () and s.ledger.permanent_in_use == 1


# -- R10 ----------------------------------------------------------------------------------------------------


def test_r10_sweep_expires_grace_after_grace_days() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(1))
    s.do(MeetingEnd("m2"), day(2))
    assert not _license_actions(s.do(Sweep(), day(180.99)))
    d = s.do(Sweep(), day(181))
    assert d.rule == "R10"
    held = s.ledger.people["b@x"].license
    assert held is not None and held.kind is LicenseKind.GRACE and held.state is LicenseState.EXPIRED


def test_r10_expiry_is_checked_at_decision_time_without_a_sweep() -> None:
    s = site(grace_limit=1)
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x", "c@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(1))
    assert s.host("c@x", "m3", day(100)).reason == "no_license_available"
    # b's Grace expired at day 181 though no sweep ran: its slot is free again
    assert s.ledger.grace_in_use(day(181)) == 0
    assert s.host("c@x", "m3", day(181)).license_kind is LicenseKind.GRACE


def test_r10_demonstration_licenses_expire_with_their_grant_assigned_or_not() -> None:
    s = site()
    s.do(GrantDemonstration("d1", 3, day(30)), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(1))
    assert s.ledger.demonstration_free(day(1)) == 2
    assert s.ledger.demonstration_free(day(30)) == 0 and s.ledger.demonstration_total(day(30)) == 0
    d = s.do(Sweep(), day(30))
    assert [(a.person, a.kind) for a in d.actions if isinstance(a, ReleaseLicense)] == [
        ("a@x", LicenseKind.DEMONSTRATION)
    ]
    assert s.ledger.people["a@x"].license is None
    assert s.host("b@x", "m2", day(31)).license_kind is LicenseKind.GRACE


def test_r10_trial_ends_and_trial_licenses_go() -> None:
    s = site(trial_days=30)
    s.do(StartTrial(T0), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(1))
    d = s.do(Sweep(), day(30))
    assert any(isinstance(a, ReleaseLicense) for a in d.actions) and "trial ended" in d.sentence
    assert s.ledger.people["a@x"].license is None and s.ledger.trial is not None and s.ledger.trial.ended


def test_r10_idle_permanent_released_in_2_0_only() -> None:
    for version, released in (("2.0", True), ("2.5", False)):
        s = site(cwms_version=version)
        s.do(PurchasePermanent(1), T0)
        s.add("a@x")
        s.host("a@x", "m1", day(0))
        s.do(MeetingEnd("m1"), day(0.1))
        assert s.do(Sweep(), day(89.9)).actions == ()
        s.do(Sweep(), day(90))
        assert (s.ledger.people["a@x"].license is None) is released, version


def test_r10_meetings_open_longer_than_the_timeout_end() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(0))
    s.host("a@x", "m2", day(0.5))
    d = s.do(Sweep(), day(1))
    assert [a.meeting_id for a in d.actions if isinstance(a, CloseMeeting)] == ["m1"]
    assert list(s.ledger.meetings) == ["m2"]


# -- R11 ----------------------------------------------------------------------------------------------------


def test_r11_management_change_remarks_the_license() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(1))
    d = s.do(ManagementChange("a@x", Management.REMOTE), day(2))
    assert d.rule == "R11"
    lic = s.ledger.people["a@x"].license
    assert lic is not None and lic.management is Management.REMOTE
    assert s.ledger.people["a@x"].management is Management.REMOTE
    assert s.do(ManagementChange("a@x", Management.REMOTE), day(3)).actions == ()
    assert s.do(ManagementChange("nobody@x", Management.REMOTE), day(3)).reason == "unknown_person"


def test_r11_license_carries_the_holders_management_at_assignment() -> None:
    s = site()
    s.do(PurchasePermanent(1), T0)
    s.add("r@x", management=Management.REMOTE)
    s.host("r@x", "m1", day(1))
    lic = s.ledger.people["r@x"].license
    assert lic is not None and lic.management is Management.REMOTE


# -- R12 ----------------------------------------------------------------------------------------------------


def test_r12_upgrade_releases_every_license() -> None:
    s = site(cwms_version="2.0", grace_limit=3)
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(0))
    d = s.do(Upgrade(), day(5))
    assert d.rule == "R12" and "2 licenses released" in d.sentence
    assert all(p.license is None and p.first_grace_at is None for p in s.ledger.people.values())
    s.settings = Settings(cwms_version="2.5", grace_limit=3)
    assert s.host("b@x", "m3", day(6)).license_kind is LicenseKind.PERMANENT


# -- settings -----------------------------------------------------------------------------------------------


def test_setting_grace_limit_default_is_ceil_ten_percent_at_least_one() -> None:
    st = Settings()
    assert [st.effective_grace_limit(n) for n in (0, 1, 10, 11, 50, 100)] == [1, 1, 1, 2, 5, 10]
    assert Settings(grace_limit=7).effective_grace_limit(100) == 7


def test_setting_grace_days() -> None:
    s = site(grace_days=30)
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(0))
    lic = s.ledger.license_at("b@x", day(0))
    assert lic is not None and lic.expires_at == day(30)
    assert s.ledger.grace_in_use(day(30)) == 0


def test_setting_trial_days() -> None:
    s = site(trial_days=10)
    s.do(StartTrial(T0), T0)
    s.add("a@x", "b@x")
    assert s.ledger.trial is not None and s.ledger.trial.ends_at == day(10)
    assert s.host("a@x", "m1", day(9.9)).license_kind is LicenseKind.TRIAL
    assert s.kind("a@x", day(10)) is None  # the trial license ends with the window
    assert s.host("b@x", "m2", day(10)).license_kind is LicenseKind.GRACE


def test_setting_max_concurrent_meetings_defaults_by_version_and_overrides() -> None:
    assert Settings().effective_max_concurrent() == 2
    assert Settings(cwms_version="2.0").effective_max_concurrent() == 1
    assert Settings(max_concurrent_meetings=3).effective_max_concurrent() == 3
    s = site(cwms_version="2.0")
    s.do(PurchasePermanent(1), T0)
    s.add("a@x")
    assert s.host("a@x", "m1", day(1)).granted
    assert s.host("a@x", "m2", day(1)).reason == "concurrent_limit"


def test_setting_idle_release_days() -> None:
    s = site(cwms_version="2.0", idle_release_days=10)
    s.do(PurchasePermanent(1), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(0))
    s.do(MeetingEnd("m1"), day(0))
    s.host("a@x", "m2", day(5))  # hosting resets the idle clock
    s.do(MeetingEnd("m2"), day(5))
    assert s.do(Sweep(), day(14)).actions == ()
    s.do(Sweep(), day(15))
    assert s.ledger.people["a@x"].license is None


def test_setting_release_hold() -> None:
    s = site(release_hold=timedelta(days=7))
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    d = s.do(Deactivation("a@x"), day(1))
    assert "kept bound until" in d.sentence
    lic = s.ledger.people["a@x"].license
    assert lic is not None and lic.kind is LicenseKind.PERMANENT and not s.ledger.people["a@x"].active
    assert s.host("a@x", "m2", day(2)).reason == "host_deactivated"  # bound, but cannot host
    assert s.host("b@x", "m3", day(2)).license_kind is LicenseKind.GRACE  # the held one is not free
    # reactivation inside the hold keeps the license
    s.do(Reactivation("a@x"), day(3))
    assert s.kind("a@x", day(3)) is LicenseKind.PERMANENT
    # deactivated again: the sweep after the hold releases it
    s.do(Deactivation("a@x"), day(4))
    assert not _license_actions(s.do(Sweep(), day(10.9)))
    d = s.do(Sweep(), day(11))
    assert [(a.person, a.rule) for a in d.actions if isinstance(a, ReleaseLicense)] == [("a@x", "R5")]
    assert s.ledger.free_permanent == 1


def test_setting_release_hold_does_not_apply_to_deletion() -> None:
    s = site(release_hold=timedelta(days=7))
    s.do(PurchasePermanent(1), T0)
    s.add("a@x")
    s.host("a@x", "m1", day(0))
    s.do(Deactivation("a@x"), day(1))
    s.do(Deletion("a@x"), day(2))
    assert s.ledger.people["a@x"].license is None and s.ledger.free_permanent == 1


def test_setting_meeting_timeout() -> None:
    s = site(meeting_timeout=timedelta(hours=2))
    s.do(PurchasePermanent(1), T0)
    s.add("a@x")
    s.host("a@x", "m1", T0)
    s.host("a@x", "m2", T0)
    # both count as ended after two hours, so a third meeting fits under the limit of 2
    assert s.host("a@x", "m3", T0 + timedelta(hours=2)).granted
    # a timed-out id can be reused
    d = s.host("a@x", "m1", T0 + timedelta(hours=2, minutes=1))
    assert d.granted and any(isinstance(a, CloseMeeting) and a.rule == "R10" for a in d.actions)


def test_settings_digest_is_stable_and_follows_the_values() -> None:
    assert Settings().digest() == Settings().digest()
    assert len(Settings().digest()) == 12
    assert Settings().digest() != Settings(grace_promotion="any").digest()
    assert Settings().digest() != Settings(release_hold=timedelta(hours=1)).digest()
    d = decide(Ledger.empty(), PurchasePermanent(1), Settings(grace_limit=3), T0)
    assert d.settings_digest == Settings(grace_limit=3).digest()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cwms_version": "3.0"},
        {"grace_promotion": "sometimes"},
        {"grace_days": 0},
        {"max_concurrent_meetings": 0},
        {"release_hold": timedelta(hours=-1)},
        {"meeting_timeout": timedelta(0)},
    ],
)
def test_settings_reject_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Settings(**kwargs)  # type: ignore[arg-type]


def test_decide_needs_an_aware_time_and_valid_events() -> None:
    with pytest.raises(ValueError):
        decide(Ledger.empty(), Sweep(), Settings(), datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        PurchasePermanent(0)
    with pytest.raises(ValueError):
        Upgrade("3.0")
    with pytest.raises(ValueError):
        StartTrial(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        GrantDemonstration("g", 1, datetime(2026, 1, 1))


def test_admin_bookkeeping_refusals() -> None:
    s = site()
    s.do(GrantDemonstration("g", 1, day(10)), T0)
    assert s.do(GrantDemonstration("g", 1, day(20)), T0).reason == "grant_exists"
    assert s.do(GrantDemonstration("h", 1, T0), T0).reason == "already_expired"
    s.do(PurchasePermanent(1), T0)
    assert s.do(StartTrial(T0), T0).reason == "licenses_installed"
    assert s.do(MeetingEnd("nope"), T0).reason == "unknown_meeting"
