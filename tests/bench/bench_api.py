"""Benchmark: the daemon's meetings API under sustained load from a second process, idle and during syncs.

Run: `.venv/bin/python tests/bench/bench_api.py [--users 20000] [--hosts 1000] [--seconds 60] [--connections 4]
[--no-postgres] [--no-sqlite] [--py-spy DIR]` (PostgreSQL: a fresh schema of database ``test`` on 127.0.0.1:5432,
dropped afterwards; ``--py-spy DIR``: `py-spy record` of the daemon during each load, raw stacks in
DIR/DB-CONDITION.txt).

For each database: a full `syncd sync` of ``--users`` CUCM users from the AXL simulator, ``--hosts`` Permanent
licenses purchased and reserved for as many active people (the functions `syncd licenses` calls), then the real
daemon (`syncd run`, tests/integration/daemon/harness.py) on 127.0.0.1 with an API token. A load client in a
child process (this file with ``--client``; http.client keep-alive, one connection per thread, each thread owning
its own hosts) drives the API for ``--seconds``: meeting start or end for a random host (85%), a person read (10%),
the license report (5%). It runs twice: idle, and while the daemon runs a full sync and then incremental syncs of
100 changed people back to back (POST /api/v1/sync, the daemon's own sync path).

Expected statuses: 201 (meeting started), 200 (meeting ended, reads). A client never asks for something the policy
refuses (every host is licensed and has at most one open meeting of its own), so every other status, and every
failed connection, counts as an error. Prints one table: requests/s, p50/p99/max latency, errors; p99 during the
syncs as a ratio of idle. Not a test: nothing here fails on a time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

from connectors.axlsim import Simulator  # noqa: E402

EXPECTED = {201, 200}
CHANGES = 100           # people changed in the simulator before each incremental sync of the "sync" condition


# -- the load client (a child process) ---------------------------------------------------------------------

def _request(conn: http.client.HTTPConnection, method: str, path: str, token: str,
             body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    try:
        return resp.status, json.loads(raw)
    except ValueError:
        return resp.status, {"error": raw.decode(errors="replace")}


def _pick(rng: random.Random, hosts: list[str], open_ids: dict[str, str], run: str, n: int
          ) -> tuple[str, str, str, dict[str, Any] | None]:
    """The next request: (op, method, path, body). Starts and ends alternate about evenly."""
    r = rng.random()
    if r < 0.10:
        return "person", "GET", f"/api/v1/people/{quote(rng.choice(hosts))}", None
    if r < 0.15:
        return "licenses", "GET", "/api/v1/licenses", None
    if r < 0.575 and open_ids:
        return "end", "DELETE", f"/api/v1/meetings/{open_ids[rng.choice(list(open_ids))]}", None
    who = rng.choice([h for h in hosts if h not in open_ids] or hosts)
    return "start", "POST", "/api/v1/meetings", {"host": who, "meeting_id": f"{run}-{n}-{rng.getrandbits(40):x}"}


def _worker(n: int, address: str, token: str, hosts: list[str], until: float, out: list[tuple[str, int, str, float]],
            ends: list[float]) -> None:
    """Requests back to back until ``until``; appends (op, status, error, milliseconds) per request."""
    host, port = urlsplit(address).hostname, urlsplit(address).port
    conn = http.client.HTTPConnection(host, port, timeout=120)
    rng = random.Random(n)
    run = uuid.uuid4().hex[:8]          # meeting ids are never reused, not even those of ended meetings
    open_ids: dict[str, str] = {}       # host -> the id of the meeting this thread opened for it
    while time.monotonic() < until:
        op, method, path, body = _pick(rng, hosts, open_ids, run, n)
        t = time.perf_counter()
        try:
            status, answer = _request(conn, method, path, token, body)
            error = "" if status in EXPECTED else str(answer.get("error", answer))[:80]
        except (OSError, http.client.HTTPException) as e:
            status, error = 0, type(e).__name__
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=120)
        out.append((op, status, error, (time.perf_counter() - t) * 1000))
        if op == "start" and status == 201:
            open_ids[body["host"]] = body["meeting_id"]  # type: ignore[index]
        elif op == "end" and status == 200:
            del open_ids[next(h for h, mid in open_ids.items() if path.endswith("/" + mid))]
    ends.append(time.monotonic())
    for mid in open_ids.values():      # leave no meeting open for the next condition
        _request(conn, "DELETE", f"/api/v1/meetings/{mid}", token)
    conn.close()


def client_main(address: str, token_file: str, hosts_file: str, seconds: float, connections: int) -> int:
    token = Path(token_file).read_text().strip()
    hosts = json.loads(Path(hosts_file).read_text())
    out: list[tuple[str, int, str, float]] = []
    until = time.monotonic() + seconds
    started = time.monotonic()
    ends: list[float] = []
    threads = [threading.Thread(target=_worker, args=(i, address, token, hosts[i::connections], until, out, ends))
               for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump({"wall": max(ends) - started, "samples": out}, sys.stdout)
    return 0


# -- the benchmark -----------------------------------------------------------------------------------------

@dataclass
class Result:
    wall: float
    samples: list[tuple[str, int, str, float]]
    syncs: list[tuple[str, float, str]] = field(default_factory=list)

    def ms(self, op: str | None = None) -> list[float]:
        return sorted(s[3] for s in self.samples if op is None or s[0] == op)

    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for op, status, error, _ in self.samples:
            if status not in EXPECTED:
                key = f"{op} {status} {error}"
                out[key] = out.get(key, 0) + 1
        return out


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def load(d: Any, hosts_file: Path, args: argparse.Namespace, name: str) -> Result:
    """The load client as a child process against daemon ``d`` (and py-spy on the daemon with ``--py-spy``)."""
    spy = None
    if args.py_spy:
        out = Path(args.py_spy) / f"{name}.txt"
        # --idle: time spent waiting (locks, fsync, the SQLite busy handler) shows too; --nonblocking: the
        # daemon is never paused for a sample
        spy = subprocess.Popen([shutil.which("py-spy") or "py-spy", "record", "--pid", str(d.proc.pid), "--idle",
                                "--nonblocking", "--format", "raw", "--rate", "200", "--duration",
                                str(int(args.seconds)), "-o", str(out)], stdout=subprocess.DEVNULL)
    proc = subprocess.run([sys.executable, __file__, "--client", d.base_url, str(d.root / "api.token"),
                           str(hosts_file), str(args.seconds), str(args.connections)], capture_output=True, text=True)
    if spy is not None:
        spy.wait()
    print(f"{name}: load average {os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} CPUs)", flush=True)
    if proc.returncode != 0 or proc.stderr:
        raise SystemExit(f"load client failed ({proc.returncode}): {proc.stderr[-3000:]}")
    got = json.loads(proc.stdout)
    return Result(got["wall"], [tuple(s) for s in got["samples"]])  # type: ignore[misc]


def syncing(d: Any, sim: Simulator, changers: list[str], stop: threading.Event, out: list[tuple[str, float, str]]
            ) -> None:
    """A full sync through the daemon, then incremental syncs of CHANGES changed people, until ``stop``."""
    import httpx

    from tests.integration.daemon.harness import TOKEN

    with httpx.Client(base_url=d.base_url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=600) as api:
        full, rnd = True, 0
        while not stop.is_set():
            if not full:
                batch = changers[(rnd // 2) * CHANGES % len(changers):][:CHANGES]
                for userid in batch:        # odd rounds deactivate a batch, even rounds bring it back
                    sim.set_status(userid, 2 if rnd % 2 == 0 else 1)
                rnd += 1
            t = time.monotonic()
            r = api.post("/api/v1/sync", json={"full": full, "wait": True})
            result = r.json().get("result", r.text[:80]) if r.status_code == 200 else f"HTTP {r.status_code}"
            out.append(("full" if full else "incremental", time.monotonic() - t, result))
            full = False
    for userid in changers:
        sim.set_status(userid, 1)


def prepare(label: str, db_url: str, sim: Simulator, root: Path, hosts_n: int) -> tuple[Any, list[str], Path]:
    """A store synced from ``sim`` with ``hosts_n`` licensed hosts, and the daemon on it (started)."""
    from syncd.app import App
    from syncd.licensing import admin
    from syncd.settings import load_config
    from tests.integration.daemon.harness import Daemon, wait_for

    site = root / label
    site.mkdir()
    d = Daemon(site, db_url, sim.url, sim.username, sim.password, str(sim.ca_file), incremental_every="24h")
    t = time.monotonic()
    d.run("sync", "--full")
    synced = time.monotonic() - t
    active = [p["email"] for p in d.json("users", "list", "--state", "active") if p["license"] is None]
    hosts = random.Random(3).sample(active, hosts_n)
    rt = App(config=load_config(str(d.config)), actor="bench")
    t = time.monotonic()
    admin.purchase(rt, hosts_n)
    for email in hosts:
        admin.reserve(rt, email)
    rt.engine.dispose()
    print(f"{label}: full sync {synced:.1f} s; {hosts_n} licenses purchased and reserved in "
          f"{time.monotonic() - t:.1f} s", flush=True)
    hosts_file = site / "hosts.json"
    hosts_file.write_text(json.dumps(hosts))
    d.start()
    # the daemon runs its first incremental sync at once: wait for it, so that "idle" is idle
    wait_for("the daemon's first sync", lambda: any("(scheduler)" in m.get("STATUS", "")
                                                     for m in list(d.notify.messages)))
    return d, hosts, hosts_file


def bench(label: str, db_url: str, sim: Simulator, root: Path, args: argparse.Namespace) -> dict[str, Result]:
    d, hosts, hosts_file = prepare(label, db_url, sim, root, args.hosts)
    try:
        taken = set(hosts)
        changers = [u.userid for u in sim.population
                    if u.status == 1 and u.mailid and u.mailid.lower() not in taken][:10 * CHANGES]
        out = {"idle": load(d, hosts_file, args, f"{label}-idle")}
        print(f"{label}: idle done", flush=True)
        stop = threading.Event()
        syncs: list[tuple[str, float, str]] = []
        th = threading.Thread(target=syncing, args=(d, sim, changers, stop, syncs))
        th.start()
        try:
            out["during sync"] = load(d, hosts_file, args, f"{label}-sync")
        finally:
            stop.set()
            th.join()
        out["during sync"].syncs = syncs
        print(f"{label}: during sync done", flush=True)
        failures = [line for line in d.lines if '"level": "error"' in line or "Traceback" in line]
        print(f"{label}: {len(failures)} error lines in the daemon's log" + "".join(
            f"\n  {line[:300]}" for line in failures[:5]), flush=True)
        d.run("db", "verify")
        if d.stop() != 0:
            raise SystemExit(f"the {label} daemon did not stop cleanly:\n" + "\n".join(d.lines[-20:]))
        return out
    finally:
        d.close()


def report(results: dict[str, dict[str, Result]]) -> None:
    print(f"\n{'database':<11} {'condition':<12} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>8} {'errors':>7} {'p99 vs idle':>12}")
    for db, runs in results.items():
        idle_p99 = pct(runs["idle"].ms(), 0.99)
        for cond, r in runs.items():
            ms = r.ms()
            p99 = pct(ms, 0.99)
            print(f"{db:<11} {cond:<12} {len(ms):9d} {len(ms) / r.wall:7.1f} {pct(ms, 0.5):7.1f} {p99:7.1f} "
                  f"{ms[-1]:8.1f} {sum(r.errors().values()):7d} {p99 / idle_p99:11.2f}x")
    print(f"\n{'database':<11} {'condition':<12} {'op':<9} {'requests':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8}")
    for db, runs in results.items():
        for cond, r in runs.items():
            for op in ("start", "end", "person", "licenses"):
                ms = r.ms(op)
                print(f"{db:<11} {cond:<12} {op:<9} {len(ms):9d} {pct(ms, 0.5):7.1f} {pct(ms, 0.99):7.1f} "
                      f"{ms[-1] if ms else float('nan'):8.1f}")
    for db, runs in results.items():
        for cond, r in runs.items():
            for what, n in sorted(r.errors().items()):
                print(f"errors {db} {cond}: {n} x {what}")
            if r.syncs:
                kinds = {k: [s for s in r.syncs if s[0] == k] for k in ("full", "incremental")}
                print(f"syncs {db} {cond}: " + "; ".join(
                    f"{len(v)} {k} (median {statistics.median(s[1] for s in v):.1f} s, "
                    f"results {sorted({s[2] for s in v})})" for k, v in kinds.items() if v))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        address, token_file, hosts_file, seconds, connections = sys.argv[2:7]
        return client_main(address, token_file, hosts_file, float(seconds), int(connections))
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--hosts", type=int, default=1000, help="licensed hosts the client starts meetings for")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--connections", type=int, default=4, help="client threads, one keep-alive connection each")
    ap.add_argument("--no-postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--py-spy", metavar="DIR", help="profile the daemon under load (py-spy on $PATH): raw stacks")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-api-"))
    results: dict[str, dict[str, Result]] = {}
    try:
        with Simulator(args.users, seed=11, tls=True) as sim:
            if not args.no_sqlite:
                results["sqlite"] = bench("sqlite", f"sqlite:///{root / 'syncd.db'}", sim, root, args)
            if not args.no_postgres:
                results["postgresql"] = bench_postgres(sim, root, args)
    finally:        # a database that failed (a shared PostgreSQL restarted) still leaves the others' figures
        shutil.rmtree(root, ignore_errors=True)
        report(results)
    return 0


def bench_postgres(sim: Simulator, root: Path, args: argparse.Namespace) -> dict[str, Result]:
    from tests.pgfixture import schema_url

    role = os.environ.get("SYNCD_TEST_PG_USER", "postgres")
    conninfo = f"host=127.0.0.1 dbname=test user={role}"
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(conninfo, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    try:
        return bench("postgresql", schema_url(role, schema), sim, root, args)
    finally:
        try:
            with psycopg.connect(conninfo, autocommit=True) as c:
                c.execute(f'DROP SCHEMA "{schema}" CASCADE')
        except psycopg.OperationalError:
            print(f"postgresql: schema {schema} of database test left behind (server unavailable)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
