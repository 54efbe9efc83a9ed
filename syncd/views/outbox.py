"""`GET /api/v1/cwms/outbox`: the CWMS outbox's rows by state, and the newest rows (DESIGN.md 12)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syncd.push import outbox as store

if TYPE_CHECKING:
    from syncd.runtime import Runtime

STATES = store.STATES
outbox_counts = store.counts
"""Rows by state on the caller's connection (status and /metrics)."""


def outbox(rt: Runtime, *, state: str | None = None, limit: int | None = 100) -> dict[str, Any]:
    """``{"counts": {"pending", "failed", "done"}, "rows": [...]}``: the newest ``limit`` rows (only those in
    ``state`` when given), each with what CWMS last said of it (``exception_id``, ``reason``)."""
    with rt.engine.connect() as conn:
        return {"counts": store.counts(conn),
                "rows": [r.to_dict() for r in store.listed(conn, state=state, limit=limit)]}
