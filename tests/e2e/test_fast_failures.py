"""Failures are fast and plain (issue 15, section 4), through the installed `syncd` command.

A CUCM that refuses the connection, a name that does not resolve and a certificate that does not verify are not
retried: `syncd sync` exits 69 within seconds with one line on stderr naming host:port and the cause in words.
Temporary faults are retried within a total budget, each retry shown on a console at INFO without -v. `syncd
check` tests each source step by step, one line a step with a hint, and exits 69 when one fails.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.axlsim import Simulator
from tests.e2e.site import Command, cucm_row

FEW_SECONDS = 8.0       # a failing command's whole run, the interpreter's start included, on a loaded machine
STEPS = ["reach", "tls", "authenticate", "version", "read"]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(40, seed=4, tls=True, versions=("14.0", "15.0")) as s:
        yield s


def closed_port() -> int:
    with socket.socket() as s:     # bound and closed again: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CucmSite(Command):
    def __init__(self, root: Path, url: str, username: str, password: str, *, extra: str = "",
                 tail: str = "") -> None:
        self.root = root
        secret = self.write_secret("cucm.secret", password)
        self.config.write_text(
            f'[database]\nurl = "sqlite:///{root / "syncd.db"}"\n\n[[sources.cucm]]\nname = "cucm"\n'
            f'url = "{url}"\nusername = "{username}"\npassword_file = "{secret}"\n{extra}\n{tail}')
        self.config.chmod(0o600)

    def timed(self, *args: str, check: int) -> tuple[str, list[str], float]:
        t = time.monotonic()
        proc = self.run(*args, check=check)
        return proc.stdout, proc.stderr.strip().splitlines(), time.monotonic() - t


def sim_site(root: Path, sim: Simulator, *, password: str | None = None, extra: str = "", tail: str = "") -> CucmSite:
    return CucmSite(root, sim.url, sim.username, password or sim.password,
                    extra=f'ca_file = "{sim.ca_file}"\n{extra}', tail=tail)


def test_a_closed_port_fails_in_seconds_in_one_line(tmp_path: Path) -> None:
    port = closed_port()
    site = CucmSite(tmp_path, f"https://127.0.0.1:{port}/axl/", "axl", "not-used-secret")
    _, err, took = site.timed("sync", check=69)
    assert took < FEW_SECONDS, took
    assert len(err) == 1, err
    assert f"cannot connect to 127.0.0.1:{port} (connection refused)" in err[0], err
    assert "Pool" not in err[0] and "NewConnectionError" not in err[0], err


def test_a_ca_file_gone_at_sync_time_is_a_configuration_error(tmp_path: Path) -> None:
    """A setting that cannot work when the run builds its connector (the CA file removed since it was written)
    is exit 78 in one line, not an internal error with a traceback; the run is recorded as failed."""
    port = closed_port()
    site = CucmSite(tmp_path, f"https://127.0.0.1:{port}/axl/", "axl", "not-used-secret",
                    extra=f'ca_file = "{tmp_path / "gone.pem"}"')
    _, err, _ = site.timed("sync", check=78)
    assert err == [f"syncd: source cucm: ca_file '{tmp_path / 'gone.pem'}' does not exist"], err
    assert site.json("status")["runs"][0]["result"] == "failed"


def test_a_name_that_does_not_resolve_fails_in_seconds_in_one_line(tmp_path: Path) -> None:
    site = CucmSite(tmp_path, "https://cucm-pub.invalid:8443/axl/", "axl", "not-used-secret")
    _, err, took = site.timed("sync", check=69)
    assert took < FEW_SECONDS, took
    assert len(err) == 1 and "cannot connect to cucm-pub.invalid:8443 (the name does not resolve)" in err[0], err


def test_a_certificate_that_does_not_verify_fails_at_once_in_one_line(tmp_path: Path, sim: Simulator) -> None:
    site = CucmSite(tmp_path, sim.url, sim.username, sim.password)      # no ca_file: the system store refuses
    before = sim.request_count
    _, err, took = site.timed("sync", check=69)
    assert took < FEW_SECONDS, took
    assert len(err) == 1, err
    assert "TLS verification failed: unable to get local issuer certificate" in err[0], err
    assert f"(127.0.0.1:{sim.port})" in err[0], err
    assert sim.request_count == before          # refused in the handshake: no AXL request was ever sent


def test_temporary_faults_are_retried_within_a_budget_and_each_retry_is_shown(tmp_path: Path,
                                                                             sim: Simulator) -> None:
    site = sim_site(tmp_path, sim, extra="retries = 20\nretry_budget = 3\n",
                    tail='[logging]\nformat = "console"\n')        # as on a terminal
    sim.inject_fault("503", count=1000)
    try:
        _, err, took = site.timed("sync", check=69)
    finally:
        sim.clear_faults()
    assert took < 3 + FEW_SECONDS, took
    retries = [line for line in err if "retry budget spent" in line and " retry " in line]
    assert retries and "info" in retries[0].lower() and "retry 1/20" in retries[0], err
    assert "HTTP 503" in retries[0], retries
    assert len(retries) < 20, retries                              # the budget ended it, not the count
    assert "gave up after" in err[-1] and "3s retry budget" in err[-1], err[-1]


def test_check_passes_every_step_on_a_good_configuration(tmp_path: Path, sim: Simulator) -> None:
    site = sim_site(tmp_path, sim)
    out, err, _ = site.timed("check", check=0)
    assert err == [], err
    lines = out.splitlines()
    assert [line.split(": ")[1] for line in lines] == STEPS, lines
    assert all(line.startswith("cucm: ") and ": ok" in line for line in lines), lines
    assert "1 user read" in lines[-1], lines
    got = json.loads(site.run("--json", "check").stdout)
    assert got["ok"] is True and got["sources"][0]["name"] == "cucm" and got["sources"][0]["type"] == "cucm"
    assert [s["step"] for s in got["sources"][0]["steps"]] == STEPS
    assert all(s["ok"] is True for s in got["sources"][0]["steps"])


def test_check_names_a_wrong_password_with_a_hint(tmp_path: Path, sim: Simulator) -> None:
    site = sim_site(tmp_path, sim, password="wrong-password-123")
    out, err, _ = site.timed("check", check=69)
    by_step = {line.split(": ")[1]: line for line in out.splitlines()}
    assert ": ok" in by_step["tls"], by_step
    assert "FAIL" in by_step["authenticate"] and "HTTP 401" in by_step["authenticate"], by_step
    assert "hint: wrong username or password" in by_step["authenticate"], by_step
    assert by_step["version"].endswith("skipped") and by_step["read"].endswith("skipped"), by_step
    assert err == ["syncd: check failed: cucm (authenticate)"], err


def test_check_names_an_axl_version_not_served(tmp_path: Path, sim: Simulator) -> None:
    site = sim_site(tmp_path, sim, extra='version = "12.5"\n')
    out, _, _ = site.timed("check", check=69)
    version = next(line for line in out.splitlines() if line.startswith("cucm: version: "))
    assert "FAIL" in version and "12.5 is not supported" in version, version
    assert "hint: AXL version 12.5 is not served" in version, version


def test_check_names_a_wrong_ca(tmp_path: Path, sim: Simulator) -> None:
    site = CucmSite(tmp_path, sim.url, sim.username, sim.password)
    out, _, _ = site.timed("check", check=69)
    tls = next(line for line in out.splitlines() if line.startswith("cucm: tls: "))
    assert "FAIL" in tls and "unable to get local issuer certificate" in tls and "hint: wrong CA" in tls, tls


def test_check_fails_a_closed_port_in_seconds(tmp_path: Path) -> None:
    port = closed_port()
    site = CucmSite(tmp_path, f"https://127.0.0.1:{port}/axl/", "axl", "not-used-secret")
    out, err, took = site.timed("check", check=69)
    assert took < FEW_SECONDS, took
    lines = out.splitlines()
    assert lines[0] == (f"cucm: reach: FAIL: cannot connect to 127.0.0.1:{port} (connection refused) (hint: nothing "
                        "listens there: is the Cisco AXL Web Service running, and is the port right?)"), lines
    assert all(line.endswith("skipped") for line in lines[1:]) and len(lines) == len(STEPS), lines
    assert err == ["syncd: check failed: cucm (reach)"], err


def test_check_tests_an_ad_source_and_a_file_source(tmp_path: Path) -> None:
    port = closed_port()
    users = tmp_path / "users.jsonl"
    users.write_text("".join(json.dumps(cucm_row(n)) + "\n" for n in range(1, 4)))
    site = Command()
    site.root = tmp_path
    secret = site.write_secret("ad.secret", "not-used-ad-secret")
    site.config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "syncd.db"}"\n\n'
        f'[[sources.file]]\nname = "export"\nkind = "cucm"\npath = "{users}"\n\n'
        f'[[sources.ad]]\nname = "ad"\nurls = ["ldaps://127.0.0.1:{port}"]\nbind_dn = "CN=svc,DC=example,DC=com"\n'
        f'password_file = "{secret}"\nbase_dns = ["DC=example,DC=com"]\nconnect_timeout = 3\n')
    site.config.chmod(0o600)
    t = time.monotonic()
    got = json.loads(site.run("--json", "check", check=69).stdout)
    assert time.monotonic() - t < FEW_SECONDS
    by_name = {s["name"]: s for s in got["sources"]}
    assert got["ok"] is False and by_name["export"]["ok"] is True and by_name["ad"]["ok"] is False, got
    assert [s["step"] for s in by_name["export"]["steps"]] == ["open", "read"]
    assert "3 cucm records parsed" in by_name["export"]["steps"][1]["detail"], by_name["export"]
    reach = by_name["ad"]["steps"][0]
    assert reach["step"] == "reach" and reach["ok"] is False, reach
    assert f"cannot connect to 127.0.0.1:{port} (connection refused)" in reach["detail"], reach
    assert "domain controller" in reach["hint"], reach
    only_file = site.run("check", "--source", "export", check=0).stdout.splitlines()
    assert only_file[0].startswith("export: open: ok") and len(only_file) == 2, only_file
