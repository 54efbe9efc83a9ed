"""Each source's last read, for ``/healthz``, the metrics and the dashboard.

The only record of which source's read failed, and why, is the report each run stores in ``runs.summary``: the
documented `sync --json` report (DESIGN.md 9a). This module is its one reader on the read side, and it reads
only these fields: ``sources[].name``, ``sources[].complete`` and ``sources[].error``, with the run's
``started_at`` and ``result`` columns. The cursors cannot stand in: a cursor moves only when a read changed it,
and it is stamped when the run writes, not when the read started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from syncd.logging import redact_text
from syncd.store import tables
from syncd.sync.reconcile import source_specs
from syncd.views.common import iso

if TYPE_CHECKING:
    from syncd.runtime import Runtime

RUNS_SCANNED = 500      # recent apply runs searched for each source's last read


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


def _last_read(name: str, rows: list[Any]) -> SourceRead:
    """The newest run that read ``name`` decides its error; the newest complete read its last success."""
    error: str | None = None
    decided = False
    for row in rows:
        src = next((s for s in (row.summary or {}).get("sources", []) if s.get("name") == name), None)
        if src is None:
            continue
        if src.get("complete"):
            return SourceRead(name, row.started_at, error)
        if not decided:
            error = redact_text(str(src.get("error") or "incomplete read"))
        decided = True
    return SourceRead(name, None, error)


def source_reads(rt: Runtime) -> SourceReads:
    """Each configured source's last complete read and last error, and the last apply run's result."""
    runs = tables.runs
    with rt.engine.connect() as conn:
        rows = conn.execute(select(runs.c.started_at, runs.c.result, runs.c.summary)
                            .where(runs.c.mode == "apply")
                            .order_by(runs.c.started_at.desc()).limit(RUNS_SCANNED)).all()
    return SourceReads([_last_read(s.name, rows) for s in source_specs(rt.config)],
                       rows[0].result if rows else None)
