"""What the alerts judge (DESIGN.md 13), read from the stored state: the last apply run's refusal by the safety gate,
each source's failed reads in a row, the Grace licenses expiring soon and the Grace limit, the CWMS outbox's failed
writes. The daemon's alerts (syncd/daemon/alerts/) turn these facts into conditions and their texts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from syncd.logging import redact_text
from syncd.push import outbox
from syncd.store import tables
from syncd.sync.reconcile import source_specs
from syncd.views.common import iso
from syncd.views.licenses import license_summary

if TYPE_CHECKING:
    from syncd.runtime import Runtime


def _last_refusal(conn: Connection) -> dict[str, Any] | None:
    """The last apply run, when the safety gate refused it: its id, start and reasons."""
    runs = tables.runs
    last = conn.execute(select(runs.c.run_id, runs.c.started_at, runs.c.result, runs.c.summary)
                        .where(runs.c.mode == "apply").order_by(runs.c.started_at.desc()).limit(1)).first()
    if last is None or last.result != "refused":
        return None
    return {"run_id": last.run_id, "started_at": iso(last.started_at),
            "reasons": list((last.summary or {}).get("refused", []))}


def _failures_in_a_row(conn: Connection, name: str, limit: int) -> dict[str, Any]:
    """How many of the newest apply runs that read ``name`` (at most ``limit``) failed to read it in a row, and
    the newest one's error (redacted)."""
    runs, reads = tables.runs, tables.run_sources
    newest = conn.execute(select(reads.c.complete, reads.c.error).join(runs, runs.c.run_id == reads.c.run_id)
                          .where(reads.c.source == name, runs.c.mode == "apply")
                          .order_by(runs.c.started_at.desc()).limit(limit)).all()
    failures = next((i for i, r in enumerate(newest) if r.complete), len(newest))
    error = (newest[0].error or "incomplete read") if failures else None
    return {"name": name, "failures": failures, "error": redact_text(error) if error else None}


def alert_facts(rt: Runtime, now: datetime, *, after_failures: int, grace_warning_days: int) -> dict[str, Any]:
    """``{"refused": None | {"run_id", "started_at", "reasons"}, "sources": [{"name", "failures", "error"}],
    "grace_expiring": [{"email", "expires_at"}], "grace_in_use", "grace_limit", "cwms_failed"}``. A source's
    ``failures`` are counted up to ``after_failures``; ``grace_expiring`` lists the Grace licenses expiring within
    ``grace_warning_days`` of ``now``, soonest first."""
    with rt.engine.connect() as conn:
        refused = _last_refusal(conn)
        sources = [_failures_in_a_row(conn, s.name, after_failures) for s in source_specs(rt.config)]
        cwms_failed = outbox.counts(conn)[outbox.FAILED]
    sm = license_summary(rt, now, expiring_within=timedelta(days=grace_warning_days))
    return {
        "refused": refused,
        "sources": sources,
        "grace_expiring": [{"email": k, "expires_at": iso(t)} for k, t in sorted(sm.grace_expiring,
                                                                                 key=lambda e: (e[1], e[0]))],
        "grace_in_use": sm.grace_in_use,
        "grace_limit": sm.grace_limit,
        "cwms_failed": cwms_failed,
    }
