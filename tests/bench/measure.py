"""What the benchmarks share: one `syncd` command in a fresh child process, with its wall time, peak RSS and CPU time
(its own and its children's, such as the CWMS reading process)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

SYNCD = shutil.which("syncd", path=str(Path(sys.executable).parent)) or "syncd"

# A child that runs the command and reports how long it took, the most memory one process of it held (ru_maxrss)
# and the CPU seconds it and its descendants used.
_TIMER = ("import json, resource, subprocess, sys, time; t = time.monotonic(); "
          "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); w = time.monotonic() - t; "
          "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
          "print(json.dumps({'wall': w, 'rss': u.ru_maxrss / 1024, 'cpu': u.ru_utime + u.ru_stime, "
          "'out': r.stdout, 'err': r.stderr[-2000:], 'rc': r.returncode}))")


def timed(config: Path, *args: str, ok: tuple[int, ...] = (0, 1)) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of `syncd --config CONFIG ARGS`; exits the benchmark with the
    command's stderr when its exit code is not in ``ok``."""
    wall, rss, _, out = timed_cpu(config, *args, ok=ok)
    return wall, rss, out


def timed_cpu(config: Path, *args: str, ok: tuple[int, ...] = (0, 1)) -> tuple[float, float, float, str]:
    """:func:`timed`, with the CPU seconds (user and system) after the peak RSS."""
    got = json.loads(subprocess.run([sys.executable, "-c", _TIMER, SYNCD, "--config", str(config), *args],
                                    capture_output=True, text=True, env={**os.environ, "SYNCD_CONFIG": ""}).stdout)
    if got["rc"] not in ok:
        raise SystemExit(f"syncd {' '.join(args)} failed ({got['rc']}): {got['err']}")
    return got["wall"], got["rss"], got["cpu"], got["out"]


PG = "host=127.0.0.1 dbname=test user=postgres"


@contextlib.contextmanager
def pg_schema() -> Iterator[str]:
    """A SQLAlchemy URL of a new schema of PostgreSQL's database ``test`` on 127.0.0.1, dropped afterwards."""
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG, autocommit=True) as c, contextlib.suppress(psycopg.Error):
            c.execute(f'DROP SCHEMA "{schema}" CASCADE')
