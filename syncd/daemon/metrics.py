"""What the daemon reports about itself: source health (for ``/healthz``) and Prometheus metrics (``/metrics``).

Run counters and durations are counted by this process (scheduled runs and ``POST /api/v1/sync``); everything
else (people, licenses, last successful reads) is read from the database at scrape time, so every node of a
cluster reports the same state and runs by `syncd sync` from a shell or the timer count too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from policy import LicenseKind, LicenseState, Sweep, apply, decide
from syncd.licensing.ledger import load_ledger
from syncd.logging import redact_text
from syncd.store import tables
from syncd.sync.reconcile import source_specs

if TYPE_CHECKING:
    from syncd.runtime import Runtime
    from syncd.sync.pipeline import SyncReport

RUNS_SCANNED = 500      # recent apply runs searched for each source's last read
DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


@dataclass
class SourceHealth:
    name: str
    last_success: datetime | None      # start of the last run whose read of this source was complete
    last_error: str | None             # the error of the last read, when it failed
    refused: bool = False              # the last apply run was refused by the safety gate

    def problem(self, now: datetime, stale_after: timedelta) -> str | None:
        if self.last_error is not None:
            return f"source {self.name}: the last read failed: {redact_text(self.last_error)}"
        if self.last_success is None:
            return f"source {self.name}: no complete read yet"
        if now - self.last_success > stale_after:
            return (f"source {self.name}: last complete read at {self.last_success.isoformat()}, "
                    f"older than {int(stale_after.total_seconds())}s")
        return None


def stale_after(rt: Runtime) -> timedelta:
    """How old a source's last complete read may be before the daemon is unhealthy: three incremental intervals
    plus the misfire grace time (a run may start that late and still count as on time)."""
    s = rt.config.schedule
    return 3 * s.incremental_every + s.misfire_grace


def source_health(rt: Runtime) -> tuple[list[SourceHealth], str | None]:
    """Each configured source's last complete read and last error (from the recorded runs), and the result of
    the last apply run."""
    runs = tables.runs
    with rt.engine.connect() as conn:
        rows = conn.execute(select(runs.c.started_at, runs.c.result, runs.c.summary)
                            .where(runs.c.mode == "apply")
                            .order_by(runs.c.started_at.desc()).limit(RUNS_SCANNED)).all()
    last_result = rows[0].result if rows else None
    out: list[SourceHealth] = []
    for spec in source_specs(rt.config):
        h = SourceHealth(spec.name, None, None, refused=last_result == "refused")
        decided = False
        for row in rows:
            src = next((s for s in (row.summary or {}).get("sources", []) if s.get("name") == spec.name), None)
            if src is None:
                continue
            if src.get("complete"):
                h.last_success = row.started_at
                break
            if not decided:
                h.last_error = str(src.get("error") or "incomplete read")
            decided = True
        out.append(h)
    return out, last_result


def health(rt: Runtime, now: datetime | None = None) -> tuple[bool, dict[str, Any]]:
    """(healthy, the ``/healthz`` body)."""
    now = now or datetime.now(UTC)
    sources, last_result = source_health(rt)
    limit = stale_after(rt)
    reasons = [p for s in sources if (p := s.problem(now, limit))]
    if last_result == "refused":
        reasons.append("the last run was refused by the safety gate; an admin must run "
                       "`syncd sync --allow-mass-deactivation` or fix the source")
    if not sources:
        reasons.append("no sources configured")
    body = {
        "status": "unhealthy" if reasons else "ok",
        "reasons": reasons,
        "sources": {s.name: {"last_success": s.last_success.isoformat() if s.last_success else None,
                             "error": redact_text(s.last_error) if s.last_error else None} for s in sources},
    }
    return not reasons, body


class _StateCollector(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        rt = self._runtime()
        now = datetime.now(UTC)
        p = tables.people
        with rt.engine.connect() as conn:
            counts: dict[bool, int] = {bool(active): int(n) for active, n in
                                       conn.execute(select(p.c.active, func.count()).group_by(p.c.active))}
            ledger, _ = load_ledger(conn)
        people = GaugeMetricFamily("syncd_people", "People by state", labels=["state"])
        people.add_metric(["active"], counts.get(True, 0))
        people.add_metric(["inactive"], counts.get(False, 0))
        yield people

        swept = apply(ledger, decide(ledger, Sweep(), rt.settings, now))
        held: dict[tuple[str, str], int] = {(k.value, m): 0 for k in LicenseKind for m in ("local", "remote")}
        next_grace: datetime | None = None
        for key in swept.people:
            lic = swept.license_at(key, now)
            if lic is None or lic.state is not LicenseState.ACTIVE:
                continue
            held[(lic.kind.value, lic.management.value)] += 1
            if lic.kind is LicenseKind.GRACE and lic.expires_at is not None:
                next_grace = lic.expires_at if next_grace is None else min(next_grace, lic.expires_at)
        licenses = GaugeMetricFamily("syncd_licenses", "Active licenses by kind and management",
                                     labels=["kind", "management"])
        for (kind, mgmt), n in sorted(held.items()):
            licenses.add_metric([kind, mgmt], n)
        yield licenses
        yield GaugeMetricFamily("syncd_permanent_licenses_free", "Free Permanent licenses",
                                value=swept.free_permanent)
        yield GaugeMetricFamily("syncd_grace_licenses_in_use", "Grace licenses in use", value=swept.grace_in_use(now))
        expiry = GaugeMetricFamily("syncd_grace_next_expiry_days",
                                   "Days until the next Grace license expires (absent when none is held)")
        if next_grace is not None:
            expiry.add_metric([], (next_grace - now).total_seconds() / 86400)
        yield expiry

        sources, _ = source_health(rt)
        last = GaugeMetricFamily("syncd_source_last_success_timestamp_seconds",
                                 "Unix time of the last complete read of each source", labels=["source"])
        for s in sources:
            if s.last_success is not None:
                last.add_metric([s.name], s.last_success.timestamp())
        yield last


class Metrics:
    """The daemon's Prometheus registry (its own, so tests can build several)."""

    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self.registry = CollectorRegistry()
        self.runs = Counter("syncd_runs", "Sync runs by this process, by source read and result",
                            ["source", "result"], registry=self.registry)
        self.duration = Histogram("syncd_run_duration_seconds", "Duration of the sync runs that read each source",
                                  ["source"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.registry.register(_StateCollector(runtime))

    def observe_run(self, report: SyncReport) -> None:
        for src in report.to_dict()["sources"]:
            self.runs.labels(src["name"], report.result).inc()
            self.duration.labels(src["name"]).observe(report.seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
