"""One bad record never stops a sync: a value the store cannot hold (too long, a NUL, a lone surrogate) in a CUCM
user or a file source's row is skipped, counted and named, and a file that cannot be parsed is an incomplete
source, while a healthy CUCM change in the same run still applies. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from connectors.axlsim import Simulator
from syncd.daemon.health import FAILED, health
from syncd.store import tables
from syncd.sync import apply
from syncd.sync.pipeline import run_sync
from tests.e2e.site import Command, cucm_row

GUID = "11111111-2222-4333-8444-555555555555"


def ad_row(**extra: Any) -> dict[str, Any]:
    return {"guid": GUID, "sAMAccountName": "extra1", "userPrincipalName": "extra1@example.com",
            "mail": "extra1@example.com", "userAccountControl": 512, "accountExpires": "", "deleted": False,
            "in_host_group": "", **extra}


class MixedSite(Command):
    """A CUCM simulator source and a file source ``extra`` of records of ``kind``."""

    def __init__(self, root: Path, db_url: str, sim: Simulator, kind: str, fmt: str) -> None:
        self.root, self.sim, self.kind, self.fmt = root, sim, kind, fmt
        self.path = root / f"extra.{fmt}"
        secret = self.write_secret("cucm.secret", sim.password)
        self.config.write_text(
            f'[database]\nurl = "{db_url}"\n\n[[sources.cucm]]\nname = "cucm"\nurl = "{sim.url}"\n'
            f'username = "{sim.username}"\npassword_file = "{secret}"\nca_file = "{sim.ca_file}"\n'
            'page_size = 200\nretries = 1\n\n'
            f'[[sources.file]]\nname = "extra"\nkind = "{kind}"\nformat = "{fmt}"\npath = "{self.path}"\n\n'
            '[licenses]\ngrace_limit = 2\n')
        self.config.chmod(0o600)

    def write_rows(self, rows: list[dict[str, Any]]) -> None:
        if self.fmt == "jsonl":
            self.path.write_text("".join(json.dumps(r) + "\n" for r in rows))
            return
        fields = list(rows[0])
        lines = [",".join(fields)] + [",".join(str(r[f]) for f in fields) for r in rows]
        self.path.write_text("\n".join(lines) + "\n")

    def healthy_row(self) -> dict[str, Any]:
        return cucm_row(9001) if self.kind == "cucm" else ad_row()


@pytest.fixture
def sim():
    with Simulator(60, seed=5, tls=True) as s:
        yield s


def _holder(site: Command, sim: Simulator) -> Any:
    """A CUCM user with a Permanent license, after a first sync."""
    site.run("sync")
    site.run("licenses", "purchase", "1")
    user = next(u for u in sim.population if u.status == 1 and u.mailid
                and sum(1 for v in sim.population if v.mailid and v.mailid.casefold() == u.mailid.casefold()) == 1)
    assert site.json("meetings", "start", user.mailid)["license_kind"] == "permanent"
    return user


def _sync_beside_status_2(site: Command, sim: Simulator, prepare: Callable[[], Any], check: int) -> dict[str, Any]:
    """Set the holder to status 2 in CUCM, ``prepare`` the bad input, sync, and check the change applied."""
    holder = _holder(site, sim)
    prepare()
    sim.set_status(holder.userid, 2)
    proc = site.run("sync", check=check, json_out=True)
    assert "Traceback" not in proc.stderr, proc.stderr
    out = json.loads(proc.stdout)
    assert out["exit_code"] == check
    assert out["changes"]["deactivated"] == 1 and out["licenses"]["released"] == 1, out
    assert site.people()[holder.mailid.casefold()]["license"] is None
    site.run("db", "verify")
    return out


def _src(out: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in out["sources"] if s["name"] == name)


Row = Callable[[dict[str, Any]], dict[str, Any]]

# (kind, format, the bad row made of a healthy one, the reason named)
INVALID: list[tuple[str, str, Row, str]] = [
    ("cucm", "jsonl", lambda r: {**r, "uuid": "a" * 200}, "key longer than 128"),
    ("cucm", "jsonl", lambda r: {**r, "lastname": "x\x00y"}, "name has a NUL"),
    ("cucm", "jsonl", lambda r: {**r, "userid": "u\ud800"}, "userid has a NUL or a lone surrogate"),
    ("cucm", "jsonl", lambda r: {**r, "firstname": "n" * 300}, "name longer than 256"),
    ("cucm", "csv", lambda r: {**r, "userid": "u\x00"}, "userid has a NUL"),
    ("ad", "jsonl", lambda r: {**r, "guid": "b" * 200}, "key longer than 128"),
    ("ad", "jsonl", lambda r: {**r, "sAMAccountName": "s\x00"}, "sAMAccountName has a NUL"),
    ("ad", "jsonl", lambda r: {**r, "userPrincipalName": "\udfff@example.com"},
     "userPrincipalName has a NUL or a lone surrogate"),
    ("ad", "jsonl", lambda r: {**r, "mail": "a\u202e@example.com"}, "e-mail has a control or bidi character"),
    ("ad", "csv", lambda r: {**r, "sAMAccountName": "s\x00"}, "sAMAccountName has a NUL"),
]


@pytest.mark.parametrize(("kind", "fmt", "bad", "reason"), INVALID,
                         ids=[f"{k}-{f}-{r}" for k, f, _, r in INVALID])
def test_an_invalid_file_record_is_skipped_and_named(tmp_path: Path, db_url: str, sim: Simulator, kind: str,
                                                     fmt: str, bad: Row, reason: str):
    site = MixedSite(tmp_path, db_url, sim, kind, fmt)
    good = site.healthy_row()
    site.write_rows([good])
    out = _sync_beside_status_2(site, sim, lambda: site.write_rows([good, bad(good)]), 0)
    extra = _src(out, "extra")
    assert extra["complete"] and extra["invalid"] == 1, extra
    assert [w for w in out["warnings"] if w.startswith("source extra: record ") and reason in w], out["warnings"]


def _deep(_: dict[str, Any]) -> str:
    return '{"uuid": ' + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize(("kind", "fmt", "broken"), [
    ("cucm", "csv", "field larger than field limit"),
    ("ad", "csv", "field larger than field limit"),
    ("cucm", "jsonl", "nested too deeply"),
    ("ad", "jsonl", "nested too deeply"),
])
def test_an_unparseable_file_is_an_incomplete_source(tmp_path: Path, db_url: str, sim: Simulator, kind: str,
                                                     fmt: str, broken: str):
    site = MixedSite(tmp_path, db_url, sim, kind, fmt)
    good = site.healthy_row()
    site.write_rows([good])

    def prepare() -> None:
        if fmt == "csv":
            key = "uuid" if kind == "cucm" else "guid"
            site.write_rows([good, {**good, key: "x" * 200 * 1024}])
        else:
            site.path.write_text(json.dumps(good) + "\n" + _deep(good) + "\n")

    out = _sync_beside_status_2(site, sim, prepare, 69)
    extra = _src(out, "extra")
    assert not extra["complete"] and broken in extra["error"], extra
    assert _src(out, "cucm")["complete"]


def test_a_cucm_user_the_store_cannot_hold_is_skipped(tmp_path: Path, db_url: str, sim: Simulator):
    site = MixedSite(tmp_path, db_url, sim, "cucm", "jsonl")
    site.write_rows([cucm_row(9001)])
    out = _sync_beside_status_2(site, sim, lambda: sim.add_user("longname", "longname@example.com", "N" * 300, "L"),
                                0)
    cucm = _src(out, "cucm")
    assert cucm["complete"] and cucm["invalid"] == 1, cucm
    assert [w for w in out["warnings"] if w.startswith("source cucm: record ") and "name longer than 256" in w]
    assert "longname@example.com" not in site.people()
    assert site.json("sync", "--full")["sources"][0]["invalid"] == 1     # still skipped; nothing fails on it


def test_a_run_that_raises_is_recorded_as_failed(site, monkeypatch: pytest.MonkeyPatch):
    """A database error mid-apply (as PostgreSQL's StringDataRightTruncation was) rolls the run back, and the run
    is still recorded, in a transaction of its own, so that the runs and ``/healthz`` see it."""
    site.run("sync")
    site.write_users({**site.rows, 1: cucm_row(1, status=2)})

    def refused(*_args: Any) -> Any:
        raise DataError("INSERT", {}, Exception("value too long for type character varying(256)"))

    monkeypatch.setattr(apply, "apply_plan", refused)
    with site.store() as (_, rt), pytest.raises(DataError):
        run_sync(rt, mode="apply")
    with site.store() as (conn, rt):
        last = conn.execute(select(tables.runs.c.result, tables.runs.c.exit_code)
                            .order_by(tables.runs.c.started_at.desc()).limit(1)).one()
        healthy, body = health(rt)
    assert tuple(last) == ("failed", 70)
    assert not healthy and FAILED in body["reasons"]
    assert site.people()["user1@example.com"]["active"] is True      # nothing of the failed run was written
