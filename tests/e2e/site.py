"""A temporary syncd site for end-to-end tests: the installed `syncd` command, as an admin runs it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import Connection

from syncd.app import App
from syncd.licensing.replay import verify
from syncd.settings import load_config
from syncd.store import tables
from tests import secretscan
from tests.pgfixture import PG_DATABASE, PG_HOST, PG_PORT, _conninfo

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

    @contextmanager
    def store(self) -> Iterator[tuple[Connection, App]]:
        """A connection to the site's database in this process, for checks too many to run as CLI calls."""
        rt = App(config=load_config(str(self.config)), actor="cli:test")
        try:
            with rt.engine.connect() as conn:
                yield conn, rt
        finally:
            rt.engine.dispose()

    def inspect(self) -> tuple[list[str], dict[str, Any]]:
        """What `db verify` finds wrong (in-process: the same function), and :func:`stored_state`."""
        with self.store() as (conn, rt):
            return verify(conn, rt.settings), stored_state(conn)

    def digest(self) -> str:
        """A digest of every row of every table, as the driver returns them: equal digests, equal databases."""
        h = hashlib.blake2b()
        with self.store() as (conn, _):
            for table in tables.metadata.sorted_tables:
                order = ", ".join(c.name for c in table.primary_key.columns)
                for row in conn.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY {order}"):
                    h.update(repr(tuple(row)).encode())
        return h.hexdigest()


class CucmSite(Command):
    """syncd in ``root`` against the AXL simulator ``sim``: one CUCM source over TLS (``source`` adds its keys),
    then ``tail`` (more tables)."""

    def __init__(self, root: Path, db_url: str, sim: Any, password: str | None = None, *,
                 source: str = "page_size = 200\nretries = 1\n", tail: str = "[licenses]\ngrace_limit = 2\n") -> None:
        self.root, self.sim = root, sim
        secret = self.write_secret("cucm.secret", password or sim.password)
        self.config.write_text(
            f'[database]\nurl = "{db_url}"\n\n[[sources.cucm]]\nname = "cucm"\nurl = "{sim.url}"\n'
            f'username = "{sim.username}"\npassword_file = "{secret}"\nca_file = "{sim.ca_file}"\n{source}\n{tail}')
        self.config.chmod(0o600)


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


HOSTS = (3, 6, 9)      # users who host a meeting in prepare_large_change; all become status 2 in changed_rows


def changed_rows(users: int) -> dict[int, dict[str, Any]]:
    """The CUCM export of ``users`` users after a large change: a third deactivated (status 2), every 50th e-mail
    changed."""
    return {n: cucm_row(n, status=2 if n % 3 == 0 else 1, mail=f"u{n}.new@example.com" if n % 50 == 1 else "")
            for n in range(1, users + 1)}


def prepare_large_change(site: Site, users: int) -> None:
    """A synced site of ``users`` people with 10 Permanent licenses bought and a meeting open for each of
    :data:`HOSTS`, and a new export (:func:`changed_rows`) waiting: its run releases the hosts' licenses (R5)."""
    site.write_config()
    site.write_users({n: cucm_row(n) for n in range(1, users + 1)})
    site.run("sync")
    site.run("licenses", "purchase", "10")
    for n in HOSTS:
        assert site.json("meetings", "start", f"user{n}@example.com", "--meeting", f"m-{n}")["granted"] is True
    site.write_users(changed_rows(users))


def stored_state(conn: Connection) -> dict[str, Any]:
    """Everything a sync writes except the times the run itself stamps (so that two runs of one plan compare equal):
    people, licenses, meetings, source records, cursors, and the journal and runs as counts of their rows."""
    p, lic, m, sr, cur, j, r = (tables.people, tables.licenses, tables.meetings, tables.source_records,
                                tables.cursors, tables.journal, tables.runs)
    people = select(p.c.email, p.c.display_name, p.c.active, p.c.deleted, p.c.management, p.c.in_cucm, p.c.ad_guid,
                    p.c.inactive_reason, p.c.last_hosted_at, p.c.first_grace_at)
    licenses = select(p.c.email, lic.c.kind, lic.c.state, lic.c.management, lic.c.assigned_at, lic.c.expires_at,
                      lic.c.demo_grant_id).join(p, p.c.id == lic.c.person_id)
    meetings = select(m.c.meeting_id, p.c.email, m.c.started_at, m.c.ended_at.is_not(None)).join(
        p, p.c.id == m.c.person_id)
    records = select(sr.c.source, sr.c.source_key, sr.c.email_key, p.c.email, sr.c.active, sr.c.digest).outerjoin(
        p, p.c.id == sr.c.person_id)
    return {
        "people": {row[0]: tuple(row[1:]) for row in conn.execute(people)},
        "licenses": {row[0]: tuple(row[1:]) for row in conn.execute(licenses)},
        "meetings": {row[0]: tuple(row[1:]) for row in conn.execute(meetings)},
        "records": {(row[0], row[1]): tuple(row[2:]) for row in conn.execute(records)},
        "cursors": dict(conn.execute(select(cur.c.source, cur.c.data)).tuples().all()),
        "journal": Counter(conn.execute(select(j.c.person, j.c.event, j.c.source, j.c.rule, j.c.sentence)).tuples()),
        "runs": Counter(conn.execute(select(r.c.actor, r.c.mode, r.c.result, r.c.exit_code)).tuples()),
    }


def state_diff(got: dict[str, Any], want: dict[str, Any]) -> str:
    """Where two :func:`stored_state` results differ: the parts, how many entries, and the first few."""
    out = []
    for part in sorted(set(got) | set(want)):
        a, b = got.get(part, {}), want.get(part, {})
        if a == b:
            continue
        keys = sorted((k for k in set(a) | set(b) if a.get(k) != b.get(k)), key=repr)
        out.append(f"{part}: {len(keys)} differ, e.g. " + "; ".join(f"{k!r}: {a.get(k)!r} != {b.get(k)!r}"
                                                                  for k in keys[:3]))
    return " | ".join(out) or "no difference"


def pg_backends(role: str, application: str) -> list[tuple[int, str | None, str | None, str | None]]:
    """The PostgreSQL sessions a process run with ``PGAPPNAME=application`` has open: (pid, state, backend_xid,
    wait_event_type); a backend_xid means the session is in a transaction that has written."""
    with psycopg.connect(_conninfo(role), autocommit=True) as conn:
        rows = conn.execute("SELECT pid, state, backend_xid::text, wait_event_type FROM pg_stat_activity "
                            "WHERE application_name = %s", (application,)).fetchall()
    return [(int(pid), state, xid, wait) for pid, state, xid, wait in rows]


def pg_analyzed(url: str) -> set[str]:
    """The tables of a test PostgreSQL URL's schema that an ANALYZE command has analyzed (autovacuum's own
    analyses are not counted)."""
    role = url.split("://", 1)[1].split("@", 1)[0]
    with psycopg.connect(_conninfo(role), autocommit=True) as conn:
        rows = conn.execute("SELECT relname FROM pg_stat_user_tables WHERE schemaname = %s AND last_analyze IS NOT "
                            "NULL", (pg_schema_of(url),)).fetchall()
    return {r[0] for r in rows}


def pg_schema_of(url: str) -> str:
    """The schema in a test PostgreSQL URL (tests/pgfixture.py schema_url)."""
    return url.rsplit("search_path%3D", 1)[1]


@dataclass
class Snapshot:
    """A copy of the database at ``url``, kept in ``directory`` (SQLite) or in memory (a dump of the PostgreSQL
    schema), to restore that database or to clone it into another one. ``pg_role`` (tests/pgfixture.py) is None
    for SQLite."""

    url: str
    directory: Path
    pg_role: str | None
    dump: str = ""

    def take(self) -> None:
        if self.pg_role is None:
            shutil.copyfile(self._sqlite_path(self.url), self.directory / "snapshot.db")
            return
        self.dump = subprocess.run(
            ["pg_dump", "-h", PG_HOST, "-p", str(PG_PORT), "-U", self.pg_role, "-n", pg_schema_of(self.url),
             "--no-owner", "--no-privileges", PG_DATABASE],
            check=True, capture_output=True, text=True, timeout=120).stdout

    def restore_into(self, url: str) -> None:
        """Replace the database at ``url`` (the snapshot's own, or an empty one) with the snapshot."""
        if self.pg_role is None:
            target = self._sqlite_path(url)
            for suffix in ("-journal", "-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            shutil.copyfile(self.directory / "snapshot.db", target)
            return
        schema = pg_schema_of(url)
        with psycopg.connect(_conninfo(self.pg_role), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST, "-p", str(PG_PORT),
                        "-U", self.pg_role, "-d", PG_DATABASE],
                       input=self.dump.replace(pg_schema_of(self.url), schema),
                       check=True, capture_output=True, text=True, timeout=120)

    @staticmethod
    def _sqlite_path(url: str) -> Path:
        return Path(url.removeprefix("sqlite:///"))
