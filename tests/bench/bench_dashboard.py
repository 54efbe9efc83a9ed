"""Benchmark: the dashboard's pages rendered at N people (issue 17: a page in under 300 ms at 400,000 people).

Run: `.venv/bin/python tests/bench/bench_dashboard.py [--people 400000] [--no-postgres] [--repeat 5]`. The
database is built as `bench_users_list.py` builds it (N people, each with a CUCM record; a license for every tenth,
Permanent or Grace). Each page is served by the real dashboard app in this process (Starlette's test client:
routing, the views' SQL, the templates; no socket) and timed ``--repeat`` times; prints each page's median and
worst milliseconds and PostgreSQL's median as a ratio of SQLite's. Not a test: nothing here fails on a time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, ROOT / "tests" / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_users_list import build  # noqa: E402
from measure import pg_schema  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from syncd.app import App  # noqa: E402
from syncd.daemon.api import create_app  # noqa: E402
from syncd.daemon.service import Daemon  # noqa: E402
from syncd.settings import load_config  # noqa: E402


def pages(n: int) -> dict[str, str]:
    late = f"user{n * 7 // 8:06d}@example.com"
    return {
        "overview": "/ui/",
        "people, first page": "/ui/people",
        "people, a late page": f"/ui/people?after={late}",
        "people, e-mail prefix": f"/ui/people?q=user{n // 2:06d}",
        "people, CUCM userid": f"/ui/people?q=USER{n // 3:06d}",
        "people, a name on every page": "/ui/people?q=user+1",
        "people, a name nobody has": "/ui/people?q=nobody+has+this+name",
        "people, grace filter": "/ui/people?license=grace",
        "people, inactive (none)": "/ui/people?state=inactive",
        "person": f"/ui/people/{late}",
        "licenses": "/ui/licenses",
        "runs": "/ui/runs",
        "journal": "/ui/journal",
    }


def bench(label: str, url: str, root: Path, n: int, repeat: int) -> dict[str, tuple[float, float]]:
    build(url, n)
    config = root / f"{label}.toml"
    config.write_text(f'[database]\nurl = "{url}"\n\n[[sources.file]]\nname = "cucm"\nkind = "cucm"\n'
                      f'path = "{root / "cucm.jsonl"}"\n')
    config.chmod(0o600)
    rt = App(config=load_config(str(config)), actor="bench")
    out: dict[str, tuple[float, float]] = {}
    try:
        client = TestClient(create_app(Daemon(rt)), base_url="http://127.0.0.1")
        for name, path in pages(n).items():
            times: list[float] = []
            for _ in range(repeat + 1):       # the first warms the caches and is not counted
                t = time.perf_counter()
                r = client.get(path)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, (path, r.status_code, r.text[-500:])
            check(name, r.text)
            out[name] = (statistics.median(times[1:]), max(times[1:]))
    finally:
        rt.engine.dispose()
    return out


def check(name: str, html: str) -> None:
    """The page shows what it should (a fast empty page would measure nothing)."""
    if name.startswith("people") and "nobody" not in name and "inactive" not in name:
        assert "<tbody>" in html and "/ui/people/user" in html, name
    if "nobody" in name or "inactive" in name:
        assert "Nobody matches" in html, name


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=400_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "cucm.jsonl").write_text("")
        results["sqlite"] = bench("sqlite", f"sqlite:///{root / 'syncd.db'}", root, args.people, args.repeat)
        if not args.no_postgres:
            with pg_schema() as url:
                results["postgresql"] = bench("postgresql", url, root, args.people, args.repeat)
    print(f"dashboard pages at {args.people:,} people (median and worst of {args.repeat} renders, in process)")
    print(f"{'page':<32}" + "".join(f"{db + ' ms':>18}{'worst':>8}" for db in results) +
          (f"{'PG vs SQLite':>14}" if len(results) > 1 else ""))
    for name in results["sqlite"]:
        line = f"{name:<32}" + "".join(f"{r[name][0]:>18.1f}{r[name][1]:>8.1f}" for r in results.values())
        if "postgresql" in results:
            line += f"{results['postgresql'][name][0] / results['sqlite'][name][0]:>13.2f}x"
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
