"""Bad input gets one line on stderr with the documented exit code, never a traceback, and loses nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.site import SYNCD, Site


def syncd(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SYNCD, "--config", str(config), *args], capture_output=True, text=True, timeout=120,
                          cwd=config.parent, env={**os.environ, "SYNCD_CONFIG": "", **(env or {})})


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    err = proc.stderr.strip()
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err
    return err


CUCM = """
[[sources.cucm]]
name = "cucm"
url = "https://cucm.example.com:8443/axl/"
username = "axl"
"""


@pytest.mark.parametrize("text, needles", [
    ("[database\nurl = 1\n", ["line 1"]),
    ("[safety]\nmax_deactivationz = 3\n", ["safety.max_deactivationz", "unknown key"]),
    ("[safety]\nmax_deactivation_ratio = \"lots\"\n", ["safety.max_deactivation_ratio"]),
    (CUCM + 'page_size = 0\npassword_env = "X"\n', ["sources.cucm[0].page_size"]),
    ('[licenses]\ngrace_promotion = "always"\n[schedule]\nfull_cron = "61 * * * *"\n',
     ["licenses.grace_promotion", "schedule.full_cron"]),
])
def test_invalid_configuration_exits_78_with_key_paths(tmp_path: Path, text: str, needles: list[str]):
    config = tmp_path / "syncd.toml"
    config.write_text(text)
    config.chmod(0o600)
    for args in (("config", "check"), ("sync",), ("users", "list")):
        one_line_error(syncd(config, *args), 78, *needles)


def test_missing_secret_file_and_world_readable_inline_secret(tmp_path: Path):
    config = tmp_path / "syncd.toml"
    config.write_text(CUCM + f'password_file = "{tmp_path / "nope.secret"}"\n')
    config.chmod(0o600)
    one_line_error(syncd(config, "config", "check"), 78, "sources.cucm[0].password_file")
    config.write_text(CUCM + 'password = "hunter2-inline"\n')
    config.chmod(0o644)
    err = one_line_error(syncd(config, "config", "check"), 78, "sources.cucm[0].password", "group or others")
    assert "hunter2-inline" not in err
    one_line_error(syncd(config, "sync"), 78, "sources.cucm[0].password")
    config.chmod(0o600)
    assert syncd(config, "config", "check").returncode == 0


def test_unknown_person_and_usage_errors(site: Site):
    site.run("sync")
    for args in (("explain", "ghost@example.com"), ("licenses", "reserve", "ghost@example.com"),
                 ("meetings", "start", "ghost@example.com"), ("users", "show", "ghost@example.com")):
        one_line_error(site.run(*args, check=None), 65, "unknown person: ghost@example.com")
    one_line_error(site.run("meetings", "end", "no-such-meeting", check=None), 65, "no open meeting")
    one_line_error(site.run("licenses", "purchase", "-3", check=None), 2, "must be from 1 to 400,000")
    one_line_error(site.run("explain", "user1@example.com", "--at", "next tuesday", check=None), 2, "--at")
    one_line_error(site.run("sync", "--source", "nope", check=None), 2, "unknown source: nope")
    one_line_error(site.run("frobnicate", check=None), 2, "invalid choice")


def test_unreadable_source_file_is_incomplete_and_deactivates_nobody(site: Site):
    site.run("sync")
    before = site.json("users", "list")
    site.users_file.write_text('{"uuid": "x", "userid": "u", "status": 1}\n{not json\n')
    proc = site.run("sync", check=69)
    assert "source cucm unavailable" in proc.stderr and "line 2" in proc.stderr
    assert site.json("users", "list") == before


def test_database_unavailable_exits_74(tmp_path: Path):
    config = tmp_path / "syncd.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://nobody@127.0.0.1:1/none"\n')
    config.chmod(0o600)
    one_line_error(syncd(config, "users", "list"), 74, "127.0.0.1")
