"""Crash safety of the CWMS push (DESIGN.md 12): a SIGKILL before the commit sends nothing; one between the commit
and the push, or in the middle of a batch, leaves pending rows that the next run sends once each."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connectors.axlsim import Simulator as AxlSimulator
from connectors.cwmssim import Simulator as CwmsSimulator
from tests.e2e.cwmssite import CwmsSite, mirror
from tests.e2e.site import SYNCD


@pytest.fixture
def cucm() -> Iterator[AxlSimulator]:
    with AxlSimulator(150, seed=7, tls=True) as s:
        yield s


@pytest.fixture
def cwms() -> Iterator[CwmsSimulator]:
    with CwmsSimulator(0, tls=True) as s:
        yield s


def _site_with_leaks(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator, n: int) -> tuple[CwmsSite, list[str]]:
    """A synced site and ``n`` leaks: inactive people whose CWMS accounts are ACTIVATED (webExIds, in push order)."""
    ids = mirror(cucm, cwms)
    site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="on")
    site.run("sync")
    inactive = sorted(e for e, p in site.people().items() if not p["active"] and e in ids)[:n]
    assert len(inactive) == n
    for e in inactive:
        cwms.set_active(ids[e], "ACTIVATED")
    return site, [ids[e] for e in inactive]


def _killed_when(site: CwmsSite, ready: Callable[[], bool], *args: str) -> None:
    proc = subprocess.Popen([SYNCD, "--config", str(site.config), *args], cwd=site.root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "SYNCD_CONFIG": ""})
    try:
        deadline = time.monotonic() + 60
        while not ready():
            assert proc.poll() is None, f"syncd {' '.join(args)} ended ({proc.returncode}) before the crash point"
            assert time.monotonic() < deadline, "the crash point never came"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _last_request_is(cwms: CwmsSimulator, op: bytes, count: int = 1) -> bool:
    with cwms.lock:
        return bool(cwms.requests) and op in cwms.requests[-1] and sum(op in r for r in cwms.requests) >= count


def _states(site: CwmsSite) -> list[str]:
    return [r["state"] for r in site.outbox()]


def test_sigkill_before_the_commit_sends_nothing(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator):
    site, leaks = _site_with_leaks(tmp_path, cucm, cwms, 2)
    cwms.inject_fault("slow", op="LstsummaryUser", delay=20)
    _killed_when(site, lambda: _last_request_is(cwms, b"LstsummaryUser", 2), "sync", "--full")
    assert site.outbox() == [] and cwms.written() == []
    cwms.clear_faults()
    assert site.json("sync", "--full")["cwms"]["pushed"] == 2
    assert cwms.written() == [(w, "DEACTIVATED") for w in leaks]


def test_sigkill_between_the_commit_and_the_push(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator):
    site, leaks = _site_with_leaks(tmp_path, cucm, cwms, 2)
    cwms.inject_fault("slow", op="GetUser", delay=20)
    _killed_when(site, lambda: _last_request_is(cwms, b"GetUser"), "sync", "--full")
    assert _states(site) == ["pending", "pending"] and cwms.written() == []
    cwms.clear_faults()
    out = site.json("sync")        # an incremental run: it does not read CWMS, and sends what is pending
    assert out["cwms"]["read"] is None and out["cwms"]["pushed"] == 2 and out["cwms"]["pending"] == 0
    assert cwms.written() == [(w, "DEACTIVATED") for w in leaks]
    assert _states(site) == ["done", "done"]


def test_sigkill_in_the_middle_of_a_batch(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator):
    site, leaks = _site_with_leaks(tmp_path, cucm, cwms, 3)
    cwms.inject_fault("slow", op="SetUser", delay=2, after=1)    # the second write lands after the kill
    _killed_when(site, lambda: _last_request_is(cwms, b"SetUser", 2), "sync", "--full")
    deadline = time.monotonic() + 10
    while len(cwms.written()) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert _states(site) == ["done", "pending", "pending"]
    out = site.json("push")
    assert (out["pushed"], out["already"], out["pending"]) == (1, 1, 0), out
    assert cwms.written() == [(w, "DEACTIVATED") for w in leaks]     # each account written once
    assert site.json("push")["pushed"] == 0
