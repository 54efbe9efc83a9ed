"""CWMS in a sync run (DESIGN.md 12): read every account beside the sources on a full run, plan the pushes the
drift asks for, and after commit have the sender work the outbox.

Pushes are planned only from a whole picture: a complete CWMS read and every source of the run read completely
(a person whose source failed may look inactive only because it was not read). ``push = "off"`` plans none,
``"report"`` plans and shows them and writes nothing to CWMS, ``"on"`` writes them to the outbox in the apply's
transaction and sends them after commit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.cwms.apart import list_pages_apart
from connectors.cwms.sink import CwmsSink
from syncd.push import sender
from syncd.push.drift import Drift, PlannedPush, drift
from syncd.push.read import CwmsRead, read_accounts
from syncd.push.sender import PushSummary
from syncd.runtime import Runtime
from syncd.settings.sources import RESERVED
from syncd.sync.plan import PersonRow, Plan, SourceOutcome

SOURCE = RESERVED
"""The name CWMS's read goes by in the runs' sources (``run_sources``), the journal and the exit code."""


@dataclass(slots=True)
class CwmsOutcome:
    """What CWMS contributed to a run: the `sync --json` ``cwms`` object."""

    push: str
    read: CwmsRead | None = None                # None: not read this run (an incremental run)
    drift: Drift | None = None
    pushes: list[PlannedPush] = field(default_factory=list)
    held_back: str | None = None                # why drift planned no push
    sent: PushSummary | None = None
    pending: int = 0

    @property
    def failed(self) -> bool:
        """Whether CWMS failed this run: its read, or the sender stopped by the site (exit 69)."""
        return (self.read is not None and not self.read.complete) or bool(self.sent and self.sent.error)

    @property
    def error(self) -> str | None:
        if self.read is not None and self.read.error:
            return self.read.error
        return self.sent.error if self.sent else None

    def source_outcome(self) -> SourceOutcome | None:
        """The read as a run's source row, so that /healthz, the metrics and the runs see CWMS failing."""
        r = self.read
        if r is None and not self.failed:
            return None
        return SourceOutcome(SOURCE, SOURCE, not self.failed, r is not None, r.accounts.read if r else 0, self.error,
                             None, [], seconds=r.seconds if r else 0.0)

    def to_dict(self, planned: bool) -> dict[str, Any]:
        d, s, r = self.drift, self.sent, self.read
        out: dict[str, Any] = {
            "push": self.push,
            "read": r.accounts.read if r is not None else None,
            "complete": r.complete if r is not None else None,
            "error": self.error,
            "leaks": len(d.leaks) if d else 0,
            "blocked": len(d.blocked) if d else 0,
            "cwms_only": d.cwms_only if d else 0,
            "no_email": d.no_email if d else 0,
            "pushed": s.pushed if s else 0,
            "push_failed": s.failed if s else 0,
            "pending": self.pending,
            "held_back": self.held_back,
            "seconds": round(r.seconds, 3) if r is not None else 0.0,
        }
        if planned:
            out["planned"] = [{"email": p.email, "webex_id": p.webex_id, "action": p.action,
                               "sentence": p.sentence} for p in self.pushes]
        return out


class Reader:
    """The CWMS read of one run, by a process of its own (``connectors.cwms.apart``) that a thread here waits for, so
    it overlaps the sources' reads and the plan."""

    def __init__(self, rt: Runtime) -> None:
        self._opts = rt.cwms_options()      # a configuration problem fails the run before anything is read
        self._result: CwmsRead | BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="read-cwms", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = read_accounts(self._opts, list_pages_apart(self._opts))
        except BaseException as e:          # handed to the calling thread by join
            self._result = e

    def join(self) -> CwmsRead:
        self._thread.join()
        if isinstance(self._result, BaseException):
            raise self._result
        assert self._result is not None
        return self._result


class StatesAfter(Mapping[str, bool]):
    """Every person's active state as the plan leaves it (a deleted person is inactive), read through the stored
    people and the plan's changes rather than copied: a full run holds hundreds of thousands of people."""

    def __init__(self, people: Mapping[str, PersonRow], plan: Plan) -> None:
        self._people = people
        self._changed = {c.email: c.after for c in plan.changes}

    def __getitem__(self, email: str) -> bool:
        row = self._changed.get(email) or self._people[email]
        return row.active and not row.deleted

    def __iter__(self) -> Iterator[str]:
        yield from self._people
        yield from (e for e in self._changed if e not in self._people)

    def __len__(self) -> int:
        return len(self._people) + sum(1 for e in self._changed if e not in self._people)


def plan_pushes(outcome: CwmsOutcome, people: Mapping[str, PersonRow], plan: Plan, activations: bool) -> None:
    """Fill the outcome's drift and, when the picture is whole, its pushes."""
    read = outcome.read
    if read is None or not read.complete:
        if read is not None:
            outcome.held_back = "the CWMS read failed"
        return
    outcome.drift = drift(StatesAfter(people, plan), read.accounts)
    read.accounts = read.accounts.counted()
    failed = [s.name for s in plan.sources if not s.complete]
    if failed:
        outcome.held_back = f"source {', '.join(failed)} failed: its people's states are not known"
    elif outcome.push != "off":
        conflicts = set(plan.conflicts)     # left unchanged in syncd, so left alone in CWMS too
        outcome.pushes = [p for p in outcome.drift.pushes(activations) if p.email not in conflicts]


def send(rt: Runtime, run_id: str) -> PushSummary:
    """Work the outbox after the run's commit (the caller holds the run lock); each outcome is marked and journaled
    at the time CWMS answered."""
    return sender.send_pending(rt.engine, CwmsSink(rt.cwms_client()), run_id, rt.actor)
