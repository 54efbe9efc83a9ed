"""What syncd writes is its owner's alone, what it refuses never shows a secret, and a missing configuration file is
said out loud (issues 14 and 15, section 5). Everything goes through the installed `syncd` command, run with the
lax umask 022 of a login shell."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from tests import secretscan
from tests.e2e.site import SYNCD, Site, cucm_row
from tests.needs import unavailable

LAX_UMASK = 0o022
SECRET = "Sup3rS3cretValue42"       # a password pasted where its variable's name belongs


def syncd(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SYNCD_CONFIG", "STATE_DIRECTORY")}
    proc = subprocess.run([SYNCD, *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**base, **(env or {})}, umask=LAX_UMASK)
    for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        secretscan.feed(f"syncd {' '.join(args)}: {stream}", text)
    return proc


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sqlite_site(tmp_path: Path) -> Site:
    site = Site(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}")
    site.write_config()
    site.write_users({n: cucm_row(n) for n in range(1, 21)})
    return site


# -- file modes -------------------------------------------------------------------------------------------

def test_database_wal_and_shm_are_created_0600(tmp_path: Path):
    site = sqlite_site(tmp_path)
    db = tmp_path / "syncd.db"
    proc = syncd(tmp_path, "--config", str(site.config), "sync")
    assert proc.returncode == 0, proc.stderr
    assert mode(db) == 0o600
    # SQLite removes -wal and -shm when its last connection closes: a reader held open here keeps them while a
    # second run writes, and SQLite gives them the database file's mode.
    with sqlite3.connect(db) as reader:
        reader.execute("SELECT count(*) FROM people").fetchone()
        site.write_users({n: cucm_row(n, status=2 if n == 1 else 1) for n in range(1, 21)})
        proc = syncd(tmp_path, "--config", str(site.config), "sync")
        assert proc.returncode == 0, proc.stderr
        side = [tmp_path / "syncd.db-wal", tmp_path / "syncd.db-shm"]
        assert all(p.exists() for p in side)
        assert {p.name: oct(mode(p)) for p in side} == {p.name: "0o600" for p in side}
    assert proc.stderr == ""        # a private database: no warning


def test_demo_writes_nothing_group_or_others_can_read(tmp_path: Path):
    proc = syncd(tmp_path, "demo", "--dir", "demo", "--users", "60")
    assert proc.returncode == 0, proc.stderr
    root = tmp_path / "demo"
    loose = {str(p.relative_to(tmp_path)): oct(mode(p)) for p in [root, *root.rglob("*")] if mode(p) & 0o077}
    assert loose == {}
    assert {"syncd.db", "syncd.toml", "cucm.secret", "cucm-ca.pem", "cwms.secret", "cwms-ca.pem"} <= {
        p.name for p in root.iterdir()}


def test_a_database_readable_by_others_is_warned_about_once_and_left_alone(tmp_path: Path):
    site = sqlite_site(tmp_path)
    db = tmp_path / "syncd.db"
    assert syncd(tmp_path, "--config", str(site.config), "sync").returncode == 0
    db.chmod(0o644)
    proc = syncd(tmp_path, "--config", str(site.config), "status")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("syncd: warning: database "), lines
    assert str(db) in lines[0] and "mode 0644" in lines[0] and "chmod 600" in lines[0]
    assert mode(db) == 0o644        # the admin's choice stays: warned, not changed
    quiet = syncd(tmp_path, "--config", str(site.config), "-q", "status")
    assert quiet.returncode == 0 and quiet.stderr == ""


# -- secrets and URLs in the configuration ----------------------------------------------------------------

CUCM = '[[sources.cucm]]\nname = "cucm"\nusername = "axl"\n'


def write_config(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "syncd.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "syncd.db"}"\n\n{text}')
    config.chmod(0o600)
    return config


def refused(tmp_path: Path, config: Path, *needles: str, secret: str) -> None:
    for args in (("config", "check"), ("sync",)):
        proc = syncd(tmp_path, "--config", str(config), *args)
        err = proc.stderr.strip()
        assert proc.returncode == 78, (args, proc.returncode, proc.stdout, proc.stderr)
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert all(n in err for n in needles), err
        assert secret not in proc.stdout + proc.stderr, err


@pytest.mark.parametrize("key, secret", [
    ("password_env", SECRET),                   # a valid variable name that is not set
    ("password_env", "hunter2-with spaces!"),   # not a variable name at all
    ("password_credential", "hunter2/slashed"),
    ("password_file", "hunter2-as-a-path"),
])
def test_a_secret_in_a_place_key_is_never_echoed(tmp_path: Path, key: str, secret: str):
    secretscan.register(secret, f"a secret put in {key}")
    config = write_config(tmp_path, CUCM + f'url = "https://cucm.example.com:8443/axl/"\n{key} = "{secret}"\n')
    refused(tmp_path, config, f"sources.cucm[0].{key}", secret=secret)


def test_api_token_env_holding_the_token_is_not_echoed(tmp_path: Path):
    token = "api-token-Xq91-value"
    secretscan.register(token, "an API token put in token_env")
    config = write_config(tmp_path, f'[api]\ntoken_env = "{token}"\n')
    refused(tmp_path, config, "api.token_env", "does not look like an environment variable", secret=token)


@pytest.mark.parametrize("table, key", [
    (CUCM + 'url = "https://axl:{pw}@cucm.example.com:8443/axl/"\npassword_env = "X"\n', "sources.cucm[0].url"),
    ('[[sources.ad]]\nurls = ["ldaps://dc1.example.com", "ldaps://svc:{pw}@dc2.example.com"]\n'
     'bind_dn = "CN=svc,DC=example,DC=com"\nbase_dns = ["DC=example,DC=com"]\npassword_env = "X"\n',
     "sources.ad[0].urls[1]"),
])
def test_a_url_with_user_and_password_is_refused(tmp_path: Path, table: str, key: str):
    password = "url-pa/ss#w0rd"
    secretscan.register(password, "a password in a URL")
    config = write_config(tmp_path, table.format(pw=password))
    refused(tmp_path, config, key, "holds a user name or password", secret=password)


def test_a_database_url_with_a_password_is_refused(tmp_path: Path):
    password = "db-hunter2-pass"
    secretscan.register(password, "a password in the database URL")
    config = tmp_path / "syncd.toml"
    config.write_text(f'[database]\nurl = "postgresql+psycopg://syncd:{password}@127.0.0.1:5432/syncd"\n')
    config.chmod(0o600)
    refused(tmp_path, config, "database.url", "$PGPASSFILE", secret=password)


# -- a missing configuration file -------------------------------------------------------------------------

DEFAULT = Path("/etc/syncd/syncd.toml")


@pytest.fixture
def no_default_config() -> None:
    """The installed command looks at the real default path: these tests need a host without that file."""
    if DEFAULT.exists():
        unavailable(f"{DEFAULT} exists on this host", "SYNCD_REQUIRE_NO_DEFAULT_CONFIG")


@pytest.mark.usefixtures("no_default_config")
def test_without_a_configuration_file_commands_say_they_run_on_defaults(tmp_path: Path):
    proc = syncd(tmp_path, "status")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"syncd: warning: no configuration file {DEFAULT}: running on the embedded defaults")
    assert str(tmp_path / "syncd.db") in lines[0]
    assert syncd(tmp_path, "--json", "users", "list").stderr.count("embedded defaults") == 1
    quiet = syncd(tmp_path, "-q", "status")
    assert quiet.returncode == 0 and quiet.stderr == ""


@pytest.mark.usefixtures("no_default_config")
def test_config_check_without_a_file_says_which_file_it_looked_for(tmp_path: Path):
    proc = syncd(tmp_path, "config", "check")
    assert proc.returncode == 0, proc.stderr
    assert f"no configuration file {DEFAULT}: running on the embedded defaults" in proc.stdout
    doc = json.loads(syncd(tmp_path, "--json", "config", "check").stdout)
    assert doc["ok"] is True and doc["path"] is None
    assert doc["defaults"] is True and doc["looked_for"] == str(DEFAULT)
    assert not (tmp_path / "syncd.db").exists()      # checking the configuration creates no database


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_a_named_configuration_file_that_is_missing_is_exit_78(tmp_path: Path, how: str):
    missing = tmp_path / "gone.toml"
    args, env = (["--config", str(missing)], None) if how == "argument" else ([], {"SYNCD_CONFIG": str(missing)})
    for command in (["status"], ["config", "check"], ["sync"]):
        proc = syncd(tmp_path, *args, *command, env=env)
        assert proc.returncode == 78, (command, proc.stderr)
        assert proc.stderr.strip() == f"syncd: config {missing}: no such file"
    assert not (tmp_path / "syncd.db").exists()
