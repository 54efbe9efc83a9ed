"""`syncd run` as systemd runs it: notify protocol, schedule, health, metrics, reload and stop."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.daemon.harness import Daemon, wait_for
from tests.integration.daemon.proxy import Forwarder
from tests.integration.samba.harness import SambaDC

pytestmark = pytest.mark.slow


def _health(d: Daemon) -> tuple[int, dict]:
    with d.client() as c:
        r = c.get("/healthz")
    return r.status_code, r.json()


@pytest.mark.samba
def test_lifecycle_schedule_health_metrics_reload_stop(tmp_path: Path, start_daemon: Callable[..., Daemon],
                                                       forwarder: Forwarder, samba_dc: SambaDC):
    d = start_daemon(f"sqlite:///{tmp_path / 'syncd.db'}", ad=samba_dc)
    assert d.notify.find("READY", "1")["STATUS"].startswith("leader;")

    # the schedule: a first incremental run at start (a full read), then more every 2 s
    wait_for("two scheduled runs", lambda: len(d.events("sync applied") + d.events("source read")) >= 2)
    wait_for("a STATUS= naming the last run", lambda: d.notify.find("STATUS") and any(
        "incremental" in m.get("STATUS", "") and "(scheduler)" in m.get("STATUS", "") for m in d.notify.messages))
    runs = d.json("status")["runs"]
    assert runs and all(r["actor"] == "scheduler" for r in runs)
    wait_for("WATCHDOG=1", lambda: d.notify.find("WATCHDOG", "1"))
    _, body = wait_for("/healthz 200", lambda: (h := _health(d))[0] == 200 and h)
    assert body["status"] == "ok" and body["sources"]["cucm"]["last_success"]
    assert body["sources"]["ad"]["last_success"]

    with d.client() as c:
        text = c.get("/metrics").text
    for series in ('syncd_runs_total{result=', 'syncd_run_duration_seconds_bucket{le=', 'syncd_people{state="active"}',
                   'syncd_licenses{kind="permanent",management="local"}', "syncd_permanent_licenses_free ",
                   "syncd_grace_licenses_in_use ", 'syncd_source_last_success_timestamp_seconds{source="cucm"}'):
        assert series in text.replace('source="cucm",', ""), series
    active = next(line for line in text.splitlines() if line.startswith('syncd_people{state="active"}'))
    assert float(active.split()[-1]) > 100

    # CUCM unreachable: the next scheduled read fails and /healthz says why; back: healthy again
    forwarder.stop()
    _, body = wait_for("/healthz 503", lambda: (h := _health(d))[0] == 503 and h)
    assert any("source cucm: the last read failed" in r for r in body["reasons"]), body
    forwarder.start()
    wait_for("/healthz 200 again", lambda: _health(d)[0] == 200)

    # SIGHUP: an invalid configuration is logged and the running one kept; a valid one is taken
    d.config.write_text(d.config_text.replace('incremental_every = "2s"', 'incremental_every = "soon"'))
    d.signal(signal.SIGHUP)
    failed = wait_for("reload failure logged", lambda: d.events("configuration reload failed; keeping the "
                                                                  "running configuration"))
    assert "schedule.incremental_every" in failed[0]["error"]
    assert _health(d)[0] == 200
    d.config.write_text(d.config_text.replace('sweep_every = "1h"', 'sweep_every = "2h"'))
    d.signal(signal.SIGHUP)
    wait_for("reload logged", lambda: d.events("configuration reloaded"))

    assert d.stop() == 0
    assert d.notify.find("STOPPING", "1")
    assert d.events("stopped") or d.events("stopped during a run: its transaction is not committed")
    d.run("db", "verify")
