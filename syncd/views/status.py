"""`status`: people, sources with their cursors, the last runs, the daemon's next runs, whether a daemon leads,
and the warnings: the license notices, standing conflicts, people-source records without e-mail, and the last
run when it failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from connectors.base import Role
from policy import notices
from syncd.licensing.ledger import read_ledger
from syncd.push import outbox
from syncd.store import tables
from syncd.store.locks import leader_lock
from syncd.sync.reconcile import source_specs
from syncd.views.common import iso
from syncd.views.conflicts import conflict_count
from syncd.views.people import person_counts
from syncd.views.runs import last_runs_in

if TYPE_CHECKING:
    from syncd.runtime import Runtime

SCHEDULER_ACTOR = "scheduler"     # the daemon's actor (syncd.daemon records its runs under it)


OK_RESULTS = ("applied", "no_changes")


def status(rt: Runtime) -> dict[str, Any]:
    now = datetime.now(UTC)
    runs, j = tables.runs, tables.journal
    specs = source_specs(rt.config)
    with rt.engine.connect() as conn:
        last = last_runs_in(conn)
        cursors = {r.source: {"updated_at": iso(r.updated_at), "run_id": r.run_id}
                   for r in conn.execute(select(tables.cursors))}
        people = person_counts(conn)
        ledger, _ = read_ledger(rt.engine, conn)
        last_scheduled_sync = conn.execute(select(func.max(runs.c.started_at)).where(
            runs.c.actor == SCHEDULER_ACTOR)).scalar_one()
        last_scheduled_sweep = conn.execute(select(func.max(j.c.at)).where(
            j.c.actor == SCHEDULER_ACTOR, j.c.event == "sweep")).scalar_one()
        conflicts = conflict_count(conn)
        no_email = _records_without_email(conn, [s.name for s in specs if s.role is Role.PEOPLE])
        failed = _last_failed_run(conn)
        pushes = outbox.counts(conn)
    leader = leader_state(rt)
    warnings = [n.message for n in notices(ledger, rt.settings, now)]
    if conflicts:
        warnings.append(f"{conflicts} e-mail address{'es' if conflicts != 1 else ''} in conflict, left unchanged "
                        "by every sync until one record keeps the address (syncd conflicts lists them)")
    if no_email:
        warnings.append(f"{no_email} source record{'s' if no_email != 1 else ''} without an e-mail address: "
                        "no person is made of them")
    if pushes["failed"]:
        warnings.append(f"{pushes['failed']} CWMS write{'s' if pushes['failed'] != 1 else ''} refused by CWMS "
                        "(GET /api/v1/cwms/outbox?state=failed lists them with CWMS's exceptionID and reason)")
    if failed is not None and failed["latest"]:
        warnings.append(f"the last sync ({failed['started_at']}, by {failed['actor']}) {failed['result']}: "
                        f"{failed['reason']}")
    return {
        "database": rt.engine.url.render_as_string(hide_password=True),
        "people": people,
        "sources": [{"name": s.name, "type": s.type, "cursor": cursors.get(s.name)} for s in specs],
        "runs": last,
        "next_runs": next_runs(rt, now, last_scheduled_sync, last_scheduled_sweep),
        "conflicts": conflicts,
        "skipped_no_email": no_email,
        "last_failed_run": failed,
        "leader": leader,
        "cwms": pushes,
        "warnings": warnings,
    }


def _records_without_email(conn: Any, people_sources: list[str]) -> int:
    """Records of the people sources that have no usable e-mail: each sync skips them (and counts them)."""
    sr = tables.source_records
    if not people_sources:
        return 0
    return int(conn.execute(select(func.count()).select_from(sr).where(
        sr.c.source.in_(people_sources), sr.c.email_key.is_(None))).scalar_one())


def _last_failed_run(conn: Any) -> dict[str, Any] | None:
    """The newest sync that applied nothing whole (failed, partial or refused), with its reason; ``latest``:
    no sync has applied since (the failure stands)."""
    runs = tables.runs
    row = conn.execute(select(runs).where(runs.c.mode == "apply", runs.c.result.not_in(OK_RESULTS))
                       .order_by(runs.c.started_at.desc()).limit(1)).first()
    if row is None:
        return None
    later = conn.execute(select(func.count()).select_from(runs).where(
        runs.c.mode == "apply", runs.c.result.in_(OK_RESULTS), runs.c.started_at > row.started_at)).scalar_one()
    return {"run_id": row.run_id, "started_at": iso(row.started_at), "actor": row.actor, "result": row.result,
            "exit_code": row.exit_code, "reason": failure_reason(row.summary, row.exit_code), "latest": not later}


EXIT_MEANINGS = {3: "refused by the safety gate", 69: "a source was unavailable", 70: "an internal error (see the log)",
                 74: "the database was unavailable or the disk full", 75: "another run held the lock",
                 78: "a configuration error"}


def failure_reason(summary: dict[str, Any] | None, exit_code: int | None) -> str:
    """Why a recorded run failed, from its stored report: the safety gate's reasons, the failed sources' errors,
    else what its exit code means."""
    summary = summary or {}
    parts = [f"refused: {r}" for r in summary.get("refused") or []]
    parts += [f"source {s['name']}: {s['error'] or 'incomplete'}" for s in summary.get("sources") or []
              if not s.get("complete", True)]
    if parts:
        return "; ".join(parts)
    return EXIT_MEANINGS.get(exit_code or 0, f"exit {exit_code}")


def leader_state(rt: Runtime) -> dict[str, Any]:
    """Whether a daemon holds the leader lock (runs the schedule), found by trying it: taken, it is given back
    at once (a daemon that tries at that instant takes it at its next tick, seconds later)."""
    lock = leader_lock(rt.engine)
    if lock.try_acquire():
        lock.release()
        return {"held": False, "holder": None}
    return {"held": True, "holder": lock.describe_holder().removeprefix(" by ") or None}


def _duration(td: timedelta) -> str:
    """15m, 1h, 1h30m, 45s: the configuration's own notation."""
    seconds, out = int(td.total_seconds()), ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def next_runs(rt: Runtime, now: datetime, last_sync: datetime | None,
              last_sweep: datetime | None) -> list[dict[str, Any]]:
    """When the daemon's jobs run next, from the schedule and the last scheduled runs (None: at daemon start).

    The full sync follows a cron expression, so its next time is exact; the interval jobs count from their last
    scheduled run (a time in the past means the job is due, or no daemon is running it)."""
    s = rt.config.schedule
    full = s.full_trigger().get_next_fire_time(None, now)
    return [
        {"job": "incremental", "next_run": iso(last_sync + s.incremental_every) if last_sync else None,
         "every": _duration(s.incremental_every)},
        {"job": "full", "next_run": iso(full), "cron": s.full_cron},
        {"job": "sweep", "next_run": iso(last_sweep + s.sweep_every) if last_sweep else None,
         "every": _duration(s.sweep_every)},
    ]
