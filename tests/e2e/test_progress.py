"""Long work shows progress on a terminal, and only there: the installed `syncd sync` against the AXL simulator
under a pseudo-terminal draws each source's records and the run's phases on stderr; piped, with --json or with
-q, it prints what it always printed."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from connectors.axlsim import Simulator
from tests.e2e.site import SYNCD, CucmSite

USERS = 2500     # more than syncd.sync.progress.EVERY: the count moves during the read


@pytest.fixture
def sim():
    with Simulator(USERS, seed=5, tls=True) as s:
        yield s


def on_terminal(site: CucmSite, *args: str, timeout: float = 120) -> tuple[int, str]:
    """Run the installed command with stdin, stdout and stderr on one pseudo-terminal: (exit code, all it drew)."""
    controller, terminal = pty.openpty()
    env = {**os.environ, "SYNCD_CONFIG": "", "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    proc = subprocess.Popen([SYNCD, "--config", str(site.config), *args], cwd=site.root, stdin=terminal,
                            stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    drawn = bytearray()
    try:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:      # EIO: the command has ended and closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(controller)
    return proc.wait(timeout=timeout), drawn.decode("utf-8", "replace")


def test_a_sync_on_a_terminal_shows_its_progress(tmp_path: Path, db_url: str, sim: Simulator):
    site = CucmSite(tmp_path, db_url, sim)
    # every page (200 users) a quarter of a second late, so the terminal is redrawn (10 times a second) between them
    sim.inject_fault("slow", count=USERS // 200 + 1, op="executeSQLQuery", delay=0.25)
    code, drawn = on_terminal(site, "sync")
    assert code == 0, drawn
    assert "read cucm" in drawn, drawn
    assert "1,000 records" in drawn and f"{USERS:,} records" in drawn, drawn     # the count as it grows
    assert "plan" in drawn and "apply" in drawn, drawn                           # the later phases
    assert "created" in drawn                                                    # and the summary, as before


def test_no_progress_off_a_terminal_with_json_or_quiet(tmp_path: Path, db_url: str, sim: Simulator):
    site = CucmSite(tmp_path, db_url, sim)
    piped = site.run("sync")
    assert "read cucm" not in piped.stdout + piped.stderr and "records" not in piped.stderr
    assert piped.stderr == ""

    sim.set_status(sim.population[0].userid, 2)
    code, drawn = on_terminal(site, "--json", "sync", "--full")
    assert code == 0, drawn
    assert "read cucm" not in drawn
    report = json.loads(drawn)         # stdout and stderr share the terminal: nothing but the JSON was drawn
    assert report["sources"][0]["records"] == USERS

    code, drawn = on_terminal(site, "sync", "-q")
    assert code == 0 and drawn == "", drawn


def test_db_verify_on_a_terminal_shows_what_it_does(tmp_path: Path, db_url: str, sim: Simulator):
    site = CucmSite(tmp_path, db_url, sim)
    site.run("sync")
    code, drawn = on_terminal(site, "db", "verify")
    assert code == 0, drawn
    assert "db verify: checking" in drawn and "ledger consistent" in drawn
    piped = site.run("db", "verify")
    assert "checking" not in piped.stdout + piped.stderr
