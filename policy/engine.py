"""The CWMS host-license rules R1-R12 (DESIGN 5 and 11): ``decide``, ``apply``, ``replay``.

``decide(ledger, event, settings, now)`` is pure: it reads no clock, no database and no file; the same inputs
give the same :class:`~policy.decisions.Decision`.  ``apply`` folds a decision's actions into a new ledger, and
``replay`` folds a journal of decisions from an empty ledger.  This module only dispatches: the rules' bodies
are in :mod:`policy.rules` (by concern), the folding of actions in :mod:`policy.fold`.

Deciding on a subset.  The store does not load every person.  It loads every person who holds a license (active
or expired), hosts an open meeting or has a grace window (``first_grace_at``), plus the event's subject:
:meth:`Ledger.subset` is that rule.  Every count used here (Permanent in use, Grace in use, Demonstration in use
per grant, the oldest Grace holder, a person's open meetings) is derived from those people, so a decision on the
subset equals the decision on the whole ledger.  A person absent from the ledger is *unknown*:

- ``HostRequest`` / ``Reserve`` / ``ManagementChange`` of an unknown person are refused with reason
  ``unknown_person`` and change nothing;
- ``Deactivation`` / ``Deletion`` / ``Reactivation`` / ``AddPerson`` of an unknown person record the person's
  state (management local until a ``ManagementChange`` says otherwise) and have no license effect.

Time.  A license whose ``expires_at`` <= ``now`` is expired for every decision; the sweep (R10) records the
transitions, ends timed-out meetings and raises notices.  The Grace window of a person is
``[first_grace_at, first_grace_at + grace_days)``: Grace is assigned only inside it, also after a deactivation
and reactivation, and after it the person is an Expired Host (R4).  A Permanent kept under ``release_hold``
counts as in use until a sweep (or the person's deletion) releases it.

Decisions name the rule that fired ("R1".."R12"; "-" for bookkeeping such as adding a person, a Demonstration
grant, a trial window or the end of a meeting) and carry one human sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from policy.decisions import Decision
from policy.events import (
    AddPerson,
    Deactivation,
    Deletion,
    Event,
    GrantDemonstration,
    HostRequest,
    ImportHoldings,
    ManagementChange,
    MeetingEnd,
    PurchasePermanent,
    Reactivation,
    Reserve,
    SetInstalled,
    StartTrial,
    Sweep,
    Upgrade,
)
from policy.fold import Fold, apply_actions
from policy.model import Ledger
from policy.rules import hosting, people, pool, sweep
from policy.rules.context import Context, require_aware
from policy.settings import Settings


def decide(ledger: Ledger, event: Event, settings: Settings, now: datetime) -> Decision:
    """What the rules do with ``event`` at ``now`` on ``ledger``.  ``now`` must be timezone-aware."""
    require_aware(now)
    c = Context(ledger, event, settings, now)
    match event:
        case HostRequest():
            return hosting.host_request(c, event)
        case MeetingEnd():
            return hosting.meeting_end(c, event)
        case Deactivation():
            return people.deactivate(c, event.person, deleting=False)
        case Deletion():
            return people.deactivate(c, event.person, deleting=True)
        case Reactivation():
            return people.reactivate(c, event)
        case ManagementChange():
            return people.management_change(c, event)
        case AddPerson():
            return people.add_person(c, event)
        case PurchasePermanent():
            return pool.purchase(c, event)
        case SetInstalled():
            return pool.set_installed(c, event)
        case GrantDemonstration():
            return pool.grant_demonstration(c, event)
        case StartTrial():
            return pool.start_trial(c, event)
        case Reserve():
            return pool.reserve(c, event)
        case Upgrade():
            return pool.upgrade(c, event)
        case ImportHoldings():
            return pool.import_holdings(c, event)
        case Sweep():
            return sweep.sweep(c)
    raise TypeError(f"not a policy event: {event!r}")


def apply(ledger: Ledger, decision: Decision) -> Ledger:
    """The ledger after ``decision``'s actions, in order.  Pure: ``ledger`` is not changed."""
    return apply_actions(ledger, decision.actions)


def replay(decisions: Iterable[Decision], start: Ledger | None = None) -> Ledger:
    """Fold recorded decisions from an empty ledger (or ``start``): the journal reproduces the ledger.

    One fold for the whole journal, so the people are copied once, not once per decision."""
    state = Fold(start if start is not None else Ledger.empty())
    for d in decisions:
        state.fold(d.actions)
    return state.ledger()
