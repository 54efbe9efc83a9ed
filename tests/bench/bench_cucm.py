"""Benchmark of the CUCM connector against the AXL simulator (not a pytest test).

    .venv/bin/python tests/bench/bench_cucm.py [--users 100000] [--page 1000] [--zeep-sample 10000]

One run prints, for a full read of N users: the connector's users/s, CPU per user and peak RSS (the connector
runs in a child process so its RSS is its own; speed is the best of several reads), its client start time; the
lxml parse floor of the very response bodies it received (records/s, measured between its reads, so both see
the same machine load); naive zeep object parsing with Cisco's full WSDL on a sample; and the ratios.
Targets: connector within 2x of the parse floor, >= 10x naive zeep, peak RSS < 200 MB, client start < 0.3 s.
Cisco's WSDL is read from $AXL_SCHEMA_DIR (default ../shared/axl-schema/14.0); without it the zeep part is skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def peak_rss_mb() -> float:
    """This process's RSS high-water mark (VmHWM: unlike ru_maxrss, not inherited from the forking parent)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(url: str, password: str, method: str, page: int, repeat: int) -> None:
    """In this fresh process: full reads (the first one alone sets the peak RSS figure), then the lxml floor on
    the very bodies those reads received, measured between reads so that both see the same machine load."""
    from datetime import UTC, datetime

    from connectors.cucm.client import AxlClient
    from connectors.cucm.connector import CucmConnector
    from connectors.cucm.options import CucmOptions

    rss_imports = peak_rss_mb()
    t0 = time.perf_counter()
    conn = CucmConnector(CucmOptions(name="bench", url=url, username="axl", password=password, method=method,
                                     page_size=page, ldap_flag="ad", insecure=url.startswith("http://")))
    start_s = time.perf_counter() - t0

    def one_read() -> tuple[float, float, int]:
        cpu0, t1 = time.process_time(), time.perf_counter()
        batch = conn.read(None, True, datetime.now(UTC))
        wall, cpu = time.perf_counter() - t1, time.process_time() - cpu0
        assert batch.complete, batch.error
        return wall, cpu, len(batch.records)

    runs = [one_read()]
    peak = peak_rss_mb()
    bodies: list[bytes] = []
    keep = AxlClient._payload

    def keeping(self: AxlClient, op: str, status: int, ctype: str, body: bytes):  # type: ignore[no-untyped-def]
        if op in ("executeSQLQuery", "listUser"):
            bodies.append(body)
        return keep(self, op, status, ctype, body)

    AxlClient._payload = keeping  # type: ignore[method-assign]
    runs.append(one_read())
    AxlClient._payload = keep  # type: ignore[method-assign]
    floors = []
    for _ in range(repeat):
        floors.append(parse_floor(bodies))
        runs.append(one_read())
    conn.close()
    wall, _, users = min(runs)
    n, floor_s = min(floors, key=lambda f: f[1])
    print(json.dumps({"users": users, "wall": wall, "cpu": min(r[1] for r in runs), "start": start_s,
                      "rss_imports_mb": rss_imports, "peak_rss_mb": peak, "floor_records": n,
                      "floor_s": floor_s, "body_mb": sum(map(len, bodies)) / 1e6}))


def run_child(url: str, password: str, method: str, page: int, repeat: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", url, password, method, str(page), str(repeat)],
                         capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_floor(bodies: list[bytes]) -> tuple[int, float]:
    """Parse each body with lxml and touch every field once: the least any lxml reader can do."""
    from lxml import etree

    t = time.perf_counter()
    n = 0
    for body in bodies:
        ret = etree.fromstring(body)[0][0][0]
        for rec in ret:
            n += 1
            for c in rec:
                c.text  # noqa: B018
    return n, time.perf_counter() - t


def naive_zeep(url: str, password: str, sample: int, page: int) -> tuple[int, float, float] | None:
    """listUser through zeep with Cisco's full WSDL and zeep's own object parsing (what the samples do)."""
    wsdl = Path(os.environ.get("AXL_SCHEMA_DIR") or REPO.parent / "shared" / "axl-schema" / "14.0") / "AXLAPI.wsdl"
    if not wsdl.is_file():
        return None
    import requests
    import zeep
    from zeep.transports import Transport

    s = requests.Session()
    s.auth = ("axl", password)
    t = time.perf_counter()
    client = zeep.Client(str(wsdl), transport=Transport(session=s))
    svc = client.create_service("{http://www.cisco.com/AXLAPIService/}AXLAPIBinding", url)
    build = time.perf_counter() - t
    from connectors.cucm.connector import LIST_TAGS

    n = 0
    t = time.perf_counter()
    for skip in range(0, sample, page):
        resp = svc.listUser(searchCriteria={"userid": "%"}, returnedTags=LIST_TAGS, skip=skip, first=page)
        users = resp["return"].user if resp["return"] is not None else []
        n += sum(1 for u in users if u.uuid)
    return n, time.perf_counter() - t, build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--page", type=int, default=1000)
    ap.add_argument("--zeep-sample", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3, help="connector runs per method (the best is shown)")
    ap.add_argument("--child", nargs=5, metavar=("URL", "PASSWORD", "METHOD", "PAGE", "REPEAT"),
                    help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child[0], a.child[1], a.child[2], int(a.child[3]), int(a.child[4]))
        return

    from connectors.axlsim import Simulator

    with Simulator(a.users, seed=1) as sim:
        print(f"AXL simulator: {a.users} users at {sim.url}; page size {a.page}")
        results = {}
        for method in ("sql", "list"):
            r = run_child(sim.url, sim.password, method, a.page, a.repeat)
            n, floor_s = r["floor_records"], r["floor_s"]
            assert r["users"] == a.users, r
            results[method] = r
            print(f"\n[{method}] {r['body_mb']:.1f} MB of responses")
            print(f"  connector : {r['users'] / r['wall']:>9,.0f} users/s wall ({r['wall']:.2f} s), "
                  f"{r['cpu'] / r['users'] * 1e6:.1f} us CPU/user, peak RSS {r['peak_rss_mb']:.0f} MB "
                  f"(after imports {r['rss_imports_mb']:.0f} MB), client start {r['start'] * 1000:.0f} ms")
            print(f"  lxml floor: {n / floor_s:>9,.0f} records/s ({floor_s / n * 1e6:.1f} us/record)")
            print(f"  ratio     : connector wall / floor = {(r['wall'] / r['users']) / (floor_s / n):.2f}x, "
                  f"connector CPU / floor = {(r['cpu'] / r['users']) / (floor_s / n):.2f}x")
        z = naive_zeep(sim.url, sim.password, min(a.zeep_sample, a.users), a.page)
        if z is None:
            print("\nnaive zeep: skipped (Cisco's AXLAPI.wsdl not found; set AXL_SCHEMA_DIR)")
        else:
            zn, zt, zbuild = z
            print(f"\nnaive zeep (full WSDL, listUser objects, {zn} users): {zn / zt:,.0f} users/s; "
                  f"client build {zbuild:.2f} s")
            for method, r in results.items():
                print(f"  connector [{method}] / naive zeep = {(r['users'] / r['wall']) / (zn / zt):.1f}x faster")
        print("\ntargets: wall <= 2x floor, >= 10x naive zeep, peak RSS < 200 MB, client start < 0.3 s")


if __name__ == "__main__":
    main()
