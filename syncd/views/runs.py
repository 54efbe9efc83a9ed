"""The recorded sync runs: the last ones (`status`, ``GET /api/v1/runs``) and one run's report
(``GET /api/v1/runs/{run_id}``: the `sync --json` report stored when it finished)."""

from __future__ import annotations

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


def _run_dict(r: Any) -> dict[str, Any]:
    return {"run_id": r.run_id, "started_at": iso(r.started_at), "finished_at": iso(r.finished_at),
            "actor": r.actor, "mode": r.mode, "result": r.result, "exit_code": r.exit_code}


def last_runs_in(conn: Any, limit: int = LAST_RUNS) -> list[dict[str, Any]]:
    """The newest ``limit`` runs, newest first, read on ``conn``."""
    runs = tables.runs
    return [_run_dict(r) for r in conn.execute(select(runs).order_by(runs.c.started_at.desc()).limit(limit))]


def last_runs(rt: Runtime, limit: int = LAST_RUNS) -> list[dict[str, Any]]:
    with rt.engine.connect() as conn:
        return last_runs_in(conn, limit)


def run_report(rt: Runtime, run_id: str) -> dict[str, Any]:
    """The run's `sync --json` report; UnknownRun when no run has that id or it has not finished."""
    runs = tables.runs
    with rt.engine.connect() as conn:
        summary = conn.execute(select(runs.c.summary).where(runs.c.run_id == run_id)).scalar_one_or_none()
    if summary is None:
        raise UnknownRun(run_id)
    return dict(summary)
