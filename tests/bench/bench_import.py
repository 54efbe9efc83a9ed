"""Benchmark: `syncd licenses import` of N holdings (DESIGN.md 12) into a site of N people, then `syncd db verify`.

Run: `.venv/bin/python tests/bench/bench_import.py [--rows 400000] [--postgres]`. The people come from a file
source (one `syncd sync`); the holdings file is UTF-8, comma-separated, every row a Permanent. Prints, from one
run: the sync's seconds, the import's seconds, rows/s and peak RSS, and the verify's seconds and verdict. Not a
test: nothing here fails on a time.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.measure import pg_schema, timed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--postgres", action="store_true", help="PostgreSQL on 127.0.0.1:5432 instead of SQLite")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-import-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        url = stack.enter_context(pg_schema()) if args.postgres else f"sqlite:///{root / 'syncd.db'}"
        users = root / "users.jsonl"
        with users.open("w") as fh:
            for n in range(1, args.rows + 1):
                fh.write(json.dumps({"uuid": f"00000000-0000-4000-8000-{n:012d}", "userid": f"user{n}",
                                     "mailid": f"user{n}@example.com", "firstname": "User", "lastname": str(n),
                                     "status": 1, "ldap_synced": False}) + "\n")
        holdings = root / "holdings.csv"
        with holdings.open("w", encoding="utf-8") as fh:
            fh.write("email,kind,assigned_at\n")
            for n in range(1, args.rows + 1):
                fh.write(f"user{n}@example.com,permanent,2026-01-0{1 + n % 9}T09:00:00Z\n")
        config = root / "syncd.toml"
        config.write_text(f'[database]\nurl = "{url}"\n\n[[sources.file]]\nname = "cucm"\nkind = "cucm"\n'
                          f'path = "{users}"\n\n[safety]\nmax_deactivations = 1000000\n')
        config.chmod(0o600)
        sync, _, _ = timed(config, "sync")
        timed(config, "licenses", "set-installed", str(args.rows))
        wall, rss, out = timed(config, "--json", "licenses", "import", str(holdings))
        imported = json.loads(out)["imported"]
        verify, _, verdict = timed(config, "db", "verify")
    print(f"\n{args.rows} holdings into {args.rows} people ({'PostgreSQL' if args.postgres else 'SQLite'}); "
          f"{os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d')}")
    print(f"sync of the people: {sync:.1f} s")
    print(f"licenses import: {imported} rows in {wall:.1f} s = {imported / wall:.0f} rows/s, peak RSS {rss:.0f} MiB")
    print(f"db verify: {verify:.1f} s: {verdict.strip().splitlines()[-1] if verdict.strip() else '(no output)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
