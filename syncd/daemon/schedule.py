"""The daemon's schedule: the [schedule] table as APScheduler 3 jobs (incremental, full, sweep) plus the leader
tick. Only the leader runs a job's work; every daemon keeps the jobs so a new leader needs no rescheduling."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from syncd.daemon.leader import LEADER_TICK
from syncd.settings import Config

JOBS = ("incremental", "full", "sweep")


def _seconds(d: timedelta) -> float:
    return d.total_seconds()


def quiet_scheduler_log() -> None:
    """APScheduler logs two INFO lines per job run (the leader tick runs every few seconds): keep them for DEBUG."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)


def misfire_grace(config: Config) -> int:
    """Seconds a job may start late and still run (APScheduler needs at least 1)."""
    return int(_seconds(config.schedule.misfire_grace)) or 1


def new_scheduler(config: Config) -> BackgroundScheduler:
    return BackgroundScheduler(timezone=UTC, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": misfire_grace(config)})


def _triggers(config: Config) -> dict[str, Any]:
    s = config.schedule
    jitter = int(_seconds(s.jitter)) or None
    full = s.full_trigger()
    full.jitter = jitter
    return {
        "incremental": IntervalTrigger(seconds=_seconds(s.incremental_every), jitter=jitter, timezone=UTC),
        "full": full,
        "sweep": IntervalTrigger(seconds=_seconds(s.sweep_every), jitter=jitter, timezone=UTC),
    }


def schedule_jobs(scheduler: BackgroundScheduler, config: Config, job: Callable[[str], None],
                  leader_tick: Callable[[], None], first: bool) -> None:
    """Add the jobs (``first``; the incremental one due at once) or reschedule them after a reload.
    ``job(kind)`` runs one job; ``leader_tick`` runs every LEADER_TICK."""
    grace = misfire_grace(config)
    for job_id, trigger in _triggers(config).items():
        if first:
            extra: dict[str, Any] = {"next_run_time": datetime.now(UTC)} if job_id == "incremental" else {}
            scheduler.add_job(job, trigger, args=[job_id], id=job_id, name=job_id, misfire_grace_time=grace,
                              **extra)
        else:
            scheduler.modify_job(job_id, misfire_grace_time=grace)
            scheduler.reschedule_job(job_id, trigger=trigger)
    if first:
        scheduler.add_job(leader_tick, IntervalTrigger(seconds=_seconds(LEADER_TICK), timezone=UTC),
                          id="leader", name="leader", misfire_grace_time=None)


def next_runs(scheduler: BackgroundScheduler) -> list[dict[str, Any]]:
    """When each job runs next in this process (for the log)."""
    return [{"job": j.id, "next_run": j.next_run_time.isoformat() if j.next_run_time else None}
            for j in scheduler.get_jobs() if j.id in JOBS]
