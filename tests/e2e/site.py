"""A temporary syncd site for end-to-end tests: the installed `syncd` command, as an admin runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests import secretscan

SYNCD = shutil.which("syncd", path=str(Path(sys.executable).parent)) or "syncd"


def cucm_row(n: int, status: int = 1, mail: str | None = "", ldap: bool = False, **extra: Any) -> dict[str, Any]:
    return {"uuid": f"00000000-0000-4000-8000-{n:012d}", "userid": f"user{n}",
            "mailid": f"user{n}@example.com" if mail == "" else mail, "firstname": "User", "lastname": str(n),
            "status": status, "ldap_synced": ldap, **extra}


class Command:
    """The installed `syncd` command run in ``root`` with the configuration ``root/syncd.toml``."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "syncd.toml"

    def write_secret(self, name: str, value: str) -> Path:
        secretscan.register(value, f"secret file {name}")
        path = self.root / name
        path.write_text(value + "\n")
        path.chmod(0o600)
        return path

    def run(self, *args: str, check: int | None = 0, json_out: bool = False, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [SYNCD, "--config", str(self.config)] + (["--json"] if json_out else []) + list(args)
        proc = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "SYNCD_CONFIG": "", **(env or {})})
        for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            secretscan.feed(f"syncd {' '.join(args)}: {stream}", text)
        if check is not None and proc.returncode != check:
            raise AssertionError(f"{' '.join(args)} exited {proc.returncode}, expected {check}\n"
                                 f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}")
        return proc

    def json(self, *args: str, check: int | None = 0) -> Any:
        return json.loads(self.run(*args, check=check, json_out=True).stdout)

    def people(self) -> dict[str, dict[str, Any]]:
        return {p["email"]: p for p in self.json("users", "list")}


@dataclass
class Site(Command):
    """A temporary syncd site: config, a file source, a database, and the command."""

    root: Path
    db_url: str
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    extra_config: str = ""

    @property
    def users_file(self) -> Path:
        return self.root / "cucm-users.jsonl"

    def write_config(self) -> None:
        self.config.write_text(
            f'[database]\nurl = "{self.db_url}"\n\n'
            f'[[sources.file]]\nname = "cucm"\nkind = "cucm"\nformat = "jsonl"\npath = "{self.users_file}"\n\n'
            '[licenses]\ngrace_limit = 2\n' + self.extra_config
        )
        self.config.chmod(0o600)

    def write_users(self, rows: dict[int, dict[str, Any]] | None = None) -> None:
        if rows is not None:
            self.rows = rows
        with self.users_file.open("w") as fh:
            for row in self.rows.values():
                fh.write(json.dumps(row) + "\n")
