"""A database made by an earlier release opens, reads and syncs unchanged.

``fixtures/db-3d12cbd/`` was made by commit 3d12cbd (the last one before the rooms were redesigned) from the two
file sources beside it: a full sync of 40 CUCM users and 20 AD accounts, 5 Permanent licenses purchased, a
Demonstration grant, eight meetings (one ended; so two Grace licenses), a refused reservation, a second sync that
deactivated three people (CUCM status 2, removed from CUCM, disabled in AD) and released their licenses, and a
sweep. ``syncd.sql`` is that SQLite database dumped as SQL (``sqlite3.Connection.iterdump``); the ``*.json`` files
are what that release's `syncd --json` printed for it: ``users list``, ``licenses report --at 2026-12-01``,
``journal`` and ``status`` (less the database path and next runs, which depend on the machine and the clock).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.site import Command

FIXTURE = Path(__file__).parent / "fixtures" / "db-3d12cbd"

CONFIG = """\
[database]
url = "sqlite:///syncd.db"

[[sources.file]]
name = "cucm"
path = "cucm.jsonl"
kind = "cucm"

[[sources.file]]
name = "ad"
path = "ad.jsonl"
kind = "ad"

[licenses]
cwms_version = "2.5"
grace_limit = 2
"""


class OldSite(Command):
    def __init__(self, root: Path) -> None:
        self.root = root
        for name in ("cucm.jsonl", "ad.jsonl"):
            shutil.copyfile(FIXTURE / name, root / name)
        (root / "syncd.toml").write_text(CONFIG)
        db = sqlite3.connect(root / "syncd.db")
        db.executescript((FIXTURE / "syncd.sql").read_text(encoding="utf-8"))
        db.close()


def expected(name: str) -> Any:
    return json.loads((FIXTURE / name).read_text(encoding="utf-8"))


@pytest.fixture
def old(tmp_path: Path) -> OldSite:
    return OldSite(tmp_path)


# What this release shows differently, on purpose (issue 15 section 7): `users list` fills each person's
# ``sources`` (that release printed ``{}``), and the Grace notice counts the Grace holders beyond the 3 free
# Permanents (that release said "exceeded by 2") and says why those 3 are not given to them.
GRACE_NOW = ["2 Grace Host licenses in use: installed Permanent (5) not exceeded (3 Permanents free); Grace limit 2",
             '3 Permanent Host licenses free while 2 people hold Grace: grace_promotion = "purchase" promotes Grace '
             "holders only when Permanent licenses are purchased; `syncd licenses reserve EMAIL` gives a free "
             "Permanent to one of them now"]


def _fields_of(got: dict[str, Any], want: dict[str, Any], changed: tuple[str, ...] = ()) -> dict[str, Any]:
    """``got`` less the fields added since (adding fields keeps the JSON contract) and the ``changed`` ones."""
    return {k: got[k] for k in want if k not in changed}


def test_reads_as_the_release_that_wrote_it(old: OldSite) -> None:
    users, want = old.json("users", "list"), expected("users.json")
    assert [_fields_of(p, w, ("sources",)) for p, w in zip(users, want, strict=True)] == [
        {k: v for k, v in w.items() if k != "sources"} for w in want]
    assert users[0]["sources"]["cucm"]["userid"] == "user00"
    # That release judged `--at` against the ledger as it stood at the command; this one replays the journal up to
    # the time asked (issue 15 section 8), so the fixture's report is asked of a time after its last row.
    report, want = old.json("licenses", "report", "--at", "2026-12-01T23:00:00Z"), expected("report.json")
    assert _fields_of(report, want, ("notices", "at")) == {k: v for k, v in want.items() if k not in ("notices", "at")}
    assert report["notices"] == GRACE_NOW
    assert old.json("journal") == expected("journal.json")
    status, want = old.json("status"), expected("status.json")
    assert _fields_of(status, want, ("warnings", "runs")) == {
        k: v for k, v in want.items() if k not in ("warnings", "runs")}
    assert [_fields_of(r, w) for r, w in zip(status["runs"], want["runs"], strict=True)] == want["runs"]
    assert status["warnings"] == GRACE_NOW
    assert old.json("db", "verify") == {"ok": True, "problems": []}


def test_syncs_unchanged_and_then_applies_new_changes(old: OldSite) -> None:
    check = old.json("sync", "--check")
    assert (check["result"], check["exit_code"], check["plan"]) == ("planned", 0, [])

    rows = [json.loads(line) for line in (old.root / "cucm.jsonl").read_text().splitlines()]
    leaver = next(r for r in rows if r["userid"] == "user00")      # holds a Permanent license
    leaver["status"] = 2
    (old.root / "cucm.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = old.json("sync")
    assert (report["result"], report["changes"]["deactivated"], report["licenses"]["released"]) == ("applied", 1, 1)
    assert old.json("sync", "--check")["plan"] == []
    assert old.json("db", "verify") == {"ok": True, "problems": []}
    after = {p["email"]: p for p in old.json("users", "list")}
    before = {p["email"]: p for p in expected("users.json")}
    assert after["user00@example.com"]["active"] is False and after["user00@example.com"]["license"] is None
    assert before["user00@example.com"]["license"]["kind"] == "permanent"
    changed = {e for e in before if _fields_of(after[e], before[e], ("sources",)) !=
               {k: v for k, v in before[e].items() if k != "sources"}}
    assert changed == {"user00@example.com"}
