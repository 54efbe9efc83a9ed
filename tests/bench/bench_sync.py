"""Benchmark: a whole `syncd sync` of N CUCM users from the AXL simulator and M AD accounts from the Samba AD DC
of tests/integration/samba, into SQLite and PostgreSQL.

Run: `.venv/bin/python tests/bench/bench_sync.py [--users 400000] [--samba 10000] [--no-postgres]` (`--samba 0`
leaves AD out; seeding 10,000 Samba users takes minutes the first time, then comes from a cache). Prints, from
one run: wall seconds (and how much of it was the slowest source read), users/s and peak RSS of the `syncd`
process for the first full sync, an incremental sync after 100 CUCM changes, and a no-change sync; PostgreSQL
figures also as a ratio of SQLite's. Not a test: nothing here fails on a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.axlsim import Simulator
from tests.bench.measure import pg_schema, timed


def run(config: Path, *args: str) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and the sources' own seconds of one `syncd sync` in a fresh child process.

    The sources are read at the same time, so their own latency is the slowest read (``sources[].seconds`` of
    the `--json` output): what is left of the wall time is syncd's."""
    wall, rss, out = timed(config, "--json", *args)
    sources = max(s["seconds"] for s in json.loads(out)["sources"])
    return wall, rss, sources


def _ad_source(dc: Any, root: Path) -> str:
    secret = root / "ad.secret"
    secret.write_text(dc.password)
    secret.chmod(0o600)
    return (f'[[sources.ad]]\nname = "ad"\nurls = ["{dc.url}"]\nbind_dn = "{dc.bind_dn}"\n'
            f'password_file = "{secret}"\nca_file = "{dc.ca_file}"\ntls_name = "{dc.tls_name}"\n'
            f'base_dns = ["{dc.users_ou}"]\npage_size = 1000\n\n')


def bench(label: str, db_url: str, sim: Simulator, root: Path, ad: str) -> dict[str, tuple[float, float, float]]:
    secret = root / f"{label}.secret"
    secret.write_text(sim.password)
    secret.chmod(0o600)
    config = root / f"{label}.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n\n[[sources.cucm]]\nname = "cucm"\nurl = "{sim.url}"\n'
                      f'username = "{sim.username}"\npassword_file = "{secret}"\nca_file = "{sim.ca_file}"\n'
                      f'page_size = 5000\n\n{ad}[safety]\nmax_deactivations = 1000000\n')
    config.chmod(0o600)
    sim.reset_queue()
    out = {"full": run(config, "sync", "--full")}
    active = [u.userid for u in sim.population if u.status == 1][:100]
    for userid in active:
        sim.set_status(userid, 2)
    out["incremental (100 changes)"] = run(config, "sync")
    out["no change"] = run(config, "sync")
    for userid in active:
        sim.set_status(userid, 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=400_000)
    ap.add_argument("--samba", type=int, default=10_000, help="AD accounts seeded in Samba (0: no AD source)")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    with contextlib.ExitStack() as stack:
        ad = ""
        if args.samba:
            from tests.integration.samba import harness

            started = time.monotonic()
            stack.enter_context(harness.machine_lock())
            dc = harness.bring_up(harness.WORKDIR, args.samba)
            stack.callback(dc.stop)
            ad = _ad_source(dc, root)
            print(f"Samba AD DC: {args.samba} users ready in {time.monotonic() - started:.1f} s")
        started = time.monotonic()
        sim = stack.enter_context(Simulator(args.users, seed=11, tls=True))
        print(f"simulator: {args.users} users ready in {time.monotonic() - started:.1f} s")
        results["sqlite"] = bench("sqlite", f"sqlite:///{root / 'syncd.db'}", sim, root, ad)
        if not args.no_postgres:
            with pg_schema() as url:
                results["postgresql"] = bench("pg", url, sim, root, ad)
    shutil.rmtree(root, ignore_errors=True)
    total = args.users + args.samba
    print(f"\n{args.users} CUCM users + {args.samba} AD accounts; {os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d')}")
    print(f"{'database':<11} {'run':<27} {'seconds':>8} {'sources':>8} {'syncd':>6} {'users/s':>9} "
          f"{'peak RSS MiB':>13} {'MB':>5} {'vs SQLite':>10}")
    for db, runs in results.items():
        for name, (wall, rss, sources) in runs.items():
            ratio = wall / results["sqlite"][name][0]
            print(f"{db:<11} {name:<27} {wall:8.2f} {sources:8.2f} {wall - sources:6.2f} {total / wall:9.0f} "
                  f"{rss:13.0f} {rss * 1.048576:5.0f} {ratio:9.2f}x")
    print("sources: the slowest source read (they overlap); syncd: the rest of the wall time; MB: 10^6 bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
