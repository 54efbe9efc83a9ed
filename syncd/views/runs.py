"""The recorded sync runs: the last ones (`status`, ``GET /api/v1/runs``) and one run's report
(``GET /api/v1/runs/{run_id}``: the `sync --json` report stored when it finished).

Each run has a ``status``: "running", "finished" or "failed" (a run that raised, or whose every source failed).
A run is recorded when it ends; the daemon passes what it knows of the runs it started (``live``: their progress
while they run, the error of one that raised), so the API answers for a run from the moment it has its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from syncd import errors
from syncd.store import tables
from syncd.views.common import iso

if TYPE_CHECKING:
    from syncd.runtime import Runtime

LAST_RUNS = 10


class UnknownRun(errors.UserError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"unknown run: {run_id}")


Live = Mapping[str, Mapping[str, Any]]      # run id -> the daemon's dict of a run it started


def status_of(result: str | None) -> str:
    """A recorded run's status from its result."""
    return "failed" if result == "failed" else "finished"


def _run_dict(r: Any) -> dict[str, Any]:
    return {"run_id": r.run_id, "started_at": iso(r.started_at), "finished_at": iso(r.finished_at),
            "actor": r.actor, "mode": r.mode, "result": r.result, "exit_code": r.exit_code,
            "status": status_of(r.result)}


def last_runs_in(conn: Any, limit: int = LAST_RUNS) -> list[dict[str, Any]]:
    """The newest ``limit`` runs, newest first, read on ``conn``."""
    runs = tables.runs
    return [_run_dict(r) for r in conn.execute(select(runs).order_by(runs.c.started_at.desc()).limit(limit))]


def recent_runs(rt: Runtime, live: Live, limit: int = LAST_RUNS) -> list[dict[str, Any]]:
    """``GET /api/v1/runs``: the runs still going that the daemon started (newest first), then the newest ended
    ones."""
    with rt.engine.connect() as conn:
        recorded = last_runs_in(conn, limit)
    going = [dict(r) for r in live.values() if r["status"] == "running"]
    ids = {r["run_id"] for r in recorded}
    unrecorded = [dict(r) for r in live.values() if r["status"] == "failed" and r["run_id"] not in ids]
    ended = [r for r in recorded if r["run_id"] not in {g["run_id"] for g in going}]
    return going[::-1] + sorted(ended + unrecorded, key=lambda r: r["started_at"] or "", reverse=True)[:limit]


def run_report(rt: Runtime, run_id: str, live: Live | None = None) -> dict[str, Any]:
    """The run's `sync --json` report with its ``status``; while it runs, or when it raised and could not be
    recorded, what the daemon knows of it (``live``). UnknownRun when neither has the id."""
    runs = tables.runs
    with rt.engine.connect() as conn:
        summary = conn.execute(select(runs.c.summary).where(runs.c.run_id == run_id)).scalar_one_or_none()
    known = (live or {}).get(run_id)
    if known is not None and (summary is None or known["status"] == "running"):
        return dict(known)      # still going (the daemon's word until the run has returned), or never recorded
    if summary is None:
        raise UnknownRun(run_id)
    report = {**summary, "status": status_of(summary.get("result"))}
    if known is not None and known.get("error"):
        report["error"] = known["error"]
    return report
