"""Evaluating the alerts: after each run of the daemon and of `syncd sync` (:func:`after_run`), and `syncd alerts
test` (:func:`send_test`).

For each configured receiver and each condition: a condition that stands and that the receiver was not told of is
sent as "started"; one it was told of that no longer stands, as "cleared"; a daily one (the Grace digest) is sent
again on the first evaluation of each new day (UTC). Each alert is sent to each receiver on its own and its state
kept per receiver (``alert_state``), so a receiver that is down does not make the others get an alert twice: its
failed send is logged at ERROR (naming its label and the reason, never its URL), journaled, and, as its state did
not change, sent again at the next evaluation until it is delivered. Nothing here changes a run's outcome or exit
code: :func:`after_run` logs what went wrong and returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syncd import journal
from syncd.daemon.alerts import conditions, state
from syncd.daemon.alerts.conditions import Alert
from syncd.daemon.alerts.send import CLEARED, DIGEST, STARTED, TEST, send
from syncd.logging import get_logger
from syncd.settings import ConfigError
from syncd.store import bulk
from syncd.store.db import begin_write
from syncd.store.locks import alerts_lock
from syncd.views.alerts import alert_facts

if TYPE_CHECKING:
    from syncd.runtime import Runtime
    from syncd.settings.alert_urls import AlertUrl

log = get_logger("syncd.alerts")

TEST_ALERT = Alert("syncd: test alert", "A test alert from `syncd alerts test`: this receiver gets syncd's alerts.")


@dataclass(frozen=True)
class Delivery:
    """One alert to one receiver: delivered (``error`` None) or not."""

    condition: str
    change: str                     # started | cleared | digest | test
    receiver: str                   # the receiver's label, never its URL
    title: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {"condition": self.condition, "change": self.change, "receiver": self.receiver, "title": self.title,
                "ok": self.ok, "error": self.error}

    def sentence(self) -> str:
        if self.ok:
            return f"alert ({self.change}) sent to {self.receiver}: {self.title}"
        return f"alert ({self.change}) to {self.receiver} failed: {self.error} ({self.title})"


def _deliver(receiver: AlertUrl, condition: str, alert: Alert, change: str) -> Delivery:
    d = Delivery(condition, change, receiver.label, alert.title, send(receiver, alert, change))
    if d.ok:
        log.info("alert sent", condition=condition, change=change, receiver=receiver.label)
    else:
        log.error("alert not delivered" + ("" if change == TEST else ": sent again after the next run"),
                  condition=condition, change=change, receiver=receiver.label, error=d.error)
    return d


def _utc_day(t: datetime) -> Any:
    return t.astimezone(UTC).date()


def _journal(rt: Runtime, conn: Any, deliveries: list[Delivery], now: datetime, run_id: str | None) -> None:
    bulk.append_journal(conn, [journal.alert_row(run_id, rt.actor, now, d.sentence(), d.to_dict())
                               for d in deliveries])


def evaluate(rt: Runtime, now: datetime | None = None, run_id: str | None = None) -> list[Delivery]:
    """Send the alerts the stored state calls for now (see the module's docstring) and record them. Without a
    configured receiver nothing is read; when another process is evaluating them, nothing is done (that one
    sends them). A ConfigError when a receiver's URL cannot be read."""
    receivers = rt.config.alert_urls()
    if not receivers:
        return []
    lock = alerts_lock(rt.engine)
    if not lock.try_acquire():
        log.info("alerts skipped: another process is evaluating them")
        return []
    try:
        return _evaluate(rt, receivers, now or datetime.now(UTC), run_id)
    finally:
        lock.release()


def _evaluate(rt: Runtime, receivers: list[AlertUrl], now: datetime, run_id: str | None) -> list[Delivery]:
    cfg = rt.config.alerts
    facts = alert_facts(rt, now, after_failures=cfg.after_failures, grace_warning_days=cfg.grace_warning_days)
    standing = {c.key: c for c in conditions.standing(facts, after_failures=cfg.after_failures,
                                                       grace_warning_days=cfg.grace_warning_days)}
    with rt.engine.connect() as conn:
        known = state.told(conn)
    sent: list[tuple[Delivery, str, Any]] = []      # (delivery, receiver id, what it was told before)
    for r in receivers:
        for key, c in standing.items():
            told = known.get((key, r.receiver))
            if told is None:
                change = STARTED
            elif c.daily and _utc_day(told.told_at) < _utc_day(now):
                change = DIGEST
            else:
                continue
            sent.append((_deliver(r, key, c.alert, change), r.receiver, told))
        for key, receiver in sorted(known):
            if receiver == r.receiver and key not in standing:
                alert = conditions.cleared(key, facts, grace_warning_days=cfg.grace_warning_days)
                sent.append((_deliver(r, key, alert, CLEARED), r.receiver, known[(key, receiver)]))
    with begin_write(rt.engine) as conn:
        for d, receiver, told in sent:
            if not d.ok:
                continue
            if d.change == CLEARED:
                state.cleared(conn, d.condition, receiver)
            else:
                state.started(conn, d.condition, receiver, told.since if told else now, now)
        state.forget_others(conn, {r.receiver for r in receivers})
        _journal(rt, conn, [d for d, _, _ in sent], now, run_id)
    return [d for d, _, _ in sent]


def after_run(rt: Runtime, run_id: str | None = None) -> None:
    """:func:`evaluate` after a run, whatever happens: a problem is logged, never raised, so that it can change
    neither the run's outcome nor its exit code."""
    try:
        evaluate(rt, run_id=run_id)
    except ConfigError as e:
        log.error("alerts not evaluated: [alerts] cannot be read", error=str(e))
    except Exception:
        log.exception("alerts not evaluated")


def send_test(rt: Runtime, now: datetime | None = None) -> list[Delivery]:
    """`syncd alerts test`: a test alert to every configured receiver, each result journaled."""
    deliveries = [_deliver(r, "test", TEST_ALERT, TEST) for r in rt.config.alert_urls()]
    if deliveries:
        with begin_write(rt.engine) as conn:
            _journal(rt, conn, deliveries, now or datetime.now(UTC), None)
    return deliveries
