"""`syncd cwms diff`, `cwms import` and `cwms export --deactivations` against CUCM (the AXL simulator) and CWMS (the
CWMS simulator), both over TLS: the drift listed is exactly the drift made, a failed CWMS read is exit 69 in one
line naming the site, an import stores every account once (and a dry run nothing), and the export is the CWMS
user-import CSV of the inactive people CWMS is not known to hold deactivated, spreadsheet-inert and private."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.axlsim import Simulator as AxlSimulator
from connectors.cwmssim import Simulator as CwmsSimulator
from syncd.app import cli_actor
from syncd.store import tables
from syncd.views.journal import journal
from syncd.views.people import user_show
from tests.e2e.cwmssite import CwmsSite, mirror

LEAVERS = ("u000003", "u000011", "u000017", "u000023", "u000031")     # made status 2 in CUCM before the first sync
HEADER = ["USERID", "ACTIVE", "FIRSTNAME", "LASTNAME", "EMAIL"]


@pytest.fixture
def cucm() -> Iterator[AxlSimulator]:
    with AxlSimulator(60, seed=5, tls=True) as s:
        for userid in LEAVERS:
            s.set_status(userid, 2)
        yield s


@pytest.fixture
def cwms() -> Iterator[CwmsSimulator]:
    with CwmsSimulator(0, tls=True) as s:
        yield s


def _synced(root: Path, db_url: str, cucm: AxlSimulator, cwms: CwmsSimulator) -> tuple[CwmsSite, dict[str, str]]:
    """A site whose CWMS mirrors CUCM (push off: only the commands under test touch CWMS), synced once."""
    ids = mirror(cucm, cwms)
    site = CwmsSite(root, db_url, cucm, cwms, push="off")
    site.run("sync")
    return site, ids


def _people(site: CwmsSite, active: bool, ids: dict[str, str] | None = None) -> list[str]:
    """The people of that state (with a CWMS account in ``ids``, if given), by e-mail key, read in this process."""
    p = tables.people
    with site.store() as (conn, _):
        found = conn.execute(select(p.c.email).where(p.c.active.is_(active))).scalars()
        return sorted(e for e in found if ids is None or e in ids)


def _csv(path: Path, encoding: str = "utf-8", delimiter: str = ",") -> list[list[str]]:
    text = path.read_bytes().decode(encoding)
    assert "\n" not in text.replace("\r\n", ""), "rows end in CRLF"
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_diff_lists_exactly_the_drift_made(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator):
    site, ids = _synced(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms)
    leak, blocked = _people(site, False, ids)[0], _people(site, True, ids)[0]
    cwms.set_active(ids[leak], "ACTIVATED")         # gone from CUCM, still holding a CWMS license
    cwms.set_active(ids[blocked], "DEACTIVATED")    # active in CUCM, unable to host in CWMS
    cwms.put_account("outsider", email="Outsider@Elsewhere.example")
    digest = site.digest()

    d = site.json("cwms", "diff")
    assert (d["site"], d["read"], d["no_email"]) == (cwms.site_name, len(ids) + 1, 0)
    assert [(x["email"], x["webex_id"], x["action"]) for x in d["leaks"]] == [(leak, ids[leak], "deactivate")]
    assert [(x["email"], x["webex_id"], x["action"]) for x in d["blocked"]] == [(blocked, ids[blocked], "activate")]
    assert (d["cwms_only"], d["cwms_only_listed"]) == (1, ["outsider@elsewhere.example"])

    lines = site.run("cwms", "diff").stdout.splitlines()
    assert lines == [
        f"CWMS site {cwms.site_name}: {len(ids) + 1} accounts read",
        "leaks (inactive in syncd, account ACTIVATED: CWMS still binds a license): 1",
        f"  {leak}  account {ids[leak]}",
        "blocked (active in syncd, account not ACTIVATED): 1",
        f"  {blocked}  account {ids[blocked]}",
        "accounts that match no person (left alone): 1",
        "  outsider@elsewhere.example",
    ]
    assert cwms.audit() == [] and site.digest() == digest      # a diff reads: nothing written on either side


def test_a_failed_cwms_read_is_exit_69_in_one_line_naming_the_site(tmp_path: Path, cucm: AxlSimulator,
                                                                  cwms: CwmsSimulator):
    mirror(cucm, cwms)
    site = CwmsSite(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms, push="off")
    named = f"syncd: CWMS site {cwms.site_name} (127.0.0.1:{cwms.port}): "
    digest = site.digest()
    cwms.inject_fault("503", count=20)
    for command in (("cwms", "diff"), ("cwms", "import")):
        proc = site.run(*command, check=69)
        assert proc.stdout == "" and len(proc.stderr.splitlines()) == 1, proc.stderr
        assert proc.stderr.startswith(named) and "HTTP 503" in proc.stderr, proc.stderr
    assert site.digest() == digest          # the failed import stored nothing, not even a journal row

    (tmp_path / "wrong").mkdir()
    wrong = CwmsSite(tmp_path / "wrong", f"sqlite:///{tmp_path / 'wrong' / 'syncd.db'}", cucm, cwms, push="off",
                     password="not-the-cwms-password")
    cwms.clear_faults()
    proc = wrong.run("cwms", "diff", check=69)
    assert proc.stderr.splitlines() == [named + "LstsummaryUser: FAILURE 030002: Incorrect user or password"]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_import_stores_every_account_once_and_a_dry_run_nothing(tmp_path: Path, db_url: str, cucm: AxlSimulator,
                                                                cwms: CwmsSimulator):
    site, ids = _synced(tmp_path, db_url, cucm, cwms)
    leak, other = _people(site, False, ids)[:2]
    cwms.set_active(ids[leak], "ACTIVATED")
    digest = site.digest()

    dry = site.json("cwms", "import", "--dry-run")
    assert dry == {"accounts": len(ids), "added": len(ids), "changed": 0, "removed": 0, "unchanged": 0,
                   "dry_run": True}
    assert site.digest() == digest
    assert site.json("cwms", "import") == {**dry, "dry_run": False}
    assert site.json("cwms", "import") == {"accounts": len(ids), "added": 0, "changed": 0, "removed": 0,
                                           "unchanged": len(ids), "dry_run": False}
    cwms.set_active(ids[other], "ACTIVATED")
    cwms.remove_account(ids[leak])
    assert site.run("cwms", "import").stdout == (
        f"adopted {len(ids) - 1} CWMS accounts' states: 0 added, 1 changed, 1 removed, {len(ids) - 2} unchanged\n")

    with site.store() as (_, rt):
        rows = [j for j in journal(rt, None, None, None) if j["event"] == "cwms_import"]
        problems, _ = site.inspect()
    assert len(rows) == 3 and {(j["source"], j["actor"]) for j in rows} == {("cwms", cli_actor())}, rows
    assert rows[-1]["sentence"] == f"adopted {len(ids) - 1} CWMS accounts' states (0 added, 1 changed, 1 removed)"
    assert problems == []           # db verify: the adopted records are no person's and no license's
    account = site.json("users", "show", other)["sources"]["cwms"]
    assert {k: account[k] for k in ("key", "active", "state", "webex_id", "email")} == {
        "key": ids[other], "active": True, "state": "ACTIVATED", "webex_id": ids[other], "email": other}
    with site.store() as (_, rt):
        assert "cwms" not in user_show(rt, leak)["sources"]        # removed from CWMS: gone here too


def test_export_writes_the_deactivations_csv(tmp_path: Path, cucm: AxlSimulator, cwms: CwmsSimulator):
    cucm.set_name(LEAVERS[0], '=HYPERLINK("http://evil.example")', "@SUM(A1)")
    cucm.set_name(LEAVERS[1], "+1", "-2")
    site, ids = _synced(tmp_path, f"sqlite:///{tmp_path / 'syncd.db'}", cucm, cwms)
    inactive = _people(site, False)
    formula, signs, leak, unknown = (f"{u}@example.com" for u in LEAVERS[:4])
    cwms.set_active(ids[leak], "ACTIVATED")
    cwms.remove_account(ids[unknown])
    out = tmp_path / "out"
    out.mkdir()
    f = out / "deactivations.csv"

    site.run("cwms", "export", "--deactivations", str(f))
    rows = _csv(f)
    assert rows[0] == HEADER and [r[4] for r in rows[1:]] == inactive
    assert {(r[0], r[1]) for r in rows[1:]} == {("", "N")}
    by_email = {r[4]: r for r in rows[1:]}
    assert by_email[formula][2:4] == ["'=HYPERLINK(\"http://evil.example\")", "'@SUM(A1)"]
    assert by_email[signs][2:4] == ["'+1", "'-2"]
    assert f.stat().st_mode & 0o777 == 0o600

    site.run("cwms", "import")          # every account but the leak's is now known to be DEACTIVATED
    site.run("cwms", "export", "--deactivations", str(f), "--encoding", "utf-16")
    raw = f.read_bytes()
    assert raw.startswith(b"\xff\xfe") and raw[2:4] == b"U\x00"         # UTF-16LE after its BOM
    rows = _csv(f, "utf-16-le", "\t")
    assert rows[0] == ["\ufeffUSERID", *HEADER[1:]]
    assert [r[4] for r in rows[1:]] == [leak]     # the person without an account: no row that could create one
    leak_row = next(r for r in rows[1:] if r[4] == leak)
    assert leak_row[:4] == ["", "N", "First", ids[leak]]    # the account's own names: the import renames nobody
    assert f.stat().st_mode & 0o777 == 0o600 and [p.name for p in out.iterdir()] == [f.name]
