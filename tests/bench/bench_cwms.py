"""Benchmark: CWMS in a full sync. N CWMS accounts (the CWMS simulator, pages of 500) read beside N CUCM users (the
AXL simulator), into SQLite, against the same sync without `[cwms]`; then P pushes worked by `syncd push`. Each
simulator has a process of its own, as CUCM and CWMS are two servers.

Run: `.venv/bin/python tests/bench/bench_cwms.py [--users 400000] [--pushes 5000]`. Prints, from one run: the wall
seconds and peak RSS of the `syncd` process for a first full sync and a no-change full sync, without and with CWMS
(push = "off"), the ratio of the two, the extra peak MB, the CWMS read's accounts/s, and pushes/s. Not a test:
nothing here fails on a time. Targets (issue 16): the read adds at most 30 % to a full sync's wall time and at
most 60 MB to its peak.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.axlsim import Simulator as AxlSimulator
from connectors.axlsim.population import generate
from connectors.cwmssim import Simulator as CwmsSimulator
from connectors.localserver import serve_until_signal
from tests.bench.measure import timed_cpu
from tests.e2e.cwmssite import mirrored


def run(config: Path, *args: str, ok: tuple[int, ...] = (0, 1)) -> tuple[float, float, float, dict[str, Any]]:
    """Wall seconds, peak RSS (MiB), CPU seconds and the `--json` output of one `syncd` command in a fresh child
    process (its CPU includes the CWMS reading process)."""
    wall, rss, cpu, out = timed_cpu(config, "--json", *args, ok=ok)
    return wall, rss, cpu, json.loads(out)


def write_config(root: Path, label: str, cucm: AxlSimulator, cwms: Any, push: str = "off") -> Path:
    secret = root / "cucm.secret"
    secret.write_text(cucm.password)
    secret.chmod(0o600)
    text = (f'[database]\nurl = "sqlite:///{root / label}.db"\n\n[[sources.cucm]]\nname = "cucm"\n'
            f'url = "{cucm.url}"\nusername = "{cucm.username}"\npassword_file = "{secret}"\n'
            f'ca_file = "{cucm.ca_file}"\npage_size = 5000\n\n[safety]\nmax_deactivations = 1000000\n\n')
    if cwms is not None:
        wsecret = root / "cwms.secret"
        wsecret.write_text(cwms.password)
        wsecret.chmod(0o600)
        text += (f'[cwms]\nurl = "{cwms.url}"\nsite_name = "{cwms.site_name}"\nusername = "{cwms.username}"\n'
                 f'password_file = "{wsecret}"\nca_file = "{cwms.ca_file}"\npage_size = 500\npush = "{push}"\n'
                 'max_pushes = 1000000\n')
    config = root / f"{label}.toml"
    config.write_text(text)
    config.chmod(0o600)
    return config


def serve_cwms(users: int, seed: int, info: Path) -> int:
    """The CWMS simulator's process: accounts mirroring the AXL simulator's users (the same population), over TLS;
    how to reach it is written to ``info``."""
    cwms = CwmsSimulator(0, tls=True, schema=None)
    with cwms.lock:
        cwms.accounts = mirrored(generate(users, seed))
    keys = ("url", "site_name", "username", "password", "ca_file", "control_url")
    tmp = info.with_suffix(".tmp")
    cwms.start()
    tmp.write_text(json.dumps({k: getattr(cwms, k) for k in keys}))
    tmp.replace(info)
    return serve_until_signal(cwms, list)


@contextlib.contextmanager
def cwms_process(users: int, seed: int, root: Path) -> Iterator[SimpleNamespace]:
    info = root / "cwms.json"
    proc = subprocess.Popen([sys.executable, __file__, "--serve-cwms", "--users", str(users), "--seed", str(seed),
                             "--info", str(info)])
    try:
        while not info.exists():
            if proc.poll() is not None:
                raise SystemExit("the CWMS simulator's process ended")
            time.sleep(0.2)
        yield SimpleNamespace(**json.loads(info.read_text()))
    finally:
        proc.terminate()
        proc.wait(30)


def control(cwms: SimpleNamespace, method: str, path: str, body: dict[str, Any], session: requests.Session) -> None:
    r = session.request(method, cwms.control_url.rstrip("/") + path, json=body, verify=cwms.ca_file,
                        headers={"Authorization": f"Bearer {cwms.password}"}, timeout=30)
    r.raise_for_status()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=400_000)
    ap.add_argument("--pushes", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--serve-cwms", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--info", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_cwms:
        return serve_cwms(args.users, args.seed, args.info)
    root = Path(tempfile.mkdtemp(prefix="bench-cwms-"))
    started = time.monotonic()
    with AxlSimulator(args.users, seed=args.seed, tls=True) as cucm, \
            cwms_process(args.users, args.seed, root) as cwms, requests.Session() as session:
        accounts = mirrored(cucm.population)
        ids = {a.email.casefold(): a.webex_id for a in accounts.values()}
        print(f"simulators: {args.users} CUCM users, {len(ids)} CWMS accounts ready in "
              f"{time.monotonic() - started:.1f} s")
        plain, with_cwms = write_config(root, "plain", cucm, None), write_config(root, "cwms", cucm, cwms)
        results: dict[str, tuple[float, float, float]] = {}
        read_seconds = cucm_seconds = 0.0
        for name in ("first full", "no-change full"):
            wall, rss, cpu, _ = run(plain, "sync", "--full")
            results[f"{name}, CUCM only"] = (wall, rss, cpu)
            wall, rss, cpu, out = run(with_cwms, "sync", "--full")
            assert out["cwms"]["complete"] and out["cwms"]["read"] == len(ids), out["cwms"]
            results[f"{name}, with CWMS"] = (wall, rss, cpu)
            cucm_seconds = next(s["seconds"] for s in out["sources"] if s["name"] == "cucm")
            read_seconds = out["cwms"]["seconds"]
        # P leaks: inactive people's accounts turned ACTIVATED. The first send is stopped (CWMS answers its first
        # GetUser with a credentials failure), so `syncd push` then works all P rows.
        pusher = write_config(root, "cwms", cucm, cwms, push="on")
        inactive = [u.mailid.casefold() for u in cucm.population
                    if u.status == 2 and u.mailid and u.mailid.casefold() in ids][: args.pushes]
        for email in inactive:
            control(cwms, "PUT", f"/accounts/{ids[email]}", {"active": "ACTIVATED"}, session)
        control(cwms, "POST", "/faults", {"kind": "failure", "count": 1, "op": "GetUser", "exception_id": "030002",
                                          "reason": "Incorrect user or password"}, session)
        run(pusher, "sync", "--full", ok=(69,))
        wall, _, _, out = run(pusher, "push")
        pushes = out["pushed"]
    shutil.rmtree(root, ignore_errors=True)

    print(f"\n{args.users} CUCM users, {len(ids)} CWMS accounts (pages of 500); {os.cpu_count()} CPUs; "
          f"{time.strftime('%Y-%m-%d')}; SQLite")
    print(f"{'run':<32} {'seconds':>8} {'CPU s':>7} {'peak RSS MiB':>13}")
    for name, (w, rss, cpu) in results.items():
        print(f"{name:<32} {w:8.2f} {cpu:7.1f} {rss:13.0f}")
    for name in ("first full", "no-change full"):
        (w0, r0, c0), (w1, r1, c1) = results[f"{name}, CUCM only"], results[f"{name}, with CWMS"]
        print(f"{name}: with CWMS / without = {w1 / w0:.2f}x wall, {c1 / c0:.2f}x CPU, "
              f"+{(r1 - r0) * 1.048576:.0f} MB peak")
    print(f"CWMS read: {len(ids)} accounts in {read_seconds:.1f} s = {len(ids) / read_seconds:.0f} accounts/s, "
          f"beside the CUCM read's {cucm_seconds:.1f} s (they overlap)")
    print(f"pushes: {pushes} in {wall:.1f} s = {pushes / wall:.0f} pushes/s (GetUser + SetUser each, one at a time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
