"""Admin actions and host requests: each is one policy decision in one write transaction, journaled.

Each admin action plans, then applies: the decision is made on the stored ledger and saved unless the action is
a dry run, which makes the same decision on the same ledger in a read-only connection and writes nothing (no
journal row either), so ``--dry-run`` shows exactly what the action would do."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from connectors.emails import email_key
from policy import (
    AssignLicense,
    Decision,
    GrantDemonstration,
    HostRequest,
    ImportHoldings,
    Ledger,
    MeetingEnd,
    PurchasePermanent,
    Reserve,
    SetInstalled,
    StartTrial,
    Sweep,
    Upgrade,
    apply,
    decide,
)
from policy.rules.pool import IMPORT_PROBLEM
from syncd import errors
from syncd.licensing import holdings, inputs
from syncd.licensing.cache import ledger_cache
from syncd.licensing.ledger import decide_and_save, load_ledger
from syncd.runtime import Runtime
from syncd.store import tables
from syncd.store.db import begin_write


@dataclass
class Outcome:
    decision: Decision
    ledger: Ledger
    meeting_id: str | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.decision.reason is None and self.decision.granted is not False

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        out: dict[str, Any] = {
            "granted": d.granted if d.granted is not None else self.ok,
            "license_kind": d.license_kind.value if d.license_kind is not None else None,
            "reason": d.reason, "rule": d.rule, "message": d.sentence,
            "at": d.now.isoformat(),
            "notices": [n.message for n in d.notices],
            "dry_run": self.dry_run,
            "changes": [{"person": a.person, "sentence": a.sentence} for a in d.actions],
        }
        if self.meeting_id is not None:
            out = {"meeting_id": self.meeting_id, **out}
        if d.reason is not None:
            out["error"] = d.reason
        return out

    def lines(self) -> list[str]:
        d = self.decision
        if self.dry_run:
            return self._would()
        head = f"{'refused' if not self.ok else 'ok'} ({d.rule}): {d.sentence}"
        if d.reason:
            head += f" [{d.reason}]"
        lines = [head]
        if self.meeting_id is not None and self.ok and isinstance(d.event, HostRequest):
            lines.append(f"meeting {self.meeting_id} is open: end it with `syncd meetings end {self.meeting_id}`")
        return lines + [f"notice: {n.message}" for n in d.notices]

    def _would(self) -> list[str]:
        """A dry run's lines: the decision's sentence, then each change it would make, then that nothing was."""
        d = self.decision
        head = f"{'would be refused' if not self.ok else 'would'} ({d.rule}): {d.sentence}"
        if d.reason:
            head += f" [{d.reason}]"
        changes = [f"would: {a.person + ': ' if a.person else ''}{a.sentence}" for a in d.actions]
        return [head, *changes, *(f"notice: {n.message}" for n in d.notices), "dry run: nothing written"]


def _known(conn: Any, raw: str) -> str:
    key = email_key(raw)
    if key is None or conn.execute(select(tables.people.c.id).where(tables.people.c.email == key)).first() is None:
        raise errors.UnknownPerson(raw.strip())
    return key


class MeetingIdUsed(errors.UserError):
    """A host request with the id of a meeting that has ended: the meetings table keeps every id, once."""

    exit_code = errors.HOST_REFUSED

    def __init__(self, meeting_id: str) -> None:
        super().__init__(f"meeting id {meeting_id} belongs to a meeting that has ended; start it with a new id")
        self.meeting_id = meeting_id


def _one(rt: Runtime, event: Any, subjects: tuple[str, ...] = (), now: datetime | None = None,
         meeting_id: str | None = None, check: Callable[[Connection], None] | None = None,
         dry_run: bool = False, about_first: bool = True) -> Outcome:
    """Decide ``event`` and save it in one write transaction, after ``check`` (which may raise) in that transaction.

    ``dry_run``: the same check and decision in a read-only connection, and nothing saved. ``about_first``: see
    :func:`~syncd.licensing.ledger.decide_and_save`."""
    if dry_run:
        with rt.engine.connect() as conn:
            if check is not None:
                check(conn)
            ledger, _ = load_ledger(conn, subjects)
            d = decide(ledger, event, rt.settings, now or datetime.now(UTC))
        return Outcome(d, apply(ledger, d), meeting_id, dry_run=True)
    with begin_write(rt.engine) as conn:
        if check is not None:
            check(conn)
        d, after, snapshot = decide_and_save(conn, rt, event, subjects, now or datetime.now(UTC),
                                             about_first=about_first)
    ledger_cache(rt.engine).remember(snapshot)      # only now: the transaction has committed
    return Outcome(d, after, meeting_id)


def purchase(rt: Runtime, count: int, dry_run: bool = False) -> Outcome:
    def within_cap(conn: Connection) -> None:
        installed = conn.execute(select(func.coalesce(func.sum(tables.purchases.c.count), 0))).scalar_one()
        inputs.purchase_total(int(installed), count)

    return _one(rt, PurchasePermanent(count), check=within_cap, dry_run=dry_run)


@dataclass
class ImportOutcome(Outcome):
    """An import's outcome: a refusal names each offending line, on a line of its own and in ``problems``."""

    @property
    def problems(self) -> list[str]:
        return [n.message for n in self.decision.notices if n.code == IMPORT_PROBLEM]

    def to_dict(self) -> dict[str, Any]:
        imported = sum(1 for a in self.decision.actions if isinstance(a, AssignLicense))
        return {**super().to_dict(), "problems": self.problems, "imported": imported}

    def lines(self) -> list[str]:
        lines = super().lines()
        if not self.problems:
            return lines
        head, *rest = lines
        return [head, *self.problems, *(line for line in rest if not line.startswith("notice: line "))]


def import_holdings(rt: Runtime, data: bytes, dry_run: bool = False, now: datetime | None = None) -> ImportOutcome:
    """Adopt the holdings of a file's bytes (:mod:`~syncd.licensing.holdings`). Decided first on the stored
    ledger in a read-only connection, as a dry run is: a refusal writes nothing, not even a journal row, and
    names every offending line; otherwise decided again and saved in one write transaction."""
    records = holdings.parse(data)
    event = ImportHoldings(tuple(records))
    subjects = tuple(dict.fromkeys(h.person for h in records))
    at = now or datetime.now(UTC)
    planned = _one(rt, event, subjects, now=at, dry_run=True)
    if dry_run or not planned.ok:
        return ImportOutcome(planned.decision, planned.ledger, dry_run=dry_run)
    done = _one(rt, event, subjects, now=at, about_first=False)
    return ImportOutcome(done.decision, done.ledger)


def set_installed(rt: Runtime, count: int, dry_run: bool = False) -> Outcome:
    """Correct the installed Permanent count (a mistyped purchase); refused below the Permanent licenses in use."""
    return _one(rt, SetInstalled(count), dry_run=dry_run)


def grant_demo(rt: Runtime, count: int, expires: datetime, grant_id: str | None, dry_run: bool = False) -> Outcome:
    if expires <= datetime.now(UTC):
        raise errors.UserError(f"--expires {expires.isoformat()} is not in the future")
    return _one(rt, GrantDemonstration(grant_id or f"demo-{uuid.uuid4().hex[:8]}", count, expires), dry_run=dry_run)


def start_trial(rt: Runtime, start: datetime, dry_run: bool = False) -> Outcome:
    return _one(rt, StartTrial(start), dry_run=dry_run)


def upgrade(rt: Runtime, to: str, dry_run: bool = False) -> Outcome:
    return _one(rt, Upgrade(to), dry_run=dry_run)


def sweep(rt: Runtime, now: datetime | None = None, dry_run: bool = False) -> Outcome:
    return _one(rt, Sweep(), now=now, dry_run=dry_run)


def reserve(rt: Runtime, email: str, dry_run: bool = False) -> Outcome:
    with rt.engine.connect() as conn:
        key = _known(conn, email)
    return _one(rt, Reserve(key), (key,), dry_run=dry_run)


def start_meeting(rt: Runtime, email: str, meeting_id: str | None, now: datetime | None = None) -> Outcome:
    with rt.engine.connect() as conn:
        key = _known(conn, email)
    mid = meeting_id or f"m-{uuid.uuid4().hex[:12]}"

    def not_ended(conn: Connection) -> None:
        m = tables.meetings
        if conn.execute(select(m.c.meeting_id).where(m.c.meeting_id == mid, m.c.ended_at.is_not(None))).first():
            raise MeetingIdUsed(mid)

    return _one(rt, HostRequest(key, mid), (key,), now=now, meeting_id=mid, check=not_ended)


def end_meeting(rt: Runtime, meeting_id: str, now: datetime | None = None) -> Outcome:
    with rt.engine.connect() as conn:
        m, p = tables.meetings, tables.people
        row = conn.execute(select(p.c.email).select_from(m.join(p, p.c.id == m.c.person_id))
                           .where(m.c.meeting_id == meeting_id, m.c.ended_at.is_(None))).first()
    if row is None:
        raise errors.UserError(f"no open meeting with id {meeting_id}")
    return _one(rt, MeetingEnd(meeting_id), (row.email,), now=now, meeting_id=meeting_id)
