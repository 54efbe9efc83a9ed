"""`syncd run`: the scheduler (schedule.py), the leader lock (leader.py) and the HTTP API (api.py, uvicorn) in one
process.

The *run lock* is taken by ``run_sync`` itself, so a `syncd sync` from a shell or the timer still works beside an
idle daemon, and a scheduled run that finds it held is skipped (logged), not failed.

systemd (notify.py): READY=1 once the database, the API and the scheduler are up; STATUS= with the last run;
WATCHDOG=1 at half of ``$WATCHDOG_USEC`` from the main loop while the scheduler runs; STOPPING=1 on SIGTERM.
SIGTERM lets a running sync finish or roll back: the process exits within STOP_BUDGET seconds, abandoning a
run still going (its transaction is never committed, so the database stays at its last consistent state).
SIGHUP reloads the configuration; an invalid one is logged and the running one kept.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import uvicorn

from syncd import errors
from syncd.daemon import schedule
from syncd.daemon.api import create_app, start_server
from syncd.daemon.leader import Leadership
from syncd.daemon.metrics import Metrics
from syncd.daemon.notify import Notifier, watchdog_interval
from syncd.licensing import admin
from syncd.logging import configure_logging, get_logger, unbind_run
from syncd.runtime import Runtime
from syncd.settings import Config, ConfigError, load_config
from syncd.store.locks import LockHeld
from syncd.views.status import SCHEDULER_ACTOR

log = get_logger("syncd.daemon")

API_ACTOR = "api"
STOP_BUDGET = 9.0                    # seconds from SIGTERM to exit (systemd's default stop timeout is 90 s)
# A sync runs in this process: its thread, busy in Python, hands the GIL to a waiting API thread only every switch
# interval (5 ms by default), and a request waits for it at each of its many lock waits and I/O returns.
SWITCH_INTERVAL = 0.001


class Daemon:
    def __init__(self, rt: Runtime, notifier: Notifier | None = None) -> None:
        config = self.config = rt.config
        self.notifier = notifier or Notifier()
        self.rt = rt.for_actor(SCHEDULER_ACTOR)
        self._api_rt = self.rt.for_actor(API_ACTOR)
        self._token = config.api_token()
        self.metrics = Metrics(lambda: self._api_rt)
        self.leader = Leadership(self.rt.engine, on_taken=lambda: self.notifier.status(self._status()))
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._last_run = "no run yet"
        self._api_address = ""
        self.scheduler = schedule.new_scheduler(config)
        self._server: uvicorn.Server | None = None
        self._server_thread: threading.Thread | None = None

    # -- what the API reads ------------------------------------------------------------------------------

    @property
    def api_runtime(self) -> Runtime:
        return self._api_rt

    @property
    def api_token(self) -> str | None:
        return self._token

    def sync_now(self, full: bool, sources: list[str] | None) -> dict[str, Any]:
        from syncd.sync.pipeline import run_sync

        self._enter()
        try:
            report = run_sync(self._api_rt, mode="apply", full=full, sources=sources)
            self.metrics.observe_run(report)
            self._note_run(report.result, "full" if full else "incremental", API_ACTOR)
            return report.to_dict()
        finally:
            self._leave()
            unbind_run()

    # -- jobs ----------------------------------------------------------------------------------------------

    def _enter(self) -> None:
        with self._busy_lock:
            self._busy += 1

    def _leave(self) -> None:
        with self._busy_lock:
            self._busy -= 1

    def _busy_now(self) -> int:
        with self._busy_lock:
            return self._busy

    def _note_run(self, result: str, kind: str, actor: str) -> None:
        self._last_run = f"last run {datetime.now(UTC).isoformat(timespec='seconds')}: {kind} {result} ({actor})"
        self.notifier.status(self._status())

    def _status(self) -> str:
        try:
            role = "leader" if self.leader.leading() else "standby"
        except Exception:
            role = "leader lock unknown"
        return f"{role}; API on http://{self._api_address}; {self._last_run}"

    def _job(self, kind: str) -> None:
        if self._stop.is_set():
            return
        try:
            if not self.leader.leading():
                log.debug("scheduled job skipped: not the leader", job=kind)
                return
        except Exception as e:
            log.warning("scheduled job skipped: leader lock check failed", job=kind, error=str(e))
            return
        self._enter()
        try:
            if kind == "sweep":
                outcome = admin.sweep(self.rt)
                log.info("sweep done", rule=outcome.decision.rule, notices=[n.message for n in
                                                                            outcome.decision.notices])
                return
            from syncd.sync.pipeline import run_sync

            report = run_sync(self.rt, mode="apply", full=kind == "full")
            self.metrics.observe_run(report)
            self._note_run(report.result, kind, SCHEDULER_ACTOR)
        except LockHeld as e:
            log.info("scheduled run skipped", job=kind, reason=str(e))
        except errors.UserError as e:
            log.error("scheduled job failed", job=kind, error=str(e))
        except Exception:
            log.exception("scheduled job failed", job=kind)
            if kind != "sweep":
                self.metrics.observe_failure([s.name for s in self.rt.config.sources.all()])
                self._note_run("failed", kind, SCHEDULER_ACTOR)
        finally:
            self._leave()
            unbind_run()

    def schedule_jobs(self, config: Config, first: bool) -> None:
        schedule.schedule_jobs(self.scheduler, config, self._job, self.leader.tick, first)

    # -- the API server ------------------------------------------------------------------------------------

    def _start_api(self) -> None:
        api = self.config.api
        self._server, self._server_thread, self._api_address = start_server(create_app(self), api.host, api.port,
                                                                            api.listen)

    # -- reload --------------------------------------------------------------------------------------------

    def reload(self) -> bool:
        """Load the configuration file again; on any problem keep the running one. True when reloaded."""
        self.notifier.reloading()
        try:
            config = load_config(self.config.path)
            config.check_secrets()
            token = config.api_token()
        except ConfigError as e:
            log.error("configuration reload failed; keeping the running configuration", error=str(e))
            self.notifier.ready(self._status())
            return False
        if config.database.url != self.config.database.url:
            log.warning("database.url changed: takes effect at the next restart")
            config.database.url = self.config.database.url
        if config.api.listen != self.config.api.listen:
            log.warning("api.listen changed: takes effect at the next restart")
        configure_logging(config.logging.level, config.logging.format)
        schedule.quiet_scheduler_log()
        self.rt = self.rt.reconfigured(config)
        self._api_rt = self.rt.for_actor(API_ACTOR)
        self._token = token
        self.config = config
        self.schedule_jobs(config, first=False)
        log.info("configuration reloaded", path=config.path, next_runs=schedule.next_runs(self.scheduler))
        self.notifier.ready(self._status())
        return True

    # -- the main loop -------------------------------------------------------------------------------------

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload.set()
        else:
            self._stop.set()

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        sys.setswitchinterval(SWITCH_INTERVAL)
        schedule.quiet_scheduler_log()
        self.rt.engine          # noqa: B018 - connects and upgrades the schema; fails early (exit 74)
        self._start_api()
        self.leader.tick()
        self.schedule_jobs(self.config, first=True)
        self.scheduler.start()
        log.info("daemon ready", leader=self.leader.leading(), next_runs=schedule.next_runs(self.scheduler))
        self.notifier.ready(self._status())

        wd = watchdog_interval()
        next_ping = time.monotonic()
        while not self._stop.is_set():
            if self._reload.is_set():
                self._reload.clear()
                self.reload()
            if wd is not None and time.monotonic() >= next_ping and self.scheduler.running:
                self.notifier.watchdog()
                next_ping = time.monotonic() + wd.total_seconds()
            self._stop.wait(0.25)
        return self._shutdown()

    def _shutdown(self) -> int:
        deadline = time.monotonic() + STOP_BUDGET
        log.info("stopping", running_jobs=self._busy_now())
        self.notifier.stopping("stopping; " + self._last_run)
        self.scheduler.shutdown(wait=False)
        if self._server is not None:
            self._server.should_exit = True
        while self._busy_now() and time.monotonic() < deadline - 1.5:
            time.sleep(0.1)
        if self._server_thread is not None:
            self._server_thread.join(timeout=max(0.1, deadline - 1.0 - time.monotonic()))
        abandoned = self._busy_now()
        try:
            self.leader.release()
        except Exception as e:  # exiting anyway; the server drops the lock with the session
            log.warning("leader lock release failed", error=str(e))
        if abandoned:
            log.warning("stopped during a run: its transaction is not committed", running_jobs=abandoned)
            sys.stderr.flush()
            os._exit(errors.OK)       # worker threads are not daemonic; do not wait for them
        log.info("stopped")
        return errors.OK


def run_daemon(rt: Runtime) -> int:
    return Daemon(rt).run()
