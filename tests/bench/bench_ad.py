"""AD connector benchmark against a Samba AD DC (a script, not a pytest test).

    .venv/bin/python tests/bench/bench_ad.py [--users 10000] [--rounds 3] [--json]

Brings up the harness DC with ``--users`` seeded users (seeding 10,000 takes 2-4 minutes the first time; the
seeded DC is cached under /tmp/syncd-samba-cache afterwards), then measures, each in a fresh child process so the
peak RSS is the reader's own:
- a raw ldap3 paged search of the same attributes and filter (entries counted, nothing kept);
- the connector's full read without a host group, and with the host group (its nested-membership query and the
  tombstone search included);
and finally, in this process, one incremental DirSync round (and one uSNChanged round) after 100 changes.
Samba is not Windows AD: the figures compare the connector with raw ldap3 on the same server in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ldap3 import NONE, SIMPLE, SUBTREE, Connection, Server  # noqa: E402

from connectors.ad.connector import AdConnector  # noqa: E402
from connectors.ad.options import AdOptions  # noqa: E402
from connectors.ad.records import AdUser  # noqa: E402
from connectors.ad.session import tls_for  # noqa: E402
from connectors.ad.values import PERSON_FILTER, USER_ATTRIBUTES  # noqa: E402
from tests.integration.samba import harness  # noqa: E402

PAGE = 500


def options(dc_dir: Path, *, host_group: bool, mode: str = "dirsync") -> AdOptions:
    return AdOptions(name="ad", urls=[harness.LDAPS_URL], bind_dn=harness.SERVICE_DN,
                     password=harness.SERVICE_PASSWORD, ca_file=str(harness.ca_file(dc_dir)),
                     tls_name=harness.TLS_NAME, base_dns=[harness.USERS_OU],
                     host_group=harness.HOST_GROUP_DN if host_group else "", mode=mode, page_size=PAGE,
                     receive_timeout=120.0)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(kind: str, dc_dir: Path) -> dict[str, Any]:
    """One measurement in this (fresh) process."""
    base_rss = peak_rss_mib()
    t0 = time.perf_counter()
    if kind == "raw":
        opts = options(dc_dir, host_group=False)
        server = Server("127.0.0.1", port=636, use_ssl=True, tls=tls_for(opts), get_info=NONE)
        conn = Connection(server, opts.bind_dn, opts.password, authentication=SIMPLE, auto_bind=True,
                          receive_timeout=120)
        n = 0
        for e in conn.extend.standard.paged_search(harness.USERS_OU, PERSON_FILTER, SUBTREE,
                                                   attributes=USER_ATTRIBUTES, paged_size=PAGE, generator=True):
            if e["type"] == "searchResEntry":
                n += 1
        conn.unbind()
    else:
        conn_ = AdConnector(options(dc_dir, host_group=kind == "connector+group"))
        batch = conn_.read(None, True, datetime.now(UTC))
        conn_.close()
        if not batch.complete:
            raise SystemExit(f"incomplete read: {batch.error}")
        n = sum(1 for r in batch.records if isinstance(r, AdUser) and not r.deleted)
    seconds = time.perf_counter() - t0
    return {"kind": kind, "users": n, "seconds": seconds, "users_per_s": n / seconds,
            "peak_rss_mib": peak_rss_mib(), "rss_before_read_mib": base_rss}


def run_child(kind: str, dc_dir: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--dir", str(dc_dir)], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def make_changes(dc: harness.SambaDC, n: int = 100) -> None:
    """n changes to n distinct users: disable, change mail, add to the nested group, delete (a quarter each)."""
    live = [u for u in dc.seed.live() if not u.disabled and u.group is None]
    quarter = n // 4
    for u in live[:quarter]:
        dc.disable(u.sam)
    for u in live[quarter:2 * quarter]:
        dc.set_mail(u.sam, f"changed.{u.sam}@syncd.test")
    for u in live[2 * quarter:3 * quarter]:
        dc.add_member(dc.nested_group_dn, u.sam)
    for u in live[3 * quarter:n]:
        dc.delete(u.sam)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3, help="repetitions of each full-read measurement")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.dir))))
        return 0

    results: dict[str, Any] = {"users_seeded": args.users}
    with harness.machine_lock():
        t0 = time.perf_counter()
        dc = harness.bring_up(harness.WORKDIR, args.users)
        results["bring_up_s"] = round(time.perf_counter() - t0, 1)
        try:
            runs: dict[str, list[dict[str, Any]]] = {}
            for _ in range(args.rounds):
                for kind in ("raw", "connector", "connector+group"):
                    runs.setdefault(kind, []).append(run_child(kind, dc.directory))
            results["full_read"] = {
                kind: {"users": rs[0]["users"],
                       "users_per_s_median": round(statistics.median(r["users_per_s"] for r in rs)),
                       "seconds_median": round(statistics.median(r["seconds"] for r in rs), 2),
                       "peak_rss_mib_max": round(max(r["peak_rss_mib"] for r in rs), 1),
                       "rss_before_read_mib": round(rs[0]["rss_before_read_mib"], 1)}
                for kind, rs in runs.items()
            }
            now = datetime.now(UTC)
            cursors = {}
            for mode in ("dirsync", "usn"):
                c = AdConnector(options(dc.directory, host_group=True, mode=mode))
                cursors[mode] = c.read(None, True, now).cursor
                c.close()
            make_changes(dc, 100)
            results["incremental_after_100_changes"] = {}
            for mode in ("dirsync", "usn"):
                c = AdConnector(options(dc.directory, host_group=True, mode=mode))
                t1 = time.perf_counter()
                batch = c.read(json.loads(json.dumps(cursors[mode])), False, now)
                seconds = time.perf_counter() - t1
                c.close()
                results["incremental_after_100_changes"][mode] = {
                    "seconds": round(seconds, 2), "records": len(batch.records), "complete": batch.complete,
                    "full": batch.full, "cursor_bytes": len(json.dumps(batch.cursor))}
        finally:
            harness.stop(dc.directory)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"Samba AD DC, {args.users} seeded users (bring-up {results['bring_up_s']} s)")
    print(f"{'full read':18} {'users':>6} {'users/s':>8} {'s':>6} {'peak RSS MiB':>13} {'RSS before':>11}")
    for kind, r in results["full_read"].items():
        print(f"{kind:18} {r['users']:>6} {r['users_per_s_median']:>8} {r['seconds_median']:>6} "
              f"{r['peak_rss_mib_max']:>13} {r['rss_before_read_mib']:>11}")
    for mode, r in results["incremental_after_100_changes"].items():
        print(f"incremental {mode} after 100 changes: {r['seconds']} s, {r['records']} records, "
              f"complete={r['complete']} full={r['full']}, cursor {r['cursor_bytes']} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
