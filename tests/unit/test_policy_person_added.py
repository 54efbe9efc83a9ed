"""policy.person_added: the AddPerson decision without a ledger, equal to decide's."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from policy import (
    AddPerson,
    Ledger,
    Management,
    PurchasePermanent,
    SetPersonState,
    Settings,
    decide,
    decision_from_dict,
    decision_to_dict,
    person_added,
    replay,
)
from tests.unit.test_policy_rules import T0, day, site


def _ledgers() -> list[tuple[Settings, Ledger]]:
    s = site(grace_promotion="any", release_hold=timedelta(days=3))
    s.do(PurchasePermanent(1), T0)
    s.add("a@x", "b@x")
    s.host("a@x", "m1", day(1))
    s.host("b@x", "m2", day(1))  # Grace
    return [(Settings(), Ledger.empty()), (s.settings, s.ledger)]


@pytest.mark.parametrize("active", [True, False])
@pytest.mark.parametrize("management", list(Management))
def test_person_added_equals_decide_for_a_person_the_ledger_does_not_know(
    active: bool, management: Management
) -> None:
    for st_, ledger in _ledgers():
        for at in (T0, day(2), day(400)):
            d = person_added("new@x", active, management, at, st_)
            assert d == decide(ledger, AddPerson("new@x", active, management), st_, at)
            assert decision_from_dict(json.loads(json.dumps(decision_to_dict(d)))) == d


def test_person_added_records_the_person_and_nothing_else() -> None:
    d = person_added("new@x", False, Management.REMOTE, T0, Settings())
    assert (d.rule, d.granted, d.reason, d.license_kind, d.notices) == ("-", None, None, None, ())
    assert d.sentence == "added new@x (inactive, managed remote)"
    (a,) = d.actions
    assert isinstance(a, SetPersonState) and a.sentence == "first seen (inactive, managed remote)"
    p = replay([d]).people["new@x"]
    assert (p.active, p.deleted, p.management, p.license) == (False, False, Management.REMOTE, None)


def test_decide_still_says_already_known_for_a_known_person() -> None:
    st_, ledger = _ledgers()[1]
    d = decide(ledger, AddPerson("a@x", True), st_, day(2))
    assert (d.actions, d.sentence) == ((), "a@x is already known")


def test_person_added_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        person_added("new@x", True, Management.LOCAL, datetime(2026, 1, 1), Settings())
