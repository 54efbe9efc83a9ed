"""Each source's last read, for ``/healthz``, the metrics and the dashboard: from ``run_sources``, the row each
recorded run keeps of each source's read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from syncd.logging import redact_text
from syncd.store import tables
from syncd.sync.reconcile import source_specs
from syncd.views.common import iso

if TYPE_CHECKING:
    from syncd.runtime import Runtime


@dataclass(frozen=True)
class SourceRead:
    name: str
    last_success: datetime | None      # start of the last apply run whose read of this source was complete
    last_error: str | None             # the error of the last read, when it failed (redacted)

    def to_dict(self) -> dict[str, Any]:
        return {"last_success": iso(self.last_success), "error": self.last_error}


@dataclass(frozen=True)
class SourceReads:
    sources: list[SourceRead]          # every configured source, in configuration order
    last_result: str | None            # the result of the last apply run ("refused": the safety gate)


def _newest_read(name: str, complete: bool = False) -> Any:
    runs, reads = tables.runs, tables.run_sources
    q = (select(runs.c.started_at, reads.c.complete, reads.c.error)
         .join(runs, runs.c.run_id == reads.c.run_id)
         .where(reads.c.source == name, runs.c.mode == "apply"))
    if complete:
        q = q.where(reads.c.complete.is_(True))
    return q.order_by(runs.c.started_at.desc()).limit(1)


def _last_read(conn: Connection, name: str) -> SourceRead:
    """The newest run that read ``name`` decides its error; the newest complete read its last success."""
    last = conn.execute(_newest_read(name)).first()
    if last is None:
        return SourceRead(name, None, None)
    if last.complete:
        return SourceRead(name, last.started_at, None)
    success = conn.execute(_newest_read(name, complete=True)).first()
    return SourceRead(name, success.started_at if success else None, redact_text(last.error or "incomplete read"))


def source_reads(rt: Runtime) -> SourceReads:
    """Each configured source's last complete read and last error, and the last apply run's result."""
    runs = tables.runs
    with rt.engine.connect() as conn:
        last_result = conn.execute(select(runs.c.result).where(runs.c.mode == "apply")
                                   .order_by(runs.c.started_at.desc()).limit(1)).scalar()
        return SourceReads([_last_read(conn, s.name) for s in source_specs(rt.config)], last_result)
