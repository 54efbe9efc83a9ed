"""The only builder of journal rows: who acted, on whom, which rule, what changed, in one sentence.

Every row is a plain dict of the journal table's columns, written by :func:`syncd.store.bulk.append_journal`. A
row that records a policy decision carries the decision itself (``decision``), which is what a replay folds
(:func:`recorded_decision`); the other rows (a person's record changed, a run refused) say what happened and
carry no decision.

A created person's row records its AddPerson decision as the policy's compact record
(:func:`policy.added_person_record`): the event's fields are the row's ``person``, ``at`` and ``after``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from policy import (
    CloseMeeting,
    Decision,
    Event,
    HostRequest,
    Management,
    MeetingEnd,
    OpenMeeting,
    decision_from_added_record,
    decision_from_dict,
    decision_to_dict,
)


class PersonFields(Protocol):
    """The stored fields of a person that a journal row shows before and after a change."""

    active: bool
    deleted: bool
    management: str
    in_cucm: bool
    ad_guid: str | None
    display_name: str | None
    inactive_reason: str | None


class PersonChange(Protocol):
    """A planned change of one person, as a sync's plan holds it."""

    kind: str
    email: str
    source: str | None

    @property
    def sentence(self) -> str: ...

    @property
    def before(self) -> PersonFields | None: ...

    @property
    def after(self) -> PersonFields: ...


def event_name(event: Event) -> str:
    """``HostRequest`` -> ``host_request``."""
    name = type(event).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def person_fields(p: PersonFields) -> dict[str, Any]:
    return {"active": p.active, "deleted": p.deleted, "management": p.management, "in_cucm": p.in_cucm,
            "ad_guid": p.ad_guid, "display_name": p.display_name, "inactive_reason": p.inactive_reason}


def change_row(change: PersonChange, run_id: str, actor: str, now: datetime) -> dict[str, Any]:
    """A person's record changed and no license rule applies (a creation, or an update that is not a management
    change)."""
    return {"run_id": run_id, "at": now, "actor": actor, "person": change.email, "event": change.kind,
            "source": change.source, "sentence": change.sentence,
            "before": person_fields(change.before) if change.before is not None else None,
            "after": person_fields(change.after)}


def added_row(change: PersonChange, run_id: str, actor: str, now: datetime,
              record: Mapping[str, Any]) -> dict[str, Any]:
    """A person first seen by a sync, with ``record``, the policy's record of their AddPerson decision."""
    return {"run_id": run_id, "at": now, "actor": actor, "person": change.email, "event": change.kind,
            "source": change.source, "sentence": change.sentence, "before": None,
            "after": person_fields(change.after), "decision": record}


def recorded_decision(person: str | None, event: str, at: datetime, after: Mapping[str, Any] | None,
                      decision: dict[str, Any] | None) -> Decision | None:
    """The decision a journal row records, None for a row that records none (a person's record changed, a run
    refused). A created person's row holds the policy's AddPerson record, or, written before rows carried it,
    nothing."""
    if event == "created" and person is not None and after is not None:
        return decision_from_added_record(person, bool(after["active"]), Management(after["management"]), at,
                                          decision)
    return decision_from_dict(decision) if decision is not None else None


def _naming_meetings(sentence: str, decision: Decision, subject: str | None) -> str:
    """``sentence`` with the id of every meeting the decision opened or closed for ``subject``, and of the
    meeting a host request or end asked about, so the journal can be searched for a meeting id. (A policy
    sentence such as "granted a Permanent Host license" or "1 open meeting ended" names none.)"""
    named = [a.sentence for a in decision.actions if isinstance(a, OpenMeeting | CloseMeeting)
             and a.person == subject and a.sentence not in sentence]
    if named:
        sentence = "; ".join([sentence, *named])
    ev = decision.event
    if isinstance(ev, HostRequest | MeetingEnd) and f"meeting {ev.meeting_id}" not in sentence:
        sentence += f" (meeting {ev.meeting_id})"
    return sentence


def decision_rows(decision: Decision, run_id: str | None, actor: str, subject: str | None,
                  source: str | None = None, change: PersonChange | None = None) -> list[dict[str, Any]]:
    """One row for the decision (with the person change it answers, when there is one), and one per other
    person its actions touched (promotions, releases by a sweep)."""
    sentence = decision.sentence if change is None else f"{change.sentence}; {decision.sentence}"
    sentence = _naming_meetings(sentence, decision, subject)
    rows = [{
        "run_id": run_id, "at": decision.now, "actor": actor, "person": subject,
        "event": change.kind if change else event_name(decision.event), "source": source,
        "rule": decision.rule if decision.rule != "-" else None, "sentence": sentence,
        "before": person_fields(change.before) if change and change.before else None,
        "after": person_fields(change.after) if change else None,
        "decision": decision_to_dict(decision),
    }]
    others: dict[str, list[Any]] = {}
    for a in decision.actions:
        if a.person is not None and a.person != subject:
            others.setdefault(a.person, []).append(a)
    for person, actions in others.items():
        rows.append({
            "run_id": run_id, "at": decision.now, "actor": actor, "person": person, "event": "license",
            "source": source, "rule": next((a.rule for a in actions if a.rule), decision.rule),
            "sentence": "; ".join(a.sentence for a in actions) + f" (because: {decision.sentence})",
        })
    return rows


def cwms_import_row(run_id: str, actor: str, now: datetime, counts: Mapping[str, int]) -> dict[str, Any]:
    """`syncd cwms import`: the CWMS accounts adopted as the facts of source ``cwms``."""
    return {"run_id": run_id, "at": now, "actor": actor, "event": "cwms_import", "source": "cwms",
            "sentence": f"adopted {counts['accounts']} CWMS accounts' states ({counts['added']} added, "
                        f"{counts['changed']} changed, {counts['removed']} removed)", "after": dict(counts)}


def refusal_row(run_id: str, actor: str, now: datetime, sentence: str, after: Mapping[str, Any]) -> dict[str, Any]:
    """A run refused by the safety gate: nothing else of it is written."""
    return {"run_id": run_id, "at": now, "actor": actor, "event": "refused", "sentence": sentence,
            "after": dict(after)}


def push_row(run_id: str, actor: str, now: datetime, person: str, sentence: str, before: str | None,
             after: Mapping[str, Any]) -> dict[str, Any]:
    """One outcome of a write to CWMS (DESIGN.md 12): ``before``, the account's ``active`` state as read before
    the write (None when it could not be read); ``after``, the outcome with CWMS's exceptionID and reason."""
    return {"run_id": run_id, "at": now, "actor": actor, "person": person, "event": "cwms_push", "source": "cwms",
            "sentence": sentence, "before": {"active": before} if before is not None else None,
            "after": dict(after)}


def alert_row(run_id: str | None, actor: str, now: datetime, sentence: str, after: Mapping[str, Any]) -> dict[str, Any]:
    """An alert sent to one receiver, or a send that failed (``after``: condition, change, receiver label, ok,
    error): the receiver is named by its label, never its URL, which may hold a secret."""
    return {"run_id": run_id, "at": now, "actor": actor, "event": "alert", "sentence": sentence, "after": dict(after)}
