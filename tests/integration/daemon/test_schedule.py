"""The daemon's jobs follow the [schedule] table, and a reload reschedules them (an invalid file changes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from connectors.axlsim import Simulator
from syncd.app import App
from syncd.daemon.notify import Notifier
from syncd.daemon.service import Daemon
from syncd.settings import load_config
from syncd.store import tables
from tests.integration.daemon.harness import wait_for

CONFIG = """[database]
url = "sqlite:///{db}"

[schedule]
incremental_every = "10m"
full_cron = "30 2 * * 1-5"
sweep_every = "2h"
jitter = "20s"
misfire_grace = "90s"
timezone = "Europe/Berlin"
"""


@pytest.fixture
def daemon(tmp_path: Path):
    path = tmp_path / "syncd.toml"
    path.write_text(CONFIG.format(db=tmp_path / "syncd.db"))
    d = Daemon(App(load_config(str(path)), "scheduler"), Notifier(""))
    d.schedule_jobs(d.config, first=True)
    d.scheduler.start(paused=True)      # applies the job defaults; runs nothing
    yield d
    d.scheduler.shutdown(wait=False)
    d.leader.release()


def test_jobs_follow_the_schedule_table(daemon: Daemon):
    jobs = {j.id: j for j in daemon.scheduler.get_jobs()}
    assert set(jobs) == {"incremental", "full", "sweep", "leader"}
    inc, full, sweep = jobs["incremental"], jobs["full"], jobs["sweep"]
    assert isinstance(inc.trigger, IntervalTrigger) and inc.trigger.interval == timedelta(minutes=10)
    assert isinstance(sweep.trigger, IntervalTrigger) and sweep.trigger.interval == timedelta(hours=2)
    assert isinstance(full.trigger, CronTrigger) and str(full.trigger.timezone) == "Europe/Berlin"
    fields = {f.name: str(f) for f in full.trigger.fields}
    assert (fields["minute"], fields["hour"], fields["day_of_week"]) == ("30", "2", "mon,tue,wed,thu,fri")
    for job in (inc, full, sweep):
        assert job.trigger.jitter == 20 and job.coalesce and job.max_instances == 1
        assert job.misfire_grace_time == 90


def test_reload_reschedules_and_an_invalid_file_changes_nothing(daemon: Daemon):
    path = Path(daemon.config.path or "")
    path.write_text(path.read_text().replace('sweep_every = "2h"', 'sweep_every = "-1h"'))
    assert daemon.reload() is False
    assert daemon.scheduler.get_job("sweep").trigger.interval == timedelta(hours=2)
    path.write_text(path.read_text().replace('sweep_every = "-1h"', 'sweep_every = "3h"'))
    assert daemon.reload() is True
    assert daemon.scheduler.get_job("sweep").trigger.interval == timedelta(hours=3)
    assert daemon.config.schedule.sweep_every == timedelta(hours=3)


def test_scheduled_incremental_then_full_sync_run_as_the_scheduler(tmp_path: Path):
    """The jobs run real syncs: the first incremental at start (a full read: no cursor yet), then the full job
    (forced due now instead of waiting for its cron time) reads fully although a cursor exists."""
    with Simulator(60, seed=2, tls=True) as sim:
        secret = tmp_path / "cucm.secret"
        secret.write_text(sim.password)
        secret.chmod(0o600)
        path = tmp_path / "syncd.toml"
        path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "syncd.db"}"\n\n[[sources.cucm]]\nname = "cucm"\n'
                        f'url = "{sim.url}"\nusername = "{sim.username}"\npassword_file = "{secret}"\n'
                        f'ca_file = "{sim.ca_file}"\n\n[schedule]\nincremental_every = "1h"\n'
                        'full_cron = "0 3 * * *"\n')
        path.chmod(0o600)
        d = Daemon(App(load_config(str(path)), "scheduler"), Notifier(""))
        d.schedule_jobs(d.config, first=True)
        d.leader.tick()
        d.scheduler.start()
        try:
            def runs() -> list:
                with d.rt.engine.connect() as conn:
                    return conn.execute(select(tables.runs).order_by(tables.runs.c.started_at)).all()

            wait_for("the first scheduled run", lambda: len(runs()) >= 1)
            d.scheduler.modify_job("full", next_run_time=datetime.now(UTC))
            wait_for("the scheduled full run", lambda: len(runs()) >= 2)
            first, full = runs()[:2]
            assert first.actor == full.actor == "scheduler"
            assert first.result == "applied" and full.result == "no_changes"
            assert full.summary["sources"][0]["full"] is True
        finally:
            d.scheduler.shutdown(wait=True)
            d.leader.release()
