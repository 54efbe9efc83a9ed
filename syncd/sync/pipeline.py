"""One sync run: read the sources, plan, pass the safety gate, apply in one transaction.

This is the function behind `syncd sync`, the daemon's scheduled jobs and the API's `POST /api/v1/sync`.
It returns a :class:`SyncReport` whose ``to_dict()`` is the `sync --json` shape of DESIGN.md section 9a.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from connectors.registry import SOURCE_TYPES
from syncd import errors, journal
from syncd.logging import bind_run, get_logger
from syncd.push import outbox
from syncd.runtime import Runtime
from syncd.store import bulk
from syncd.store.db import DatabaseUnavailable, DiskFull, StoreError, begin_write, refresh_statistics
from syncd.store.locks import run_lock
from syncd.sync import apply, cwms, safety, state
from syncd.sync.plan import Plan, SourceOutcome, SourceSpec
from syncd.sync.progress import Progress
from syncd.sync.read import read_all
from syncd.sync.reconcile import plan, source_specs

log = get_logger("syncd.sync")


@dataclass
class SyncReport:
    run_id: str
    mode: str                        # apply | dry-run | check
    result: str = "no_changes"       # applied | no_changes | partial | refused | planned | failed
    plan: Plan | None = None
    refusal: safety.Refusal | None = None
    licenses: dict[str, int] = field(default_factory=lambda: {"released": 0, "remarked": 0, "promoted": 0})
    notices: list[str] = field(default_factory=list)
    operations: list[apply.Operation] = field(default_factory=list)     # the license effects, in plan order
    cwms: cwms.CwmsOutcome | None = None     # None: no [cwms] configured
    seconds: float = 0.0

    @property
    def failed_sources(self) -> list[str]:
        failed = [s.name for s in (self.plan.sources if self.plan else []) if not s.complete]
        return failed + ([cwms.SOURCE] if self.cwms is not None and self.cwms.failed else [])

    @property
    def recorded_sources(self) -> list[SourceOutcome]:
        """The sources of the run's ``run_sources`` rows: the plan's, and CWMS's read when there was one."""
        row = self.cwms.source_outcome() if self.cwms is not None else None
        return (self.plan.sources if self.plan else []) + ([row] if row is not None else [])

    @property
    def exit_code(self) -> int:
        pending = self.mode == "check" and self.plan is not None and (
            self.plan.pending or bool(self.cwms is not None and self.cwms.pushes))
        return errors.sync_exit_code(self.result, self.refusal is not None, bool(self.failed_sources), pending)

    @property
    def applied(self) -> bool:
        """Whether the plan was applied: an apply the safety gate let through."""
        return self.mode == "apply" and self.refusal is None

    def sentences(self, limit: int | None = None) -> list[str]:
        """The plan's sentences (of its first ``limit`` changes). Unless applied, each reads "would ...", and each
        change is followed by the license effects its decision would have (the journal holds an apply's)."""
        if self.plan is None:
            return []
        changes = self.plan.changes[:limit]
        if self.applied:
            return [c.sentence for c in changes]
        effects: dict[str, list[str]] = {}
        for op in self.operations:
            effects.setdefault(op.change, []).append(op.sentence)
        return [f"would {s}" for c in changes for s in (c.sentence, *effects.get(c.email, ()))]

    def to_dict(self) -> dict[str, Any]:
        p = self.plan
        return {
            "run_id": self.run_id,
            "mode": self.mode,
            "result": self.result,
            "exit_code": self.exit_code,
            "sources": [s.to_dict() for s in p.sources] if p else [],
            "changes": p.changes_summary() if p else {},
            "licenses": dict(self.licenses),
            "ad_only": p.ad_only if p else 0,
            "conflicts": p.conflict_details if p else [],
            "warnings": (p.warnings if p else []) + self.notices,
            "refused": list(self.refusal.reasons) if self.refusal else [],
            "plan": [{"kind": c.kind, "email": c.email, "source": c.source, "sentence": c.sentence}
                     for c in p.changes] if p and self.mode != "apply" else [],
            "license_plan": [{"change": o.change, "person": o.person, "effect": o.effect, "rule": o.rule,
                              "sentence": o.sentence} for o in self.operations] if self.mode != "apply" else [],
            **({"cwms": self.cwms.to_dict(planned=self.mode != "apply" or self.cwms.push == "report")}
               if self.cwms is not None else {}),
            "seconds": round(self.seconds, 3),
        }


def _record(conn: Any, rt: Runtime, report: SyncReport, now: datetime, exit_code: int | None = None) -> None:
    apply.record_run(conn, report.run_id, rt.actor, now, datetime.now(UTC), report.mode, report.result,
                     report.exit_code if exit_code is None else exit_code, report.to_dict(),
                     report.recorded_sources)


def _record_failure(rt: Runtime, report: SyncReport, now: datetime, error: Exception) -> None:
    """Record a run that raised, in a transaction of its own (the run's own was rolled back), so that the runs,
    ``/healthz`` and the metrics see it. When the database cannot take even that, the run's error is the one
    to report."""
    report.result = "failed"
    try:
        with begin_write(rt.engine) as conn:
            _record(conn, rt, report, now, _exit_code_of(error))
    except Exception as e:    # the run's own error is raised next
        log.warning("failed run not recorded", error=f"{type(e).__name__}: {e}".splitlines()[0])


def _exit_code_of(error: Exception) -> int:
    """The exit code the CLI gives a run that raised ``error`` (syncd/cli/main.py)."""
    if isinstance(error, errors.UserError):
        return error.exit_code
    if isinstance(error, (DatabaseUnavailable, DiskFull)):
        return errors.DATABASE
    return errors.INTERNAL


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for a run: a full sync allocates millions of acyclic objects (facts,
    rows), and the collector's passes over them cost seconds while finding nothing; reference counting still
    frees them. Measured on 400,000 users: see README's benchmark table."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@functools.cache
def _big_blocks_back_to_the_system() -> None:
    """Have glibc's malloc serve every block of 1 MiB or more with mmap, so that it goes back to the system when
    freed. By default glibc raises that threshold to the size of each such block freed (up to 32 MiB); after that
    a large plan's lists, sets and dicts come from the heap, and once freed stay resident under what comes next,
    raising the run's peak (README, Scale and reliability). Elsewhere than glibc this does nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(-3, 1 << 20)      # M_MMAP_THRESHOLD: setting it keeps glibc from raising it


def run_sync(
    rt: Runtime,
    *,
    mode: str = "apply",
    full: bool = False,
    sources: Sequence[str] | None = None,
    allow_mass_deactivation: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
) -> SyncReport:
    """Run one sync. ``mode`` is "apply", "dry-run" or "check" (the last two never write). ``progress``, when
    given, hears the run's phases and each source's records so far (the CLI shows them on a terminal). ``run_id``:
    the run's id when the caller named it beforehand (the API answers with it before the run ends)."""
    now = now or datetime.now(UTC)
    report = SyncReport(run_id=run_id or uuid.uuid4().hex, mode=mode)
    bind_run(report.run_id, rt.actor)
    started = time.monotonic()
    specs = source_specs(rt.config)
    if sources:
        unknown = sorted(set(sources) - {s.name for s in specs})
        if unknown:
            raise errors.UsageError(f"unknown source: {', '.join(unknown)} (configured: "
                                    f"{', '.join(s.name for s in specs) or 'none'})")
    if not specs:
        raise errors.UserError(f"no sources configured (add {_tables()})",
                               errors.CONFIG)
    _big_blocks_back_to_the_system()
    with contextlib.ExitStack() as held:
        if mode == "apply":     # dry runs and checks write nothing, so they need no lock
            held.enter_context(run_lock(rt.engine))
        held.enter_context(_no_cyclic_gc())
        try:
            return _run(rt, report, specs, mode, full, sources, allow_mass_deactivation, now, progress)
        except Exception as e:
            report.seconds = time.monotonic() - started
            if mode == "apply":
                _record_failure(rt, report, now, e)
            raise
        finally:
            report.seconds = time.monotonic() - started


def _run(rt: Runtime, report: SyncReport, specs: list[SourceSpec], mode: str, full: bool,
         sources: Sequence[str] | None, allow_mass_deactivation: bool, now: datetime,
         progress: Progress | None) -> SyncReport:
    phase = progress.phase if progress is not None else _unwatched
    with rt.engine.connect() as conn:
        cursors = bulk.load_cursors(conn)
    cfg = rt.config.cwms
    report.cwms = cwms.CwmsOutcome(cfg.push) if cfg is not None else None
    # CWMS has no change feed: it is read whole, on the runs that read the sources whole.
    reader = cwms.Reader(rt) if cfg is not None and (full or not cursors) else None
    phase("read")
    reads = read_all(rt, specs, sources, full, cursors, now, progress)
    phase("plan")
    with rt.engine.connect() as conn:
        stored = state.load_state(conn, specs, reads, now)
    report.plan = p = plan(specs, reads, stored.people, stored.facts, now, rt.config.reconcile.require_cucm,
                           cursors, stored.scope)
    if stored.scope is not None:
        p.ad_only = stored.ad_only
    if reader is not None and report.cwms is not None and cfg is not None:
        report.cwms.read = reader.join()
        people = stored.people
        if stored.scope is not None and report.cwms.read.complete:    # drift is judged on everyone
            with rt.engine.connect() as conn:
                people = state.load_people(conn)
        cwms.plan_pushes(report.cwms, people, p, cfg.push_activations)
    writes = len(report.cwms.pushes) if report.cwms is not None and report.cwms.push == "on" else 0
    refusal = None if allow_mass_deactivation else safety.check(
        p, stored.active_count, rt.config.safety.max_deactivations, rt.config.safety.max_deactivation_ratio,
        writes, rt.config.max_pushes)
    if refusal is not None:
        report.refusal, report.result = refusal, "refused"
        log.warning("plan refused", reasons=list(refusal.reasons), deactivations=len(p.deactivations))
        if mode == "apply":     # a dry run writes nothing, not even the refusal
            with begin_write(rt.engine) as conn:
                bulk.append_journal(conn, [journal.refusal_row(
                    report.run_id, rt.actor, now, refusal.message, {"deactivations": len(p.deactivations)})])
                _record(conn, rt, report, now)
        return report
    all_failed = bool(p.sources) and all(not s.complete for s in p.sources)
    if mode != "apply":
        report.result = "planned"
        if not all_failed:     # what the apply below would decide, on the same ledger, writing nothing
            phase("preview")
            with rt.engine.connect() as conn:
                _report_effects(report, apply.preview_plan(conn, rt, p, now))
        return report
    if all_failed or not (p.pending or p.cursors_moved or writes):
        report.result = "failed" if all_failed else "partial" if report.failed_sources else "no_changes"
        with begin_write(rt.engine) as conn:
            _count_pending(conn, report)
            _record(conn, rt, report, now)
        _push(rt, report, phase)
        return report
    log.info("applying plan", **p.changes_summary())
    phase("apply")
    with begin_write(rt.engine) as conn:
        _report_effects(report, apply.apply_plan(conn, rt, p, report.run_id, now))
        if writes and report.cwms is not None:
            outbox.enqueue(conn, report.run_id, now, report.cwms.pushes)
        report.result = "partial" if report.failed_sources else "applied" if p.pending else "no_changes"
        _count_pending(conn, report)
        _record(conn, rt, report, now)
    log.info("sync applied", **p.changes_summary(), **report.licenses)
    _push(rt, report, phase)
    if _rows_written(p) >= ANALYZE_AFTER:
        phase("statistics")
        _refresh_statistics(rt)
    return report


def _count_pending(conn: Any, report: SyncReport) -> None:
    """The outbox's pending rows as the run records itself (this run's included)."""
    if report.cwms is not None:
        report.cwms.pending = outbox.counts(conn)["pending"]


def _push(rt: Runtime, report: SyncReport, phase: Callable[[str], None]) -> None:
    """After commit: with ``push = "on"``, send the outbox's pending rows (this run's and any a crash left), unless a
    source failed this run. A stop by the site fails the run (exit 69); the run's record then says what was sent."""
    out = report.cwms
    if out is None or out.push != "on" or not out.pending or report.failed_sources:
        return
    phase("push")
    out.sent = cwms.send(rt, report.run_id)
    out.pending = out.sent.pending
    if out.failed and report.result not in ("failed", "partial"):
        report.result = "partial"
    with begin_write(rt.engine) as conn:
        apply.rerecord_run(conn, report.run_id, report.result, report.exit_code, report.to_dict(),
                           report.recorded_sources)


def _unwatched(phase: str) -> None:
    """The phase of a run that no :class:`Progress` watches: nothing to tell."""


def _report_effects(report: SyncReport, effects: apply.Effects) -> None:
    report.licenses = effects.counts
    report.notices = effects.notices
    report.operations = effects.operations


def _tables() -> str:
    """The source tables one can add, as the user writes them: ``[[sources.cucm]]``, ..."""
    names = [f"[[sources.{t}]]" for t in SOURCE_TYPES]
    return ", ".join(names[:-1]) + " or " + names[-1]


# A run that writes this many rows (a first full sync, a mass change) refreshes the planner's statistics.
ANALYZE_AFTER = 10_000


def _rows_written(p: Plan) -> int:
    return len(p.changes) + sum(len(s.upserts) + len(s.deletes) for s in p.sources)


def _refresh_statistics(rt: Runtime) -> None:
    """After the run has committed, so a failure here is only a warning: the run's changes stand."""
    try:
        refresh_statistics(rt.engine, ["people", "source_records"])
    except (SQLAlchemyError, StoreError) as e:     # the statistics wait for autovacuum
        log.warning("statistics not refreshed", error=f"{type(e).__name__}: {e}".splitlines()[0])
