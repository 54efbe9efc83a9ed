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
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import uvicorn

from syncd import errors
from syncd.daemon import schedule
from syncd.daemon.alerts.evaluate import after_run
from syncd.daemon.api import create_app, start_server
from syncd.daemon.leader import Leadership
from syncd.daemon.metrics import Metrics
from syncd.daemon.notify import Notifier, watchdog_interval
from syncd.licensing import admin
from syncd.logging import configure_logging, get_logger, unbind_run
from syncd.runtime import Runtime
from syncd.settings import Config, ConfigError, load_config
from syncd.store.db import DatabaseUnavailable, DiskFull
from syncd.store.locks import LockHeld
from syncd.views import runs as views_runs
from syncd.views.status import SCHEDULER_ACTOR

log = get_logger("syncd.daemon")

API_ACTOR = "api"
STOP_BUDGET = 9.0                    # seconds from SIGTERM to exit (systemd's default stop timeout is 90 s)
# A sync runs in this process: its thread, busy in Python, hands the GIL to a waiting API thread only every switch
# interval (5 ms by default), and a request waits for it at each of its many lock waits and I/O returns.
SWITCH_INTERVAL = 0.001
LIVE_RUNS = 50                       # API-started runs whose state this process keeps for GET /api/v1/runs
START_WAIT = 30.0                    # seconds POST /api/v1/sync waits for its run to take the lock (it takes ms)


class _RunWatch:
    """One run started through the API: the :class:`~syncd.sync.progress.Progress` it reports to (its phase and
    each source's records so far), whether it has begun (taken the run lock), and how it ended."""

    def __init__(self, run_id: str, full: bool, sources: list[str] | None) -> None:
        self.run_id, self.full, self.sources = run_id, full, sources
        self.begun = threading.Event()       # set when the run has begun, or ended without beginning
        self.started = False
        self.raised: BaseException | None = None
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {
            "run_id": run_id, "status": "running", "actor": API_ACTOR, "mode": "apply", "full": full,
            "sources": list(sources or []), "started_at": datetime.now(UTC).isoformat(), "finished_at": None,
            "phase": "starting", "records": {}, "result": None, "exit_code": None, "error": None}

    def phase(self, name: str) -> None:
        with self._lock:
            self._state["phase"] = name
            self.started = True
        self.begun.set()

    def records(self, source: str, count: int, done: bool = False) -> None:
        with self._lock:
            self._state["records"][source] = count

    def finish(self, result: str, exit_code: int) -> None:
        with self._lock:
            self._state.update(status=views_runs.status_of(result), result=result, exit_code=exit_code,
                               phase="done", finished_at=datetime.now(UTC).isoformat())
        self.begun.set()

    def fail(self, error: BaseException) -> None:
        with self._lock:
            self.raised = error
            self._state.update(status="failed", result="failed", phase="done", exit_code=_exit_code_of(error),
                               error=" ".join(str(error).split()) or type(error).__name__,
                               finished_at=datetime.now(UTC).isoformat())
        self.begun.set()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**self._state, "records": dict(self._state["records"])}


def _exit_code_of(error: BaseException) -> int:
    if isinstance(error, errors.UserError):
        return error.exit_code
    if isinstance(error, LockHeld):
        return errors.LOCKED
    if isinstance(error, DatabaseUnavailable | DiskFull):
        return errors.DATABASE
    return errors.INTERNAL


class Daemon:
    def __init__(self, rt: Runtime, notifier: Notifier | None = None) -> None:
        config = self.config = rt.config
        self.notifier = notifier or Notifier()
        self.rt = rt.for_actor(SCHEDULER_ACTOR)
        self._api_rt = self.rt.for_actor(API_ACTOR)
        self._token = config.api_token()
        self._read_token = config.api_read_token()
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
        self._live: OrderedDict[str, _RunWatch] = OrderedDict()
        self._live_lock = threading.Lock()

    # -- what the API reads ------------------------------------------------------------------------------

    @property
    def api_runtime(self) -> Runtime:
        return self._api_rt

    @property
    def api_token(self) -> str | None:
        return self._token

    @property
    def api_read_token(self) -> str | None:
        return self._read_token

    def sync_now(self, full: bool, sources: list[str] | None) -> dict[str, Any]:
        """Run one sync as the API's actor and wait for it (``{"wait": true}``): the report's ``to_dict()``."""
        from syncd.sync.pipeline import run_sync

        self._enter()
        try:
            report = run_sync(self._api_rt, mode="apply", full=full, sources=sources)
        except Exception as e:
            self._count_failure(e, full, sources)
            raise
        else:
            self._observe(report, full)
            return report.to_dict()
        finally:
            self._leave()
            unbind_run()

    def start_sync(self, full: bool, sources: list[str] | None) -> str:
        """Start one sync as the API's actor on a thread of its own and return its run id as soon as it holds the
        run lock. What stops it from starting is raised here: LockHeld (another run holds the lock), a usage or
        configuration error, the database. Its progress and end: :meth:`live_runs` and the runs table."""
        watch = _RunWatch(uuid.uuid4().hex, full, sources)
        self._enter()
        thread = threading.Thread(target=self._background_sync, args=(watch,), name=f"sync-{watch.run_id[:8]}",
                                  daemon=True)
        thread.start()
        watch.begun.wait(START_WAIT)
        if not watch.started and watch.raised is not None:
            raise watch.raised
        with self._live_lock:
            self._live[watch.run_id] = watch
            while len(self._live) > LIVE_RUNS:
                self._live.popitem(last=False)
        return watch.run_id

    def live_runs(self) -> dict[str, dict[str, Any]]:
        """The runs this process started through the API that the runs table may not hold yet (or ever: a failed
        run the database could not take), newest last: their state as :mod:`syncd.views.runs` reads it."""
        with self._live_lock:
            watches = list(self._live.values())
        return {w.run_id: w.snapshot() for w in watches}

    def _background_sync(self, watch: _RunWatch) -> None:
        from syncd.sync.pipeline import run_sync

        try:
            report = run_sync(self._api_rt, mode="apply", full=watch.full, sources=watch.sources, progress=watch,
                              run_id=watch.run_id)
        except BaseException as e:
            watch.fail(e)
            if watch.started:        # else start_sync raises it to the request
                if isinstance(e, errors.UserError | LockHeld):
                    log.error("api run failed", error=str(e))
                else:
                    log.exception("api run failed")
                self._count_failure(e, watch.full, watch.sources)
        else:
            self._observe(report, watch.full)
            watch.finish(report.result, report.exit_code)
        finally:
            self._leave()
            unbind_run()

    def _observe(self, report: Any, full: bool) -> None:
        self.metrics.observe_run(report)
        self._note_run(report.result, "full" if full else "incremental", API_ACTOR)

    def _count_failure(self, error: BaseException, full: bool, sources: list[str] | None) -> None:
        """A run that began and raised counts as failed, whatever the error (a configuration error found at run
        time, such as a CA file removed, included), as a scheduled one does; a lock held elsewhere does not."""
        if isinstance(error, LockHeld) or not isinstance(error, Exception):
            return
        self.metrics.observe_failure(sources or [s.name for s in self._api_rt.config.sources.all()])
        self._note_run("failed", "full" if full else "incremental", API_ACTOR)

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
        run_id = None
        try:
            if kind == "sweep":
                outcome = admin.sweep(self.rt)
                log.info("sweep done", rule=outcome.decision.rule, notices=[n.message for n in
                                                                            outcome.decision.notices])
                return
            from syncd.sync.pipeline import run_sync

            report = run_sync(self.rt, mode="apply", full=kind == "full")
            run_id = report.run_id
            self.metrics.observe_run(report)
            self._note_run(report.result, kind, SCHEDULER_ACTOR)
        except LockHeld as e:
            log.info("scheduled run skipped", job=kind, reason=str(e))
        except Exception as e:
            if isinstance(e, errors.UserError):
                log.error("scheduled job failed", job=kind, error=str(e))
            else:
                log.exception("scheduled job failed", job=kind)
            if kind != "sweep":
                self.metrics.observe_failure([s.name for s in self.rt.config.sources.all()])
                self._note_run("failed", kind, SCHEDULER_ACTOR)
        finally:
            after_run(self.rt, run_id)      # logs its own problems: the job's outcome stands
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
            read_token = config.api_read_token()
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
        self._read_token = read_token
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
