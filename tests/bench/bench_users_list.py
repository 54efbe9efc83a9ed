"""Benchmark: `syncd users list` (``--json`` and text) of N people, each with a CUCM record, into /dev/null.

Run: `.venv/bin/python tests/bench/bench_users_list.py [--people 400000] [--no-postgres]` (PostgreSQL: a fresh
schema of database ``test`` on 127.0.0.1:5432, dropped afterwards). The database is built with the store's bulk
writers (no sync: the listing is what is measured): N people, a CUCM file-source record for each, a license for
every tenth. Each listing runs in a fresh `syncd` process; prints, from one run, its wall seconds and people per
second, its CPU seconds and people per CPU second (the figure that holds when other work shares the machine),
peak RSS, and PostgreSQL's wall time as a ratio of SQLite's. Not a test: nothing here fails on a time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors.cucm.fact import CucmFact  # noqa: E402
from syncd.store import bulk  # noqa: E402
from syncd.store.db import begin_write, make_engine  # noqa: E402
from syncd.store.migrate import upgrade  # noqa: E402
from tests.bench.measure import pg_schema  # noqa: E402

SYNCD = shutil.which("syncd", path=str(Path(sys.executable).parent)) or "syncd"
KINDS = ("permanent", "grace", "demonstration")


def _people(n: int, now: datetime) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """The person row and the CUCM record row of each of ``n`` people."""
    for i in range(n):
        f = CucmFact(f"00000000-0000-4000-8000-{i:012d}", f"user{i:06d}@example.com", f"user{i:06d}@Example.com",
                     f"user{i:06d}", f"User {i}", 1, i % 5 != 0)
        person = {"email": f.email, "display_name": f.name, "active": True, "deleted": False,
                  "management": "remote" if f.ldap_synced else "local", "in_cucm": True, "ad_guid": None,
                  "inactive_reason": None, "created_at": now, "updated_at": now, "deactivated_at": None,
                  "last_hosted_at": None, "first_grace_at": None}
        record = {"source": "cucm", "source_key": f.key, "email_key": f.email, "person_id": None, "active": True,
                  "data": f.to_data(), "digest": f.digest, "seen_at": now, "run_id": None}
        yield person, record


def build(url: str, n: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    try:
        with begin_write(engine) as conn:
            pairs = list(_people(n, now))
            ids = bulk.upsert_people(conn, (p for p, _ in pairs), ids_for={p["email"] for p, _ in pairs[::10]})
            bulk.upsert_source_records(conn, (r for _, r in pairs))
            bulk.upsert_licenses(conn, (
                {"person_id": pid, "kind": KINDS[k % 3], "management": "local", "assigned_at": now,
                 "expires_at": None if KINDS[k % 3] == "permanent" else now + timedelta(days=180),
                 "state": "active", "demo_grant_id": None}
                for k, pid in enumerate(ids.values()) if KINDS[k % 3] != "demonstration"))
    finally:
        engine.dispose()


def listing(config: Path, *args: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one `syncd users list` in a fresh child process, output to
    /dev/null. The CPU seconds (user + system) are what the listing costs when other work shares the cores."""
    code = ("import json, resource, subprocess, sys, time; t = time.monotonic(); "
            "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); w = time.monotonic() - t; "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(json.dumps({'wall': w, 'cpu': u.ru_utime + u.ru_stime, 'rss': u.ru_maxrss / 1024}))")
    out = subprocess.run([sys.executable, "-c", code, SYNCD, "--config", str(config), *args, "users", "list"],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["wall"], r["cpu"], r["rss"]


def bench(label: str, url: str, root: Path, n: int) -> dict[str, tuple[float, float, float]]:
    build(url, n)
    config = root / f"{label}.toml"
    config.write_text(f'[database]\nurl = "{url}"\n\n[[sources.file]]\nname = "cucm"\nkind = "cucm"\n'
                      f'path = "{root / "cucm.jsonl"}"\n')
    config.chmod(0o600)
    check = json.loads(subprocess.run([SYNCD, "--config", str(config), "--json", "users", "list", "--license",
                                       "grace"], check=True, capture_output=True, text=True).stdout)
    assert len(check) == len(range(0, n, 10)[1::3]) and all(p["sources"]["cucm"]["userid"] for p in check)
    return {"json": listing(config, "--json"), "text": listing(config)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=400_000)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    results: dict[str, dict[str, tuple[float, float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "cucm.jsonl").write_text("")
        results["sqlite"] = bench("sqlite", f"sqlite:///{root / 'syncd.db'}", root, args.people)
        if not args.no_postgres:
            with pg_schema() as url:
                results["postgresql"] = bench("postgresql", url, root, args.people)
    print(f"`syncd users list` of {args.people:,} people (one run each, output to /dev/null)")
    print(f"{'database':<12}{'output':<8}{'seconds':>9}{'people/s':>11}{'CPU s':>8}{'people/CPU s':>14}"
          f"{'peak MiB':>10}{'vs SQLite':>11}")
    for db, rows in results.items():
        for form, (wall, cpu, rss) in rows.items():
            ratio = f"{wall / results['sqlite'][form][0]:.2f}x" if db != "sqlite" else ""
            print(f"{db:<12}{form:<8}{wall:>9.2f}{args.people / wall:>11,.0f}{cpu:>8.2f}{args.people / cpu:>14,.0f}"
                  f"{rss:>10.0f}{ratio:>11}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
