"""Prometheus metrics (``/metrics``).

Run counters and durations are counted by this process (scheduled runs and ``POST /api/v1/sync``); everything
else (people, licenses, last successful reads) is read from the database at scrape time through the views, so
every node of a cluster reports the same state, the numbers equal the licenses report's, and runs by
`syncd sync` from a shell or the timer count too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from syncd.views.health import source_reads
from syncd.views.licenses import license_summary
from syncd.views.outbox import outbox_counts
from syncd.views.people import person_counts

if TYPE_CHECKING:
    from syncd.runtime import Runtime
    from syncd.sync.pipeline import SyncReport

DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)


class _StateCollector(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, runtime: Callable[[], Runtime]) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        rt = self._runtime()
        now = datetime.now(UTC)
        with rt.engine.connect() as conn:
            counts = person_counts(conn)
            pushes = outbox_counts(conn)
        people = GaugeMetricFamily("syncd_people", "People by state", labels=["state"])
        for state in ("active", "inactive"):
            people.add_metric([state], counts[state])
        yield people
        outbox = GaugeMetricFamily("syncd_cwms_outbox", "CWMS outbox rows by state", labels=["state"])
        for state, n in pushes.items():
            outbox.add_metric([state], n)
        yield outbox

        sm = license_summary(rt, now)
        licenses = GaugeMetricFamily("syncd_licenses", "Active licenses by kind and management",
                                     labels=["kind", "management"])
        for (kind, mgmt), n in sorted(((k.value, m.value), n) for (k, m), n in sm.held.items()):
            licenses.add_metric([kind, mgmt], n)
        yield licenses
        yield GaugeMetricFamily("syncd_permanent_licenses_free", "Free Permanent licenses", value=sm.free_permanent)
        yield GaugeMetricFamily("syncd_grace_licenses_in_use", "Grace licenses in use", value=sm.grace_in_use)
        expiry = GaugeMetricFamily("syncd_grace_next_expiry_days",
                                   "Days until the next Grace license expires (absent when none is held)")
        if sm.grace_next_expiry is not None:
            expiry.add_metric([], (sm.grace_next_expiry - now).total_seconds() / 86400)
        yield expiry

        last = GaugeMetricFamily("syncd_source_last_success_timestamp_seconds",
                                 "Unix time of the last complete read of each source", labels=["source"])
        for s in source_reads(rt).sources:
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

    def observe_failure(self, sources: list[str]) -> None:
        """A run that raised: it has no report, so it counts as failed for every source it was to read."""
        for name in sources:
            self.runs.labels(name, "failed").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
