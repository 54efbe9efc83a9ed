"""Reading the sources of a run: all at the same time, each batch turned into facts as it arrives."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from connectors.base import Connector
from syncd.logging import get_logger
from syncd.runtime import Runtime
from syncd.sync.facts import source_facts
from syncd.sync.plan import SourceFacts, SourceSpec
from syncd.sync.progress import Progress, counting

log = get_logger("syncd.sync")


def _read_one(conn: Connector, spec: SourceSpec, cursor: dict[str, Any] | None, full: bool,
              now: datetime, progress: Progress | None = None) -> SourceFacts:
    started = time.monotonic()
    convert = spec.fact.convert
    if progress is not None:
        progress.records(conn.name, 0)
        convert = counting(convert, conn.name, progress)
    try:
        batch = conn.read(None if full else cursor, full, now, convert=convert)
    finally:
        conn.close()
    seconds = time.monotonic() - started
    if progress is not None:
        progress.records(conn.name, len(batch.records), done=True)
    level = log.info if batch.complete else log.warning
    level("source read", source=conn.name, complete=batch.complete, full=batch.full,
          records=len(batch.records), error=batch.error, notes=batch.notes, seconds=round(seconds, 3))
    read = source_facts(spec, batch)
    read.seconds = seconds
    return read


def read_all(rt: Runtime, specs: Sequence[SourceSpec], names: Sequence[str] | None, full: bool,
             cursors: dict[str, Any], now: datetime, progress: Progress | None = None) -> dict[str, SourceFacts]:
    """Read every source at the same time; each batch becomes facts at once, so its records never outlive its read.

    Most of a read is waiting for CUCM or the domain controller, so sources overlap well even under the GIL: an
    incremental run costs about its slowest source instead of the sum. The first source is read on the calling
    thread (so Ctrl-C and SIGTERM interrupt it there); the others on daemon threads that inherit the run's log
    context. The facts come back in source order, and a read's exception (a bug or a user error; a source
    failure is an incomplete batch, not an exception) is raised as if the sources had been read one by one.
    ``run_sync`` has refused a run without sources before this is called, so there is at least one. ``progress``,
    when given, hears each source's records so far.
    """
    conns = rt.connectors(names)
    by_name = {s.name: s for s in specs}
    results: dict[str, SourceFacts | BaseException] = {}

    def read(conn: Connector) -> None:
        try:
            results[conn.name] = _read_one(conn, by_name[conn.name], cursors.get(conn.name), full, now, progress)
        except BaseException as e:     # handed to the calling thread below
            results[conn.name] = e

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(read, conn),
                                name=f"read-{conn.name}", daemon=True) for conn in conns[1:]]
    for t in threads:
        t.start()
    results[conns[0].name] = _read_one(conns[0], by_name[conns[0].name], cursors.get(conns[0].name), full,
                                       now, progress)
    for t in threads:
        t.join()
    batches: dict[str, SourceFacts] = {}
    for conn in conns:
        got = results[conn.name]
        if isinstance(got, BaseException):
            raise got
        batches[conn.name] = got
    return batches
