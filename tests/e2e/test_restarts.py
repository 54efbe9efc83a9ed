"""Peers that go away in the middle of a `syncd sync` (issue 7): PostgreSQL restarted while a large plan is being
applied, and the Samba AD DC stopped while its users are being read.

Each run must fail cleanly (its documented exit code, one line on stderr, no traceback) without losing anything or
deactivating anybody because of the failure, and the next run, with the peer back, must converge to the state an
uninterrupted run gives (a clone of the same database synced once without interruption).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from connectors.axlsim import Simulator
from tests import secretscan
from tests.e2e.site import (
    SYNCD,
    Site,
    Snapshot,
    changed_rows,
    pg_backends,
    pg_schema_of,
    prepare_large_change,
    state_diff,
)
from tests.e2e.test_ad_cucm_sync import Site as AdCucmSite
from tests.integration.samba.harness import SambaDC
from tests.integration.samba.relay import Relay
from tests.pgfixture import PG_HOST, PG_PORT, _conninfo

USERS = 20_000
STOP_AFTER = 120_000    # bytes of the DC's answers before the relay stops it: well into a full read of 1,000 users
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


def _await_apply(proc: subprocess.Popen[str], role: str, application: str, blocked: bool) -> None:
    """Wait until the run's database session is inside a transaction that has written (the apply), and with
    ``blocked`` until it also waits for a lock (the test's lock on ``runs``, which the apply writes last)."""
    deadline = time.monotonic() + 300
    while not any(xid and (wait == "Lock" or not blocked) for _, _, xid, wait in pg_backends(role, application)):
        assert proc.poll() is None, f"the run ended (exit {proc.returncode}) before its apply was seen"
        assert time.monotonic() < deadline, "no write transaction of the run within 300 s"
        time.sleep(0.02)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("blocked", [False, True], ids=["at-first-write", "before-commit"])
def test_postgresql_restarted_mid_apply_fails_cleanly_and_the_next_run_converges(
        tmp_path: Path, db_url: str, ref_url: str, pg_role: str, pg_cluster: str, blocked: bool):
    """The test holds a SHARE lock on ``runs`` (which the apply writes last, in its transaction) from before the
    run until the restart, so that the restart lands inside the apply however fast the apply becomes: as soon as
    the apply has written something, or once everything but ``runs`` is written and the commit is next."""
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
    blocker = psycopg.connect(_conninfo(pg_role))
    proc = None
    try:
        blocker.execute(f'LOCK TABLE "{pg_schema_of(db_url)}".runs IN SHARE MODE')
        proc = subprocess.Popen([SYNCD, "--config", str(site.config), "sync", "--allow-mass-deactivation"],
                                cwd=site.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "SYNCD_CONFIG": "", "PGAPPNAME": application})
        started = time.monotonic()
        _await_apply(proc, pg_role, application, blocked)
        restart_at = time.monotonic() - started
        _pg_ctl(pg_cluster, "restart", "-m", "fast")
        out, err = proc.communicate(timeout=120)       # a run that hangs on the dead connection fails here
    finally:
        blocker.close()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
    print(f"PostgreSQL restarted {restart_at:.2f}s into the run; the run failed {time.monotonic() - started:.2f}s "
          "after it started")
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


def _ad_cucm_site(root: Path, db_url: str, sim: Simulator, dc: SambaDC, url: str | None = None) -> AdCucmSite:
    """The site of tests/e2e/test_ad_cucm_sync.py, its AD source pointed at ``url`` (a relay) when given."""
    return AdCucmSite(root, db_url, sim, dc if url is None else dataclasses.replace(dc, url=url))


def _from_ad(state: dict[str, Any]) -> dict[str, Any]:
    """What the AD source wrote: its cursor, its source records, its journal rows."""
    return {"cursor": state["cursors"].get("ad"),
            "records": {k: v for k, v in state["records"].items() if k[0] == "ad"},
            "journal": {k: n for k, n in state["journal"].items() if k[2] == "ad"}}


@pytest.mark.samba
def test_samba_stopped_mid_read_fails_cleanly_and_the_next_run_converges(
        tmp_path: Path, db_url: str, ref_url: str, pg_role_or_none: str | None, samba_fresh: SambaDC):
    dc = samba_fresh
    eligible = [u.sam for u in dc.seed.live() if not u.disabled and u.expires is None and u.group is not None]
    with Simulator(30, seed=5, tls=True) as sim:
        for sam in eligible[:20]:
            sim.add_user(sam, f"{sam}@syncd.test", "Seeded", sam, status=1, ldap=True)
        site = _ad_cucm_site(tmp_path, db_url, sim, dc)
        first = site.json("sync", "--full")
        assert first["result"] == "applied" and [s["complete"] for s in first["sources"]] == [True, True], first
        # Pending work for both sources: two people disabled in AD, one made inactive in CUCM.
        ad_gone, cucm_gone = eligible[:2], eligible[2]
        for sam in ad_gone:
            dc.disable(sam)
        sim.set_status(cucm_gone, 2)
        snapshot = Snapshot(db_url, tmp_path, pg_role_or_none)
        snapshot.take()
        problems, before = site.inspect()
        assert problems == [] and all(before["people"][f"{sam}@syncd.test"][1] for sam in eligible[:3])

        try:
            with Relay(dc, stop_after=STOP_AFTER) as relay:
                proc = _ad_cucm_site(tmp_path, db_url, sim, dc, relay.url).run("sync", "--full", check=69)
            assert relay.stopped.is_set() and not dc.running(), "the read finished before the relay stopped the DC"
        finally:
            dc.start()
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert lines[0].startswith("syncd: source ad unavailable"), lines[0]
        problems, now = site.inspect()
        assert problems == []
        assert _from_ad(now) == _from_ad(before)          # no AD cursor moved, nothing from the partial read kept
        changed = {k for k in before["people"] | now["people"] if now["people"].get(k) != before["people"].get(k)}
        assert changed <= {f"{cucm_gone}@syncd.test"}, changed     # nobody deactivated because of AD

        healed = _ad_cucm_site(tmp_path, db_url, sim, dc).json("sync", "--full")
        assert healed["result"] == "applied" and [s["complete"] for s in healed["sources"]] == [True, True], healed
        (tmp_path / "ref").mkdir(exist_ok=True)
        ref = _ad_cucm_site(tmp_path / "ref", ref_url, sim, dc)
        snapshot.restore_into(ref_url)
        ref.run("sync", "--full")
    problems, now = site.inspect()
    _, after = ref.inspect()
    assert problems == []
    assert not any(now["people"][f"{sam}@syncd.test"][1] for sam in eligible[:3])
    # The failed run is recorded (partial, exit 69), and an AD cursor holds the DC's cookie and the time of its read;
    # everything else is what one uninterrupted run gives.
    extra = now["runs"] - after["runs"]
    assert sum(extra.values()) == 1 and next(iter(extra))[1:] == ("apply", "partial", 69), extra
    assert now["cursors"].keys() == after["cursors"].keys() == {"ad", "cucm"}
    assert now["cursors"]["cucm"] == after["cursors"]["cucm"]
    for state in (now, after):
        del state["runs"], state["cursors"]
    assert now == after, state_diff(now, after)
