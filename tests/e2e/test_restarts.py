"""Peers that go away in the middle of a `syncd sync` (issue 7): PostgreSQL restarted while a large plan is being
applied, and the Samba AD DC stopped while its users are being read.

Each run must fail cleanly (its documented exit code, one line on stderr, no traceback) without losing anything or
deactivating anybody because of the failure, and the next run, with the peer back, must converge to the state an
uninterrupted run gives (a clone of the same database synced once without interruption).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import secretscan
from tests.e2e.site import SYNCD, Site, Snapshot, changed_rows, pg_backends, prepare_large_change, state_diff
from tests.pgfixture import PG_HOST, PG_PORT

USERS = 20_000
PG_ETC = Path("/etc/postgresql")


def _pg_ctl(version: str, *args: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", *args],
                   check=True, capture_output=True, text=True, timeout=120)


def _pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", PG_HOST, "-p", str(PG_PORT)], timeout=30).returncode == 0


@pytest.fixture
def pg_cluster(pg_role: str) -> Iterator[str]:
    """The version of the local PostgreSQL cluster, which this test may restart (as root, with pg_ctlcluster).
    Afterwards the cluster is up and answering again, whatever the test did, since other tests need it."""
    versions = sorted(p.name for p in PG_ETC.iterdir()) if PG_ETC.is_dir() else []
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster") or len(versions) != 1:
        reason = f"cannot restart PostgreSQL here (needs root, pg_ctlcluster and one cluster; found {versions})"
        if os.environ.get("SYNCD_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " and SYNCD_REQUIRE_POSTGRES=1")
        pytest.skip(reason)
    try:
        yield versions[0]
    finally:
        if not _pg_ready():
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "start"],
                           capture_output=True, timeout=120)
        deadline = time.monotonic() + 60
        while not _pg_ready():
            assert time.monotonic() < deadline, "PostgreSQL did not come back after the test"
            time.sleep(0.5)


def _await_write_transaction(proc: subprocess.Popen[str], role: str, application: str) -> None:
    """Wait until the run's database session is inside a transaction that has written: the apply."""
    deadline = time.monotonic() + 300
    while not any(xid for _, _, xid in pg_backends(role, application)):
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before its apply was seen"
        assert time.monotonic() < deadline, "no write transaction of the run within 300 s"
        time.sleep(0.02)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_restarted_mid_apply_fails_cleanly_and_the_next_run_converges(
        tmp_path: Path, db_url: str, ref_url: str, pg_role: str, pg_cluster: str):
    site = Site(tmp_path, db_url)
    prepare_large_change(site, USERS)
    snapshot = Snapshot(db_url, tmp_path, pg_role)
    snapshot.take()
    before = site.digest()

    ref = Site(tmp_path / "ref", ref_url)
    ref.root.mkdir()
    ref.write_config()
    ref.write_users(changed_rows(USERS))
    snapshot.restore_into(ref_url)
    ref.run("sync", "--allow-mass-deactivation")
    problems, after = ref.inspect()
    assert problems == []

    application = f"syncd-restart-{tmp_path.name}"[:63]
    proc = subprocess.Popen([SYNCD, "--config", str(site.config), "sync", "--allow-mass-deactivation"],
                            cwd=site.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "SYNCD_CONFIG": "", "PGAPPNAME": application})
    try:
        _await_write_transaction(proc, pg_role, application)
        _pg_ctl(pg_cluster, "restart", "-m", "fast")
        out, err = proc.communicate(timeout=120)       # a run that hangs on the dead connection fails here
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    secretscan.feed("syncd sync (PostgreSQL restarted)", out + err)
    lines = err.strip().splitlines()
    assert proc.returncode == 74, f"exit {proc.returncode}\nstdout: {out[-2000:]}\nstderr: {err[-2000:]}"
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "database" in lines[0] and "unavailable" in lines[0], lines[0]

    assert site.digest() == before, "the interrupted apply left changes behind"
    assert site.json("db", "verify")["ok"] is True
    site.run("sync", "--allow-mass-deactivation")
    problems, now = site.inspect()
    assert problems == [] and now == after, f"{problems[:5]}; {state_diff(now, after)}"
