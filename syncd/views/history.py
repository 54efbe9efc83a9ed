"""The recorded runs with each source's read (records, seconds, error), for the dashboard's runs page and chart
and ``GET /api/v1/runs/history``. ``syncd.views.runs`` answers for the runs themselves (`status`, the API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from syncd.logging import redact_text
from syncd.store import tables
from syncd.views.common import iso
from syncd.views.runs import status_of

if TYPE_CHECKING:
    from syncd.runtime import Runtime

HISTORY = 30


def run_history(rt: Runtime, limit: int = HISTORY) -> list[dict[str, Any]]:
    """The newest ``limit`` recorded runs, newest first: ``{"run_id", "started_at", "finished_at", "seconds",
    "actor", "mode", "result", "exit_code", "status", "changes", "sources": [{"name", "complete", "full",
    "records", "seconds", "error"}]}`` (``changes``: the run's `sync --json` changes, {} when it has none)."""
    runs, reads = tables.runs, tables.run_sources
    with rt.engine.connect() as conn:
        rows = conn.execute(select(runs).order_by(runs.c.started_at.desc()).limit(max(1, limit))).all()
        by_run: dict[str, list[dict[str, Any]]] = {}
        if rows:
            for r in conn.execute(select(reads).where(reads.c.run_id.in_([r.run_id for r in rows]))
                                  .order_by(reads.c.source)):
                by_run.setdefault(r.run_id, []).append(
                    {"name": r.source, "complete": r.complete, "full": r.full, "records": r.records,
                     "seconds": round(r.seconds, 3),
                     "error": redact_text(r.error) if r.error else None})
    out = []
    for r in rows:
        seconds = (r.finished_at - r.started_at).total_seconds() if r.finished_at is not None else None
        out.append({"run_id": r.run_id, "started_at": iso(r.started_at), "finished_at": iso(r.finished_at),
                    "seconds": round(seconds, 3) if seconds is not None else None, "actor": r.actor,
                    "mode": r.mode, "result": r.result, "exit_code": r.exit_code, "status": status_of(r.result),
                    "changes": (r.summary or {}).get("changes") or {}, "sources": by_run.get(r.run_id, [])})
    return out
