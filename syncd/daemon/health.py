"""``GET /healthz``: healthy while every source was read completely within its schedule and the last run was
not refused. The facts come from ``syncd.views.health``; the judgement is the daemon's, as it follows its
schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from syncd.views.health import SourceRead, source_reads

if TYPE_CHECKING:
    from syncd.runtime import Runtime

REFUSED = ("the last run was refused by the safety gate; an admin must run "
           "`syncd sync --allow-mass-deactivation` or fix the source")
FAILED = "the last run failed: its error is in the log"


def stale_after(rt: Runtime) -> timedelta:
    """How old a source's last complete read may be before the daemon is unhealthy: three incremental intervals
    plus the misfire grace time (a run may start that late and still count as on time)."""
    s = rt.config.schedule
    return 3 * s.incremental_every + s.misfire_grace


def _problem(s: SourceRead, now: datetime, limit: timedelta) -> str | None:
    if s.last_error is not None:
        return f"source {s.name}: the last read failed: {s.last_error}"
    if s.last_success is None:
        return f"source {s.name}: no complete read yet"
    if now - s.last_success > limit:
        return (f"source {s.name}: last complete read at {s.last_success.isoformat()}, "
                f"older than {int(limit.total_seconds())}s")
    return None


def health(rt: Runtime, now: datetime | None = None) -> tuple[bool, dict[str, Any]]:
    """(healthy, the ``/healthz`` body)."""
    now = now or datetime.now(UTC)
    reads = source_reads(rt)
    limit = stale_after(rt)
    reasons = [p for s in reads.sources if (p := _problem(s, now, limit))]
    if reads.last_result == "refused":
        reasons.append(REFUSED)
    elif reads.last_result == "failed" and not reasons:    # a failed read already names its source's error
        reasons.append(FAILED)
    if not reads.sources:
        reasons.append("no sources configured")
    body = {
        "status": "unhealthy" if reasons else "ok",
        "reasons": reasons,
        "sources": {s.name: s.to_dict() for s in reads.sources},
    }
    return not reasons, body
