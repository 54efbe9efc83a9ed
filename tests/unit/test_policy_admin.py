"""The guarded admin rules (issue 15): R12 knows the ledger's CWMS version and ends the meetings it strands, and
SetInstalled corrects the installed Permanent count without breaking an invariant."""

from __future__ import annotations

from policy import (
    CloseMeeting,
    Deactivation,
    LicenseKind,
    PurchasePermanent,
    Reserve,
    SetCwmsVersion,
    SetInstalled,
    Upgrade,
    decision_from_dict,
    decision_to_dict,
    notices,
    replay,
)
from tests.unit.test_policy_rules import day, site


def test_r12_on_the_configured_version_is_refused_and_changes_nothing() -> None:
    s = site(cwms_version="2.5")
    s.do(PurchasePermanent(5), day(0))
    s.add("a@x")
    s.host("a@x", "m1", day(0))
    before = s.ledger
    d = s.do(Upgrade(), day(1))
    assert (d.rule, d.reason, d.actions) == ("R12", "already_on_version", ())
    assert "refused" in d.sentence and "cwms_version" in d.sentence
    assert s.ledger == before


def test_r12_from_2_0_releases_ends_the_stranded_meetings_and_records_the_version() -> None:
    s = site(cwms_version="2.0", grace_limit=3)
    s.do(PurchasePermanent(1), day(0))
    s.add("a@x", "b@x", "c@x")
    s.host("a@x", "m1", day(0))                 # Permanent
    s.host("b@x", "m2", day(0))                 # Grace
    d = s.do(Upgrade(), day(1))
    assert d.rule == "R12" and d.reason is None
    assert "from CWMS 2.0 to 2.5" in d.sentence and "2 open meetings ended" in d.sentence
    closed = {(a.person, a.meeting_id) for a in d.actions if isinstance(a, CloseMeeting)}
    assert closed == {("a@x", "m1"), ("b@x", "m2")}
    assert dict(s.ledger.meetings) == {}
    assert s.ledger.cwms_version == "2.5"
    assert [a.version for a in d.actions if isinstance(a, SetCwmsVersion)] == ["2.5"]

    again = s.do(Upgrade(), day(2))                # the recorded version wins over the configured 2.0
    assert again.reason == "already_on_version" and "an earlier upgrade recorded it" in again.sentence

    assert [n.code for n in notices(s.ledger, s.settings, day(2))] == ["cwms_version_mismatch"]
    s.settings = type(s.settings)(cwms_version="2.5", grace_limit=3)
    assert notices(s.ledger, s.settings, day(2)) == ()

    # the journal (through its JSON form) replays to the recorded version and the closed meetings
    replayed = replay(decision_from_dict(decision_to_dict(x)) for x in s.log)
    assert replayed.cwms_version == "2.5" and dict(replayed.meetings) == {}


def test_set_installed_below_permanent_in_use_is_refused() -> None:
    s = site()
    s.do(PurchasePermanent(50), day(0))
    s.add("a@x", "b@x", "c@x")
    for n, k in enumerate(("a@x", "b@x", "c@x")):
        s.host(k, f"m{n}", day(0))
    d = s.do(SetInstalled(2), day(1))
    assert (d.reason, d.actions) == ("below_in_use", ())
    assert "3 Permanent Host licenses are in use" in d.sentence and "below 3" in d.sentence
    assert s.ledger.installed_permanent == 50


def test_set_installed_lowers_the_count_down_to_the_licenses_in_use() -> None:
    s = site()
    s.do(PurchasePermanent(50), day(0))
    s.add("a@x")
    s.host("a@x", "m1", day(0))
    d = s.do(SetInstalled(5), day(1))
    assert d.reason is None and d.sentence == "installed Permanent Host licenses set from 50 to 5: 1 in use, free 4"
    assert (s.ledger.installed_permanent, s.ledger.free_permanent) == (5, 4)
    assert s.do(SetInstalled(1), day(1)).reason is None
    assert s.ledger.free_permanent == 0
    assert s.do(SetInstalled(1), day(1)).actions == ()        # already 1: nothing changes
    assert replay(s.log).installed_permanent == 1


def test_set_installed_keeps_grace_within_its_limit() -> None:
    s = site()                                                # grace_limit default: 10% of installed, at least 1
    s.do(PurchasePermanent(20), day(0))
    keys = [f"p{n:02d}@x" for n in range(22)]
    s.add(*keys)
    for n, k in enumerate(keys):
        s.host(k, f"m{n}", day(0))
    for k in keys[2:20]:                                      # 18 Permanent holders leave; the 2 Grace stay
        s.do(Deactivation(k), day(1))
    assert (s.ledger.permanent_in_use, s.ledger.grace_in_use(day(1))) == (2, 2)
    d = s.do(SetInstalled(5), day(1))                         # the Grace limit at 5 installed would be 1
    assert (d.reason, d.actions) == ("grace_over_limit", ())
    assert s.do(SetInstalled(11), day(1)).reason is None      # at 11 it is 2


def test_set_installed_above_the_count_is_a_purchase_of_the_difference() -> None:
    s = site(grace_limit=2)
    s.do(PurchasePermanent(1), day(0))
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(0))
    s.host("b@x", "m2", day(0))                               # Grace
    d = s.do(SetInstalled(3), day(1))
    assert d.rule == "R7" and d.sentence.startswith("installed Permanent Host licenses set from 1 to 3")
    assert s.kind("b@x", day(1)) is LicenseKind.PERMANENT    # promoted, as a purchase would
    assert s.ledger.installed_permanent == 3


def test_reserve_for_an_inactive_person_says_what_to_do() -> None:
    s = site()
    s.do(PurchasePermanent(5), day(0))
    s.add("off@x", active=False)
    d = s.do(Reserve("off@x"), day(1))
    assert d.reason == "person_inactive" and "off@x is inactive" in d.sentence and "reactivate" in d.sentence
