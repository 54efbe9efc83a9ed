"""Folding actions into a ledger: the only place a ledger's parts change.

A fold copies the ledger's mappings once and then changes them in place, action by action; ``ledger()`` freezes
the result.  Replaying a journal uses one fold for every decision: applying decision by decision would copy every
person once per decision, and a journal holds a decision per person ever created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from policy.decisions import (
    Action,
    AddDemoGrant,
    AddPurchase,
    AssignLicense,
    CloseMeeting,
    EndTrial,
    ExpireLicense,
    OpenMeeting,
    ReleaseLicense,
    RemarkLicense,
    SetCwmsVersion,
    SetFirstGrace,
    SetLastHosted,
    SetPersonState,
    SetTrial,
)
from policy.model import DemoGrant, Ledger, LicenseState, Meeting, PersonState, Purchase, TrialWindow


def apply_actions(ledger: Ledger, actions: Iterable[Action]) -> Ledger:
    """The ledger after ``actions``, in order.  Pure: ``ledger`` is not changed (and is returned if none)."""
    actions = tuple(actions)
    if not actions:
        return ledger
    state = Fold(ledger)
    state.fold(actions)
    return state.ledger()


def _person(people: dict[str, PersonState], key: str, action: Action) -> PersonState:
    p = people.get(key)
    if p is None:
        raise ValueError(f"{type(action).__name__} touches a person the ledger does not know: {key}")
    return p


class Fold:
    """A ledger's parts, changed in place by actions; ``ledger()`` freezes them again."""

    def __init__(self, ledger: Ledger) -> None:
        self.people = dict(ledger.people)
        self.meetings = dict(ledger.meetings)
        self.purchases = list(ledger.purchases)
        self.grants = list(ledger.demo_grants)
        self.trial = ledger.trial
        self.cwms_version = ledger.cwms_version

    def ledger(self) -> Ledger:
        return Ledger(tuple(self.purchases), tuple(self.grants), self.trial, self.people, self.meetings,
                      self.cwms_version)

    def fold(self, actions: Iterable[Action]) -> None:
        people, meetings = self.people, self.meetings
        for a in actions:
            match a:
                case AssignLicense():
                    people[a.person] = replace(_person(people, a.person, a), license=a.license)
                case ReleaseLicense():
                    people[a.person] = replace(_person(people, a.person, a), license=None)
                case ExpireLicense():
                    p = _person(people, a.person, a)
                    if p.license is not None:
                        people[a.person] = replace(p, license=replace(p.license, state=LicenseState.EXPIRED))
                case RemarkLicense():
                    p = _person(people, a.person, a)
                    if p.license is not None:
                        people[a.person] = replace(p, license=replace(p.license, management=a.management))
                case SetPersonState():
                    prev = people.get(a.person) or PersonState(active=a.active)
                    people[a.person] = replace(prev, active=a.active, deleted=a.deleted, management=a.management,
                                               deactivated_at=a.deactivated_at)
                case OpenMeeting():
                    meetings[a.meeting_id] = Meeting(a.meeting_id, a.person, a.started_at)
                case CloseMeeting():
                    meetings.pop(a.meeting_id, None)
                case AddPurchase():
                    self.purchases.append(Purchase(a.count, a.at))
                case AddDemoGrant():
                    self.grants.append(DemoGrant(a.grant_id, a.count, a.expires_at, a.granted_at))
                case SetTrial():
                    self.trial = TrialWindow(a.start, a.ends_at)
                case EndTrial():
                    if self.trial is not None:
                        self.trial = TrialWindow(self.trial.start, min(self.trial.ends_at, a.at), ended=True)
                case SetCwmsVersion():
                    self.cwms_version = a.version
                case SetFirstGrace():
                    people[a.person] = replace(_person(people, a.person, a), first_grace_at=a.at)
                case SetLastHosted():
                    people[a.person] = replace(_person(people, a.person, a), last_hosted_at=a.at)
