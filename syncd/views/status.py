"""`status`: people, sources with their cursors, the last runs, the daemon's next runs and the warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from policy import notices
from syncd.licensing.ledger import load_ledger
from syncd.store import tables
from syncd.sync.reconcile import source_specs
from syncd.views.common import iso
from syncd.views.people import person_counts
from syncd.views.runs import last_runs_in

if TYPE_CHECKING:
    from syncd.runtime import Runtime

SCHEDULER_ACTOR = "scheduler"     # the daemon's actor (syncd.daemon records its runs under it)


def status(rt: Runtime) -> dict[str, Any]:
    now = datetime.now(UTC)
    runs, j = tables.runs, tables.journal
    with rt.engine.connect() as conn:
        last = last_runs_in(conn)
        cursors = {r.source: {"updated_at": iso(r.updated_at), "run_id": r.run_id}
                   for r in conn.execute(select(tables.cursors))}
        people = person_counts(conn)
        ledger, _ = load_ledger(conn)
        last_scheduled_sync = conn.execute(select(func.max(runs.c.started_at)).where(
            runs.c.actor == SCHEDULER_ACTOR)).scalar_one()
        last_scheduled_sweep = conn.execute(select(func.max(j.c.at)).where(
            j.c.actor == SCHEDULER_ACTOR, j.c.event == "sweep")).scalar_one()
    return {
        "database": rt.engine.url.render_as_string(hide_password=True),
        "people": people,
        "sources": [{"name": s.name, "type": s.type, "cursor": cursors.get(s.name)} for s in source_specs(rt.config)],
        "runs": last,
        "next_runs": next_runs(rt, now, last_scheduled_sync, last_scheduled_sweep),
        "warnings": [n.message for n in notices(ledger, rt.settings, now)],
    }


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
