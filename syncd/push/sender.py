"""The sender: works the outbox's pending rows through a :class:`connectors.base.Sink`, oldest first, after the
plan that wrote them has committed (DESIGN.md 12). The caller holds the run lock, so no two senders work one row.

Each row's outcome is committed in its own small transaction together with its journal row, right after the sink
answered: a process killed mid-batch leaves the rows it sent marked and the others pending. A row sent but not
marked before the kill is read again on the next attempt and comes back "already", so CWMS is written once.

- done / already: the row is done;
- failed (CWMS refused it for good: an unknown user, the host limit, an invalid request): the row is failed,
  with CWMS's exceptionID and reason;
- retry (a temporary fault, after the client's own retries): one more attempt counted, the row stays pending and
  the next run sends it;
- stop (the site refused the conversation: wrong credentials, unreachable, TLS): the row is counted as a retry,
  the batch ends there, every later row stays pending untouched, and ``error`` names the site and the reason.

A dry run reads only the pending rows from the database, asks the sink what it would do (GetUser, read-only) and
writes nothing anywhere; its sentences start "would".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from connectors.base import ALREADY, DONE, FAILED, RETRY, PushResult, Sink
from syncd import journal
from syncd.logging import get_logger
from syncd.push import outbox
from syncd.push.outbox import OutboxRow
from syncd.store.bulk import append_journal
from syncd.store.db import begin_write

log = get_logger("syncd.push")

PAST = {"deactivate": "deactivated", "activate": "activated"}


@dataclass(slots=True)
class PushSummary:
    """What one pass over the outbox did. ``pending``: rows still pending after it. In a dry run the counts say
    what would happen (``pushed``: rows that would be written) and nothing was written."""

    pushed: int = 0
    already: int = 0
    failed: int = 0
    retry: int = 0
    pending: int = 0
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "pushed": self.pushed, "already": self.already, "failed": self.failed,
                "retry": self.retry, "pending": self.pending, "error": self.error, "outcomes": self.outcomes}

    def count(self, outcome: str) -> None:
        if outcome == DONE:
            self.pushed += 1
        elif outcome == ALREADY:
            self.already += 1
        elif outcome == FAILED:
            self.failed += 1
        else:
            self.retry += 1


def sentence(row: OutboxRow, r: PushResult, attempts: int, dry_run: bool) -> str:
    """What happened to one row, as the journal and the text say it."""
    what = f"CWMS account {row.webex_id} of {row.email}"
    was = f" (was {r.before})" if r.before else ""
    if dry_run:
        if r.outcome == DONE:
            return f"would {row.action} {what} (now {r.before})"
        if r.outcome == ALREADY:
            return f"would write nothing: {what} is already {r.before}"
        if r.outcome == FAILED:
            return f"would fail to {row.action} {what}: {r.error}"
        return f"would not know whether to {row.action} {what}: {r.error}"
    if r.outcome == DONE:
        return f"{PAST[row.action]} {what}{was}"
    if r.outcome == ALREADY:
        return f"{what} already {r.before}: nothing written"
    if r.outcome == FAILED:
        said = " ".join(x for x in (r.exception_id, r.reason) if x) or r.error
        return f"CWMS refused to {row.action} {what}{was}: {said}"
    return f"could not {row.action} {what} (attempt {attempts}), left pending: {r.error}"


def _outcome(row: OutboxRow, r: PushResult, text: str) -> dict[str, Any]:
    return {"email": row.email, "webex_id": row.webex_id, "action": row.action, "outcome": r.outcome,
            "exception_id": r.exception_id, "reason": r.reason, "before": r.before, "sentence": text}


def _clock(now: datetime | Callable[[], datetime] | None) -> Callable[[], datetime]:
    if now is None:
        return lambda: datetime.now(UTC)
    return now if callable(now) else (lambda: now)


def send_pending(engine: Engine, sink: Sink, run_id: str, actor: str,
                 now: datetime | Callable[[], datetime] | None = None, *,
                 dry_run: bool = False, limit: int | None = None) -> PushSummary:
    """Send the pending rows (at most ``limit``, oldest first) and record each outcome; closes ``sink``. ``now``:
    the time the rows are marked at, or a clock read for each row; None: the time each answer came."""
    clock = _clock(now)
    summary = PushSummary(dry_run=dry_run)
    try:
        with engine.connect() as conn:
            rows = outbox.pending(conn)
        summary.pending = len(rows)
        todo = rows[:limit] if limit is not None else rows
        if dry_run:
            for row, r in zip(todo, sink.preview(todo), strict=True):
                summary.count(r.outcome)
                summary.outcomes.append(_outcome(row, r, sentence(row, r, row.attempts, True)))
                if r.stop:
                    summary.error = summary.error or r.error
            return summary
        for row in todo:
            [r] = sink.push([row])
            _record(engine, summary, row, r, run_id, actor, clock())
            if r.stop:
                summary.error = r.error
                break
        with engine.connect() as conn:
            summary.pending = outbox.counts(conn)[outbox.PENDING]
    finally:
        sink.close()
    log.info("cwms push", pushed=summary.pushed, already=summary.already, failed=summary.failed,
             retry=summary.retry, pending=summary.pending, error=summary.error)
    return summary


def _record(engine: Engine, summary: PushSummary, row: OutboxRow, r: PushResult, run_id: str, actor: str,
            at: datetime) -> None:
    """Mark ``row`` with ``r`` and journal it, in one transaction of its own."""
    state = {DONE: outbox.DONE, ALREADY: outbox.DONE, FAILED: outbox.FAILED, RETRY: outbox.PENDING}[r.outcome]
    text = sentence(row, r, row.attempts + 1, False)
    kept = r.reason if r.outcome == FAILED else r.error     # what a view shows beside a failed or pending row
    after = {"outcome": r.outcome, "exception_id": r.exception_id, "reason": r.reason, "webex_id": row.webex_id,
             "action": row.action, "outbox_id": row.id}
    with begin_write(engine) as conn:
        outbox.mark(conn, row.id, state, at, exception_id=r.exception_id, reason=kept)
        append_journal(conn, [journal.push_row(run_id, actor, at, row.email, text, r.before, after)])
    summary.count(r.outcome)
    summary.outcomes.append(_outcome(row, r, text))
    (log.info if r.ok else log.warning)("cwms push row", webex_id=row.webex_id, action=row.action,
                                        outcome=r.outcome, exception_id=r.exception_id)
