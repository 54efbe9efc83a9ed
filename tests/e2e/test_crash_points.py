"""Faults (issue 7): SIGKILL at seeded random points of a large `syncd sync`, and a disk that fills up mid-apply.

Each killed run must leave the stored state either as it was before the run or as a complete run leaves it
(never a mix), with the checks of `db verify` passing (DESIGN.md section 5 invariants; the journal replays to the
ledger); one more run then converges to what an uninterrupted run gives.

The reference ("after") state comes from a clone of the prepared database synced once without interruption, so
timestamps set before the run (meetings started, licenses purchased) are identical in both and compare exactly.
After each kill the checks run in this process rather than as CLI commands, so that twenty points per database fit
in a few minutes: a digest of every row of every table first; when it equals the digest of the prepared database
(which passed `db verify`'s checks) the database *is* that state, and the checks, a function of the rows, hold;
otherwise the same function `db verify` calls checks it, and the state must be the reference run's.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.site import (
    SYNCD,
    Site,
    Snapshot,
    changed_rows,
    cucm_row,
    pg_backends,
    prepare_large_change,
    state_diff,
)
from tests.needs import unavailable

USERS = 20_000
KILL_POINTS = 20
SEED = 7


def _sync_command(site: Site) -> list[str]:
    return [SYNCD, "--config", str(site.config), "sync", "--allow-mass-deactivation"]


def _report(site: Site) -> dict[str, Any]:
    report: dict[str, Any] = site.json("licenses", "report")
    report.pop("at")
    return report


def _killed_run(site: Site, delay: float, pg_role: str | None, application: str) -> int | None:
    """Start a sync, SIGKILL it after ``delay`` seconds (unless it ended), and wait until its database sessions are
    gone too (a PostgreSQL backend may still be committing what the dead client sent). Its exit code."""
    proc = subprocess.Popen(_sync_command(site), cwd=site.root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "SYNCD_CONFIG": "", "PGAPPNAME": application})
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    code = proc.wait(timeout=60)
    deadline = time.monotonic() + 60
    while pg_role is not None and pg_backends(pg_role, application):
        assert time.monotonic() < deadline, f"the killed run's PostgreSQL sessions outlived it: {application}"
        time.sleep(0.05)
    return code


def test_sigkill_at_random_points_leaves_before_or_after_and_the_next_run_converges(
        tmp_path: Path, db_url: str, ref_url: str, pg_role_or_none: str | None):
    test_started = time.monotonic()
    site = Site(tmp_path, db_url)
    prepare_large_change(site, USERS)
    snapshot = Snapshot(db_url, tmp_path, pg_role_or_none)
    snapshot.take()
    problems, before = site.inspect()
    assert problems == []
    before_digest = site.digest()

    # The reference: the same prepared database, synced once without interruption.
    ref = Site(tmp_path / "ref", ref_url)
    ref.root.mkdir(exist_ok=True)
    ref.write_config()
    ref.write_users(changed_rows(USERS))
    snapshot.restore_into(ref_url)
    assert ref.inspect()[1] == before
    started = time.monotonic()     # timed as the killed runs are started, output and all
    subprocess.run(_sync_command(ref), cwd=ref.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True, timeout=300)
    duration = time.monotonic() - started
    problems, after = ref.inspect()
    assert problems == []
    after_report = _report(ref)
    assert sum(1 for p in after["people"].values() if not p[1]) > USERS // 3
    assert after_report["in_use"]["permanent"] == 0 and after_report["free_permanent"] == 10    # R5

    rng = random.Random(SEED)
    delays = [rng.uniform(i * duration / KILL_POINTS, (i + 1) * duration / KILL_POINTS) for i in range(KILL_POINTS)]
    outcomes = []
    started = time.monotonic()
    for i, delay in enumerate(delays):
        code = _killed_run(site, delay, pg_role_or_none, f"syncd-crash-point-{i}")
        if site.digest() == before_digest:
            outcomes.append((round(delay, 2), code, "before"))
            continue
        where = f"killed at {delay:.2f}s of {duration:.2f}s"
        problems, now = site.inspect()
        assert problems == [], f"{where}: {problems[:5]}"
        assert now == after, f"neither before nor after when {where}: {state_diff(now, after)}; " \
                             f"against before: {state_diff(now, before)}"
        outcomes.append((round(delay, 2), code, "after"))
        snapshot.restore_into(db_url)     # start the next killed run from the prepared state again
    points_seconds = time.monotonic() - started
    print(f"reference run {duration:.2f}s; {KILL_POINTS} kill points took {points_seconds:.1f}s "
          f"({time.monotonic() - test_started:.0f}s since the test started); kills (delay, exit, state): {outcomes}")
    assert any(code == -signal.SIGKILL for _, code, _ in outcomes), "no kill landed before a run ended"

    site.run("sync", "--allow-mass-deactivation")
    problems, now = site.inspect()
    assert problems == [] and now == after, f"{problems[:5]}; {state_diff(now, after)}"
    assert _report(site) == after_report
    site.run("sync", "--check")
    assert site.json("db", "verify")["ok"] is True


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs to fill up: {mounted.stderr.strip()}", "SYNCD_REQUIRE_MOUNT")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_disk_full_during_apply_exits_74_and_changes_nothing(tmp_path: Path, small_disk: Path):
    site = Site(tmp_path, f"sqlite:///{small_disk / 'syncd.db'}")
    site.write_config()
    site.write_users({n: cucm_row(n) for n in range(1, 2001)})
    site.run("sync")
    before = site.people()
    assert len(before) == 2000
    site.write_users({n: cucm_row(n) for n in range(1, 62001)})
    proc = site.run("sync", check=74)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "disk" in lines[0], proc.stderr
    assert site.people() == before
    assert site.json("db", "verify")["ok"] is True
