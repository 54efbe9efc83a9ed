"""Faults (issue 7): SIGKILL at seeded random points of a large `syncd sync`, and a disk that fills up mid-apply.

Each killed run must leave the stored state either as it was before the run or as a complete run leaves it
(never a mix), with `db verify` passing; one more run then converges to what an uninterrupted run gives.

The reference ("after") state comes from a clone of the prepared database synced once without interruption, so
timestamps set before the run (meetings started, licenses purchased) are identical in both and compare exactly.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.e2e.site import SYNCD, Site, cucm_row
from tests.pgfixture import PG_DATABASE, PG_HOST, PG_PORT, schema_url

USERS = 20_000
HOSTS = (3, 6, 9)                       # all become status 2 in the killed run: their licenses go by R5
KILL_POINTS = {"sqlite": 6, "postgresql": 3}
SEED = 7


def _target_rows() -> dict[int, dict[str, Any]]:
    """A third deactivated (status 2), every 50th e-mail changed."""
    return {n: cucm_row(n, status=2 if n % 3 == 0 else 1,
                        mail=f"u{n}.new@example.com" if n % 50 == 1 else "")
            for n in range(1, USERS + 1)}


def _schema(url: str) -> str:
    return url.rsplit("search_path%3D", 1)[1]


@dataclass
class Snapshot:
    """A copy of a site's database, to restore the site or to clone it into another database."""

    site: Site
    pg_role: str | None
    dump: str = ""

    def take(self) -> None:
        if self.pg_role is None:
            shutil.copyfile(self._sqlite_path(self.site.db_url), self.site.root / "snapshot.db")
            return
        self.dump = subprocess.run(
            ["pg_dump", "-h", PG_HOST, "-p", str(PG_PORT), "-U", self.pg_role, "-n", _schema(self.site.db_url),
             "--no-owner", "--no-privileges", PG_DATABASE],
            check=True, capture_output=True, text=True, timeout=120).stdout

    def restore_into(self, url: str) -> None:
        """Replace the database at ``url`` (the site's own, or an empty one) with the snapshot."""
        if self.pg_role is None:
            target = self._sqlite_path(url)
            for suffix in ("-journal", "-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            shutil.copyfile(self.site.root / "snapshot.db", target)
            return
        schema = _schema(url)
        with psycopg.connect(_conninfo(self.pg_role), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST, "-p", str(PG_PORT),
                        "-U", self.pg_role, "-d", PG_DATABASE],
                       input=self.dump.replace(_schema(self.site.db_url), schema),
                       check=True, capture_output=True, text=True, timeout=120)

    @staticmethod
    def _sqlite_path(url: str) -> Path:
        return Path(url.removeprefix("sqlite:///"))


def _conninfo(role: str) -> str:
    return f"host={PG_HOST} port={PG_PORT} dbname={PG_DATABASE} user={role} connect_timeout=5"


@pytest.fixture
def pg_role_or_none(db_url: str, request: pytest.FixtureRequest) -> str | None:
    if db_url.startswith("sqlite"):
        return None
    role: str = request.getfixturevalue("pg_role")
    return role


@pytest.fixture
def ref_url(db_url: str, tmp_path: Path, pg_role_or_none: str | None) -> Iterator[str]:
    """A second, empty database of the same kind, for the uninterrupted reference run."""
    if pg_role_or_none is None:
        (tmp_path / "ref").mkdir()
        yield f"sqlite:///{tmp_path / 'ref' / 'syncd.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    try:
        yield schema_url(pg_role_or_none, schema)
    finally:
        with psycopg.connect(_conninfo(pg_role_or_none), autocommit=True) as conn:
            conn.execute("SET lock_timeout = '20s'")
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _sync_command(site: Site) -> list[str]:
    return [SYNCD, "--config", str(site.config), "sync", "--allow-mass-deactivation"]


def _report(site: Site) -> dict[str, Any]:
    report: dict[str, Any] = site.json("licenses", "report")
    report.pop("at")
    return report


def test_sigkill_at_random_points_leaves_before_or_after_and_the_next_run_converges(
        tmp_path: Path, db_url: str, ref_url: str, pg_role_or_none: str | None):
    site = Site(tmp_path, db_url)
    site.write_config()
    site.write_users({n: cucm_row(n) for n in range(1, USERS + 1)})
    site.run("sync")
    site.run("licenses", "purchase", "10")
    for n in HOSTS:
        assert site.json("meetings", "start", f"user{n}@example.com", "--meeting", f"m-{n}")["granted"] is True
    site.write_users(_target_rows())
    before = site.people()
    snapshot = Snapshot(site, pg_role_or_none)
    snapshot.take()

    # The reference: the same prepared database, synced once without interruption.
    ref = Site(tmp_path / "ref", ref_url)
    ref.root.mkdir(exist_ok=True)
    ref.write_config()
    ref.write_users(_target_rows())
    snapshot.restore_into(ref_url)
    assert ref.people() == before
    started = time.monotonic()     # timed as the killed runs are started, output and all
    subprocess.run(_sync_command(ref), cwd=ref.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True, timeout=300)
    duration = time.monotonic() - started
    after = ref.people()
    after_report = _report(ref)
    assert sum(1 for p in after.values() if not p["active"]) > USERS // 3
    assert after_report["in_use"]["permanent"] == 0 and after_report["free_permanent"] == 10    # R5

    rng = random.Random(SEED)
    points = KILL_POINTS["sqlite" if pg_role_or_none is None else "postgresql"]
    delays = [rng.uniform(i * duration / points, (i + 1) * duration / points) for i in range(points)]
    outcomes = []
    for delay in delays:
        proc = subprocess.Popen(_sync_command(site), cwd=site.root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert site.json("db", "verify")["ok"] is True, f"killed at {delay:.2f}s of {duration:.2f}s"
        now = site.people()
        assert now in (before, after), f"a mix of before and after when killed at {delay:.2f}s of {duration:.2f}s"
        outcomes.append((round(delay, 2), proc.returncode, "before" if now == before else "after"))
        if now == after:
            snapshot.restore_into(db_url)     # start the next killed run from the prepared state again
    print(f"reference run {duration:.2f}s; kills (delay, exit, state): {outcomes}")
    assert any(code == -signal.SIGKILL for _, code, _ in outcomes), "no kill landed before a run ended"

    site.run("sync", "--allow-mass-deactivation")
    assert site.people() == after
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
        pytest.skip(f"cannot mount a tmpfs to fill up: {mounted.stderr.strip()}")
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
