"""`syncd check` of the ``[cwms]`` site against the CWMS simulator over TLS: each step passes on a good
configuration, and each kind of mistake fails the step that names it, with a hint, the later steps skipped."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from connectors.cwms.check import check
from connectors.cwms.options import CwmsOptions
from connectors.cwmssim import Simulator
from syncd import errors
from syncd.app import App
from syncd.settings import load_config
from syncd.views.check import check_sources
from tests.e2e.site import Command, cucm_row

STEPS = ["reach", "tls", "authenticate", "read"]


def options(sim: Simulator, **kw: Any) -> CwmsOptions:
    opts: dict[str, Any] = dict(url=sim.url, site_name=sim.site_name, username=sim.username, password=sim.password,
                                ca_file=sim.ca_file, timeout=5.0)
    opts.update(kw)
    return CwmsOptions(**opts)


def by_step(steps: list[Any]) -> dict[str, Any]:
    assert [s.name for s in steps] == STEPS, steps
    return {s.name: s for s in steps}


def closed_port() -> int:
    with socket.socket() as s:     # bound and closed again: nothing listens there
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_every_step_passes_with_one_request(sim: Simulator) -> None:
    steps = by_step(check(options(sim)))
    assert all(s.ok is True for s in steps.values()), steps
    assert steps["tls"].detail.startswith("certificate verified (TLS"), steps["tls"]
    assert steps["authenticate"].detail == f"administrator {sim.username!r} accepted on site {sim.site_name!r}"
    assert steps["read"].detail == "LstsummaryUser (maximumNum 1): 1 account read", steps["read"]
    assert sim.ops == ["LstsummaryUser"]            # one page of one account, not the site's 120
    assert b"<maximumNum>1</maximumNum>" in sim.requests[0]


@pytest.mark.parametrize("wrong", [{"password": "wrong-password-123"}, {"site_name": "othersite"}])
def test_wrong_credentials_fail_authenticate_with_a_hint(sim: Simulator, wrong: dict[str, str]) -> None:
    steps = by_step(check(options(sim, **wrong)))
    assert steps["tls"].ok is True
    auth = steps["authenticate"]
    assert auth.ok is False and "FAILURE 030002" in auth.detail, auth
    assert all(key in auth.hint for key in ("username", "password_*", "site_name")), auth
    assert steps["read"].ok is None and steps["read"].detail == "", steps["read"]


def test_a_user_without_the_administrator_privilege_fails_read(sim: Simulator) -> None:
    sim.inject_fault("failure", exception_id="000001", reason="Access denied, additional privileges are required")
    steps = by_step(check(options(sim)))
    assert steps["authenticate"].ok is True
    assert steps["read"].ok is False and "FAILURE 000001" in steps["read"].detail, steps["read"]
    assert "site administrator" in steps["read"].hint, steps["read"]


def test_a_ca_not_trusted_fails_tls(sim: Simulator) -> None:
    before = sim.request_count
    steps = by_step(check(options(sim, ca_file=None)))      # the system store does not know the simulator's CA
    assert steps["reach"].ok is True
    tls = steps["tls"]
    assert tls.ok is False and "unable to get local issuer certificate" in tls.detail, tls
    assert "wrong CA: set ca_file" in tls.hint, tls
    assert steps["authenticate"].ok is None and steps["read"].ok is None
    assert sim.request_count == before                      # refused in the handshake: no request was sent


def test_nothing_listening_fails_reach() -> None:
    port = closed_port()
    steps = check(CwmsOptions(url=f"https://127.0.0.1:{port}/WBXService/XMLService", site_name="syncd",
                              username="admin", password="not-used-secret", timeout=3.0))
    assert [s.name for s in steps] == STEPS
    reach = steps[0]
    assert not reach.ok and reach.detail == f"cannot connect to 127.0.0.1:{port} (connection refused)", reach
    assert "nothing listens there" in reach.hint, reach
    assert all(s.ok is None for s in steps[1:]), steps


def test_the_site_is_checked_after_the_sources_and_chosen_by_name(tmp_path: Path, sim: Simulator) -> None:
    users = tmp_path / "users.jsonl"
    users.write_text(json.dumps(cucm_row(1)) + "\n")
    secret = tmp_path / "cwms.secret"
    secret.write_text(sim.password + "\n")
    secret.chmod(0o600)
    config = tmp_path / "syncd.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "syncd.db"}"\n\n'
                      f'[[sources.file]]\nname = "export"\nkind = "cucm"\npath = "{users}"\n\n'
                      f'[cwms]\nurl = "{sim.url}"\nsite_name = "{sim.site_name}"\nusername = "{sim.username}"\n'
                      f'password_file = "{secret}"\nca_file = "{sim.ca_file}"\n')
    config.chmod(0o600)
    rt = App(load_config(str(config)), "cli:test")
    got = check_sources(rt)
    assert got["ok"] is True and [(s["name"], s["type"]) for s in got["sources"]] == [
        ("export", "file"), ("cwms", "cwms")], got
    assert [s["step"] for s in got["sources"][1]["steps"]] == STEPS
    assert [s["name"] for s in check_sources(rt, ["cwms"])["sources"]] == ["cwms"]
    assert [s["name"] for s in check_sources(rt, ["export"])["sources"]] == ["export"]
    with pytest.raises(errors.UsageError, match=r"unknown source: nope \(configured: export, cwms\)"):
        check_sources(rt, ["nope"])


def test_syncd_check_json_with_only_a_cwms_table(tmp_path: Path, sim: Simulator) -> None:
    """The installed command: no source but ``[cwms]`` is something to check, and a wrong password exits 69."""
    site = Command()
    site.root = tmp_path
    secret = site.write_secret("cwms.secret", "wrong-cwms-password-1")
    site.config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "syncd.db"}"\n\n'
                           f'[cwms]\nurl = "{sim.url}"\nsite_name = "{sim.site_name}"\n'
                           f'username = "{sim.username}"\npassword_file = "{secret}"\nca_file = "{sim.ca_file}"\n')
    site.config.chmod(0o600)
    proc = site.run("check", "--source", "cwms", json_out=True, check=errors.SOURCE_UNAVAILABLE)
    got = json.loads(proc.stdout)
    assert got["ok"] is False and [(s["name"], s["type"], s["ok"]) for s in got["sources"]] == [
        ("cwms", "cwms", False)], got
    steps = {s["step"]: s for s in got["sources"][0]["steps"]}
    assert list(steps) == STEPS and steps["tls"]["ok"] is True, steps
    assert steps["authenticate"]["ok"] is False and "site_name" in steps["authenticate"]["hint"], steps
    assert proc.stderr.strip().splitlines() == ["syncd: check failed: cwms (authenticate)"], proc.stderr
